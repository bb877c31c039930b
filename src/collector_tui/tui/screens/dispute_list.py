"""The supervisor's view of open invoice disputes (`d` on the supervisor screen): by owner and
age, the oldest first, overdue ones marked; enter resolves the highlighted one (the form and the
service `D` uses on the case screen), `o` opens its case; the list is read again after each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Static

from collector_tui.display import first_line
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.tui.commands import DisputesCommands
from collector_tui.tui.formatting import day_text, plain_amount
from collector_tui.tui.screens.base import CollectorScreen
from collector_tui.tui.screens.disputes import CATEGORY_WORDS, dispute_status_word
from collector_tui.tui.widgets.footer import KeyFooter
from collector_tui.tui.widgets.header import TitleHeader
from collector_tui.tui.widgets.tables import fill_fitted

if TYPE_CHECKING:
    from collector_tui.services.casework.disputes import DisputeView


@dataclass
class DisputesLoaded(Message):
    rows: list[DisputeView]


DISPUTE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("owner", N_("Owner")),
    ("age", N_("Age")),
    ("due", N_("Resolve by")),
    ("ref", N_("Reference")),
    ("invoice", N_("Invoice")),
    ("amount", N_("Disputed")),
    ("category", N_("Category")),
    ("reason", N_("Reason")),
)
# Too narrow for every column: these go first; the amount and the due date never.
DISPUTE_DROP_ORDER = ("category", "invoice", "age")


def dispute_rows(rows: list[DisputeView], today: date) -> dict[str, dict[str, Text]]:
    """The table's cells, by owner and then oldest first (the order they are given in)."""
    cells: dict[str, dict[str, Text]] = {}
    for row in rows:
        age = (today - row.opened_at.date()).days
        due = Text(day_text(row.resolve_by))
        if row.overdue:
            due = Text(_("{day} OVERDUE").format(day=day_text(row.resolve_by)), style="bold red")
        cells[str(row.id)] = {
            "owner": first_line(row.owner, 12),
            "age": Text(_("{n}d").format(n=age), justify="right"),
            "due": due,
            "ref": first_line(row.client_ref, 14),
            "invoice": first_line(row.invoice, 12),
            "amount": Text(plain_amount(row.amount, row.currency), justify="right", style="bold"),
            "category": Text(str(CATEGORY_WORDS.get(row.category, row.category)), style="dim"),
        }
    return cells


