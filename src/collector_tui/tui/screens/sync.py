"""Sync (command palette: "Sync with the master"): push this laptop's changes, pull the briefcase.

The master comes from where the laptop was pulled from, else the `master` setting, else what the
agent types. It is shown with its password masked (services/sync/locations.py); the password comes
from the URL as typed, the password field, or COLLECTOR_MASTER_PASSWORD. The work runs in a
thread worker (services/sync/engine.sync_now: push, then pull); its progress comes back through
`call_from_thread` to a progress bar and a log of plain lines.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Log, ProgressBar, Static

from collector_tui.display import printable
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.services.errors import InvalidInput, ServiceError
from collector_tui.services.sync import locations
from collector_tui.tui.formatting import agent_time
from collector_tui.tui.screens.base import CollectorScreen
from collector_tui.tui.widgets.footer import KeyFooter
from collector_tui.tui.widgets.header import TitleHeader

if TYPE_CHECKING:
    from collector_tui.services.sync.engine import LaptopStatus, SyncResult

NOTES_SHOWN = 30
log = logging.getLogger(__name__)


@dataclass
class SyncStatusLoaded(Message):
    status: LaptopStatus | None  # None: this database is not a laptop
    master: str | None


@dataclass
class SyncFinished(Message):
    result: SyncResult | None
    error: str | None


def status_lines(status: LaptopStatus | None) -> list[str]:
    """What the screen says about the laptop, as plain lines (tested without a screen)."""
    if status is None:
        return [
            _(
                "This database is not a laptop: a laptop is made on it with "
                "`collector-tui --db LAPTOP --user NAME sync pull --from MASTER`."
            )
        ]
    info, outbox = status.info, status.outbox

    def when(value: Any) -> str:
        # The laptop's own record, in UTC: it is the same for whoever is logged in.
        return f"{agent_time(value, 'UTC')} UTC" if value is not None else _("never")

    cases = _("Cases on this laptop: {count}").format(count=outbox.active_cases)
    if outbox.read_only_cases:
        cases += _(" (+{count} read-only, moved away)").format(count=outbox.read_only_cases)
    return [
        _("Last pull: {pull}   last push: {push}").format(
            pull=when(info.last_pull_at), push=when(info.last_push_at)
        ),
        _("Changes waiting to go to the master: {count}").format(count=outbox.pending),
        cases,
    ]


def result_lines(result: SyncResult) -> list[str]:
    push, pull = result.push, result.pull
    sent = _(
        "Sent {sent} change(s): {accepted} accepted, {conflict} conflict, {rejected} rejected"
    ).format(sent=push.sent, accepted=push.accepted, conflict=push.conflict, rejected=push.rejected)
    if push.errors:
        sent += _(", {count} kept for the next sync").format(count=push.errors)
    lines = [
        sent,
        *(f"  {note}" for note in push.notes[:NOTES_SHOWN]),
        _(
            "Pulled {cases} case(s): {refreshed} refreshed, {read_only} read-only, {purged} dropped"
        ).format(
            cases=pull.cases, refreshed=pull.refreshed, read_only=pull.read_only, purged=pull.purged
        ),
    ]
    if len(push.notes) > NOTES_SHOWN:
        more = len(push.notes) - NOTES_SHOWN
        lines.insert(NOTES_SHOWN + 1, _("  ... and {count} more").format(count=more))
    return lines


class SyncScreen(CollectorScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", N_("Back"), id="sync.back", tooltip=N_("Back to where you were")),
        Binding("ctrl+s", "sync", N_("Sync now"), id="sync.run", tooltip=N_("Push, then pull")),
    ]

    def compose(self) -> ComposeResult:
        yield TitleHeader()
        with Vertical(id="sync-body"):
            yield Static(_("Sync with the master"), classes="dialog-title")
            yield Static(_("Reading the laptop…"), id="sync-status")
            with Horizontal(id="sync-master-row"):
                yield Input(
                    placeholder=_("master: a file path or a database URL"), id="sync-master"
                )
                yield Input(placeholder=_("its password, if it asks"), password=True,
                            id="sync-password")  # fmt: skip
                yield Button(_("Sync now"), id="sync-run", variant="primary")
            yield ProgressBar(total=100, show_eta=False, id="sync-progress")
            yield Log(id="sync-log", highlight=False)
        yield KeyFooter()

    # The master as known (it may hold a password: the config file's, an older laptop's); the
    # field shows it masked, and a field left as shown means this one.
    _known_master: str | None = None

    def on_mount(self) -> None:
        super().on_mount()
        self.load_status()

    # -- status ----------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="sync-status", exit_on_error=False, description="sync")
    def load_status(self) -> None:
        from collector_tui.services.sync import engine

        app = self.collector
        info = engine.laptop_info(app.store)
        status = engine.status(laptop=app.store) if info is not None and info.is_laptop else None
        master = (info.master if info is not None else None) or app.settings.master
        self.post_message(SyncStatusLoaded(status, master))

    def on_sync_status_loaded(self, message: SyncStatusLoaded) -> None:
        self.query_one("#sync-status", Static).update(
            Text("\n".join(printable(line) for line in status_lines(message.status)))
        )
        field = self.query_one("#sync-master", Input)
        if message.master and not field.value:
            self._known_master = message.master
            field.value = locations.masked(message.master)
        self.query_one("#sync-run", Button).disabled = message.status is None
        field.disabled = message.status is None
        self.query_one("#sync-password", Input).disabled = message.status is None
        if message.status is not None:
            field.focus()

    # -- the sync ----------------------------------------------------------------------------------

    def action_sync(self) -> None:
        button = self.query_one("#sync-run", Button)
        if button.disabled:
            return
        target = self.query_one("#sync-master", Input).value.strip()
        if not target:
            self.collector.tell(_("say where the master is: a file path or a database URL"),
                                severity="warning")  # fmt: skip
            return
        if self._known_master and target == locations.masked(self._known_master):
            target = self._known_master
        password = self.query_one("#sync-password", Input).value
        button.disabled = True
        self.query_one("#sync-progress", ProgressBar).update(progress=0)
        self._log(_("Syncing with {master}…").format(master=locations.shown(target)))
        self.run_sync(target, password or None)

    @on(Button.Pressed, "#sync-run")
    def _pressed(self) -> None:
        self.action_sync()

    @on(Input.Submitted, "#sync-master")
    @on(Input.Submitted, "#sync-password")
    def _submitted(self) -> None:
        self.action_sync()

    def _progress(self, text: str, done: float) -> None:
        self.query_one("#sync-progress", ProgressBar).update(progress=round(done * 100))
        self._log(text)

    def _log(self, line: str) -> None:
        self.query_one("#sync-log", Log).write_line(printable(line))

    @work(thread=True, exclusive=True, group="sync", exit_on_error=False, description="sync")
    def run_sync(self, target: str, password: str | None = None) -> None:
        from collector_tui.services.sync import engine

        app = self.collector

        def progress(text: str, done: float) -> None:
            app.call_from_thread(self._progress, text, done)

        def no_password() -> str:
            raise InvalidInput(
                _(
                    "the master {master} needs its password: type it in the password field "
                    "(or set {variable})"
                ).format(master=locations.masked(target), variable=locations.PASSWORD_VARIABLE)
            )

        master = None
        try:
            master = engine.open_master(target, password=password, ask=no_password)
            result = engine.sync_now(
                laptop=app.store,
                master=master,
                actor=self.actor,
                now=app.clock.now(),
                settings=app.settings,
                master_location=target,
                progress=progress,
            )
        except Exception as failure:  # noqa: BLE001 - told to the agent, the laptop is unchanged
            if isinstance(failure, FileNotFoundError | ServiceError):
                message = str(failure)
            else:
                # Not error_text: its log keeps the whole exception, and a driver's message may
                # hold the URL; this one is masked.
                first = str(failure).strip().splitlines()[0] if str(failure).strip() else ""
                message = _("could not finish: {detail}").format(
                    detail=first[:200] or type(failure).__name__
                )
                log.warning("sync failed: %s", locations.scrub(message))
            self.post_message(SyncFinished(None, locations.scrub(message)))
            return
        finally:
            if master is not None:
                master.dispose()
        self.post_message(SyncFinished(result, None))

    def on_sync_finished(self, message: SyncFinished) -> None:
        self.query_one("#sync-run", Button).disabled = False
        if message.result is None:
            self._log(_("Not synced: {error}").format(error=message.error))
            self.collector.tell(
                _("not synced: {error}").format(error=message.error), severity="error", timeout=8
            )
            return
        self.query_one("#sync-progress", ProgressBar).update(progress=100)
        for line in result_lines(message.result):
            self._log(line)
        push = message.result.push
        severity = "warning" if push.conflict or push.rejected or push.errors else "information"
        self.collector.tell(
            _("synced: {sent} change(s) sent, {cases} case(s) on the laptop").format(
                sent=push.sent, cases=message.result.pull.cases
            ),
            severity=severity,
        )
        self.load_status()

    def action_back(self) -> None:
        self.app.pop_screen()
