"""What an agent asks of the supervisors from the case screen: a settlement, legal action, or simply
"please look at this case" (casework.settlements.request_settlement; supervision.decisions:
request_legal_escalation, route_case).

They are FormScreens like the promise form: `ctrl+s` reads the fields (a field that cannot be read
gets its message under it), the case screen's saver runs the service in a worker, and a refusal or
a stale edit keeps the form open with everything typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Static

from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.tui.formatting import day_text, plain_amount
from collector_tui.tui.parsing import FieldError, parse_date
from collector_tui.tui.screens.forms import (
    FormScreen,
    Reader,
    ReasonForm,
    due_date_field,
    read_amount,
    read_due_date,
    read_line,
)
from collector_tui.tui.widgets.field import FormField


@dataclass(frozen=True)
class SettlementRequest:
    """A settlement as typed: `amount` in minor units, paid by `due_date`."""

    amount: int
    due_date: date
    note: str | None


class SettlementRequestForm(FormScreen[SettlementRequest]):
    """Close the case for less than its balance, paid by a date ("full and final")."""

    TITLE_TEXT = N_("Settlement")
    # The service checks the note with its shared text check, which names the field "reason".
    FIELD_MAP: ClassVar[dict[str, str]] = {"reason": "note"}

    def __init__(
        self,
        *,
        currency: str,
        locale: str,
        today: date,
        balance: int,
        today_zone: str = "",
        limit_pct: int | None = None,
        disposable: int | None = None,
        expected_recovery: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.currency = currency
        self.locale = locale
        self.today = today
        self.today_zone = today_zone
        self.balance = balance
        self.limit_pct = limit_pct
        # The assessed disposable income a month and the expected recovery (balance × p) when
        # known (services/assessment): the discount line weighs the offer against them.
        self.disposable = disposable
        self.expected_recovery = expected_recovery

    def fields(self) -> ComposeResult:
        balance = plain_amount(self.balance, self.currency)
        # Amount and date side by side: the dialog fits 80x24 with an error under every field.
        with Horizontal(classes="form-row"):
            yield FormField(
                _("Debtor pays ({currency})").format(currency=self.currency),
                Input(
                    value=self.initial.get("amount", ""),
                    placeholder=_("under {balance}").format(balance=balance),
                    id="amount",
                ),
                name="amount",
            )
            yield due_date_field(self, self.today, _("Pay by"), self.today_zone)
        yield FormField(
            _("Note (optional)"),
            Input(
                value=self.initial.get("note", ""),
                placeholder=_("e.g. lump sum from a family loan"),
                id="note",
            ),
            name="note",
        )
        yield Static("", id="settlement-discount", classes="settlement-discount")
        if self.limit_pct is None:
            limit = _("no discount limit: the promise is recorded now")
        else:
            limit = _(
                "your limit: {pct}% — within it recorded now, above it a supervisor approves"
            ).format(pct=self.limit_pct)
        yield Static(limit, id="settlement-limit", classes="dialog-hint")

    def on_mount(self) -> None:
        super().on_mount()
        self._show_discount()

    def _amount(self, reader: Reader) -> int | None:
        amount: int | None = reader.take(
            lambda: read_amount(self.text_of("amount"), self.currency, self.locale, field="amount")
        )
        if amount is not None and amount >= self.balance:
            reader.fail(
                "amount",
                _(
                    "a settlement is for less than the balance ({balance}): "
                    "record a promise instead"
                ).format(balance=plain_amount(self.balance, self.currency)),
            )
            return None
        return amount

    def read_form(self) -> SettlementRequest:
        reader = Reader()
        amount = self._amount(reader)
        due = read_due_date(self, reader, self.today, _("pay by today or later"))
        note = read_line(self, reader, "note", missing=None)
        reader.done()
        assert amount is not None and due is not None
        return SettlementRequest(amount=amount, due_date=due, note=note)

    def confirmation(self, value: SettlementRequest) -> tuple[str, str] | None:
        amount = plain_amount(value.amount, self.currency)
        return (
            _("Settle {case} for {amount} by {day}?").format(
                case=self.subtitle or _("this case"), amount=amount, day=day_text(value.due_date)
            ),
            _(
                "Within your limit the promise is recorded now; above it the case goes to a "
                "supervisor and leaves your queue until they decide."
            ),
        )

    @on(Input.Changed, "#amount")
    @on(Input.Changed, "#due_date")
    def _show_discount(self) -> None:
        label = self.query_one("#settlement-discount", Static)
        reader = Reader()
        amount = self._amount(reader) if self.text_of("amount").strip() else None
        if amount is None or self.balance <= 0:
            balance = plain_amount(self.balance, self.currency)
            label.update(Text(_("Balance {amount}").format(amount=balance), style="dim"))
            return
        discount = self.balance - amount
        pct = (Decimal(discount * 100) / Decimal(self.balance)).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )
        text = Text(_("Discount") + " ")
        text.append(plain_amount(discount, self.currency), style="bold")
        text.append(
            " "
            + _("({share} of the balance, {balance})").format(
                share=f"{pct}%", balance=plain_amount(self.balance, self.currency)
            )
        )
        self._weigh(text, amount)
        label.update(text)

    def _weigh(self, text: Text, amount: int) -> None:
        """The offer against the expected recovery and the debtor's disposable income."""
        from collector_tui.services.assessment.affordability import months_until, settlement_warning

        if self.expected_recovery is not None:
            expected = plain_amount(self.expected_recovery, self.currency)
            better = amount >= self.expected_recovery
            without = _("Expected recovery without it {amount}:").format(amount=expected)
            text.append(f"\n{without} ", style="dim")
            text.append(
                _("the offer is above it") if better else _("the offer is below it"),
                style="green" if better else "yellow",
            )
        if self.disposable is None:
            return
        due = None
        raw = self.text_of("due_date").strip()
        if raw:
            try:
                due = parse_date(raw, self.today, field="due_date")
            except FieldError:
                due = None
        due = due or self.today
        warning = settlement_warning(amount, self.disposable, today=self.today, due=due)
        months = months_until(self.today, due)
        room = plain_amount(max(self.disposable, 0) * months, self.currency)
        if warning is None:
            within = _("Within the disposable income until then ({amount})").format(amount=room)
            text.append(f"\n{within}", style="green")
        else:
            over = _("({amount} over {months} month(s))").format(amount=room, months=months)
            text.append(f"\n⚠ {warning} {over}", style="bold yellow")

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()


