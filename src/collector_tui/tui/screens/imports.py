"""Importing a client's placement file or a bank's payment file, for supervisors
(docs/decisions.md: command line, placement files).

Pick the file (type its path, or browse with ctrl+o), say what it holds, and check it first: the
check is the services' own dry run, so it refuses exactly what the import would refuse and writes
nothing. Its summary counts the rows, what would be created or posted, what is already there, and
lists every bad row as `line N: reason`. Only a clean check (or, for cases, one with "skip bad
rows") unlocks the import, which runs in a thread worker and reports its progress into a progress
bar until the final summary. Changing the file or the options asks for a new check.

A placement file may leave out the client, the currency or the debtors' country: the form fills
them in (as the CLI's --client, --currency and --region do) and can give every new case to one
agent (--assign-to). For either kind of file the form can say how its amounts are written (auto,
1,234.50 or 1.234,50: --decimal-point, --decimal-comma) and its encoding (--encoding), for the
files the services refuse to guess about. The check runs with the same options as the import,
so its summary is the import's; an option the service refuses (or needs) gets the service's
message under its own field.

Both imports are all or nothing in one transaction (imports.placement_file, imports.payment_file),
so a refused file or a failure halfway leaves the database as it was.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.validation import ValidationResult, Validator
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    DirectoryTree,
    Input,
    Label,
    ProgressBar,
    RadioButton,
    RadioSet,
    Select,
    Static,
)

from collector_tui.display import printable, safe_text
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.services.errors import ServiceError
from collector_tui.tui.commands import ImportCommands
from collector_tui.tui.screens.base import CollectorScreen, error_text
from collector_tui.tui.widgets.footer import KeyFooter
from collector_tui.tui.widgets.header import TitleHeader

if TYPE_CHECKING:
    from collector_tui.config import Settings
    from collector_tui.services.accounts import Actor
    from collector_tui.services.context import Store
    from collector_tui.services.imports.csv_reading import RowError

__all__ = ["IMPORT_KINDS", "ImportScreen", "ImportSummary", "run_import"]

IMPORT_KINDS = ("cases", "payments")
NOBODY = "nobody"  # the assign-to choice that leaves the new cases unassigned
# A service's field name -> the widget of this screen it belongs next to (placement files only).
OPTION_FIELDS = {
    "client": "import-client",
    "region": "import-region",
    "currency": "import-currency",
    "assign_to": "import-assign",
    "decimal": "import-decimal",
    "encoding": "import-encoding",
}
READING_OPTIONS = frozenset({"decimal", "encoding"})  # how to read the file: both kinds take them
# What to do about a file the services cannot read untold, in this form's words (not the CLI's).
READING_ADVICE = {
    "decimal": N_("choose 1,234.50 or 1.234,50"),
    "encoding": N_("type its encoding (e.g. gb18030, cp1252, shift_jis)"),
}
DECIMAL_CHOICES = {"decimal-auto": None, "decimal-point": "point", "decimal-comma": "comma"}
# Side by side fields share the line under their row: the message names its field.
OPTION_LABELS = {
    "client": N_("Client"),
    "region": N_("Region"),
    "currency": N_("Currency"),
    "assign_to": N_("Assign to"),
    "decimal": N_("Amounts"),
    "encoding": N_("Encoding"),
}
CSV_SUFFIXES = frozenset({".csv", ".txt", ".tsv"})
REJECTS_SHOWN = 500  # rows of the rejects table; the summary gives the full count


@dataclass(frozen=True)
class ImportSummary:
    """What a check or an import found, in the same words for both kinds of file."""

    kind: str  # "cases" or "payments"
    path: Path
    dry_run: bool
    rows: int
    accepted: int  # cases created / payments posted (on a check: that would be)
    existing: int  # cases already there / payments already recorded: left alone
    rejected: tuple[RowError, ...]
    refused: str | None = None  # the file is refused whole: why (nothing can be imported)
    details: str = ""  # invoices and phones, or the totals per currency
    rejects_file: Path | None = None  # cases with skip_bad: where the bad rows were written
    encoding: str = ""

    @property
    def importable(self) -> bool:
        return self.refused is None

    def headline(self) -> str:
        counts = {
            "rows": self.rows,
            "accepted": self.accepted,
            "existing": self.existing,
            "rejected": len(self.rejected),
        }
        cases = self.kind == "cases"
        if self.refused is not None:
            return _(
                "Refused: {rows} rows, {rejected} bad. Nothing was written; fix the lines below "
                "(or, for cases, skip bad rows) and check again."
            ).format(**counts)
        if self.dry_run:
            text = (
                _(
                    "Check passed: {rows} rows, {accepted} cases to create, {existing} already "
                    "there, {rejected} rejected."
                )
                if cases
                else _(
                    "Check passed: {rows} rows, {accepted} payments to post, {existing} already "
                    "recorded, {rejected} rejected."
                )
            ).format(**counts)
            return text + " " + _("Nothing was written yet: press Import (ctrl+s).")
        text = (
            _(
                "Imported: {rows} rows, {accepted} cases created, {existing} already there, "
                "{rejected} rejected."
            )
            if cases
            else _(
                "Imported: {rows} rows, {accepted} payments posted, {existing} already recorded "
                "(skipped), {rejected} rejected."
            )
        ).format(**counts)
        if self.rejects_file is not None and self.rejected:
            text += " " + _("Bad rows written to {path}.").format(path=self.rejects_file)
        return text


def _rejects_path(path: Path) -> Path:
    return path.with_name(f"{path.stem if path.suffix else path.name}.rejects.csv")


def _money_totals(totals: Iterable[tuple[str, int]]) -> str:
    from collector_tui.services.reporting.tables import grouped

    return ", ".join(f"{grouped(amount, currency)} {currency}" for currency, amount in totals)


def run_import(
    *,
    store: Store,
    path: Path,
    kind: str,
    now: datetime,
    settings: Settings,
    actor: Actor,
    dry_run: bool,
    skip_bad: bool = False,
    progress: Callable[[int, int], None] | None = None,
    region: str | None = None,
    client: str | None = None,
    currency: str | None = None,
    assign_to: uuid.UUID | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
) -> ImportSummary:
    """Check or import `path` through the services and sum up the outcome; a file refused for
    its rows becomes a summary (with `refused`), anything else refused raises ServiceError.

    `region`, `client`, `currency` and `assign_to` are the placement import's options (what the
    file leaves out, who gets the new cases); a payments file takes none of them. `decimal`
    ("point", "comma" or None) and `encoding` say how to read either kind of file."""
    path = Path(path)
    if kind == "cases":
        from collector_tui.services.imports.placement_file import ImportRejected, import_cases

        rejects = _rejects_path(path) if skip_bad else None
        try:
            report = import_cases(
                store=store,
                path=path,
                now=now,
                settings=settings,
                actor=actor,
                dry_run=dry_run,
                skip_bad=skip_bad,
                rejects_path=rejects,
                progress=progress,
                region=region,
                client=client,
                currency=currency,
                assign_to=assign_to,
                decimal=decimal,
                encoding=encoding,
            )
        except ImportRejected as refused:
            bad = refused.report
            return ImportSummary(
                kind, path, dry_run, bad.rows, 0, 0, bad.rejected, refused=str(refused),
                encoding=bad.encoding,
            )  # fmt: skip
        return ImportSummary(
            kind=kind,
            path=path,
            dry_run=dry_run,
            rows=report.rows,
            accepted=report.cases_created,
            existing=report.cases_existing,
            rejected=report.rejected,
            details=_("{invoices} invoices, {phones} phones").format(
                invoices=report.invoices, phones=report.phones
            )
            + (
                " "
                + _("({count} invalid: kept on file, never dialled)").format(
                    count=report.phones_invalid
                )
                if report.phones_invalid
                else ""
            ),
            rejects_file=rejects if report.rejected and not dry_run else None,
            encoding=report.encoding,
        )
    if kind == "payments":
        if region or client or currency or assign_to is not None:
            raise ServiceError(_("a payments file takes no region, client, currency or assignee"))
        from collector_tui.services.imports.payment_file import (
            PaymentImportRejected,
            import_payments,
        )

        try:
            paid = import_payments(
                store=store,
                path=path,
                now=now,
                settings=settings,
                actor=actor,
                dry_run=dry_run,
                progress=progress,
                decimal=decimal,
                encoding=encoding,
            )
        except PaymentImportRejected as refused:
            bad_payments = refused.report
            return ImportSummary(
                kind, path, dry_run, bad_payments.rows, 0, bad_payments.duplicates,
                bad_payments.rejected, refused=str(refused), encoding=bad_payments.encoding,
            )  # fmt: skip
        return ImportSummary(
            kind=kind,
            path=path,
            dry_run=dry_run,
            rows=paid.rows,
            accepted=paid.posted,
            existing=paid.duplicates,
            rejected=paid.rejected,
            details=_("amounts: {totals}").format(totals=_money_totals(paid.totals))
            if paid.totals
            else "",
            encoding=paid.encoding,
        )
    raise ServiceError(_("cannot import {kind!r}: cases or payments").format(kind=kind))


class ReadableFile(Validator):
    """An existing file we may read (the services say the rest: encoding, columns, rows)."""

    def validate(self, value: str) -> ValidationResult:
        text = value.strip()
        if not text:
            return self.failure(_("Type the path of the CSV file, or browse with ctrl+o"))
        path = Path(text).expanduser()
        if not path.exists():
            return self.failure(_("No file {path}").format(path=printable(text)))
        if path.is_dir():
            return self.failure(
                _("{path} is a folder: name a file in it").format(path=printable(text))
            )
        if not os.access(path, os.R_OK):
            return self.failure(
                _("{path} cannot be read (permissions)").format(path=printable(text))
            )
        return self.success()


class CsvTree(DirectoryTree):
    """Folders and the files an import can read; hidden files left out."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [
            path
            for path in paths
            if not path.name.startswith(".")
            and (path.is_dir() or path.suffix.lower() in CSV_SUFFIXES)
        ]


