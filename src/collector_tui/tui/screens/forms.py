"""Modal forms: each returns its typed input (`ModalScreen[PromiseInput | None]`, ...).

The life of a form: the agent types; `ctrl+s` reads the fields (a field that cannot be read gets its
message right under it); the form then hands the value to its `saver`, a plain function the case
screen built, which runs in a thread worker as one unit of work. A refusal from the service
(`InvalidInput` with `.field`) lands under the field it names, anything else above the keys; in
both cases the form stays open with everything typed intact. Only a successful save closes it.

A form opened without a saver just collects: the contact form opens the promise, plan and
follow-up forms that way, so a disposition that needs a promise is saved in one `log_contact`.

Forms with free text keep a draft (casework.drafts): saved a moment after the agent stops typing,
and at once when the form is closed without saving, restored when it opens again, discarded in the
same transaction as the successful save.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Select, Static, TextArea
from textual.worker import Worker, WorkerState

from collector_tui.display import safe_text
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.money import MoneyError, parse_money
from collector_tui.services.errors import ServiceError, StaleEdit
from collector_tui.tui.formatting import TIME_FORMAT, agent_time, day_text, plain_amount, zone
from collector_tui.tui.messages import DraftLoaded
from collector_tui.tui.parsing import (
    INTERVALS,
    FieldError,
    local_instant,
    parse_count,
    parse_date,
    parse_time,
)
from collector_tui.tui.screens.base import CollectorModal, error_text
from collector_tui.tui.typeahead import keys_may_flow
from collector_tui.tui.widgets.field import FormField
from collector_tui.tui.widgets.footer import KeyFooter

if TYPE_CHECKING:
    from collector_tui.services.casework.followups import FollowUpInput
    from collector_tui.services.casework.promises import PlanInput, PromiseInput

ValueType = TypeVar("ValueType")
DRAFT_DELAY_S = 0.6


class FormErrors(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


class Reader:
    """Collects every field's error in one pass, so the agent sees all of them at once."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def take(self, read: Callable[[], Any]) -> Any:
        try:
            return read()
        except FieldError as error:
            self.errors.append(error)
            return None

    def fail(self, field: str, message: str) -> None:
        self.errors.append(FieldError(field, message))

    def done(self) -> None:
        if self.errors:
            raise FormErrors(self.errors)


@dataclass(frozen=True)
class DraftSlot:
    """Where a form's draft lives: one per user, case and form."""

    case_id: uuid.UUID
    form: str


# Draft writes and the final save of a form take this lock, so a late draft write can never
# re-create the draft that the save has just discarded.
DRAFT_LOCK = threading.Lock()


class Visit:
    """One opening of a form. A form kept and opened again (the contact form: `reuse`) has one
    per opening; a draft worker of an earlier opening, finishing late, checks its own, never the
    form's current one (it must neither restore an earlier case's note nor write a draft that
    opening's save discarded)."""

    __slots__ = ("draft_ready", "save_owns_draft")

    def __init__(self, *, draft_ready: bool) -> None:
        # No draft writes before the stored one is restored.
        self.draft_ready = draft_ready
        # Set from the save's start: the save discards the draft, no late write may re-create it
        # (cleared again when the save is refused).
        self.save_owns_draft = False