class MinimumReasonForm(ReasonForm):
    """A ReasonForm whose reason is held to the configured minimum (services/reasons.py), checked
    here so the message is under the field before anything is sent."""

    def read_form(self) -> str:
        from collector_tui.services.reasons import reason_problem

        reader = Reader()
        text = read_line(self, reader, self.FIELD, missing=_(self.MISSING), most=self.MAX_LENGTH)
        if text is not None and not reader.errors:
            problem = reason_problem(text, minimum=self.collector.settings.min_reason_length)
            if problem is not None:
                reader.fail(self.FIELD, problem)
        reader.done()
        assert text is not None
        return text


class LegalRequestForm(MinimumReasonForm):
    """Ask the supervisors for legal action: the case waits with them until they decide."""

    TITLE_TEXT = N_("Ask for legal action")
    FIELD_MAP: ClassVar[dict[str, str]] = {"reason": "grounds"}
    FIELD = "grounds"
    LABEL = N_("Grounds")
    PLACEHOLDER = N_("e.g. refuses to pay although able; assets in his name")
    HINT = N_("The case goes to a supervisor and leaves your queue until they decide.")
    MISSING = N_("say why legal action is warranted")
    CONFIRM = N_("Ask for legal action on {case}?")


class RouteForm(MinimumReasonForm):
    """Hand the case to the supervisors for any other reason."""

    TITLE_TEXT = N_("Send to a supervisor")
    FIELD_MAP: ClassVar[dict[str, str]] = {"reason": "reason"}
    LABEL = N_("Why")
    PLACEHOLDER = N_("e.g. debtor asks for a manager; client instructions unclear")
    HINT = N_("The case leaves your queue until a supervisor decides or sends it back.")
    MISSING = N_("say why a supervisor should look at it")
    CONFIRM = N_("Send {case} to a supervisor?")
