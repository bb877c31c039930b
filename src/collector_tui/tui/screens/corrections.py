"""Corrections from the case screen: lift a hold or end a dispute, void a contact, withdraw a
promise, cancel or reschedule a payment plan, move a follow-up, and post a payment received.

The forms are FormScreens (tui/screens/forms.py): `ctrl+s` reads the fields, a field that cannot be
read gets its message under it, the case screen's saver runs the service (services.casework.holds,
casework.corrections, casework.payments.post_payment) in a worker, and a refusal keeps the form
open with everything typed. The reasons are checked here with the services' own check
(services/reasons.py), so the message under the field is the one the service would give.

The `open_*` functions are what the case screen's keys call: each finds the row it acts on (the
highlighted timeline entry when it is the right kind, else the only candidate), builds the saver
with the row's version counter for the stale-edit check, and opens the form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Select, Static

from collector_tui.i18n import N_, _
from collector_tui.services.reasons import reason_problem, tidy
from collector_tui.tui.formatting import HOLD_KINDS, day_text, plain_amount, word
from collector_tui.tui.parsing import parse_date
from collector_tui.tui.screens.forms import (
    CallTimeForm,
    FormErrors,
    FormScreen,
    PlanForm,
    Reader,
    read_amount,
)
from collector_tui.tui.widgets.field import FormField
from collector_tui.tui.widgets.timeline import Timeline

if TYPE_CHECKING:
    from collector_tui.services.casework.casefile import CaseFile, TimelineEntry
    from collector_tui.services.casework.promises import PlanInput
    from collector_tui.tui.screens.case import CaseScreen


def read_reason(
    form: FormScreen[Any], reader: Reader, *, minimum: int, required: bool = True
) -> str | None:
    """The `reason` field, tidied, checked with the services' limits."""
    text = tidy(form.text_of("reason"))
    if not text:
        if required:
            reader.fail("reason", _("say why"))
        return None
    problem = reason_problem(text, minimum=minimum)
    if problem is not None:
        reader.fail("reason", problem)
    return text


def reason_field(form: FormScreen[Any], *, label: str, placeholder: str, hint: str) -> FormField:
    """The `reason` field; `label`, `placeholder` and `hint` are messages, shown translated."""
    return FormField(
        _(label),
        Input(
            value=form.initial.get("reason", ""),
            placeholder=_(placeholder) if placeholder else "",
            id="reason",
        ),
        name="reason",
        hint=_(hint) if hint else "",
    )


# -- the forms ------------------------------------------------------------------------------------


