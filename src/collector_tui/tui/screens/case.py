"""The case: who, how much, every contact so far, why it is in the queue; and the forms to act."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from time import monotonic
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Static
from textual.worker import Worker, get_current_worker

from collector_tui.display import printable, safe_text
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.services.errors import Forbidden, NotFound
from collector_tui.tui.commands import CaseCommands
from collector_tui.tui.formatting import agent_time, zone
from collector_tui.tui.messages import CaseLoaded, NextCaseRead, OutlookLoaded, StrategyLoaded
from collector_tui.tui.screens import corrections
from collector_tui.tui.screens.base import CollectorModal, CollectorScreen, error_text
from collector_tui.tui.screens.forms import (
    DisputeForm,
    DraftSlot,
    FollowUpForm,
    FormScreen,
    NoteForm,
    PlanForm,
    PromiseForm,
)
from collector_tui.tui.typeahead import keys_may_flow
from collector_tui.tui.widgets import case_panels
from collector_tui.tui.widgets.footer import KeyFooter
from collector_tui.tui.widgets.header import TitleHeader
from collector_tui.tui.widgets.timeline import Timeline

if TYPE_CHECKING:
    from datetime import datetime

    from collector_tui.services.assessment.outlook import CaseOutlook
    from collector_tui.services.casework.casefile import CaseFile, TimelineEntry
    from collector_tui.services.strategies.assign import CaseStrategy
    from collector_tui.tui.screens.contacts import MarkContactForm

COMPACT_BELOW = 100  # columns; app.py's -narrow breakpoint
# A next case read ahead longer ago than this is read again when a form opens: the agent is about
# to save, and "save & next" should land on the queue's top as it is now.
PREFETCH_FRESH_S = 30.0

FORM_ACTIONS = (
    "log_contact",
    "promise",
    "plan",
    "follow_up",
    "note",
    "dispute",
    "settle",
    "legal",
    "route",
    "lift_hold",
    "void_contact",
    "withdraw",
    "reschedule_plan",
    "move_follow_up",
    "payment",
    "add_contact",
    "mark_contact",
    "retire_contact",
    "edit_contact",
    "dispute_invoice",
    "resolve_dispute",
    "reverse_payment",
    "add_charge",
    "remind",
    "assess",
)
# Contact changes (tui/screens/contacts.py): shown in the contacts panel's title too, the footer
# having no room left for them at 80 columns.
STATUS_WORDS = {
    "dnc": N_("do not call"),
    "wrong": N_("wrong number"),
    "returned": N_("mail returned"),
}
CONTACTS_TITLE = N_("Contacts (+ add · x mark · E edit · X retire)")
# Numbers masked for this role: the key that shows them is said where they are.
MASKED_CONTACTS_TITLE = N_("Contacts (+ add · x mark · E edit · X retire · R numbers)")
PANEL_TITLES = {
    "contacts-panel": CONTACTS_TITLE,
    "debt-panel": N_("Debt"),
    "status-panel": N_("Status"),
    "why-panel": N_("Why this case is here"),
    "debtor-panel": N_("Debtor"),
    "invoices-panel": N_("Invoices"),
}
TIMELINE_TITLE = N_("Timeline (enter: full entry, open a plan)")
# The toast after a contact change (`contact_saved_text`): what was done, to what.
ADDED = N_("Added {kind} {what}.")
MARKED = N_("Marked {kind} {what}.")
SAVED = N_("Saved {kind} {what}.")
CONTACT_KINDS = {
    "phone": N_("phone"),
    "email": N_("e-mail"),
    "address": N_("address"),
    "third_party": N_("third party"),
}


class CaseScreen(CollectorScreen):
    COMMANDS = {CaseCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "c",
            "log_contact",
            N_("Contact"),
            id="case.contact",
            tooltip=N_("Log a contact attempt"),
        ),
        Binding(
            "p", "promise", N_("Promise"), id="case.promise", tooltip=N_("Record a promise to pay")
        ),
        Binding("l", "plan", N_("Plan"), id="case.plan", tooltip=N_("Record a payment plan")),
        Binding(
            "f",
            "follow_up",
            N_("Follow-up"),
            id="case.follow_up",
            tooltip=N_("Schedule a callback"),
        ),
        Binding("t", "note", N_("Note"), id="case.note", tooltip=N_("Add a note")),
        Binding(
            "d", "dispute", N_("Dispute"), id="case.dispute", tooltip=N_("Record a dispute (hold)")
        ),
        # The footer has no room left at 80 columns: these are in the help and the palette.
        # Invoice disputes and reversals: tui/screens/disputes.py.
        Binding(
            "i",
            "dispute_invoice",
            N_("Dispute invoice"),
            id="case.dispute_invoice",
            tooltip=N_("Dispute an invoice, all or an amount of it (the rest stays workable)"),
            show=False,
        ),
        Binding(
            "D",
            "resolve_dispute",
            N_("Resolve dispute"),
            id="case.resolve_dispute",
            tooltip=N_("Resolve an invoice dispute: upheld (a credit), rejected or partly"),
            show=False,
        ),
        Binding(
            "V",
            "reverse_payment",
            N_("Reverse payment"),
            id="case.reverse_payment",
            tooltip=N_("Reverse the highlighted payment: bounced, chargeback, error (supervisors)"),
            show=False,
        ),
        # Assessing the debtor (tui/screens/assessment.py).
        Binding(
            "a",
            "assess",
            N_("Assess"),
            id="case.assess",
            tooltip=N_(
                "Assess the debtor: income and expenses (a company: its standing), risk grade"
            ),
            show=False,
        ),
        Binding(
            "C",
            "add_charge",
            N_("Charge"),
            id="case.add_charge",
            tooltip=N_("Add a charge after placement: legal costs, fees, interest (supervisors)"),
            show=False,
        ),
        Binding(
            "s",
            "settle",
            N_("Settle"),
            id="case.settle",
            tooltip=N_("Agree a settlement for less than the balance (above your limit: approval)"),
            show=False,
        ),
        Binding(
            "e",
            "legal",
            N_("Legal"),
            id="case.legal",
            tooltip=N_("Ask a supervisor for legal action (the case leaves your queue)"),
            show=False,
        ),
        Binding(
            "o",
            "route",
            N_("To supervisor"),
            id="case.route",
            tooltip=N_("Send the case to a supervisor, saying why (it leaves your queue)"),
            show=False,
        ),
        # Corrections (tui/screens/corrections.py): on the highlighted timeline entry.
        Binding(
            "y",
            "payment",
            N_("Payment"),
            id="case.payment",
            tooltip=N_("Post a payment received (applied to the pending promises, oldest first)"),
            show=False,
        ),
        Binding(
            "u",
            "lift_hold",
            N_("Lift hold"),
            id="case.lift_hold",
            tooltip=N_("Lift a hold or end a dispute, saying why (agents: hardship only)"),
            show=False,
        ),
        Binding(
            "v",
            "void_contact",
            N_("Void"),
            id="case.void_contact",
            tooltip=N_(
                "Void the highlighted contact, logged by mistake (it stays, struck through)"
            ),
            show=False,
        ),
        Binding(
            "w",
            "withdraw",
            N_("Withdraw"),
            id="case.withdraw",
            tooltip=N_("Withdraw the highlighted promise (an installment: cancel its plan)"),
            show=False,
        ),
        Binding(
            "L",
            "reschedule_plan",
            N_("Reschedule"),
            id="case.reschedule_plan",
            tooltip=N_("Reschedule the payment plan: a new schedule replaces it"),
            show=False,
        ),
        Binding(
            "m",
            "move_follow_up",
            N_("Move follow-up"),
            id="case.move_follow_up",
            tooltip=N_("Give the highlighted (or next) follow-up a new time"),
            show=False,
        ),
        # Reminders by SMS, e-mail or letter (tui/screens/reminders.py): `m` was taken already.
        Binding(
            "M",
            "remind",
            N_("Reminder"),
            id="case.remind",
            tooltip=N_("Preview a reminder (SMS, e-mail, letter) for this case and queue it"),
            show=False,
        ),
        # Contact data (tui/screens/contacts.py).
        Binding(
            "plus",
            "add_contact",
            N_("Add contact"),
            id="case.add_contact",
            tooltip=N_(
                "Add a number the debtor gives, an e-mail, a postal address or a third party"
            ),
            show=False,
        ),
        Binding(
            "x",
            "mark_contact",
            N_("Mark contact"),
            id="case.mark_contact",
            tooltip=N_(
                "Mark a number or address: wrong, disconnected, do not call, returned mail; "
                "a third party's objection"
            ),
            show=False,
        ),
        Binding(
            "E",
            "edit_contact",
            N_("Edit contact"),
            id="case.edit_contact",
            tooltip=N_("A number's type, primary and consent (call, SMS); an e-mail's opt-in"),
            show=False,
        ),
        Binding(
            "X",
            "retire_contact",
            N_("Retire contact"),
            id="case.retire_contact",
            tooltip=N_("Retire a number, address, e-mail or third party (kept in the history)"),
            show=False,
        ),
        Binding(
            "R",
            "reveal_numbers",
            N_("Show numbers"),
            id="case.reveal_numbers",
            tooltip=N_(
                "Show the debtor's numbers in full where your role sees them masked "
                "(an audited action)"
            ),
            show=False,
        ),
        Binding(
            "n",
            "next_case",
            N_("Next"),
            id="case.next",
            tooltip=N_("Open the next case of the queue (after saving, or to skip this one)"),
        ),
        Binding("escape", "back", N_("Back"), id="case.back", tooltip=N_("Back to the queue")),
        Binding(
            "r",
            "reload",
            N_("Reload"),
            id="case.reload",
            tooltip=N_("Read the case again"),
            show=False,
        ),
    ]

    def __init__(
        self, case_id: uuid.UUID, case_file: CaseFile | None = None, *, from_queue: bool = False
    ) -> None:
        """`case_file`, when given, was read ahead (the next case of the queue): it is shown at
        once, in the first frame, and read again behind it."""
        super().__init__()
        self.case_id = case_id
        # Worked from the queue (not looked up): leaving it with nothing saved during this visit
        # meets the wrap-up rule (services/casework/wrap_up.py).
        self.from_queue = from_queue
        self.logged = False
        self.case_file: CaseFile | None = None
        self.loaded_at: datetime | None = None
        self.moving_on = False
        # Read again after a save: keys typed meanwhile wait for it (a number just added is in
        # the contact form's phone picker when `c` follows `+`).
        self.rereading = False
        self._compact_panels: bool | None = None
        self.arrived = case_file
        # The next case of the queue, read ahead in a worker while the agent is on this one, so
        # "next" shows it filled at once. `None` with `next_read_at` set: the queue had no more.
        self.next_file: CaseFile | None = None
        self.next_read_at: float | None = None
        # The latest assessment and the probability of payment, read after the case file.
        self.outlook: CaseOutlook | None = None
        # The case's strategy and group, why, and an escalation due: read with the outlook.
        self.strategy: CaseStrategy | None = None

    @property
    def accepts_keys(self) -> bool:
        """Keys typed while the case loads, or while the next one is found, wait for it
        (tui/typeahead.py): `enter c` opens the contact form of the case just opened."""
        return self.case_file is not None and not self.moving_on and not self.rereading

    def compose(self) -> ComposeResult:
        yield TitleHeader()
        yield Static(_("Loading the case…"), id="case-header")
        with Horizontal(id="case-body"):
            with VerticalScroll(id="case-details"):
                yield Static(id="contacts-panel", classes="panel")
                yield Static(id="debt-panel", classes="panel")
                yield Static(id="status-panel", classes="panel")
                yield Static(id="why-panel", classes="panel")
                yield Static(id="debtor-panel", classes="panel")
                yield Static(id="invoices-panel", classes="panel")
            with Vertical(id="timeline-box"):
                yield Timeline(id="timeline")
        # The palette key is on the queue's footer and in the help; here the room goes to the
        # case's own keys, all of which must fit in 80 columns.
        yield KeyFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.title = _("Case")
        self._title_panels()
        for panel_id in PANEL_TITLES:
            self.query_one(f"#{panel_id}", Static).display = False
        self.query_one("#timeline", Timeline).focus()
        if self.arrived is not None:
            # Filled before the first paint; the worker checks it is still the agent's to work,
            # once that paint is out: a reading thread started now would slow it down (the
            # interpreter's lock), and the key that opened the case waits for that frame.
            self.show_case(self.arrived)
            self.call_after_refresh(self.load_case)
        else:
            self.load_case()

    # -- loading ----------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="case", exit_on_error=False, description="load case")
    def load_case(self) -> None:
        # Imported here, off the event loop, so the first `c` does not pay for it.
        import collector_tui.tui.screens.contact  # noqa: F401
        import collector_tui.tui.screens.contacts  # noqa: F401
        from collector_tui.services.casework.casefile import load_case_file

        case_file = self.context.run(load_case_file, case_id=self.case_id)
        self.post_message(CaseLoaded(case_file))
        self._read_outlook()

    def _read_outlook(self) -> None:
        # Its own read after the case file: the case paints first, the outlook a moment later.
        from collector_tui.services.assessment.outlook import case_outlook

        self.post_message(OutlookLoaded(self.context.run(case_outlook, case_id=self.case_id)))
        from collector_tui.services.strategies.assign import case_strategy

        self.post_message(StrategyLoaded(self.context.run(case_strategy, case_id=self.case_id)))

    def on_outlook_loaded(self, message: OutlookLoaded) -> None:
        if message.outlook.case_id != self.case_id:
            return
        self.outlook = message.outlook
        self._show_panels()

    def on_strategy_loaded(self, message: StrategyLoaded) -> None:
        if message.strategy.case_id != self.case_id:
            return
        self.strategy = message.strategy
        self._show_panels()

    def worker_failed(self, worker: Worker[Any], error: BaseException | None) -> None:
        if worker.group == "next" and not self.moving_on:
            return  # only read ahead: "next" reads it again when pressed
        if (
            worker.group == "case"
            and self.arrived is not None
            and isinstance(error, NotFound | Forbidden)
        ):
            # Read ahead, then taken (reassigned, closed) before the agent got to it.
            self.collector.tell(
                _("{case} is no longer yours to work ({why}): opening the next case.").format(
                    case=self.arrived.client_ref, why=error_text(error)
                ),
                severity="warning",
            )
            self.arrived = None
            self._next_case()  # no wrap-up to ask for: the case is not the agent's any more
            return
        super().worker_failed(worker, error)
        if worker.group == "case" and self.rereading:
            self.rereading = False
            keys_may_flow(self)
        if worker.group == "case" and isinstance(error, NotFound | Forbidden):
            self.app.pop_screen()
        if worker.group == "next":
            self.moving_on = False
            keys_may_flow(self)

    def on_case_loaded(self, message: CaseLoaded) -> None:
        if message.case_file.case_id != self.case_id:
            return  # read for the case this screen showed before save & next moved it on
        self.show_case(message.case_file)

    def show_case(self, case: CaseFile) -> None:
        shown = self.case_file
        if self.rereading:
            self.rereading = False
            keys_may_flow(self)
        if shown is not None and shown == case:
            return  # read again and unchanged (a case read ahead, checked on arrival)
        first = shown is None or shown.case_id != case.case_id
        self.case_file = case
        app = self.collector
        actor = self.actor
        now = app.clock.now()
        self.loaded_at = now
        tz = actor.time_zone
        self.title = printable(case.debtor.name)
        self.sub_title = printable(f"{case.client} / {case.client_ref}")
        self.query_one("#case-header", Static).update(
            case_panels.case_header(case, app.settings.locale, tz, now)
        )
        self._show_panels()
        self.query_one("#timeline", Timeline).show(
            case.timeline, tz=tz, now=now, another_case=first and shown is not None
        )
        box = self.query_one("#timeline-box")
        box.border_subtitle = "" if case.timeline else _("nothing on this case yet")
        self.refresh_bindings()
        keys_may_flow(self)
        if first and self.next_read_at is None:
            # After the frame that shows this case (see on_mount).
            self.call_after_refresh(self._read_ahead)

    def _read_ahead(self) -> None:
        if self.next_read_at is None and not self._reading_next() and self.is_attached:
            self.read_next_case()

    def _compact(self) -> bool:
        # Below the -narrow breakpoint (app.py) the panels stack over the timeline: each says
        # only what the header does not, so that all of them fit at 80x24 without scrolling.
        return (self.size.width or self.app.size.width) < COMPACT_BELOW

    def _show_panels(self) -> None:
        case = self.case_file
        if case is None or self.loaded_at is None:
            return
        tz = self.actor.time_zone
        now = self.loaded_at
        compact = self._compact()
        self._compact_panels = compact
        shown = case if self.numbers_shown() else case_panels.masked_numbers(case)
        title = _(CONTACTS_TITLE if shown is case else MASKED_CONTACTS_TITLE)
        self.query_one("#contacts-panel", Static).border_title = title
        self.query_one("#case-details").border_title = title
        self._panel("contacts-panel", case_panels.contacts_panel(shown, tz, now, compact=compact))
        self._panel("debt-panel", case_panels.debt_panel(case, tz, now, compact=compact))
        self._panel("status-panel", case_panels.status_panel(case, tz, now, compact=compact))
        from collector_tui.tui.screens.assessment import chance_line

        chance = chance_line(self.outlook.prediction, case.currency) if self.outlook else None
        from collector_tui.tui.screens.strategy import strategy_line

        self._panel(
            "why-panel",
            case_panels.why_panel(
                case,
                compact=compact,
                chance=chance,
                strategy=strategy_line(self.strategy, compact=compact),
            ),
        )
        from collector_tui.tui.screens.assessment import assessment_lines

        assessed = assessment_lines(
            self.outlook.assessment if self.outlook else None, compact=compact
        )
        self._panel(
            "debtor-panel", case_panels.debtor_panel(case, compact=compact, assessment=assessed)
        )
        self._panel("invoices-panel", case_panels.invoices_panel(case))
        # Compact, the panel holds an address only when the contacts panel does not list it.
        self.query_one("#debtor-panel").border_title = (
            _("Address") if compact and case_panels.address_unlisted(case) else _("Debtor")
        )

    def _title_panels(self) -> None:
        for panel_id, title in PANEL_TITLES.items():
            self.query_one(f"#{panel_id}", Static).border_title = _(title)
        # Wide, the panels share one box, titled as the first of them (app.tcss).
        self.query_one("#case-details").border_title = _(CONTACTS_TITLE)
        self.query_one("#timeline-box").border_title = _(TIMELINE_TITLE)

    def language_changed(self) -> None:
        """The panels in the new language at once; the case is read again for what the services
        word (the timeline's entries, why it is here)."""
        super().language_changed()
        self.title = _("Case") if self.case_file is None else self.title
        self._title_panels()
        case = self.case_file
        if case is None or self.loaded_at is None:
            return
        tz = self.actor.time_zone
        self.query_one("#case-header", Static).update(
            case_panels.case_header(case, self.collector.settings.locale, tz, self.loaded_at)
        )
        self._show_panels()
        timeline = self.query_one("#timeline", Timeline)
        timeline.relabel()
        timeline.show(case.timeline, tz=tz, now=self.loaded_at)
        box = self.query_one("#timeline-box")
        box.border_subtitle = "" if case.timeline else _("nothing on this case yet")
        self.load_case()

    def on_resize(self) -> None:
        if self.case_file is not None and self._compact() != self._compact_panels:
            self._show_panels()

    def _panel(self, panel_id: str, content: Any) -> None:
        panel = self.query_one(f"#{panel_id}", Static)
        panel.display = content is not None
        if content is not None:
            panel.update(content)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in FORM_ACTIONS and self.case_file is None:
            return None  # shown, but disabled until the case is read
        if action == "reveal_numbers" and self.numbers_shown():
            return False  # nothing masked: the key is not offered
        return True

    # -- numbers masked for roles that do not dial (config unmasked_roles) -------------------------

    def numbers_shown(self) -> bool:
        app = self.collector
        return self.actor.role in app.settings.unmasked_roles or self.case_id in app.revealed

    def action_reveal_numbers(self) -> None:
        if not self.numbers_shown():
            self.reveal_numbers()

    @work(thread=True, exclusive=True, group="reveal", exit_on_error=False, description="reveal")
    def reveal_numbers(self) -> None:
        from collector_tui.services.contacts import book

        # Taken once: save & next may show another case in this screen before the answer.
        case_id = self.case_id
        self.context.run(book.reveal_contacts, case_id=case_id)
        self.app.call_from_thread(self._numbers_revealed, case_id)

    def _numbers_revealed(self, case_id: uuid.UUID) -> None:
        self.collector.revealed.add(case_id)
        if case_id != self.case_id:
            return
        self._show_panels()
        self.refresh_bindings()
        self.collector.tell(_("Numbers shown in full; the audit trail records it."))

    # -- forms ------------------------------------------------------------------------------------

    def _today(self) -> Any:
        actor = self.actor
        return self.collector.clock.now().astimezone(zone(actor.time_zone)).date()

    def _form_kwargs(self, case: CaseFile, save: Callable[[Any], Any]) -> dict[str, Any]:
        """What every form of this screen is given: its saver (run in the form's worker; it calls
        one service through `Context.run`, one unit of work with a fresh now), what to do on a
        stale edit (read the case again), and whose case it is."""
        return {
            "saver": save,
            "on_stale": self.load_case,
            "subtitle": f"{case.debtor.name} · {case.client_ref}",
        }

    def _money_kwargs(self, case: CaseFile) -> dict[str, Any]:
        """What a form taking an amount of this case needs to read and check it."""
        return {
            "currency": case.currency,
            "locale": self.collector.settings.locale,
            "today": self._today(),
            "balance": case.balance,
        }

    def _due_kwargs(self, case: CaseFile) -> dict[str, Any]:
        """_money_kwargs for a form that takes a due date: "today" is the debtor's, as the
        service checks it, and the form says in which zone."""
        return {
            **self._money_kwargs(case),
            "today": case.debtor_today or self._today(),
            "today_zone": case.debtor_zone if case.debtor_today else self.actor.time_zone,
        }

    def _disposable(self) -> int | None:
        """The latest assessment's disposable income a month, when in the case's currency."""
        assessed = self.outlook.assessment if self.outlook else None
        if assessed is None or assessed.disposable is None:
            return None
        if self.case_file is None or assessed.currency != self.case_file.currency:
            return None
        return assessed.disposable

    def _open(self, form: FormScreen[Any], done: str | Callable[[Any], str]) -> None:
        """Push `form`; once it saved, say `done` (or what `done` makes of the service's answer)
        and read the case again, or move on to the next case."""
        ref = self.case_file.client_ref if self.case_file else ""

        def closed(value: Any) -> None:
            if value is None:
                return
            self.logged = True
            said = _(done) if isinstance(done, str) else done(form.outcome)
            if form.then_next:
                # Shown on the next case: it names the case it was saved on.
                self.collector.tell(f"{ref}: {said}", timeout=3)
                self.action_next_case()
            else:
                self.collector.tell(said, timeout=3)
                self.rereading = True
                self.load_case()

        if self.next_read_at is None or monotonic() - self.next_read_at > PREFETCH_FRESH_S:
            self.read_next_case()
        self.app.push_screen(form, closed)

    def action_log_contact(self) -> None:
        from collector_tui.services.casework import drafted
        from collector_tui.services.rules import dispositions
        from collector_tui.tui.screens.contact import contact_form

        case = self.case_file
        if case is None:
            return
        app = self.collector
        actor = self.actor
        context = self.context
        case_id = case.case_id

        def save(contact: Any) -> Any:
            current = self.case_file
            return context.run(
                drafted.log_drafted_contact,
                case_id=case_id,
                contact=contact,
                draft_form="contact",
                expected_version=current.version if current else None,
            )

        form = contact_form(
            app,
            phones=case.phones,
            dispositions=list(dispositions.DISPOSITIONS.values()),
            tz=actor.time_zone,
            now=app.clock.now(),
            max_note_length=app.settings.max_note_length,
            draft=DraftSlot(case_id, "contact"),
            **self._due_kwargs(case),
            **self._form_kwargs(case, save),
        )
        self._open(form, _("Contact logged."))

    def action_promise(self) -> None:
        from collector_tui.services.casework import activities

        case = self.case_file
        if case is None:
            return
        context = self.context

        def save(promise: Any) -> Any:
            # Agreed with the debtor: a right-party contact that also answers the due callback.
            return context.run(
                activities.record_agreement,
                case_id=case.case_id,
                promise=promise,
                expected_version=self._expected_version(),
            )

        form = PromiseForm(
            **self._due_kwargs(case),
            **self._form_kwargs(case, save),
        )
        self._open(form, _("Promise recorded."))

    def action_plan(self) -> None:
        from collector_tui.services.casework import activities

        case = self.case_file
        if case is None:
            return
        context = self.context

        def save(plan: Any) -> Any:
            # Agreed with the debtor: a right-party contact that also answers the due callback.
            return context.run(
                activities.record_agreement,
                case_id=case.case_id,
                plan=plan,
                expected_version=self._expected_version(),
            )

        form = PlanForm(
            **self._due_kwargs(case),
            disposable=self._disposable(),
            **self._form_kwargs(case, save),
        )
        self._open(form, _("Payment plan recorded."))

    def action_follow_up(self) -> None:
        from collector_tui.services.casework import followups

        case = self.case_file
        if case is None:
            return
        app = self.collector
        context = self.context

        def save(follow_up: Any) -> Any:
            return context.run(
                followups.create_follow_up, case_id=case.case_id, follow_up=follow_up
            )

        form = FollowUpForm(
            tz=self.actor.time_zone,
            now=app.clock.now(),
            **self._form_kwargs(case, save),
        )
        self._open(form, _("Follow-up scheduled."))

    def action_note(self) -> None:
        from collector_tui.services.casework import drafted

        case = self.case_file
        if case is None:
            return
        app = self.collector
        context = self.context

        def save(text: Any) -> Any:
            return context.run(
                drafted.add_drafted_note, case_id=case.case_id, text=text, draft_form="note"
            )

        form = NoteForm(
            max_length=app.settings.max_note_length,
            draft=DraftSlot(case.case_id, "note"),
            **self._form_kwargs(case, save),
        )
        self._open(form, _("Note saved."))

    def action_dispute(self) -> None:
        from collector_tui.services.casework import holds

        case = self.case_file
        if case is None:
            return
        context = self.context

        def save(reason: Any) -> Any:
            return context.run(
                holds.place_hold, case_id=case.case_id, kind="dispute", reason=reason
            )

        form = DisputeForm(
            **self._form_kwargs(case, save),
        )
        self._open(form, _("Dispute recorded: the case is on hold."))

    # -- contact data (tui/screens/contacts.py) ---------------------------------------------------

    def action_add_contact(self) -> None:
        from collector_tui.tui.screens.contacts import AddContactForm

        case = self.case_file
        if case is None:
            return
        context = self.context

        def save(new: Any) -> Any:
            return add_contact(context, case.case_id, new, self._expected_version())

        form = AddContactForm(
            tz=self.actor.time_zone, today=self._today(), **self._form_kwargs(case, save)
        )
        self._open(form, contact_saved_text(ADDED))

    def action_mark_contact(self) -> None:
        from collector_tui.tui.screens.contacts import MarkContactForm

        self._mark_or_retire(MarkContactForm)

    def action_retire_contact(self) -> None:
        from collector_tui.tui.screens.contacts import RetireContactForm

        self._mark_or_retire(RetireContactForm)

    def _mark_or_retire(self, form_type: type[MarkContactForm]) -> None:
        from collector_tui.tui.screens.contacts import has_contacts

        case = self.case_file
        if case is None:
            return
        if not has_contacts(case, "phone", "address", "email", "third_party"):
            self.collector.tell(_("No contact on file to mark: + adds one."), severity="warning")
            return
        context = self.context

        def save(mark: Any) -> Any:
            return mark_contact(context, case.case_id, mark, self._expected_version())

        form = form_type(case=case, **self._form_kwargs(case, save))
        self._open(form, contact_saved_text(MARKED))

    def action_edit_contact(self) -> None:
        from collector_tui.tui.screens.contacts import EditContactForm, has_contacts

        case = self.case_file
        if case is None:
            return
        if not has_contacts(case, "phone", "email"):
            self.collector.tell(
                _("No number or e-mail on file to edit: + adds one."), severity="warning"
            )
            return
        context = self.context

        def save(edit: Any) -> Any:
            return edit_contact(context, case, edit, self._expected_version())

        form = EditContactForm(
            case=case,
            tz=self.actor.time_zone,
            today=self._today(),
            now=self.collector.clock.now(),
            **self._form_kwargs(case, save),
        )
        self._open(form, contact_saved_text(SAVED))

    # -- asking the supervisors -------------------------------------------------------------------

    def _expected_version(self) -> int | None:
        # Read when the save runs: a stale edit reloads the case, and the next try uses the new one.
        current = self.case_file
        return current.version if current else None

    def _with_supervisors(self, case: CaseFile) -> bool:
        """Tell the agent, and say True, when the case already waits for a supervisor."""
        if not case.routed_reason:
            return False
        self.collector.tell(
            _("This case is already with the supervisors: {reason}.").format(
                reason=case.routed_reason
            ),
            severity="warning",
        )
        return True

    def action_settle(self) -> None:
        from collector_tui.services.casework import settlements
        from collector_tui.tui.screens.case_requests import SettlementRequestForm

        case = self.case_file
        if case is None:
            return
        context = self.context

        def save(request: Any) -> Any:
            return context.run(
                settlements.request_settlement,
                case_id=case.case_id,
                amount=request.amount,
                due_date=request.due_date,
                note=request.note,
                expected_version=self._expected_version(),
            )

        def outcome(view: Any) -> str:
            if view is not None and view.status == "approved":
                return _("Settlement agreed; promise recorded.")
            return _("Settlement above your limit: sent to a supervisor for approval.")

        prediction = self.outlook.prediction if self.outlook else None
        form = SettlementRequestForm(
            limit_pct=case.settlement_limit_pct,
            disposable=self._disposable(),
            expected_recovery=(
                case.balance - prediction.expected_loss if prediction is not None else None
            ),
            **self._due_kwargs(case),
            **self._form_kwargs(case, save),
        )
        self._open(form, outcome)

    def action_legal(self) -> None:
        from collector_tui.services.supervision import decisions
        from collector_tui.tui.screens.case_requests import LegalRequestForm

        self._ask_supervisors(
            LegalRequestForm,
            decisions.request_legal_escalation,
            N_("Legal action requested: the case waits for a supervisor."),
        )

    def action_route(self) -> None:
        from collector_tui.services.supervision import decisions
        from collector_tui.tui.screens.case_requests import RouteForm

        self._ask_supervisors(
            RouteForm,
            decisions.route_case,
            N_("Sent to a supervisor: the case leaves your queue until they decide."),
        )

    def _ask_supervisors(
        self, form_type: type[FormScreen[str]], request: Callable[..., Any], done: str
    ) -> None:
        """A form asking one reason, then `request` (a supervision service taking `reason`)."""
        case = self.case_file
        if case is None or self._with_supervisors(case):
            return
        context = self.context

        def save(reason: Any) -> Any:
            return context.run(
                request,
                case_id=case.case_id,
                reason=reason,
                expected_version=self._expected_version(),
            )

        form = form_type(
            **self._form_kwargs(case, save),
        )
        self._open(form, done)

    # -- corrections (tui/screens/corrections.py) ------------------------------------------------

    def action_payment(self) -> None:
        corrections.open_payment(self)

    def action_lift_hold(self) -> None:
        corrections.open_release_hold(self)

    def action_void_contact(self) -> None:
        corrections.open_void_contact(self)

    def action_withdraw(self) -> None:
        corrections.open_withdraw(self)

    def action_reschedule_plan(self) -> None:
        corrections.open_reschedule_plan(self)

    def action_move_follow_up(self) -> None:
        corrections.open_move_follow_up(self)

    # -- assessing the debtor (tui/screens/assessment.py) -----------------------------------------

    def action_assess(self) -> None:
        from collector_tui.tui.screens import assessment

        assessment.open_assessment(self)

    # -- invoice disputes and reversals (tui/screens/disputes.py) --------------------------------

    def action_dispute_invoice(self) -> None:
        from collector_tui.tui.screens import disputes

        disputes.open_invoice_dispute(self)

    def action_resolve_dispute(self) -> None:
        from collector_tui.tui.screens import disputes

        disputes.open_resolve_dispute(self)

    def action_reverse_payment(self) -> None:
        from collector_tui.tui.screens import disputes

        disputes.open_reverse_payment(self)

    def action_add_charge(self) -> None:
        from collector_tui.tui.screens import charges

        charges.open_charge(self)

    def action_remind(self) -> None:
        case = self.case_file
        if case is None:
            return
        from collector_tui.tui.screens.reminders import ReminderScreen

        def done(message: str | None) -> None:
            if message:
                self.collector.tell(message)

        self.app.push_screen(ReminderScreen(case.case_id, case.client_ref), done)

    # -- moving on --------------------------------------------------------------------------------

    def leave_then(self, go: Callable[[], object]) -> None:
        """Leave the case by `go`, once the wrap-up rule lets it (services/casework/wrap_up.py)."""
        from collector_tui.services.casework.wrap_up import WHAT_TO_LOG, wrap_up_on_leaving

        rule = wrap_up_on_leaving(
            settings=self.collector.settings,
            actor=self.actor,
            from_queue=self.from_queue and self.case_file is not None,
            logged=self.logged,
        )
        if rule == "allow":
            go()
        elif rule == "require":
            self.collector.tell(_(WHAT_TO_LOG), severity="warning", timeout=6)
        else:
            from collector_tui.tui.screens.confirm import ConfirmScreen

            def answered(leave: bool | None) -> None:
                if leave:
                    go()

            question = ConfirmScreen(
                _("Leave without a wrap-up?"),
                _("Nothing was logged on this case during this visit."),
                yes=_("Leave"),
            )
            self.app.push_screen(question, answered)

    def action_next_case(self) -> None:
        self.leave_then(self._next_case)

    def _next_case(self) -> None:
        if self.moving_on:
            return
        self.collector.skipped.add(self.case_id)
        self.moving_on = True
        if self.next_read_at is not None and not self._reading_next():
            self._move_on(self.next_file)
        elif not self._reading_next():
            self.read_next_case()
        # else: the case being read ahead is shown as soon as it is read (on_next_case_read)

    def _reading_next(self) -> bool:
        return any(
            worker.node is self and worker.group == "next" and worker.is_running
            for worker in self.workers
        )

    @work(thread=True, exclusive=True, group="next", exit_on_error=False, description="next case")
    def read_next_case(self) -> None:
        """The next case of the queue and its whole file, in two short units of work (none held
        while the agent works): read ahead while the agent is on this case, or when "next" finds
        none read."""
        from collector_tui.services.casework.casefile import load_case_file
        from collector_tui.services.casework.queue import next_case

        app = self.collector
        context = self.context
        entry = context.run(
            next_case, agent_id=self.actor.user_id, exclude=(*app.skipped, self.case_id)
        )
        case_file = None
        if entry is not None:
            case_file = context.run(load_case_file, case_id=entry.case_id)
        if not get_current_worker().is_cancelled:
            self.post_message(NextCaseRead(case_file))

    def on_next_case_read(self, message: NextCaseRead) -> None:
        if message.case_file is not None and message.case_file.case_id == self.case_id:
            return  # read ahead for the case before, and this is the case it found
        self.next_file = message.case_file
        self.next_read_at = monotonic()
        if self.moving_on:
            self._move_on(message.case_file)

    def _move_on(self, case_file: CaseFile | None) -> None:
        if case_file is None:
            self.moving_on = False
            self.collector.tell(_("No more callable cases: back to the queue."), severity="warning")
            self.app.pop_screen()
            return
        self._arrive(case_file)

    def _arrive(self, case_file: CaseFile) -> None:
        """Save & next: the next case, read ahead, shown in this same screen, in the frame that
        follows the key (a new screen cost four times the bare app's push: composing, styling
        and laying out every widget again), with the toast of the save still on it. Everything
        this screen knows of a case starts over as a new screen's would; what the screen keeps
        (its widgets, its styles, the contact form kept for reuse) belongs to no case."""
        for worker in list(self.workers):
            if worker.node is self and worker.group in ("case", "next", "reveal"):
                worker.cancel()  # their answers are the case before's (each handler checks)
        self.case_id = case_file.case_id
        self.from_queue = True
        self.logged = False
        self.moving_on = False
        self.rereading = False
        self.arrived = case_file
        self.next_file = None
        self.next_read_at = None
        self.outlook = None
        self.strategy = None
        self.query_one("#case-details").scroll_home(animate=False, immediate=True)
        # As on_mount: filled now, then checked (still the agent's? changed?) after the paint.
        self.show_case(case_file)
        self.call_after_refresh(self.load_case)

    def action_back(self) -> None:
        self.leave_then(self.app.pop_screen)

    def action_reload(self) -> None:
        self.load_case()

    # -- the timeline -----------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#timeline")
    def _entry_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_show_entry()

    def action_show_entry(self) -> None:
        entry = self.query_one("#timeline", Timeline).selected_entry()
        if entry is None:
            return
        actor = self.actor
        self.app.push_screen(EntryScreen(entry, tz=actor.time_zone, now=self.collector.clock.now()))


# -- contact data: the form's value to services/contacts calls ------------------------------------


def add_contact(context: Any, case_id: uuid.UUID, new: Any, version: int | None) -> Any:
    """One services/contacts call for an AddContactForm's NewContact."""
    from collector_tui.services.contacts import book

    common = {"case_id": case_id, "expected_version": version, "source": new.source}
    if new.kind == "phone":
        return context.run(
            book.add_phone,
            number=new.value,
            phone_type=new.phone_type,
            consent=new.consent,
            consent_until=new.consent_until,
            consent_how=new.how,
            **common,
        )
    if new.kind == "email":
        return context.run(
            book.add_email,
            address=new.value,
            opt_in="opt_in" in new.consent,
            opt_in_how=new.how,
            **common,
        )
    if new.kind == "address":
        return context.run(book.add_address, text=new.value, **common)
    return context.run(
        book.add_third_party,
        name=new.value,
        relation=new.relation,
        phone=new.party_phone,
        **common,
    )


def mark_contact(context: Any, case_id: uuid.UUID, mark: Any, version: int | None) -> Any:
    """One services/contacts call for a MarkContactForm's ContactMark."""
    from collector_tui.services.contacts import book

    common = {"case_id": case_id, "expected_version": version}
    if mark.status == "retire":
        return context.run(
            book.retire_contact,
            kind=mark.kind,
            contact_id=mark.contact_id,
            reason=mark.reason,
            **common,
        )
    if mark.kind == "third_party":
        if mark.status == "objected":
            return context.run(
                book.record_objection, party_id=mark.contact_id, how=mark.reason, **common
            )
        return context.run(book.record_recontact_request, party_id=mark.contact_id, **common)
    return context.run(
        book.mark_contact,
        kind=mark.kind,
        contact_id=mark.contact_id,
        status=mark.status,
        reason=mark.reason,
        **common,
    )


def edit_contact(context: Any, case: CaseFile, edit: Any, version: int | None) -> Any:
    """An EditContactForm's ContactEdit: the calls for what changed, each on the case version the
    one before returned (a refusal stops there: what was saved before it stays, the form says
    what was refused)."""
    from collector_tui.services.contacts import book

    saved: Any = None

    def run(service: Any, **args: Any) -> None:
        nonlocal saved, version
        saved = context.run(service, case_id=case.case_id, expected_version=version, **args)
        version = saved.case_version

    if edit.kind == "email":
        email = next(e for e in case.emails if e.id == edit.contact_id)
        wanted = "opt_in" in edit.consent
        if wanted != email.opt_in or edit.how:
            run(book.set_email_opt_in, email_id=edit.contact_id, opt_in=wanted, how=edit.how)
        return saved
    phone = next(p for p in case.phones if p.id == edit.contact_id)
    kind = phone.kind if phone.kind in ("mobile", "home", "work") else None
    if edit.phone_type != kind or edit.primary != phone.is_primary:
        run(
            book.edit_phone,
            phone_id=edit.contact_id,
            phone_type=edit.phone_type if edit.phone_type != kind else None,
            primary=edit.primary if edit.primary != phone.is_primary else None,
        )
    held = set(phone.mark.consents(context.now())) if phone.mark is not None else set()
    for channel in ("call", "sms"):
        wanted = channel in edit.consent
        renewed = channel == "call" and wanted and edit.consent_until is not None
        if wanted != (channel in held) or renewed:
            run(
                book.set_phone_consent,
                phone_id=edit.contact_id,
                channel=channel,
                given=wanted,
                until=edit.consent_until if channel == "call" and wanted else None,
                how=edit.how if wanted else None,
            )
    return saved


def contact_saved_text(verb: str) -> Callable[[Any], str]:
    """The toast after a contact change: what was saved and, when the case may not be called
    now, why (services/contacts: the queue's verdict in the same transaction)."""

    def said(saved: Any) -> str:
        if saved is None:
            return _("Nothing to change.")
        from collector_tui.display import printable

        what = printable(saved.value)
        if saved.kind == "phone" and what.startswith("+"):
            from collector_tui.phones import format_phone

            what = format_phone(what)
        if len(what) > 40:
            what = what[:39] + "…"
        kind = _(CONTACT_KINDS[saved.kind]) if saved.kind in CONTACT_KINDS else saved.kind
        if not saved.changed:
            text = _("{kind} {what}: already so, nothing changed.").format(kind=kind, what=what)
        elif verb == MARKED:
            status = STATUS_WORDS.get(saved.status)
            text = _("Marked {kind} {what}: {status}.").format(
                kind=kind, what=what, status=_(status) if status else saved.status
            )
        else:
            text = _(verb).format(kind=kind, what=what)
        if saved.queue.reason:
            if saved.queue.callable:
                text += " " + _("Note: {reason}.").format(reason=saved.queue.reason)
            else:
                text += " " + _("Out of the queue: {reason}.").format(reason=saved.queue.reason)
        return text

    return said


class EntryScreen(CollectorModal[None]):
    """One timeline entry in full (a note may be long; the list shows only its first line)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", N_("Close"), id="entry.close", tooltip=N_("Back to the case")),
        Binding("enter", "close", N_("Close"), show=False, id="entry.close_enter"),
    ]

    def __init__(self, entry: TimelineEntry, *, tz: str, now: datetime) -> None:
        super().__init__()
        self.entry = entry
        self.tz = tz
        self.now = now

    def compose(self) -> ComposeResult:
        entry = self.entry
        heading = safe_text(entry.title, style="bold")
        heading.append(f"\n{agent_time(entry.at, self.tz, self.now)}", style="dim")
        if entry.user:
            heading.append(" · ", style="dim")
            heading.append_text(safe_text(entry.user, style="dim"))
        if entry.phone_e164:
            from collector_tui.phones import format_phone

            heading.append(f" · {format_phone(entry.phone_e164)}", style="dim")
        with Vertical(id="entry-dialog", classes="dialog"):
            yield Static(heading, classes="dialog-title")
            with VerticalScroll(id="entry-body"):
                yield Static(
                    safe_text(entry.note, multiline=True) if entry.note else Text(_("(no note)")),
                    id="entry-note",
                )
        yield KeyFooter(compact=True, show_command_palette=False)

    def action_close(self) -> None:
        self.dismiss(None)