class FormScreen(CollectorModal[ValueType | None], Generic[ValueType]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+s",
            "save",
            N_("Save"),
            id="form.save",
            tooltip=N_("Save; on a problem the form stays open with the message under the field"),
            priority=True,
        ),
        Binding(
            "ctrl+n",
            "save_next",
            N_("Save & next"),
            id="form.save_next",
            tooltip=N_("Save, then open the next case of the queue"),
            priority=True,
        ),
        Binding(
            "escape",
            "cancel",
            N_("Cancel"),
            id="form.cancel",
            tooltip=N_("Close without saving (typed notes stay as a draft)"),
        ),
    ]
    TITLE_TEXT: ClassVar[str] = ""
    # A service's field name -> this form's field, when they differ.
    FIELD_MAP: ClassVar[dict[str, str]] = {}
    DIALOG_CLASSES: ClassVar[str] = "dialog form-dialog"

    def __init__(
        self,
        *,
        saver: Callable[[ValueType], Any] | None = None,
        initial: dict[str, Any] | None = None,
        error: ServiceError | None = None,
        draft: DraftSlot | None = None,
        on_stale: Callable[[], None] | None = None,
        subtitle: str | None = None,
    ) -> None:
        super().__init__()
        self.saver = saver
        self.initial = dict(initial or {})
        self.initial_error = error
        self.draft = draft
        self.on_stale = on_stale
        self.subtitle = subtitle
        self.then_next = False
        self.saving = False
        self.closed = False
        self.value: ValueType | None = None
        self.outcome: Any = None
        self._draft_timer: Timer | None = None
        self._visit = Visit(draft_ready=draft is None)
        self._focused_once = False

    @property
    def _draft_ready(self) -> bool:
        return self._visit.draft_ready

    def reuse(
        self,
        *,
        saver: Callable[[ValueType], Any] | None = None,
        draft: DraftSlot | None = None,
        on_stale: Callable[[], None] | None = None,
        subtitle: str | None = None,
    ) -> None:
        """Make this form, composed once and closed, as new for another opening (another case),
        before it is pushed again: opening a kept form costs a fraction of composing one
        (bench/run.py, keys). Nothing of the last opening stays: fields, errors, what a
        follow-on form collected, the draft slot. Only for a form whose subtitle was given when
        it was composed; a subclass clears its own fields in `clear_fields`."""
        self._stop_draft_timer()
        self.saver = saver
        self.initial = {}
        self.initial_error = None
        self.draft = draft
        self.on_stale = on_stale
        self.subtitle = subtitle
        self.then_next = False
        self.saving = False
        self.closed = False
        self.value = None
        self.outcome = None
        self._visit = Visit(draft_ready=draft is None)
        self._focused_once = False
        for label in self.query(".dialog-subtitle").results(Static):
            label.update(safe_text(subtitle or ""))
        self.clear_fields()
        self.clear_errors()
        self.query_one(".form-body", VerticalScroll).scroll_home(animate=False, immediate=True)
        if draft is not None:
            self._load_draft()
        self.focus_first()
        self.app.call_later(self._take_keys)

    def clear_fields(self) -> None:
        """Empty every field (a kept form opened again: `reuse`)."""
        raise NotImplementedError

    @property
    def accepts_keys(self) -> bool:
        """Keys typed before the first field has the focus, or while a save runs, wait (they are
        handled in order once the form can take them: tui/typeahead.py)."""
        return self._focused_once and not self.saving

    # -- building ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(classes=self.DIALOG_CLASSES, id="dialog"):
            yield Static(_(self.TITLE_TEXT), classes="dialog-title")
            if self.subtitle:
                yield Static(safe_text(self.subtitle), classes="dialog-subtitle")
            body = VerticalScroll(classes="form-body")
            # The fields take the focus, never their container: Textual's auto-focus would
            # otherwise focus it first and restyle the whole form twice (focus, then blur) before
            # the first field has it.
            body.can_focus = False
            with body:
                yield from self.fields()
            yield Static("", id="form-error", classes="form-error")
        yield KeyFooter()

    def fields(self) -> ComposeResult:
        raise NotImplementedError

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#form-error", Static).display = False
        if self.initial_error is not None:
            self.show_service_error(self.initial_error)
        if self.draft is not None:
            self._load_draft()
        self.focus_first()
        # Behind the focus change, which the app applies from its own queue.
        self.app.call_later(self._take_keys)

    def _take_keys(self) -> None:
        self._focused_once = True
        keys_may_flow(self)

    def focus_first(self) -> None:
        for field in self.query(FormField):
            if field.error:
                field.widget.focus()
                return
        self.query(FormField).first().widget.focus()

    def field(self, name: str) -> FormField:
        return self.query_one(f"#field-{name}", FormField)

    def text_of(self, name: str) -> str:
        widget = self.field(name).widget
        if isinstance(widget, Input):
            return widget.value
        if isinstance(widget, TextArea):
            return widget.text
        raise TypeError(f"field {name} is not a text field")  # a programming error

    # -- reading and saving -----------------------------------------------------------------------

    def read_form(self) -> ValueType:
        """The value of the form, or FormErrors naming each field that cannot be read."""
        raise NotImplementedError

    def clear_errors(self) -> None:
        for field in self.query(FormField):
            field.set_error(None)
        self.set_general_error(None)

    def set_general_error(self, message: str | None) -> None:
        label = self.query_one("#form-error", Static)
        label.update(safe_text(message or ""))
        label.display = bool(message)

    def show_field_errors(self, errors: list[FieldError]) -> None:
        first: Widget | None = None
        for error in errors:
            target = self._field_for(error.field)
            if target is None:
                self.set_general_error(error.message)
                continue
            target.set_error(error.message)
            first = first or target.widget
        if first is not None:
            first.focus()

    def _field_for(self, service_field: str | None) -> FormField | None:
        if not service_field:
            return None
        name = self.FIELD_MAP.get(service_field, service_field)
        found = self.query(f"#field-{name}")
        return found.first(FormField) if found else None

    def show_service_error(self, error: BaseException | None) -> None:
        if isinstance(error, StaleEdit):
            self.set_general_error(
                error.message
                + " "
                + _(
                    "Nothing was saved and your input is kept: the case has been read again; "
                    "check it and save again."
                )
            )
            if self.on_stale is not None:
                self.on_stale()
            return
        if isinstance(error, ServiceError) and self._field_for(error.field) is not None:
            self.show_field_errors([FieldError(error.field or "", error.message)])
            return
        self.set_general_error(error_text(error))

    def action_save(self) -> None:
        if self.saving:
            return
        self.clear_errors()
        try:
            value = self.read_form()
        except FormErrors as problems:
            self.show_field_errors(problems.errors)
            return
        question = self.confirmation(value)
        if question is None:
            self.submit(value)
            return
        from collector_tui.tui.screens.confirm import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if yes:
                self.submit(value)
            else:
                self.then_next = False

        self.app.push_screen(ConfirmScreen(*question), answered)

    def confirmation(self, value: ValueType) -> tuple[str, str] | None:
        """The question (and what follows) to ask before saving `value` when saving it takes the
        case out of the agent's hands or cannot be undone; None saves at once."""
        return None

    def action_save_next(self) -> None:
        self.then_next = True
        self.action_save()

    def submit(self, value: ValueType) -> None:
        """Save `value` (or hand it back when the form only collects)."""
        self.value = value
        if self.saver is None:
            self._finish(value)
            return
        self.saving = True
        self._visit.save_owns_draft = True
        self._stop_draft_timer()
        self.set_general_error(None)
        self._save(value)

    @work(thread=True, exclusive=True, group="form-save", exit_on_error=False, description="save")
    def _save(self, value: ValueType) -> Any:
        assert self.saver is not None
        with DRAFT_LOCK:
            outcome = self.saver(value)
            self.closed = True
        return outcome

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "form-save":
            return
        if event.state == WorkerState.SUCCESS:
            self.saving = False
            self.outcome = event.worker.result
            assert self.value is not None
            self._finish(self.value)
        elif event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.saving = False
            self._visit.save_owns_draft = False
            self.then_next = False
            self.show_service_error(event.worker.error)
            keys_may_flow(self)

    def _finish(self, value: ValueType) -> None:
        self.closed = True
        self._stop_draft_timer()
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.then_next = False
        self._stop_draft_timer()
        if self.draft is not None and self._draft_ready and not self.closed:
            self._write_draft(self.draft_payload())
        self.closed = True
        self.dismiss(None)

    # -- drafts -----------------------------------------------------------------------------------

    def draft_payload(self) -> dict[str, Any]:
        """What to keep of the form while it is not saved; empty means nothing worth keeping."""
        return {}

    def restore_draft(self, payload: dict[str, Any]) -> bool:
        """Put a stored draft back into empty fields; True when anything was restored."""
        return False

    def draft_changed(self) -> None:
        """Call when a field that belongs in the draft changes: writes it after a short pause."""
        if self.draft is None or not self._draft_ready or self.closed:
            return
        self._stop_draft_timer()
        self._draft_timer = self.set_timer(DRAFT_DELAY_S, self._draft_due)

    def _draft_due(self) -> None:
        self._draft_timer = None
        if not self.closed:
            self._write_draft(self.draft_payload())

    def _stop_draft_timer(self) -> None:
        if self._draft_timer is not None:
            self._draft_timer.stop()
            self._draft_timer = None

    def _write_draft(self, payload: dict[str, Any]) -> None:
        slot = self.draft
        if slot is None:
            return
        app = self.collector
        # Taken now: the worker may run after a logout, or once the form is opened again.
        context = self.context
        visit = self._visit

        def write() -> None:
            from collector_tui.services.casework import drafts

            with DRAFT_LOCK:
                if visit.save_owns_draft:
                    return  # the save owns the draft now (it discards it)
                if payload:
                    context.run(
                        drafts.save_draft, case_id=slot.case_id, form=slot.form, payload=payload
                    )
                else:
                    context.run(drafts.discard_draft, case_id=slot.case_id, form=slot.form)

        # On the app, not the form: the worker must outlive a form closed with escape.
        app.run_worker(
            write,
            thread=True,
            group=f"draft-{slot.form}",
            exit_on_error=False,
            description="save draft",
        )

    @work(thread=True, group="draft-load", exit_on_error=False, description="load draft")
    def _load_draft(self) -> None:
        from collector_tui.services.casework import drafts

        slot = self.draft
        visit = self._visit
        assert slot is not None
        try:
            payload = self.context.run(drafts.load_draft, case_id=slot.case_id, form=slot.form)
        finally:
            visit.draft_ready = True
        if payload:
            self.post_message(DraftLoaded(payload, visit))

    def on_draft_loaded(self, message: DraftLoaded) -> None:
        if message.visit is not self._visit:
            return  # read for an earlier opening of this form (another case)
        if self.restore_draft(message.payload):
            self.collector.tell(_("Your unsaved draft was restored."), timeout=3)

    @on(TextArea.Changed)
    def _text_changed(self) -> None:
        self.draft_changed()