@dataclass(frozen=True)
class _Request:
    path: Path
    kind: str
    skip_bad: bool
    stamp: tuple[int, int] = field(default=(0, 0))  # size and mtime of the file when checked
    # What a placement file leaves out, as typed (None: not given); always None for payments.
    region: str | None = None
    client: str | None = None
    currency: str | None = None
    assign_to: uuid.UUID | None = None
    # How to read the file (either kind): None for what the file shows.
    decimal: str | None = None
    encoding: str | None = None


@dataclass
class AgentsLoaded(Message):
    agents: tuple[Actor, ...]


@dataclass
class ImportFinished(Message):
    summary: ImportSummary
    request: _Request


def _stamp(path: Path) -> tuple[int, int]:
    try:
        facts = path.stat()
    except OSError:
        return (0, 0)
    return (facts.st_size, facts.st_mtime_ns)


class ImportScreen(CollectorScreen):
    COMMANDS = {ImportCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape", "back", N_("Back"), id="import.back", tooltip=N_("Close the import screen")
        ),
        Binding(
            "ctrl+r",
            "check",
            N_("Check"),
            id="import.check",
            tooltip=N_("Dry run: check every row, write nothing"),
            priority=True,
        ),
        Binding(
            "ctrl+s",
            "run_import",
            N_("Import"),
            id="import.run",
            tooltip=N_("Import the checked file"),
            priority=True,
        ),
        Binding(
            "ctrl+o",
            "browse",
            N_("Browse"),
            id="import.browse",
            tooltip=N_("Show or hide the folder tree"),
            priority=True,
        ),
    ]

    def __init__(self, folder: Path | None = None) -> None:
        super().__init__()
        self.folder = Path(folder) if folder is not None else Path.cwd()
        self.checked: _Request | None = None  # the last clean check: what Import will import
        self.summary: ImportSummary | None = None
        self.busy = False
        self.progress_reports: list[tuple[int, int]] = []  # as the service reported them
        self.agents: dict[str, Actor] = {}  # who new cases can go to, by str(user_id)

    def compose(self) -> ComposeResult:
        yield TitleHeader()
        with Vertical(id="import-form"):
            yield Static(
                _("Import a CSV file. Check it first: nothing is written until you import."),
                id="import-hint",
            )
            with Horizontal(classes="import-row"):
                yield Label(_("File"), classes="import-label")
                yield Input(
                    placeholder="path/to/file.csv",
                    id="import-path",
                    validators=[ReadableFile()],
                    validate_on=["changed", "submitted"],
                )
            yield Static("", id="import-path-error", classes="form-error")
            with Horizontal(classes="import-row"):
                yield Label(_("File of"), classes="import-label")
                with RadioSet(id="import-kind"):
                    yield RadioButton(
                        _("Cases"), value=True, id="kind-cases", tooltip=_("A placement file")
                    )
                    yield RadioButton(_("Payments"), id="kind-payments", tooltip=_("A bank's file"))
                yield Checkbox(
                    _("Skip bad rows"),
                    id="import-skip-bad",
                    tooltip=_("Import the good cases and write the bad rows to NAME.rejects.csv"),
                )
            # How to read the file, for either kind: only needed when the check says so.
            with Horizontal(classes="import-row", id="import-reading"):
                yield Label(_("Amounts"), classes="import-label")
                with RadioSet(id="import-decimal"):
                    yield RadioButton(
                        _("auto"),
                        value=True,
                        id="decimal-auto",
                        tooltip=_(
                            "As the file shows; a file whose amounts read two ways "
                            "(1,500) is refused"
                        ),
                    )
                    yield RadioButton(
                        "1,234.50", id="decimal-point", tooltip=_("The decimal mark is a point")
                    )
                    yield RadioButton(
                        "1.234,50", id="decimal-comma", tooltip=_("The decimal mark is a comma")
                    )
                yield Label(_("Encoding"), classes="import-inline-label")
                yield Input(
                    placeholder=_("auto"),
                    id="import-encoding",
                    classes="import-option",
                    validate_on=["changed"],
                    tooltip=_(
                        "The file's encoding when it is not UTF-8 and cannot be told "
                        "(e.g. gb18030, cp1252, shift_jis)"
                    ),
                )
            yield _option_error("decimal", cases_only=False)
            yield _option_error("encoding", cases_only=False)
            # Placement files only (hidden for payments): what the file leaves out.
            with Horizontal(classes="import-row import-cases-only", id="import-defaults"):
                yield Label(_("Client"), classes="import-label")
                yield Input(
                    placeholder=_("from the file"),
                    id="import-client",
                    classes="import-option",
                    validate_on=["changed"],
                    tooltip=_("The client of every row, for a file without a client column"),
                )
                yield Label(_("Region"), classes="import-inline-label")
                yield Input(
                    placeholder=_("e.g. CN"),
                    id="import-region",
                    classes="import-option",
                    validate_on=["changed"],
                    tooltip=_(
                        "Country (ISO 3166, e.g. CN, US, GB) of debtors and phone numbers "
                        "that have none in the file"
                    ),
                )
                yield Label(_("Currency"), classes="import-inline-label")
                yield Input(
                    placeholder=_("e.g. CNY"),
                    id="import-currency",
                    classes="import-option",
                    validate_on=["changed"],
                    tooltip=_("Currency (ISO 4217, e.g. CNY) for a file without a currency column"),
                )
            for option in ("client", "region", "currency"):
                yield _option_error(option)
            with Horizontal(classes="import-row import-cases-only", id="import-assign-row"):
                yield Label(_("Assign to"), classes="import-label")
                yield Select(
                    [(Text(_("nobody / unassigned"), style="italic"), NOBODY)],
                    value=NOBODY,
                    allow_blank=False,
                    id="import-assign",
                    tooltip=_("Give every new case to this agent (cases already there stay put)"),
                )
            yield _option_error("assign")
            with Horizontal(classes="import-row", id="import-buttons"):
                yield Button(_("Check (ctrl+r)"), id="import-check", variant="primary")
                yield Button(
                    _("Import (ctrl+s)"), id="import-run", variant="success", disabled=True
                )
                yield Button(_("Browse (ctrl+o)"), id="import-browse")
        # The folder tree is mounted only while browsing: a DirectoryTree keeps a loader worker
        # alive for as long as it exists.
        yield ProgressBar(id="import-progress", show_eta=False)
        yield Static("", id="import-summary")
        yield DataTable(id="import-rejects", cursor_type="row", zebra_stripes=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        super().on_mount()
        self.title = _("Import")
        self.sub_title = printable(self.actor.display_name)
        self.query_one("#import-progress", ProgressBar).display = False
        rejects = self.query_one("#import-rejects", DataTable)
        rejects.add_column(_("Line"), key="line")
        rejects.add_column(_("Reason"), key="reason")
        rejects.display = False
        if not self.actor.is_supervisor:
            for widget in self.query(
                "#import-form Input, #import-form Button, RadioSet, Checkbox, #import-form Select"
            ):
                widget.disabled = True
            self._say(_("Only a supervisor can import files."), style="bold red")
            return
        self.query_one("#import-path", Input).focus()
        self.load_agents()

    @work(thread=True, exclusive=True, group="import-agents", exit_on_error=False)
    def load_agents(self) -> None:
        from collector_tui.services.accounts import list_users

        agents = tuple(self.context.run(list_users, role="agent"))
        self.post_message(AgentsLoaded(agents))

    def on_agents_loaded(self, message: AgentsLoaded) -> None:
        self.agents = {str(agent.user_id): agent for agent in message.agents}
        choice = self.query_one("#import-assign", Select)
        kept = choice.value
        options: list[tuple[Text, str]] = [(Text(_("nobody / unassigned"), style="italic"), NOBODY)]
        for agent in message.agents:
            label = safe_text(agent.display_name)
            if agent.display_name != agent.username:
                label.append(f"  {printable(agent.username)}", style="dim")
            options.append((label, str(agent.user_id)))
        with self.prevent(Select.Changed):
            choice.set_options(options)
            if isinstance(kept, str) and kept in self.agents:
                choice.value = kept

    # -- the form ---------------------------------------------------------------------------------

    def _kind(self) -> str:
        pressed = self.query_one("#import-kind", RadioSet).pressed_button
        return "payments" if pressed is not None and pressed.id == "kind-payments" else "cases"

    def _form(self) -> _Request:
        path = Path(self.query_one("#import-path", Input).value.strip()).expanduser()
        kind = self._kind()

        def typed(widget_id: str) -> str | None:
            return self.query_one(f"#{widget_id}", Input).value.strip() or None

        pressed = self.query_one("#import-decimal", RadioSet).pressed_button
        decimal = DECIMAL_CHOICES.get(pressed.id or "") if pressed is not None else None
        encoding = typed("import-encoding")
        if kind != "cases":
            return _Request(path, kind, False, _stamp(path), decimal=decimal, encoding=encoding)

        chosen = self.query_one("#import-assign", Select).value
        return _Request(
            path,
            kind,
            self.query_one("#import-skip-bad", Checkbox).value,
            _stamp(path),
            region=typed("import-region"),
            client=typed("import-client"),
            currency=typed("import-currency"),
            assign_to=uuid.UUID(chosen) if isinstance(chosen, str) and chosen != NOBODY else None,
            decimal=decimal,
            encoding=encoding,
        )

    def _option_error(self, name: str, message: str | None) -> None:
        """Show (or clear) a service's message under the option it is about."""
        widget_id = OPTION_FIELDS[name]
        error = self.query_one(f"#{widget_id}-error", Static)
        error.update(
            Text.assemble((f"{OPTION_LABELS[name]!s}: ", "bold"), safe_text(message))
            if message
            else ""
        )
        error.set_class(bool(message), "-shown")
        self.query_one(f"#{widget_id}").set_class(bool(message), "-invalid")

    def _clear_option_errors(self) -> None:
        for name in OPTION_FIELDS:
            self._option_error(name, None)

    def _request(self) -> _Request | None:
        """The file and options on the form, or None (with the reason shown) when not usable."""
        field_input = self.query_one("#import-path", Input)
        result = field_input.validate(field_input.value)
        error = self.query_one("#import-path-error", Static)
        if result is not None and not result.is_valid:
            error.update(Text(" ".join(result.failure_descriptions)))
            error.set_class(True, "-shown")
            field_input.focus()
            return None
        error.update("")
        error.set_class(False, "-shown")
        return self._form()

    def _say(self, text: str | Text, *, style: str = "") -> None:
        shown = text if isinstance(text, Text) else Text(text, style=style)
        self.query_one("#import-summary", Static).update(shown)

    def _forget_check(self) -> None:
        self.checked = None
        self.query_one("#import-run", Button).disabled = True

    @on(Input.Changed, "#import-path")
    def _path_changed(self, event: Input.Changed) -> None:
        self._forget_check()
        if event.validation_result is not None and event.validation_result.is_valid:
            error = self.query_one("#import-path-error", Static)
            error.update("")
            error.set_class(False, "-shown")

    @on(RadioSet.Changed)
    @on(Checkbox.Changed)
    def _options_changed(self) -> None:
        self._forget_check()
        cases = self._kind() == "cases"
        self.query_one("#import-skip-bad", Checkbox).disabled = not cases
        # A payments file takes none of the placement options: hidden, so none can mislead.
        self.query_one("#import-form").set_class(not cases, "-payments")

    @on(Input.Changed, ".import-option")
    @on(Select.Changed, "#import-assign")
    @on(RadioSet.Changed, "#import-decimal")
    def _option_changed(self, event: Input.Changed | Select.Changed | RadioSet.Changed) -> None:
        self._forget_check()
        name = next(key for key, value in OPTION_FIELDS.items() if value == event.control.id)
        self._option_error(name, None)

    @on(Input.Submitted, ".import-option")
    def _option_submitted(self) -> None:
        self.action_check()

    @on(Input.Submitted, "#import-path")
    def _path_submitted(self) -> None:
        self.action_check()

    @on(Button.Pressed, "#import-check")
    def _check_pressed(self) -> None:
        self.action_check()

    @on(Button.Pressed, "#import-run")
    def _run_pressed(self) -> None:
        self.action_run_import()

    @on(Button.Pressed, "#import-browse")
    def _browse_pressed(self) -> None:
        self.action_browse()

    @on(DirectoryTree.FileSelected)
    def _file_chosen(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.query_one("#import-path", Input).value = str(event.path)
        event.control.remove()
        self.query_one("#import-check", Button).focus()

    # -- actions ----------------------------------------------------------------------------------

    def action_back(self) -> None:
        if self.busy:
            self.collector.tell(_("The import is still running: wait for its summary."))
            return
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def action_browse(self) -> None:
        for tree in self.query(CsvTree):
            tree.remove()
            self.query_one("#import-path", Input).focus()
            return
        typed = Path(self.query_one("#import-path", Input).value.strip()).expanduser()
        folder = self.folder
        if str(typed) not in ("", "."):
            candidate = typed if typed.is_dir() else typed.parent
            if candidate.is_dir():
                folder = candidate
        tree = CsvTree(folder, id="import-tree")
        self.mount(tree, after=self.query_one("#import-form"))
        tree.focus()

    def action_check(self) -> None:
        if self.busy or not self.actor.is_supervisor:
            return
        request = self._request()
        if request is None:
            return
        self._start(request, dry_run=True)

    def action_run_import(self) -> None:
        if self.busy or not self.actor.is_supervisor:
            return
        request = self._request()
        if request is None:
            return
        if self.checked is None or self.checked != request:
            self.collector.tell(
                _("Check the file first (ctrl+r): it changed, or was not checked."),
                severity="warning",
            )
            return
        self._start(request, dry_run=False)

    def _start(self, request: _Request, *, dry_run: bool) -> None:
        self.busy = True
        self._clear_option_errors()
        for button in self.query("#import-buttons Button"):
            button.disabled = True
        bar = self.query_one("#import-progress", ProgressBar)
        if dry_run:
            bar.display = False
            self._say(_("Checking {name}…").format(name=printable(request.path.name)))
        else:
            self.progress_reports.clear()
            bar.update(total=None, progress=0)
            bar.display = True
            self._say(_("Importing {name}…").format(name=printable(request.path.name)))
        self.query_one("#import-rejects", DataTable).display = False
        self.import_file(request, dry_run)

    @work(thread=True, exclusive=True, group="import", exit_on_error=False, description="import")
    def import_file(self, request: _Request, dry_run: bool) -> None:
        app = self.collector
        last_percent = -1

        def progress(done: int, total: int) -> None:
            # Called from this thread inside the write transaction: hand the figures to the event
            # loop at most once per percent, and keep going.
            nonlocal last_percent
            percent = 100 if total <= 0 else done * 100 // total
            if percent != last_percent or done >= total:
                last_percent = percent
                app.call_from_thread(self._show_progress, done, total)

        summary = run_import(
            store=app.store,
            path=request.path,
            kind=request.kind,
            now=app.clock.now(),
            settings=app.settings,
            actor=self.actor,
            dry_run=dry_run,
            skip_bad=request.skip_bad,
            progress=None if dry_run else progress,
            region=request.region,
            client=request.client,
            currency=request.currency,
            assign_to=request.assign_to,
            decimal=request.decimal,
            encoding=request.encoding,
        )
        self.post_message(ImportFinished(summary, request))

    def _show_progress(self, done: int, total: int) -> None:
        self.progress_reports.append((done, total))
        bar = self.query_one("#import-progress", ProgressBar)
        bar.update(total=max(total, 1), progress=done if total > 0 else 1)

    def on_import_finished(self, message: ImportFinished) -> None:
        summary = message.summary
        self.summary = summary
        self.busy = False
        for button in self.query("#import-buttons Button"):
            button.disabled = False
        run = self.query_one("#import-run", Button)
        if not summary.dry_run:
            bar = self.query_one("#import-progress", ProgressBar)
            # Nothing new to write (all there already) means no progress report: done all the same.
            if bar.total is None or (bar.progress or 0) < bar.total:
                bar.update(total=max(bar.total or 1, 1), progress=max(bar.total or 1, 1))
            self.checked = None
            run.disabled = True
        elif summary.importable and summary.accepted > 0 and self._form() == message.request:
            # Only what was checked may be imported: not a form edited while the check ran.
            self.checked = message.request
            run.disabled = False
        else:
            self.checked = None
            run.disabled = True
        self._show_summary(summary, message.request)
        if summary.importable and summary.dry_run and summary.accepted > 0:
            run.focus()

    def _options_line(self, request: _Request) -> str:
        """The placement options the check or import ran with, so the summary says what it did."""
        parts = [
            f"{name} {value}"
            for name, value in (
                (_("client"), request.client),
                (_("region"), request.region and request.region.upper()),
                (_("currency"), request.currency and request.currency.upper()),
            )
            if value
        ]
        sentences = []
        if parts:
            sentences.append(
                _("Filled in where the file has none: {options}.").format(options=", ".join(parts))
            )
        if request.assign_to is not None:
            agent = self.agents.get(str(request.assign_to))
            who = agent.display_name if agent is not None else str(request.assign_to)
            sentences.append(_("New cases go to {agent}.").format(agent=who))
        mark = {"point": _("point"), "comma": _("comma")}.get(request.decimal or "", "")
        reading = [
            _("amounts with a decimal {mark}").format(mark=mark) if request.decimal else "",
            _("encoding {encoding}").format(encoding=request.encoding) if request.encoding else "",
        ]
        if any(reading):
            sentences.append(
                _("Read with {how}.").format(how=_(" and ").join(r for r in reading if r))
            )
        return " ".join(sentences)

    def _show_summary(self, summary: ImportSummary, request: _Request | None = None) -> None:
        text = Text()
        style = "bold red" if summary.refused else ("bold green" if not summary.dry_run else "bold")
        text.append(summary.headline(), style=style)
        if summary.details and summary.importable:
            text.append("\n")
            text.append_text(safe_text(summary.details, style="dim"))
        if summary.importable and summary.encoding not in ("", "utf-8", "utf-8-sig"):
            # Not UTF-8: say how the file was read, so a wrong guess can be seen in the names.
            text.append(
                "\n" + _("Read as {encoding}.").format(encoding=summary.encoding), style="dim"
            )
        options = self._options_line(request) if request is not None else ""
        if options and summary.importable:
            text.append("\n")
            text.append_text(safe_text(options, style="dim"))
        if summary.importable and summary.dry_run and summary.accepted == 0:
            text.append("\n" + _("Nothing new to import."), style="dim")
        self._say(text)
        rejects = self.query_one("#import-rejects", DataTable)
        rejects.clear()
        rejects.display = bool(summary.rejected)
        for error in summary.rejected[:REJECTS_SHOWN]:
            rejects.add_row(
                Text(_("line {number}").format(number=error.line), justify="right"),
                safe_text(error.reason),
            )

    def worker_failed(self, worker: Any, error: BaseException | None) -> None:
        if worker.group == "import-agents":
            # Without the list the import still works, unassigned: say so and carry on.
            self.collector.tell(
                _("Could not list the agents: {error}").format(error=error_text(error)),
                severity="warning",
            )
            return
        self.busy = False
        for button in self.query("#import-buttons Button"):
            button.disabled = False
        self._forget_check()
        cases = self._kind() == "cases"
        field_name = error.field if isinstance(error, ServiceError) else None
        if field_name in OPTION_FIELDS and (cases or field_name in READING_OPTIONS):
            # The service refused one of the options (or needs one): its words go under that
            # field, and the summary only points there (no toast repeating it).
            from collector_tui.services.imports.csv_reading import FileReadingError

            message = error_text(error)
            if isinstance(error, FileReadingError):
                message = f"{error.problem}: {READING_ADVICE[field_name]!s}"
            self._option_error(field_name, message)
            self.query_one(f"#{OPTION_FIELDS[field_name]}").focus()
            self._say(_("Nothing was written: see the message under the field."), style="bold red")
            return
        super().worker_failed(worker, error)
        message = _("Nothing was written: {error}").format(error=error_text(error))
        if cases and isinstance(error, ServiceError) and error.message.startswith("missing column"):
            message += _(". Client, Region and Currency above fill in what a file leaves out.")
        self._say(message, style="bold red")


def _option_error(option: str, *, cases_only: bool = True) -> Static:
    """The line under an import option where the service's refusal of it is shown."""
    classes = "form-error import-option-error" + (" import-cases-only" if cases_only else "")
    return Static("", id=f"import-{option}-error", classes=classes)