class DisputesScreen(CollectorScreen):
    """Every open invoice dispute, by owner and age (oldest first), overdue ones marked; enter
    resolves the highlighted one, `o` opens its case."""

    COMMANDS = {DisputesCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "resolve",
            N_("Resolve"),
            id="disputes.resolve",
            tooltip=N_("Resolve the highlighted dispute: upheld (a credit), rejected or partly"),
            priority=True,
        ),
        Binding(
            "o",
            "open_case",
            N_("Open case"),
            id="disputes.open",
            tooltip=N_("Open the dispute's case"),
        ),
        Binding(
            "r",
            "refresh",
            N_("Refresh"),
            id="disputes.refresh",
            tooltip=N_("Read the disputes again"),
        ),
        Binding(
            "escape",
            "back",
            N_("Back"),
            id="disputes.back",
            tooltip=N_("Back to the supervisor screen"),
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, DisputeView] = {}

    def compose(self) -> ComposeResult:
        yield TitleHeader()
        yield Static(_("Loading the open disputes…"), id="disputes-summary")
        yield DataTable(id="disputes-table", cursor_type="row", zebra_stripes=True)
        yield KeyFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.title = _("Open disputes")
        self.sub_title = _("by owner and age")
        self.query_one("#disputes-table", DataTable).focus()

    def language_changed(self) -> None:
        super().language_changed()
        self.title = _("Open disputes")
        self.sub_title = _("by owner and age")
        self.query_one("#disputes-table", DataTable).clear(columns=True)
        self._show()

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.load_disputes()

    @work(thread=True, exclusive=True, group="disputes", exit_on_error=False,
          description="disputes")  # fmt: skip
    def load_disputes(self) -> None:
        from collector_tui.services.casework.disputes import list_disputes

        rows = self.context.run(list_disputes, status="open")
        self.post_message(DisputesLoaded(rows))

    def on_disputes_loaded(self, message: DisputesLoaded) -> None:
        # By owner, then the oldest dispute first.
        ordered = sorted(message.rows, key=lambda r: (r.owner, r.opened_at, str(r.id)))
        self.rows = {str(row.id): row for row in ordered}
        self._show()

    def on_resize(self) -> None:
        if self.rows:
            self._show()

    def _show(self) -> None:
        today = self.collector.clock.now().date()
        table = self.query_one("#disputes-table", DataTable)
        cells = dispute_rows(list(self.rows.values()), today)
        with self.app.batch_update():
            fill_fitted(
                table,
                [(key, str(label)) for key, label in DISPUTE_COLUMNS],
                cells,
                width=self.size.width or self.app.size.width,
                drop=DISPUTE_DROP_ORDER,
                flex="reason",
                flex_texts={key: row.reason for key, row in self.rows.items()},
                min_flex=10,
            )
        overdue = sum(1 for row in self.rows.values() if row.overdue)
        owners = len({row.owner for row in self.rows.values()})
        text = Text()
        text.append(_("Open disputes") + " ", style="bold")
        text.append(f"{len(self.rows)}", style="bold")
        text.append(" · " + _("{count} owner(s)").format(count=owners), style="dim")
        if overdue:
            text.append(" · ")
            text.append(_("{count} overdue").format(count=overdue), style="bold red")
        if not self.rows:
            text = Text(_("No open dispute."), style="dim")
        self.query_one("#disputes-summary", Static).update(text)

    def current(self) -> DisputeView | None:
        table = self.query_one("#disputes-table", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.rows.get(key) if key is not None else None

    def action_open_case(self) -> None:
        row = self.current()
        if row is None:
            self.collector.tell(_("No open dispute here."))
            return
        from collector_tui.tui.screens.case import CaseScreen

        self.app.push_screen(CaseScreen(row.case_id))

    @on(DataTable.RowSelected, "#disputes-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_resolve()

    def action_resolve(self) -> None:
        row = self.current()
        if row is None:
            self.collector.tell(_("No open dispute here."))
            return
        from collector_tui.services.casework import disputes
        from collector_tui.services.casework.casefile import DisputeBrief
        from collector_tui.tui.screens.disputes import ResolveDisputeForm

        brief = DisputeBrief(
            id=row.id,
            invoice=row.invoice,
            amount=row.amount,
            category=row.category,
            reason=row.reason,
            owner=row.owner,
            owner_id=row.owner_id,
            resolve_by=row.resolve_by,
            overdue=row.overdue,
        )
        context = self.context  # taken on the event loop: the save may outlive a logout

        def save(value: Any) -> Any:
            return context.run(
                disputes.resolve_dispute,
                dispute_id=value.dispute_id,
                outcome=value.outcome,
                amount=value.amount,
                reason=value.reason,
            )

        form = ResolveDisputeForm(
            disputes=[brief],
            currency=row.currency,
            locale=self.collector.settings.locale,
            minimum=self.collector.settings.min_reason_length,
            saver=save,
            on_stale=self.load_disputes,
            subtitle=_("{reference} · invoice {invoice} · {owner}").format(
                reference=row.client_ref, invoice=row.invoice, owner=row.owner
            ),
        )

        def closed(value: Any) -> None:
            change = form.outcome
            if value is None or change is None:
                return
            said = _("{reference}: dispute {status}").format(
                reference=row.client_ref, status=dispute_status_word(change.status)
            )
            if change.credited:
                said += _(", {amount} credited").format(
                    amount=plain_amount(change.credited, change.currency)
                )
            self.collector.tell(f"{said}.", timeout=3)
            self.load_disputes()

        self.app.push_screen(form, closed)

    def action_refresh(self) -> None:
        self.load_disputes()

    def action_back(self) -> None:
        self.app.pop_screen()
