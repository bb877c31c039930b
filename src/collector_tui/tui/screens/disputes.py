"""Invoice disputes and payment reversals from the TUI (services.casework.disputes, reversals).

On the case screen: `i` disputes an invoice, or an amount of it (the rest of the case stays
workable), `D` resolves an open dispute (its owner or a supervisor: upheld credits the invoice,
rejected makes the amount collectible again, partly does both), and `V` reverses the highlighted
payment of the timeline (supervisors: bounced, chargeback or error, asked again before it is done).
The supervisor's view of open disputes is tui/screens/dispute_list.py.

The forms are FormScreens (tui/screens/forms.py): a field that cannot be read, or that the service
refuses (a dispute above the open amount), gets its message under it and nothing is written.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Select

from collector_tui.display import first_line
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.tui.formatting import plain_amount
from collector_tui.tui.screens.corrections import read_reason, reason_field
from collector_tui.tui.screens.forms import FormScreen, Reader, read_amount
from collector_tui.tui.widgets.field import FormField
from collector_tui.tui.widgets.timeline import Timeline

if TYPE_CHECKING:
    from collector_tui.services.casework.casefile import CaseFile, DisputeBrief, InvoiceView
    from collector_tui.tui.screens.case import CaseScreen

# In the debtor's words first; the services keep the codes (models.DisputeCategory).
CATEGORY_WORDS = {
    "goods_not_received": N_("goods not received"),
    "quality": N_("quality"),
    "price": N_("price"),
    "already_paid": N_("already paid"),
    "not_mine": N_("not mine"),
    "other": N_("other"),
}
OUTCOME_WORDS = {
    "upheld": N_("upheld: credit the whole disputed amount"),
    "rejected": N_("rejected: the amount is collectible again"),
    "partly": N_("partly upheld: credit an amount, the rest is collectible"),
}
REVERSAL_WORDS = {
    "bounced": N_("bounced (returned by the bank)"),
    "chargeback": N_("chargeback (card payment taken back)"),
    "error": N_("error (posted by mistake)"),
}
# A dispute's status in a sentence ("dispute upheld"); the codes are models.DisputeStatus.
DISPUTE_STATUS_WORDS = {
    "open": N_("open"),
    "upheld": N_("upheld"),
    "rejected": N_("rejected"),
    "partly": N_("partly upheld"),
}


def dispute_status_word(status: str) -> str:
    word = DISPUTE_STATUS_WORDS.get(status)
    return str(word) if word is not None else status


def _room(invoice: InvoiceView) -> int:
    """What of an invoice may still be disputed: open and not under dispute yet."""
    return max(0, invoice.open_amount - invoice.disputed_amount)


# -- dispute an invoice ---------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceDisputeInput:
    invoice: str
    amount: int | None  # None: all of the invoice that is open and not disputed yet
    category: str
    reason: str
    owner_id: uuid.UUID | None


class InvoiceDisputeForm(FormScreen[InvoiceDisputeInput]):
    """Which invoice, how much of it (empty: all that is open), why, and whose to resolve."""

    TITLE_TEXT = N_("Dispute an invoice")
    FIELD_MAP: ClassVar[dict[str, str]] = {"owner_id": "owner", "resolve_by": "reason"}

    def __init__(
        self,
        *,
        case: CaseFile,
        locale: str,
        minimum: int,
        owners: list[tuple[str, uuid.UUID | None]],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.TITLE_TEXT = _(self.TITLE_TEXT)  # type: ignore[misc]
        self.currency = case.currency
        self.locale = locale
        self.minimum = minimum
        self.invoices = [invoice for invoice in case.invoices if _room(invoice) > 0]
        self.owners = owners

    def fields(self) -> ComposeResult:
        options = [
            (
                _("{invoice} · open {amount}").format(
                    invoice=first_line(i.number, 20).plain,
                    amount=plain_amount(_room(i), self.currency),
                ),
                i.number,
            )
            for i in self.invoices
        ]
        yield FormField(
            _("Invoice"),
            Select(options, value=self.invoices[0].number, allow_blank=False, id="invoice"),
            name="invoice",
        )
        yield FormField(
            _("Amount ({currency}, optional)").format(currency=self.currency),
            Input(
                value=self.initial.get("amount", ""), placeholder=_("empty: all of it"), id="amount"
            ),
            name="amount",
            hint=_("It leaves the collectible balance; the rest stays workable."),
        )
        yield FormField(
            _("Category"),
            Select(
                [(str(words), code) for code, words in CATEGORY_WORDS.items()],
                prompt=_("what is disputed?"),
                id="category",
            ),
            name="category",
        )
        yield reason_field(
            self,
            label=_("Reason"),
            placeholder=_("e.g. 20 of the 100 units arrived broken"),
            hint=_("Kept on the dispute and in the audit trail."),
        )
        if len(self.owners) > 1:  # the case's own agent opening it: nobody else to choose
            yield FormField(
                _("Owner (resolves it)"),
                Select(
                    [(label, str(value) if value else "") for label, value in self.owners],
                    value="",
                    allow_blank=False,
                    id="owner",
                ),
                name="owner",
            )

    def focus_first(self) -> None:
        errors = [field for field in self.query(FormField) if field.error]
        if errors:
            errors[0].widget.focus()
        else:
            self.query_one("#amount", Input).focus()

    def read_form(self) -> InvoiceDisputeInput:
        reader = Reader()
        number = str(self.query_one("#invoice", Select).value)
        invoice = next((i for i in self.invoices if i.number == number), None)
        amount: int | None = None
        if self.text_of("amount").strip():
            amount = reader.take(
                lambda: read_amount(
                    self.text_of("amount"), self.currency, self.locale, field="amount"
                )
            )
            if amount is not None and invoice is not None and amount > _room(invoice):
                reader.fail(
                    "amount",
                    _("more than the open amount {amount} of invoice {invoice}").format(
                        amount=plain_amount(_room(invoice), self.currency), invoice=invoice.number
                    ),
                )
        category = self.query_one("#category", Select).value
        if category is Select.NULL:
            reader.fail("category", _("choose what is disputed"))
        text = read_reason(self, reader, minimum=self.minimum)
        owners = self.query("#owner")
        owner = str(owners.first(Select).value) if owners else ""
        reader.done()
        assert text is not None
        return InvoiceDisputeInput(
            invoice=number,
            amount=amount,
            category=str(category),
            reason=text,
            owner_id=uuid.UUID(owner) if owner else None,
        )

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()


# -- resolve a dispute ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Resolution:
    dispute_id: uuid.UUID
    outcome: str
    amount: int | None
    reason: str


class ResolveDisputeForm(FormScreen[Resolution]):
    """Which open dispute, the outcome, the amount credited when partly upheld, and why."""

    TITLE_TEXT = N_("Resolve a dispute")

    def __init__(
        self,
        *,
        disputes: list[DisputeBrief],
        currency: str,
        locale: str,
        minimum: int,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.TITLE_TEXT = _(self.TITLE_TEXT)  # type: ignore[misc]
        self.disputes = disputes
        self.currency = currency
        self.locale = locale
        self.minimum = minimum

    def fields(self) -> ComposeResult:
        options = [
            (
                f"{first_line(d.invoice, 20).plain} · {plain_amount(d.amount, self.currency)} · "
                f"{str(CATEGORY_WORDS.get(d.category, d.category))}",
                str(d.id),
            )
            for d in self.disputes
        ]
        yield FormField(
            _("Dispute"),
            Select(options, value=str(self.disputes[0].id), allow_blank=False, id="dispute"),
            name="dispute",
        )
        yield FormField(
            _("Outcome"),
            Select(
                [(str(words), code) for code, words in OUTCOME_WORDS.items()],
                prompt=_("upheld, rejected or partly?"),
                id="outcome",
            ),
            name="outcome",
        )
        yield FormField(
            _("Amount credited ({currency})").format(currency=self.currency),
            Input(value="", placeholder=_("only when partly upheld"), id="amount"),
            name="amount",
        )
        yield reason_field(
            self,
            label=_("Reason"),
            placeholder=_("e.g. client confirms 20 units were damaged"),
            hint=_("A credit reduces the invoice and the balance; it is audited."),
        )

    def focus_first(self) -> None:
        errors = [field for field in self.query(FormField) if field.error]
        if errors:
            errors[0].widget.focus()
        elif len(self.disputes) > 1:
            self.query_one("#dispute", Select).focus()
        else:
            self.query_one("#outcome", Select).focus()

    def _dispute(self) -> DisputeBrief:
        chosen = str(self.query_one("#dispute", Select).value)
        return next((d for d in self.disputes if str(d.id) == chosen), self.disputes[0])

    def read_form(self) -> Resolution:
        reader = Reader()
        dispute = self._dispute()
        outcome = self.query_one("#outcome", Select).value
        amount: int | None = None
        typed = self.text_of("amount").strip()
        if outcome is Select.NULL:
            reader.fail("outcome", _("choose the outcome"))
        elif outcome == "partly":
            amount = reader.take(
                lambda: read_amount(typed, self.currency, self.locale, field="amount")
            )
            if amount is not None and amount >= dispute.amount:
                reader.fail(
                    "amount",
                    _(
                        "a partial credit must be below the disputed {amount}: uphold it instead"
                    ).format(amount=plain_amount(dispute.amount, self.currency)),
                )
        elif typed:
            reader.fail("amount", _("an amount goes only with a partly upheld dispute"))
        text = read_reason(self, reader, minimum=self.minimum)
        reader.done()
        assert text is not None
        return Resolution(dispute.id, str(outcome), amount, text)

    def confirmation(self, value: Resolution) -> tuple[str, str] | None:
        dispute = self._dispute()
        credit = dispute.amount if value.outcome == "upheld" else value.amount
        if not credit:
            return None
        return (
            _("Credit {amount} on invoice {invoice}?").format(
                amount=plain_amount(credit, self.currency), invoice=dispute.invoice
            ),
            _("A credit reduces the invoice and the balance for good (it is audited)."),
        )

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()


# -- reverse a payment ----------------------------------------------------------------------------


class ReversePaymentForm(FormScreen[str]):
    """Why the payment did not stand; asked again before it is reversed."""

    TITLE_TEXT = N_("Reverse a payment")

    def __init__(self, *, payment: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.TITLE_TEXT = _(self.TITLE_TEXT)  # type: ignore[misc]
        self.payment = payment

    def fields(self) -> ComposeResult:
        yield FormField(
            _("Why is it reversed?"),
            Select(
                [(str(words), code) for code, words in REVERSAL_WORDS.items()],
                prompt=_("bounced, chargeback or error?"),
                id="reason",
            ),
            name="reason",
            hint=_("Its allocations are undone; promises it kept are judged again."),
        )

    def read_form(self) -> str:
        reader = Reader()
        reason = self.query_one("#reason", Select).value
        if reason is Select.NULL:
            reader.fail("reason", _("choose why the payment is reversed"))
        reader.done()
        return str(reason)

    def confirmation(self, value: str) -> tuple[str, str] | None:
        return (
            _("Reverse the {payment} ({reason})?").format(
                payment=self.payment, reason=str(REVERSAL_WORDS.get(value, value))
            ),
            _("The balance goes back up; a reversal cannot itself be reversed."),
        )


# -- what the case screen's keys open -------------------------------------------------------------


def _case_version(screen: CaseScreen) -> int | None:
    # Read when the save runs: after a stale edit the case is read again and the next try uses it.
    current = screen.case_file
    return current.version if current else None


def open_invoice_dispute(screen: CaseScreen) -> None:
    from collector_tui.services.casework import disputes

    case = screen.case_file
    if case is None:
        return
    if not case.invoices:
        screen.collector.tell(
            _("This case has no invoices: `d` records a dispute of the whole debt."),
            severity="warning",
        )
        return
    if not any(_room(invoice) for invoice in case.invoices):
        screen.collector.tell(_("Every invoice is disputed or paid already."), severity="warning")
        return
    actor = screen.actor
    agent = case.assigned_to or _("unassigned")
    owners: list[tuple[str, uuid.UUID | None]] = [
        (_("the case's agent ({agent})").format(agent=agent), None)
    ]
    if case.assigned_to_id != actor.user_id:
        owners.append((_("me ({name})").format(name=actor.display_name), actor.user_id))
    context = screen.context

    def save(value: InvoiceDisputeInput) -> Any:
        return context.run(
            disputes.open_dispute,
            case_id=case.case_id,
            invoice=value.invoice,
            amount=value.amount,
            category=value.category,
            reason=value.reason,
            owner_id=value.owner_id,
            expected_version=_case_version(screen),
        )

    def done(change: Any) -> str:
        if change is None:
            return _("Dispute opened.")
        return _(
            "Dispute opened: {amount} out of the collectible balance (now {collectible})."
        ).format(
            amount=plain_amount(change.amount, case.currency),
            collectible=plain_amount(change.collectible, case.currency),
        )

    form = InvoiceDisputeForm(
        case=case,
        locale=screen.collector.settings.locale,
        minimum=screen.collector.settings.min_reason_length,
        owners=owners,
        **screen._form_kwargs(case, save),
    )
    screen._open(form, done)


def open_resolve_dispute(screen: CaseScreen) -> None:
    from collector_tui.services.casework import disputes

    case = screen.case_file
    if case is None:
        return
    if not case.disputes:
        screen.collector.tell(_("This case has no open invoice dispute."), severity="warning")
        return
    actor = screen.actor
    mine = [d for d in case.disputes if actor.is_supervisor or d.owner_id == actor.user_id]
    if not mine:
        owners = ", ".join(sorted({d.owner for d in case.disputes}))
        screen.collector.tell(
            _("Only a dispute's owner ({owners}) or a supervisor can resolve it.").format(
                owners=owners
            ),
            severity="warning",
        )
        return
    context = screen.context

    def save(value: Resolution) -> Any:
        return context.run(
            disputes.resolve_dispute,
            dispute_id=value.dispute_id,
            outcome=value.outcome,
            amount=value.amount,
            reason=value.reason,
            expected_version=_case_version(screen),
        )

    def done(change: Any) -> str:
        if change is None:
            return _("Dispute resolved.")
        said = _("Dispute {status}").format(status=dispute_status_word(change.status))
        if change.credited:
            said += _(": {amount} credited").format(
                amount=plain_amount(change.credited, case.currency)
            )
        return _("{said}; balance {balance}.").format(
            said=said, balance=plain_amount(change.balance, case.currency)
        )

    form = ResolveDisputeForm(
        disputes=mine,
        currency=case.currency,
        locale=screen.collector.settings.locale,
        minimum=screen.collector.settings.min_reason_length,
        **screen._form_kwargs(case, save),
    )
    screen._open(form, done)


def open_reverse_payment(screen: CaseScreen) -> None:
    from collector_tui.services.casework import reversals

    case = screen.case_file
    if case is None:
        return
    if not screen.actor.is_supervisor:
        screen.collector.tell(
            _("Only a supervisor can reverse a payment: ask one (o sends the case, saying why)."),
            severity="warning",
        )
        return
    entry = screen.query_one("#timeline", Timeline).selected_entry()
    if entry is None or entry.kind != "payment":
        screen.collector.tell(
            _("Highlight a payment on the timeline to reverse it."), severity="warning"
        )
        return
    if entry.status == "reversal":
        screen.collector.tell(_("That is a reversal: it cannot be reversed."), severity="warning")
        return
    if entry.status == "reversed":
        screen.collector.tell(_("That payment is reversed already."), severity="warning")
        return
    context = screen.context
    payment_id = entry.ref_id

    def save(reason: str) -> Any:
        return context.run(
            reversals.reverse_payment,
            payment_id=payment_id,
            reason=reason,
            expected_version=_case_version(screen),
        )

    def done(reversed_payment: Any) -> str:
        if reversed_payment is None:
            return _("Payment reversed.")
        from collector_tui.models import case_status_label

        return _("Payment reversed: balance {balance}, status {status}.").format(
            balance=plain_amount(reversed_payment.balance_after, case.currency),
            status=case_status_label(reversed_payment.case_status),
        )

    title = entry.title.split(" received ", 1)[0]
    kwargs = screen._form_kwargs(case, save)
    kwargs["subtitle"] = f"{kwargs['subtitle']} · {entry.title}"
    screen._open(ReversePaymentForm(payment=title, **kwargs), done)