# -- promise --------------------------------------------------------------------------------------


def note_too_long(most: int, count: int) -> str:
    return _("a note holds at most {max} characters ({count} now)").format(max=most, count=count)


def read_amount(text: str, currency: str, locale: str, *, field: str) -> int:
    try:
        money = parse_money(text, currency, locale)
    except MoneyError as error:
        raise FieldError(field, str(error)) from None
    if money.minor <= 0:
        raise FieldError(field, _("the amount must be more than zero"))
    return money.minor


def today_hint(today: date, zone: str) -> str:
    """Which day "today" is for a due date, and where: the debtor's, which the service checks."""
    if zone:
        return _("today is {day} in {zone}").format(day=day_text(today), zone=zone)
    return _("today is {day}").format(day=day_text(today))


def due_date_field(form: FormScreen[Any], today: date, label: str, zone: str = "") -> FormField:
    """The `due_date` input of a form: a date, "tomorrow" or "+N" days from the debtor's today
    (`today`, read in `zone`)."""
    return FormField(
        label,
        Input(
            value=form.initial.get("due_date", ""),
            placeholder=_("YYYY-MM-DD, tomorrow, or +7 (days)"),
            id="due_date",
        ),
        name="due_date",
        hint=today_hint(today, zone),
    )


def read_due_date(form: FormScreen[Any], reader: Reader, today: date, rule: str) -> date | None:
    """The `due_date` field, today or later; `rule` ends the message for a past date."""
    due: date | None = reader.take(
        lambda: parse_date(form.text_of("due_date"), today, field="due_date")
    )
    if due is not None and due < today:
        reader.fail(
            "due_date", _("{day} is in the past: {rule}").format(day=day_text(due), rule=rule)
        )
    return due