class CorrectionReasonForm(FormScreen[str]):
    """One required reason, at least `minimum` characters: void, withdraw, cancel."""

    LABEL: ClassVar[str] = N_("Why")
    PLACEHOLDER: ClassVar[str] = ""
    HINT: ClassVar[str] = ""

    def __init__(self, *, minimum: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.minimum = minimum

    def fields(self) -> ComposeResult:
        yield reason_field(self, label=self.LABEL, placeholder=self.PLACEHOLDER, hint=self.HINT)

    def read_form(self) -> str:
        reader = Reader()
        text = read_reason(self, reader, minimum=self.minimum)
        reader.done()
        assert text is not None
        return text

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()


class VoidContactForm(CorrectionReasonForm):
    TITLE_TEXT = N_("Void a contact")
    LABEL = N_("Why was it logged wrongly?")
    PLACEHOLDER = N_("e.g. logged on the wrong case; the call was to REF-1002")
    HINT = N_("The contact stays on the timeline, struck through; what it changed is undone.")


class WithdrawPromiseForm(CorrectionReasonForm):
    TITLE_TEXT = N_("Withdraw a promise")
    LABEL = N_("Why is the promise withdrawn?")
    PLACEHOLDER = N_("e.g. debtor called back: lost the job, cannot pay on the 1st")


class CancelPlanForm(CorrectionReasonForm):
    TITLE_TEXT = N_("Cancel the payment plan")
    LABEL = N_("Why is the plan cancelled?")
    PLACEHOLDER = N_("e.g. debtor will pay the rest in one sum instead")
    HINT = N_("The pending installments are cancelled; payments made stay.")


@dataclass(frozen=True)
class HoldRelease:
    kind: str
    reason: str


class ReleaseHoldForm(FormScreen[HoldRelease]):
    """Which of the case's active holds to lift (all of that kind), and why."""

    TITLE_TEXT = N_("Lift a hold")
    FIELD_MAP: ClassVar[dict[str, str]] = {"kind": "kind", "reason": "reason"}

    def __init__(self, *, kinds: list[str], kind: str, minimum: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kinds = kinds
        self.kind = kind
        self.minimum = minimum

    def fields(self) -> ComposeResult:
        options = [
            (_("dispute (end the dispute)") if k == "dispute" else word(HOLD_KINDS, k), k)
            for k in self.kinds
        ]
        yield FormField(
            _("Hold"),
            Select(options, value=self.kind, allow_blank=False, id="kind"),
            name="kind",
            hint=_(
                "Agents may lift a hardship hold; the others (a dispute too) need a supervisor."
            ),
        )
        yield reason_field(
            self,
            label=N_("Why may contact resume?"),
            placeholder=N_("e.g. verification sent on 11-18, debtor accepts the balance"),
            hint=N_("Kept in the audit trail and on the timeline."),
        )

    def focus_first(self) -> None:
        # The hold is usually chosen already (the highlighted one, or the only one): the reason.
        if self.field("kind").error:
            self.field("kind").widget.focus()
        else:
            self.query_one("#reason", Input).focus()

    def read_form(self) -> HoldRelease:
        reader = Reader()
        text = read_reason(self, reader, minimum=self.minimum)
        reader.done()
        assert text is not None
        return HoldRelease(str(self.query_one("#kind", Select).value), text)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()


@dataclass(frozen=True)
class NewSchedule:
    plan: PlanInput
    reason: str


class ReschedulePlanForm(PlanForm):
    """The plan form with a reason: the new schedule replaces the active plan."""

    TITLE_TEXT = N_("Reschedule the payment plan")

    def __init__(self, *, minimum: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.minimum = minimum

    def fields(self) -> ComposeResult:
        yield from super().fields()
        yield reason_field(
            self,
            label=N_("Why a new schedule?"),
            placeholder=N_("e.g. paid late twice: smaller amounts every two weeks"),
            hint=N_("The old plan is cancelled (payments made stay); the note links the two."),
        )

    def read_form(self) -> Any:  # a NewSchedule (PlanForm's own type says PlanInput)
        reader = Reader()
        plan: PlanInput | None = None
        try:
            plan = super().read_form()
        except FormErrors as problems:  # every field's message at once, the reason's too
            reader.errors.extend(problems.errors)
        text = read_reason(self, reader, minimum=self.minimum)
        reader.done()
        assert plan is not None and text is not None
        return NewSchedule(plan, text)


@dataclass(frozen=True)
class NewDueTime:
    due_at: datetime
    reason: str | None
    outside_hours_ok: bool = True


class MoveFollowUpForm(CallTimeForm[NewDueTime]):
    """A follow-up's new date and time in the agent's zone, and optionally why; a time outside the
    debtor's contact hours is warned about as on the follow-up form."""

    TITLE_TEXT = N_("Move the follow-up")
    DATE_LABEL = N_("New date")

    def fields(self) -> ComposeResult:
        yield from self.when_fields()
        yield reason_field(
            self,
            label=N_("Why (optional)"),
            placeholder=N_("e.g. debtor travels until Monday"),
            hint=self.day_hint(),
        )

    def read_form(self) -> NewDueTime:
        reader = Reader()
        due_at = self.read_when(reader)
        reason = read_reason(self, reader, minimum=0, required=False)
        reader.done()
        assert due_at is not None
        return NewDueTime(due_at, reason, outside_hours_ok=self.outside_hours_ok(due_at))


@dataclass(frozen=True)
class PaymentReceived:
    amount: int
    received_on: date
    reference: str | None


class PaymentForm(FormScreen[PaymentReceived]):
    """Money received: an amount typed as the command line takes it, the day it came in (today
    in the agent's zone unless changed), and the bank's reference."""

    TITLE_TEXT = N_("Payment received")
    FIELD_MAP: ClassVar[dict[str, str]] = {"received_on": "date", "payment": "amount"}

    def __init__(
        self, *, currency: str, locale: str, today: date, balance: int, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.currency = currency
        self.locale = locale
        self.today = today
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
        with Horizontal(classes="form-row"):
            yield FormField(
                _("Received on"),
                Input(value=self.initial.get("date", day_text(self.today)), id="date"),
                name="date",
                hint=_("YYYY-MM-DD, today or yesterday"),
            )
            yield FormField(
                _("Reference (optional)"),
                Input(
                    value=self.initial.get("reference", ""),
                    placeholder=_("the bank's reference"),
                    id="reference",
                ),
                name="reference",
            )
        yield Static(
            _("Applied to the pending promises, oldest first, as `collector-tui payment` does."),
            classes="dialog-hint",
        )

    def read_form(self) -> PaymentReceived:
        reader = Reader()
        amount = reader.take(
            lambda: read_amount(self.text_of("amount"), self.currency, self.locale, field="amount")
        )
        day = reader.take(lambda: parse_date(self.text_of("date"), self.today, field="date"))
        if day is not None and day > self.today:
            reader.fail("date", _("money cannot be received in the future"))
        reference = " ".join(self.text_of("reference").split()) or None
        reader.done()
        return PaymentReceived(amount, day, reference)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()


# -- what the case screen's keys open -------------------------------------------------------------


def _selected(screen: CaseScreen) -> TimelineEntry | None:
    return screen.query_one("#timeline", Timeline).selected_entry()


def _entry(case: CaseFile, ref_id: Any) -> TimelineEntry | None:
    return next((e for e in case.timeline if e.ref_id == ref_id), None)


def _case_version(screen: CaseScreen) -> int | None:
    # Read when the save runs: after a stale edit the case is read again and the next try uses it.
    current = screen.case_file
    return current.version if current else None


def open_release_hold(screen: CaseScreen) -> None:
    from collector_tui.services.casework import holds

    case = screen.case_file
    if case is None:
        return
    kinds = sorted({h.kind for h in case.holds})
    if not kinds:
        screen.collector.tell(_("This case has no active hold."), severity="warning")
        return
    selected = _selected(screen)
    # The highlighted hold's kind from the case's holds: its title is worded in the user's
    # language, so its first word is no kind.
    kind = ""
    if selected is not None and selected.kind == "hold":
        kind = next((h.kind for h in case.holds if h.id == selected.ref_id), "")
    settings = screen.collector.settings
    context = screen.context

    def save(value: HoldRelease) -> Any:
        return context.run(
            holds.release_holds,
            case_id=case.case_id,
            kind=value.kind,
            reason=value.reason,
            expected_version=_case_version(screen),
        )

    form = ReleaseHoldForm(
        kinds=kinds,
        kind=kind if kind in kinds else kinds[0],
        minimum=settings.min_reason_length,
        **screen._form_kwargs(case, save),
    )

    def done(outcome: Any) -> str:
        from collector_tui.models import case_status_label

        if outcome is not None and outcome.kind == "dispute":
            return _("Dispute ended: the case is {status} again.").format(
                status=case_status_label(outcome.case_status)
            )
        return _("Hold lifted.")

    screen._open(form, done)


def open_void_contact(screen: CaseScreen) -> None:
    from collector_tui.services.casework import corrections

    case = screen.case_file
    entry = _selected(screen)
    if case is None:
        return
    if entry is None or entry.kind != "contact" or entry.voids_id is not None:
        screen.collector.tell(
            _("Highlight a contact on the timeline to void it."), severity="warning"
        )
        return
    if entry.voided:
        screen.collector.tell(_("That contact is already voided."), severity="warning")
        return
    settings = screen.collector.settings
    context = screen.context

    def save(reason: str) -> Any:
        return context.run(
            corrections.void_contact,
            activity_id=entry.ref_id,
            reason=reason,
            expected_version=_case_version(screen),
        )

    kwargs = screen._form_kwargs(case, save)
    kwargs["subtitle"] = f"{kwargs['subtitle']} · {entry.title}"
    form = VoidContactForm(minimum=settings.min_reason_length, **kwargs)
    screen._open(form, N_("Contact voided."))


def _promise_entry(screen: CaseScreen, case: CaseFile) -> TimelineEntry | None:
    """The highlighted promise (on a plan's row: its next pending installment), else the case's
    only pending one."""
    entry = _selected(screen)
    if entry is not None and entry.kind == "promise":
        return entry
    if entry is not None and entry.kind == "plan":
        # The plan's own row: withdrawing stands for its installments (the plan is cancelled).
        return next(
            (
                e
                for e in case.timeline
                if e.kind == "promise" and e.plan_id == entry.plan_id and e.status == "pending"
            ),
            None,
        )
    pending = [e for e in case.timeline if e.kind == "promise" and e.status == "pending"]
    singles = [e for e in pending if e.plan_id is None]
    if len(singles) == 1 and len(pending) == 1:
        return singles[0]
    return None


def open_withdraw(screen: CaseScreen) -> None:
    """A single promise is withdrawn; an installment's plan is cancelled."""
    from collector_tui.services.casework import corrections

    case = screen.case_file
    if case is None:
        return
    entry = _promise_entry(screen, case)
    if entry is None:
        screen.collector.tell(_("Highlight a promise on the timeline."), severity="warning")
        return
    if entry.status != "pending":
        from collector_tui.models import OUTCOME_LABELS

        screen.collector.tell(
            _("That promise is already {status}.").format(
                status=word(OUTCOME_LABELS, entry.status)
            ),
            severity="warning",
        )
        return
    settings = screen.collector.settings
    context = screen.context
    minimum = settings.min_reason_length
    if entry.plan_id is not None:
        plan_id, plan_version = entry.plan_id, entry.plan_version

        def cancel(reason: str) -> Any:
            return context.run(
                corrections.cancel_plan,
                plan_id=plan_id,
                reason=reason,
                expected_version=plan_version,
            )

        form: FormScreen[Any] = CancelPlanForm(minimum=minimum, **screen._form_kwargs(case, cancel))
        screen._open(form, N_("Payment plan cancelled."))
        return

    def withdraw(reason: str) -> Any:
        return context.run(
            corrections.withdraw_promise,
            promise_id=entry.ref_id,
            reason=reason,
            expected_version=entry.version,
        )

    kwargs = screen._form_kwargs(case, withdraw)
    kwargs["subtitle"] = f"{kwargs['subtitle']} · {entry.title}"
    screen._open(WithdrawPromiseForm(minimum=minimum, **kwargs), N_("Promise withdrawn."))


def open_reschedule_plan(screen: CaseScreen) -> None:
    from collector_tui.services.casework import corrections

    case = screen.case_file
    if case is None:
        return
    entry = _selected(screen)
    plan_id = entry.plan_id if entry is not None and entry.plan_id else case.active_plan_id
    if plan_id is None:
        screen.collector.tell(_("This case has no active payment plan."), severity="warning")
        return
    installments = [e for e in case.timeline if e.plan_id == plan_id]
    version = installments[0].plan_version if installments else None
    remainder = sum(p.amount - p.paid_amount for p in case.open_promises if p.plan_id == plan_id)
    pending = [p for p in case.open_promises if p.plan_id == plan_id]
    if not pending:
        screen.collector.tell(_("That plan is no longer active."), severity="warning")
        return
    settings = screen.collector.settings
    context = screen.context

    def save(value: NewSchedule) -> Any:
        return context.run(
            corrections.reschedule_plan,
            plan_id=plan_id,
            plan=value.plan,
            reason=value.reason,
            expected_version=version,
        )

    kwargs = screen._form_kwargs(case, save)
    kwargs["initial"] = {
        "total": plain_amount(remainder, case.currency).rsplit(" ", 1)[0],
        "count": str(len(pending)),
    }
    # The debtor's today, as for any plan (the service checks the new dates against it).
    form = ReschedulePlanForm(
        minimum=settings.min_reason_length, **screen._due_kwargs(case), **kwargs
    )
    screen._open(form, N_("Payment plan rescheduled."))


def open_move_follow_up(screen: CaseScreen) -> None:
    from collector_tui.services.casework import corrections

    case = screen.case_file
    if case is None:
        return
    entry = _selected(screen)
    if entry is None or entry.kind != "follow_up" or entry.status != "open":
        first = case.open_follow_ups[0] if case.open_follow_ups else None
        entry = _entry(case, first.id) if first is not None else None
    if entry is None:
        screen.collector.tell(_("This case has no open follow-up."), severity="warning")
        return
    context = screen.context
    follow_up_id, version = entry.ref_id, entry.version

    def save(value: NewDueTime) -> Any:
        return context.run(
            corrections.move_follow_up,
            follow_up_id=follow_up_id,
            due_at=value.due_at,
            reason=value.reason,
            expected_version=version,
            outside_hours_ok=value.outside_hours_ok,
        )

    kwargs = screen._form_kwargs(case, save)
    kwargs["subtitle"] = f"{kwargs['subtitle']} · {entry.title}"
    form = MoveFollowUpForm(tz=screen.actor.time_zone, now=screen.collector.clock.now(), **kwargs)
    screen._open(form, N_("Follow-up moved."))


def open_payment(screen: CaseScreen) -> None:
    from collector_tui.services.casework import payments

    case = screen.case_file
    if case is None:
        return
    context = screen.context

    def save(value: PaymentReceived) -> Any:
        return context.run(
            payments.post_payment,
            case_id=case.case_id,
            amount=value.amount,
            received_on=value.received_on,
            reference=value.reference,
        )

    def done(posted: Any) -> str:
        from collector_tui.models import case_status_label

        if posted is None:
            return _("Payment posted.")
        return _("Payment posted: balance {balance}, status {status}.").format(
            balance=plain_amount(posted.balance_after, case.currency),
            status=case_status_label(posted.case_status),
        )

    form = PaymentForm(**screen._money_kwargs(case), **screen._form_kwargs(case, save))
    screen._open(form, done)
