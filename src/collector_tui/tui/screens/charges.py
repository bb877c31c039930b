"""A charge added to a case after placement, from the case screen (`C`, supervisors):
services.casework.charges.add_charge.

Legal costs, a fee or interest, on the case or one of its invoices, with the reason the audit keeps;
asked again before it is saved, since it raises what the debtor owes. A field that cannot be read,
or that the service refuses (zero, an absurd amount, a closed case), gets its message under it and
nothing is written. Waivers are on the command line (`charge waive`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from collector_tui.services.casework.casefile import CaseFile
    from collector_tui.tui.screens.case import CaseScreen

COMPONENT_WORDS = {
    "costs": N_("costs (legal, court, enforcement)"),
    "fees": N_("fees"),
    "interest": N_("interest"),
}
COMPONENT_NAMES = {"costs": N_("costs"), "fees": N_("fees"), "interest": N_("interest")}
ON_CASE = "-"  # the invoice picker's value for the case itself


@dataclass(frozen=True)
class ChargeInput:
    amount: int
    component: str
    invoice: str | None  # None: the case itself
    reason: str


class ChargeForm(FormScreen[ChargeInput]):
    """How much, of which component, on which invoice (or the case), and why."""

    TITLE_TEXT = N_("Add a charge")

    def __init__(self, *, case: CaseFile, locale: str, minimum: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.currency = case.currency
        self.client_ref = case.client_ref
        self.balance = case.balance
        self.locale = locale
        self.minimum = minimum
        self.invoices = [invoice.number for invoice in case.invoices]

    def fields(self) -> ComposeResult:
        yield FormField(
            _("Amount ({currency})").format(currency=self.currency),
            Input(value=self.initial.get("amount", ""), placeholder=_("e.g. 350.00"), id="amount"),
            name="amount",
            hint=_("The balance rises by it (now {balance}).").format(
                balance=plain_amount(self.balance, self.currency)
            ),
        )
        yield FormField(
            _("Component"),
            Select(
                [(_(words), code) for code, words in COMPONENT_WORDS.items()],
                value="costs",
                allow_blank=False,
                id="component",
            ),
            name="component",
        )
        if self.invoices:
            yield FormField(
                _("On"),
                Select(
                    [(_("the case itself"), ON_CASE)]
                    + [
                        (_("invoice {number}").format(number=first_line(n, 30).plain), n)
                        for n in self.invoices
                    ],
                    value=ON_CASE,
                    allow_blank=False,
                    id="invoice",
                ),
                name="invoice",
            )
        yield reason_field(
            self,
            label=_("Reason"),
            placeholder=_("e.g. court filing fee, claim 2026-0412"),
            hint=_("Kept with the charge and in the audit trail."),
        )

    def focus_first(self) -> None:
        errors = [field for field in self.query(FormField) if field.error]
        if errors:
            errors[0].widget.focus()
        else:
            self.query_one("#amount", Input).focus()

    def read_form(self) -> ChargeInput:
        reader = Reader()
        typed = self.text_of("amount").strip()
        amount: int | None = None
        if not typed:
            reader.fail("amount", _("type the amount charged"))
        else:
            amount = reader.take(
                lambda: read_amount(typed, self.currency, self.locale, field="amount")
            )
        component = str(self.query_one("#component", Select).value)
        invoice: str | None = None
        pickers = self.query("#invoice")
        if pickers:
            chosen = str(pickers.first(Select).value)
            invoice = None if chosen == ON_CASE else chosen
        text = read_reason(self, reader, minimum=self.minimum)
        reader.done()
        assert amount is not None and text is not None
        return ChargeInput(amount=amount, component=component, invoice=invoice, reason=text)

    def confirmation(self, value: ChargeInput) -> tuple[str, str] | None:
        amount = plain_amount(value.amount, self.currency)
        component = _(COMPONENT_NAMES.get(value.component, value.component))
        if value.invoice:
            question = _("Charge {amount} of {component} to invoice {invoice} of {case}?").format(
                amount=amount, component=component, invoice=value.invoice, case=self.client_ref
            )
        else:
            question = _("Charge {amount} of {component} to {case}?").format(
                amount=amount, component=component, case=self.client_ref
            )
        return (
            question,
            _(
                "The balance rises by it; the next payment pays it in the client's order. "
                "It is audited (a supervisor can waive it: `charge waive`)."
            ),
        )

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()


def open_charge(screen: CaseScreen) -> None:
    from collector_tui.services.casework import charges

    case = screen.case_file
    if case is None:
        return
    if not screen.actor.is_supervisor:
        screen.collector.tell(
            _("Only a supervisor can add a charge: ask one (o sends the case, saying why)."),
            severity="warning",
        )
        return
    context = screen.context

    def save(value: ChargeInput) -> Any:
        current = screen.case_file  # read when the save runs: a stale edit reads the case again
        return context.run(
            charges.add_charge,
            case_id=case.case_id,
            amount=value.amount,
            component=value.component,
            invoice=value.invoice,
            reason=value.reason,
            expected_version=current.version if current else None,
        )

    def done(change: Any) -> str:
        if change is None:
            return _("Charge added.")
        return _("{component} {amount} charged; balance {balance}.").format(
            component=_(COMPONENT_NAMES.get(change.component, change.component)).capitalize(),
            amount=plain_amount(change.amount, case.currency),
            balance=plain_amount(change.balance, case.currency),
        )

    form = ChargeForm(
        case=case,
        locale=screen.collector.settings.locale,
        minimum=screen.collector.settings.min_reason_length,
        **screen._form_kwargs(case, save),
    )
    screen._open(form, done)