class PromiseForm(FormScreen["PromiseInput"]):
    """Promise to pay: an amount in the case's currency and a date (today or later)."""

    TITLE_TEXT = N_("Promise to pay")
    FIELD_MAP: ClassVar[dict[str, str]] = {"promise": "amount", "date": "due_date"}

    def __init__(
        self,
        *,
        currency: str,
        locale: str,
        today: date,
        balance: int,
        today_zone: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.currency = currency
        self.locale = locale
        self.today = today
        self.today_zone = today_zone
        self.balance = balance

    def fields(self) -> ComposeResult:
        yield FormField(
            _("Amount ({currency})").format(currency=self.currency),
            Input(
                value=self.initial.get("amount", ""),
                placeholder=_("e.g. 1,234.50 — balance {balance}").format(
                    balance=plain_amount(self.balance, self.currency)
                ),
                id="amount",
            ),
            name="amount",
        )
        yield due_date_field(self, self.today, _("Due date"), self.today_zone)

    def raw_values(self) -> dict[str, str]:
        return {"amount": self.text_of("amount"), "due_date": self.text_of("due_date")}

    def read_form(self) -> PromiseInput:
        from collector_tui.services.casework.promises import PromiseInput

        reader = Reader()
        amount = reader.take(
            lambda: read_amount(self.text_of("amount"), self.currency, self.locale, field="amount")
        )
        due = read_due_date(self, reader, self.today, _("a promise is for today or later"))
        reader.done()
        assert due is not None
        return PromiseInput(amount=amount, due_date=due)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()


# -- payment plan ---------------------------------------------------------------------------------


class PlanForm(FormScreen["PlanInput"]):
    """A payment plan: a total split into N installments from a first date at an interval."""

    TITLE_TEXT = N_("Payment plan")
    # "installments" (the schedule as a whole) is shown above the keys, under the preview.
    FIELD_MAP: ClassVar[dict[str, str]] = {
        "plan": "total",
        "promise": "total",
        "amount": "total",
        "due_date": "first",
    }

    def __init__(
        self,
        *,
        currency: str,
        locale: str,
        today: date,
        balance: int,
        today_zone: str = "",
        disposable: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.currency = currency
        self.locale = locale
        self.today = today
        self.today_zone = today_zone
        self.balance = balance
        # The assessed disposable income a month (services/assessment): the default count keeps
        # each installment within it, and the preview warns (never refuses) above it.
        self.disposable = disposable

    def _default_count(self) -> str:
        from collector_tui.services.assessment.affordability import proposed_installments
        from collector_tui.services.casework.promises import MAX_INSTALLMENTS, MIN_INSTALLMENTS

        proposed = proposed_installments(
            self.balance, self.disposable, low=MIN_INSTALLMENTS, high=MAX_INSTALLMENTS
        )
        return str(proposed) if proposed is not None else "3"

    def fields(self) -> ComposeResult:
        default_total = plain_amount(self.balance, self.currency).rsplit(" ", 1)[0]
        with Horizontal(classes="form-row"):
            yield FormField(
                _("Total ({currency})").format(currency=self.currency),
                Input(value=self.initial.get("total", default_total), id="total"),
                name="total",
            )
            yield FormField(
                _("Installments"),
                Input(
                    value=self.initial.get("count", self._default_count()),
                    id="count",
                    placeholder=_("how many"),
                ),
                name="count",
            )
        with Horizontal(classes="form-row"):
            yield FormField(
                _("First due date"),
                Input(
                    value=self.initial.get("first", ""),
                    placeholder=_("YYYY-MM-DD or +7"),
                    id="first",
                ),
                name="first",
                hint=today_hint(self.today, self.today_zone),
            )
            yield FormField(
                _("Every"),
                Select(
                    [(_(label), key) for key, label in INTERVALS.items()],
                    value=self.initial.get("interval", "monthly"),
                    allow_blank=False,
                    id="interval",
                ),
                name="interval",
            )
        yield Static("", id="plan-preview", classes="plan-preview")

    def on_mount(self) -> None:
        super().on_mount()
        self._preview()

    def raw_values(self) -> dict[str, str]:
        interval = self.query_one("#interval", Select).value
        return {
            "total": self.text_of("total"),
            "count": self.text_of("count"),
            "first": self.text_of("first"),
            "interval": str(interval),
        }

    def _schedule(self, reader: Reader) -> list[tuple[date, int]] | None:
        from collector_tui.services.casework.promises import (
            MAX_INSTALLMENTS,
            MIN_INSTALLMENTS,
            even_installments,
        )

        total = reader.take(
            lambda: read_amount(self.text_of("total"), self.currency, self.locale, field="total")
        )
        count = reader.take(
            lambda: parse_count(
                self.text_of("count"), field="count", low=MIN_INSTALLMENTS, high=MAX_INSTALLMENTS
            )
        )
        first = reader.take(lambda: parse_date(self.text_of("first"), self.today, field="first"))
        if first is not None and first < self.today:
            reader.fail("first", _("{day} is in the past").format(day=day_text(first)))
        if total is not None and count is not None and total < count:
            reader.fail("total", _("the total is too small for that many installments"))
        if reader.errors:
            return None
        interval = str(self.query_one("#interval", Select).value)
        return even_installments(total, count, first, interval)

    def read_form(self) -> PlanInput:
        from collector_tui.services.casework.promises import PlanInput, PromiseInput

        reader = Reader()
        rows = self._schedule(reader)
        reader.done()
        assert rows is not None
        return PlanInput(
            installments=tuple(PromiseInput(amount=amount, due_date=due) for due, amount in rows)
        )

    @on(Input.Changed)
    @on(Select.Changed)
    def _preview(self) -> None:
        preview = self.query_one("#plan-preview", Static)
        rows = self._schedule(Reader())
        if not rows:
            preview.update(
                Text(_("The schedule appears here once the fields are filled."), style="dim")
            )
            return
        text = Text()
        shown = rows if len(rows) <= 6 else [*rows[:4], None, rows[-1]]
        for row in shown:
            if row is None:
                more = _("… {count} more …").format(count=len(rows) - 5)
                text.append(f"   {more}\n", style="dim")
                continue
            due, amount = row
            text.append(f"  {day_text(due)}  ")
            text.append(plain_amount(amount, self.currency) + "\n", style="bold")
        text.append("  " + _("{count} installments").format(count=len(rows)), style="dim")
        self._affordability(text, max(amount for _, amount in rows))
        preview.update(text)

    def _affordability(self, text: Text, installment: int) -> None:
        from collector_tui.services.assessment.affordability import monthly_load, plan_warning

        if self.disposable is None:
            return
        interval = str(self.query_one("#interval", Select).value)
        left = plain_amount(self.disposable, self.currency)
        warning = plan_warning(installment, interval, self.disposable)
        if warning is None:
            within = _("within the disposable income ({amount} a month)").format(amount=left)
            text.append(f"\n  {within}", style="green")
            return
        load = plain_amount(monthly_load(installment, interval), self.currency)
        over = _("{load} a month is {warning} ({left})").format(
            load=load, warning=warning, left=left
        )
        text.append(f"\n  ⚠ {over}", style="bold yellow")

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()


# -- follow-up ------------------------------------------------------------------------------------


def agent_day_hint(tz: str, now: datetime) -> str:
    """Which zone the times are typed in and what time it is there: the agent's own."""
    return _("times in your zone, {zone}; it is now {time}").format(
        zone=tz, time=agent_time(now, tz)
    )


class CallTimeForm(FormScreen[ValueType], Generic[ValueType]):
    """A form taking a time to call the debtor (a follow-up, a callback, moving a follow-up): a
    date and a time in the agent's own zone.

    A time outside the debtor's contact hours is not saved at once: the service refuses it
    (followups.OutsideContactHours) and the warning under the date names the next allowed time;
    ctrl+s again keeps the time typed, ctrl+t puts the allowed one in the fields (then ctrl+s
    saves it). The value a subclass reads says `outside_hours_ok(due_at)`."""

    FIELD_MAP: ClassVar[dict[str, str]] = {"due_at": "date"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+t",
            "use_allowed",
            N_("Use allowed time"),
            id="follow_up.use_allowed",
            tooltip=N_("Put the next time inside the debtor's contact hours in the fields"),
            priority=True,
        ),
    ]
    DATE_LABEL: ClassVar[str] = N_("Date")

    def __init__(self, *, tz: str, now: datetime, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tz = tz
        self.now = now
        # The time the hours warning was shown for (saving it again keeps it) and the offer.
        self.warned_at: datetime | None = None
        self.allowed_at: datetime | None = None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "use_allowed" and self.allowed_at is None:
            return None
        return super().check_action(action, parameters)

    def show_service_error(self, error: BaseException | None) -> None:
        from collector_tui.services.casework.followups import OutsideContactHours

        if not isinstance(error, OutsideContactHours):
            super().show_service_error(error)
            return
        # The refused time itself: a form reopened with this error (the contact form's callback)
        # has no value of its own yet.
        self.warned_at = error.at
        self.allowed_at = error.next_allowed
        message = error.message
        if error.next_allowed is not None and error.zone != self.tz:
            yours = agent_time(error.next_allowed, self.tz)
            message += " " + _("({time} your time)").format(time=yours)
        if error.next_allowed is not None:
            message += _(" — press ctrl+s again to keep, or ctrl+t to use it")
        else:
            message += _(" — press ctrl+s again to keep")
        self.show_field_errors([FieldError("date", message)])
        self.refresh_bindings()

    def action_use_allowed(self) -> None:
        if self.allowed_at is None:
            return
        local = self.allowed_at.astimezone(zone(self.tz))
        self.query_one("#date", Input).value = day_text(local.date())
        self.query_one("#time", Input).value = local.strftime(TIME_FORMAT)
        self.allowed_at = self.warned_at = None
        self.clear_errors()
        self.refresh_bindings()
        self.query_one("#time", Input).focus()

    def when_fields(self) -> ComposeResult:
        with Horizontal(classes="form-row"):
            yield FormField(
                _(self.DATE_LABEL),
                Input(
                    value=self.initial.get("date", ""),
                    placeholder=_("YYYY-MM-DD, tomorrow or +N"),
                    id="date",
                ),
                name="date",
            )
            yield FormField(
                _("Time"),
                Input(value=self.initial.get("time", ""), placeholder=_("HH:MM"), id="time"),
                name="time",
            )

    def day_hint(self) -> str:
        return agent_day_hint(self.tz, self.now)

    def read_when(self, reader: Reader) -> datetime | None:
        """The date and time fields as an instant in the agent's zone, in the future."""
        tz = zone(self.tz)
        today = self.now.astimezone(tz).date()
        day = reader.take(lambda: parse_date(self.text_of("date"), today, field="date"))
        at = reader.take(lambda: parse_time(self.text_of("time"), field="time"))
        if day is None or at is None:
            return None
        due = local_instant(day, at, tz)
        if due <= self.now:
            field = "time" if day == today else "date"
            reader.fail(field, _("that moment has passed: pick a time in the future"))
        return due

    def outside_hours_ok(self, due_at: datetime) -> bool:
        """Whether the agent kept this time after the warning (ctrl+s again)."""
        return due_at == self.warned_at

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()


class FollowUpForm(CallTimeForm["FollowUpInput"]):
    """A callback: date and time in the agent's own time zone, and why."""

    TITLE_TEXT = N_("Follow-up")
    FIELD_MAP: ClassVar[dict[str, str]] = {"follow_up": "date", "due_at": "date"}

    def fields(self) -> ComposeResult:
        yield from self.when_fields()
        yield FormField(
            _("Reason"),
            Input(
                value=self.initial.get("reason", ""),
                placeholder=_("e.g. call back after payday"),
                id="reason",
            ),
            name="reason",
            hint=self.day_hint(),
        )

    def raw_values(self) -> dict[str, str]:
        return {name: self.text_of(name) for name in ("date", "time", "reason")}

    def read_form(self) -> FollowUpInput:
        from collector_tui.services.casework.followups import FollowUpInput

        reader = Reader()
        due_at = self.read_when(reader)
        reason = " ".join(self.text_of("reason").split())
        if not reason:
            reader.fail("reason", _("say why to call back"))
        elif len(reason) > 500:
            reader.fail("reason", _("keep the reason under 500 characters"))
        reader.done()
        assert due_at is not None
        return FollowUpInput(
            due_at=due_at, reason=reason, outside_hours_ok=self.outside_hours_ok(due_at)
        )


# -- note and dispute -----------------------------------------------------------------------------


class NoteForm(FormScreen[str]):
    """A free-text note on the case (kept as a draft while typed)."""

    TITLE_TEXT = N_("Note")
    FIELD_MAP: ClassVar[dict[str, str]] = {"text": "note"}

    def __init__(self, *, max_length: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_length = max_length

    def fields(self) -> ComposeResult:
        area = TextArea(self.initial.get("note", ""), id="note", soft_wrap=True)
        area.show_line_numbers = False
        yield FormField(
            _("Note"), area, name="note", hint=_("ctrl+s saves; enter starts a new line")
        )

    def read_form(self) -> str:
        text = self.text_of("note").strip()
        reader = Reader()
        if not text:
            reader.fail("note", _("the note is empty"))
        elif len(text) > self.max_length:
            reader.fail("note", note_too_long(self.max_length, len(text)))
        reader.done()
        return text

    def draft_payload(self) -> dict[str, Any]:
        text = self.text_of("note")
        return {"note": text} if text.strip() else {}

    def restore_draft(self, payload: dict[str, Any]) -> bool:
        area = self.query_one("#note", TextArea)
        note = payload.get("note")
        if isinstance(note, str) and note and not area.text:
            area.load_text(note)
            area.move_cursor(area.document.end)
            return True
        return False


class ReasonForm(FormScreen[str]):
    """A form of one required line of text: why. Subclasses say which field, and its words."""

    FIELD: ClassVar[str] = "reason"
    # Written N_("...") in subclasses: translated where shown.
    LABEL: ClassVar[str] = N_("Why")
    PLACEHOLDER: ClassVar[str] = ""
    HINT: ClassVar[str] = ""
    MISSING: ClassVar[str] = N_("say why")
    MAX_LENGTH: ClassVar[int] = 500  # the services' bound on a reason
    # Asked before saving (with the case's name): the saving takes the case out of the queue.
    CONFIRM: ClassVar[str | None] = None

    def confirmation(self, value: str) -> tuple[str, str] | None:
        if self.CONFIRM is None:
            return None
        return (
            _(self.CONFIRM).format(case=self.subtitle or _("this case")),
            _(self.HINT) if self.HINT else "",
        )

    def fields(self) -> ComposeResult:
        yield FormField(
            _(self.LABEL),
            Input(
                value=self.initial.get(self.FIELD, ""),
                placeholder=_(self.PLACEHOLDER) if self.PLACEHOLDER else "",
                id=self.FIELD,
            ),
            name=self.FIELD,
            hint=_(self.HINT) if self.HINT else None,
        )

    def read_form(self) -> str:
        reader = Reader()
        text = read_line(self, reader, self.FIELD, missing=_(self.MISSING), most=self.MAX_LENGTH)
        reader.done()
        assert text is not None
        return text

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()


def read_line(
    form: FormScreen[Any], reader: Reader, name: str, *, missing: str | None, most: int = 500
) -> str | None:
    """A one-line text field with its spaces tidied; `missing` is the message when it is required
    and empty (None: optional)."""
    text = " ".join(form.text_of(name).split())
    if not text:
        if missing is not None:
            reader.fail(name, missing)
        return None
    if len(text) > most:
        reader.fail(
            name,
            _("keep it under {max} characters ({count} now)").format(max=most, count=len(text)),
        )
    return text


class DisputeForm(ReasonForm):
    """A dispute: places a dispute hold (no contact until it is resolved)."""

    TITLE_TEXT = N_("Dispute")
    FIELD_MAP: ClassVar[dict[str, str]] = {"reason": "reason", "kind": "reason"}
    LABEL = N_("What does the debtor dispute?")
    PLACEHOLDER = N_("e.g. says invoice 1042 was paid in March")
    HINT = N_("Saving places a dispute hold: the case leaves the queue until it is resolved.")
    MISSING = N_("say what is disputed")
    CONFIRM = N_("Place a dispute hold on {case}?")
