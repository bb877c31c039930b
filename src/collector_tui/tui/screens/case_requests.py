"""What an agent asks of the supervisors from the case screen: a settlement, legal action, or simply
"please look at this case" (services.supervision: request_settlement, request_legal_escalation,
route_case).

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
from textual.widgets import Input, Static

from collector_tui.tui.formatting import plain_amount
from collector_tui.tui.parsing import parse_date
from collector_tui.tui.screens.forms import FormScreen, Reader, read_amount
from collector_tui.tui.widgets.field import FormField

# services.supervision.MAX_REASON: the same bound, checked here so the message lands at once.
MAX_TEXT = 500


@dataclass(frozen=True)
class SettlementRequest:
    """A settlement as typed: `amount` in minor units, paid by `due_date`."""

    amount: int
    due_date: date
    note: str | None


def _text(form: FormScreen[Any], reader: Reader, name: str, *, missing: str | None) -> str | None:
    """A one-line text field with its spaces tidied; `missing` is the message when it is required
    and empty (None: optional)."""
    text = " ".join(form.text_of(name).split())
    if not text:
        if missing is not None:
            reader.fail(name, missing)
        return None
    if len(text) > MAX_TEXT:
        reader.fail(name, f"keep it under {MAX_TEXT} characters ({len(text)} now)")
    return text


class SettlementRequestForm(FormScreen[SettlementRequest]):
    """Close the case for less than its balance, paid by a date ("full and final")."""

    TITLE_TEXT = "Settlement"
    # The service checks the note with its shared text check, which names the field "reason".
    FIELD_MAP: ClassVar[dict[str, str]] = {"reason": "note"}

    def __init__(
        self, *, currency: str, locale: str, today: date, balance: int, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.currency = currency
        self.locale = locale
        self.today = today
        self.balance = balance

    def fields(self) -> ComposeResult:
        balance = plain_amount(self.balance, self.currency)
        yield FormField(
            f"Amount the debtor pays ({self.currency})",
            Input(
                value=self.initial.get("amount", ""),
                placeholder=f"less than the balance, {balance}",
                id="amount",
            ),
            name="amount",
        )
        yield FormField(
            "Pay by",
            Input(
                value=self.initial.get("due_date", ""),
                placeholder="YYYY-MM-DD, tomorrow, or +7 (days)",
                id="due_date",
            ),
            name="due_date",
            hint=f"today is {self.today.isoformat()}",
        )
        yield FormField(
            "Note (optional)",
            Input(
                value=self.initial.get("note", ""),
                placeholder="e.g. lump sum from a family loan",
                id="note",
            ),
            name="note",
        )
        yield Static("", id="settlement-discount", classes="settlement-discount")
        yield Static(
            "Within your settlement limit the promise is recorded now; above it the case waits "
            "for a supervisor's approval.",
            classes="dialog-hint",
        )

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
                f"a settlement is for less than the balance "
                f"({plain_amount(self.balance, self.currency)}): record a promise instead",
            )
            return None
        return amount

    def read_form(self) -> SettlementRequest:
        reader = Reader()
        amount = self._amount(reader)
        due = reader.take(
            lambda: parse_date(self.text_of("due_date"), self.today, field="due_date")
        )
        if due is not None and due < self.today:
            reader.fail("due_date", f"{due.isoformat()} is in the past: pay by today or later")
        note = _text(self, reader, "note", missing=None)
        reader.done()
        assert amount is not None and due is not None
        return SettlementRequest(amount=amount, due_date=due, note=note)

    @on(Input.Changed, "#amount")
    def _show_discount(self) -> None:
        label = self.query_one("#settlement-discount", Static)
        reader = Reader()
        amount = self._amount(reader) if self.text_of("amount").strip() else None
        if amount is None or self.balance <= 0:
            label.update(Text(f"Balance {plain_amount(self.balance, self.currency)}", style="dim"))
            return
        discount = self.balance - amount
        pct = (Decimal(discount * 100) / Decimal(self.balance)).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )
        text = Text("Discount ")
        text.append(plain_amount(discount, self.currency), style="bold")
        text.append(f" ({pct}% of the balance, {plain_amount(self.balance, self.currency)})")
        label.update(text)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()


class LegalRequestForm(FormScreen[str]):
    """Ask the supervisors for legal action: the case waits with them until they decide."""

    TITLE_TEXT = "Ask for legal action"
    FIELD_MAP: ClassVar[dict[str, str]] = {"reason": "grounds"}

    def fields(self) -> ComposeResult:
        yield FormField(
            "Grounds",
            Input(
                value=self.initial.get("grounds", ""),
                placeholder="e.g. refuses to pay although able; assets in his name",
                id="grounds",
            ),
            name="grounds",
            hint="The case goes to a supervisor and leaves your queue until they decide.",
        )

    def read_form(self) -> str:
        reader = Reader()
        grounds = _text(self, reader, "grounds", missing="say why legal action is warranted")
        reader.done()
        assert grounds is not None
        return grounds

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()


class RouteForm(FormScreen[str]):
    """Hand the case to the supervisors for any other reason."""

    TITLE_TEXT = "Send to a supervisor"
    FIELD_MAP: ClassVar[dict[str, str]] = {"reason": "reason"}

    def fields(self) -> ComposeResult:
        yield FormField(
            "Why",
            Input(
                value=self.initial.get("reason", ""),
                placeholder="e.g. debtor asks for a manager; client instructions unclear",
                id="reason",
            ),
            name="reason",
            hint="The case leaves your queue until a supervisor decides or sends it back.",
        )

    def read_form(self) -> str:
        reader = Reader()
        reason = _text(self, reader, "reason", missing="say why a supervisor should look at it")
        reader.done()
        assert reason is not None
        return reason

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()
