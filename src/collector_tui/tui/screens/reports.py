"""The reports dashboard: what a collection manager reads every morning
(docs/decisions.md, reports).

One currency at a time (money is never added across currencies) and one period (the last 7, 30 or
90 days up to today, UTC dates as in `report`): a summary (the open book and its DSO as of today,
then the period's collections and promises), aging bars (balance and open items), money collected
against promises falling due, how the promises made turned out, then the same figures as tables
(collections per day or week, aging, promises per agent, agent activity).

The figures are the command line's: one worker runs `reporting.dashboard.load_dashboard`, which
calls `reporting.tables.report_table`, the very function behind `collector-tui report ... --json`,
once per report, in one unit of work; the tables show its cells and the charts draw its service
rows, so the dashboard, the charts and the CLI always agree. An agent
sees the numbers of their own cases only (the services scope every report by the acting user).

Keys: `c` next currency, `p` next period, `r` refresh, `e` export to CSV, `escape` back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.validation import ValidationResult, Validator
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    Input,
    Label,
    Select,
    Static,
)

from collector_tui.display import printable, safe_text
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.labels import EXPORT_KINDS
from collector_tui.tui.commands import ExportCommands, ReportsCommands
from collector_tui.tui.formatting import day_text
from collector_tui.tui.screens.base import CollectorModal, CollectorScreen
from collector_tui.tui.widgets.charts import (
    AgingChart,
    CollectionsChart,
    PromiseOutcomeChart,
    VintageChart,
)
from collector_tui.tui.widgets.footer import KeyFooter
from collector_tui.tui.widgets.header import TitleHeader
from collector_tui.tui.widgets.tables import fill_measured

if TYPE_CHECKING:
    from collector_tui.services.reporting.dashboard import Dashboard
    from collector_tui.services.reporting.tables import ReportTable

__all__ = [
    "AGENT_COLUMNS",
    "AGING_COLUMNS",
    "COLLECTION_COLUMNS",
    "PERIOD_CHOICES",
    "PROMISE_COLUMNS",
    "ExportChoice",
    "ExportDialog",
    "ReportsScreen",
]

# (days, label): the period selector. Weeks read better than 90 daily points.
PERIOD_CHOICES: tuple[tuple[int, str], ...] = (
    (7, N_("Last 7 days")),
    (30, N_("Last 30 days")),
    (90, N_("Last 90 days")),
)
DEFAULT_DAYS = 30

# Table columns: (header, key of the report's column). The cells are the report's own text cells.
AGING_COLUMNS: tuple[tuple[str, str], ...] = (
    (N_("Bucket"), "bucket"),
    (N_("Open items"), "count"),
    (N_("Balance"), "balance"),
)
PROMISE_COLUMNS: tuple[tuple[str, str], ...] = (
    (N_("Agent"), "agent"),
    (N_("Made"), "made"),
    (N_("Kept"), "kept"),
    (N_("Partial"), "partial"),
    (N_("Broken"), "broken"),
    (N_("Pending"), "pending"),
    (N_("Cancelled"), "cancelled"),
    (N_("Promised"), "amount_promised"),
    (N_("Paid in"), "amount_kept"),
    (N_("Kept %"), "kept_rate_count"),
    (N_("Kept % amt"), "kept_rate_amount"),
)
# Below WIDE_AT columns: short headers, and the cancelled promises left to `report promises`.
WIDE_AT = 100
NARROW_PROMISE_COLUMNS: tuple[tuple[str, str], ...] = (
    (N_("Agent"), "agent"),
    (N_("Made"), "made"),
    (N_("Kept"), "kept"),
    (N_("Part."), "partial"),
    (N_("Brkn"), "broken"),
    (N_("Pend."), "pending"),
    (N_("Promised"), "amount_promised"),
    (N_("Paid in"), "amount_kept"),
    (N_("Kept%"), "kept_rate_count"),
    (N_("Amt%"), "kept_rate_amount"),
)
# Per day, or per ISO week (the Monday) from 90 days: the rows of `report collections`.
COLLECTION_COLUMNS: tuple[tuple[str, str], ...] = (
    (N_("Period"), "period_start"),
    (N_("Collected"), "collected"),
    (N_("Promised due"), "promised_due"),
    (N_("Payments"), "payments"),
)
# The agents table's money column is `collected_<CURRENCY>`, the report's own name for it.
AGENT_COLUMNS: tuple[tuple[str, str], ...] = (
    (N_("Agent"), "agent"),
    (N_("Attempts"), "attempts"),
    (N_("Right party"), "right_party_contacts"),
    (N_("RPC %"), "rpc_rate"),
    (N_("Promises"), "promises"),
    (N_("Collected"), "collected"),
)
# The promise-kept rate by amount band (`report promises --by amount`).
PROMISE_BAND_COLUMNS: tuple[tuple[str, str], ...] = (
    (N_("Amount"), "band"),
    (N_("Made"), "made"),
    (N_("Due"), "due"),
    (N_("Kept"), "kept"),
    (N_("Kept %"), "kept_rate"),
)
# One row per placement month: where its curve stands today (`report vintage`, its last month).
VINTAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    (N_("Placed in"), "placement_month"),
    (N_("Cases"), "cases"),
    (N_("Placed"), "placed"),
    (N_("Months"), "month"),
    (N_("Collected"), "collected"),
    (N_("Liquidation"), "liquidation_rate"),
)
# Champion against challenger (`report strategies`): rates in percent, with the counts behind
# them when the screen is wide; "Kept" is kept of made.
STRATEGY_COLUMNS: tuple[tuple[str, str], ...] = (
    (N_("Strategy"), "strategy"),
    (N_("Group"), "group"),
    (N_("Cases"), "cases"),
    (N_("Contact %"), "contact_rate"),
    (N_("RPC %"), "rpc_rate"),
    (N_("Kept/made"), "kept_of_made"),
    (N_("Collected"), "collected"),
    (N_("Liquidation %"), "liquidation_rate"),
)
NARROW_STRATEGY_COLUMNS: tuple[tuple[str, str], ...] = (
    (N_("Strategy"), "strategy"),
    (N_("Group"), "group"),
    (N_("Cases"), "cases"),
    (N_("Cont%"), "contact_rate"),
    (N_("RPC%"), "rpc_rate"),
    (N_("Kept"), "kept_of_made"),
    (N_("Collected"), "collected"),
    (N_("Liq%"), "liquidation_rate"),
)
TEXT_COLUMNS = frozenset(
    {"agent", "bucket", "period_start", "band", "placement_month", "strategy", "group"}
)
# What each export holds, as the dialog lists it (the kinds are services.exports.EXPORT_KINDS).
EXPORT_WORDS = EXPORT_KINDS


# The sections' titles before the figures are read (then each says its currency and period).
SECTION_TITLES = {
    "collections-title": N_("Collections"),
    "aging-title": N_("Aging"),
    "promises-title": N_("Promises per agent"),
    "bands-title": "",
    "agents-title": N_("Agent activity"),
    "vintage-title": "",
    "strategies-title": N_("Strategies"),
}


def _cells(table: ReportTable, currency: str | None = None) -> list[dict[str, str]]:
    """The report's text cells by column name, the rows of `currency` only when it has one."""
    rows = [dict(zip(table.columns, row, strict=True)) for row in table.rows]
    if currency is not None and "currency" in table.columns:
        rows = [row for row in rows if row["currency"] == currency]
    return rows


def _local_day(value: str) -> str:
    """A report's ISO day (`2026-11-20`) in the user's style; anything else as it is."""
    from datetime import date

    try:
        return day_text(date.fromisoformat(value))
    except ValueError:
        return printable(value)


def _cell(key: str, value: str) -> Text:
    if key == "period_start" and value:
        return Text(_local_day(value))
    if key in TEXT_COLUMNS:
        return safe_text(value)
    return safe_text(value or "—", justify="right")


@dataclass
class DashboardLoaded(Message):
    dashboard: Dashboard

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, DashboardLoaded)


class ReportsScreen(CollectorScreen):
    COMMANDS = {ReportsCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", N_("Back"), id="reports.back", tooltip=N_("Close the dashboard")),
        Binding(
            "c",
            "next_currency",
            N_("Currency"),
            id="reports.currency",
            tooltip=N_("Show the next currency"),
        ),
        Binding(
            "p",
            "next_period",
            N_("Period"),
            id="reports.period",
            tooltip=N_("Last 7, 30 or 90 days"),
        ),
        Binding(
            "r",
            "refresh",
            N_("Refresh"),
            id="reports.refresh",
            tooltip=N_("Read the figures again"),
        ),
        Binding(
            "e",
            "export",
            N_("Export"),
            id="reports.export",
            tooltip=N_("Write cases, activities, promises or payments to a CSV file"),
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.dashboard: Dashboard | None = None
        self.currency: str | None = None
        self.days = DEFAULT_DAYS
        self._wide: bool | None = None

    def compose(self) -> ComposeResult:
        yield TitleHeader()
        with Horizontal(id="reports-bar"):
            yield Label(_("Currency"), classes="reports-label")
            yield Select(
                [("…", "")],
                allow_blank=False,
                value="",
                compact=True,
                id="reports-currency",
                tooltip=_("Figures are never added across currencies"),
            )
            yield Label(_("Period"), classes="reports-label")
            yield Select(
                [(str(label), days) for days, label in PERIOD_CHOICES],
                allow_blank=False,
                value=DEFAULT_DAYS,
                compact=True,
                id="reports-period",
            )
        with VerticalScroll(id="reports-body"):
            yield Static(_("Reading the figures…"), id="reports-summary")
            with Grid(id="reports-charts"):
                yield AgingChart(id="chart-aging-balance", classes="report-chart")
                yield AgingChart(id="chart-aging-count", classes="report-chart")
                yield CollectionsChart(id="chart-collections", classes="report-chart")
                yield PromiseOutcomeChart(id="chart-promises", classes="report-chart")
                yield VintageChart(id="chart-vintage", classes="report-chart")
            with Vertical(classes="report-section"):
                yield Static(
                    _(SECTION_TITLES["collections-title"]),
                    id="collections-title",
                    classes="report-title",
                )
                yield DataTable(id="collections-table", cursor_type="row", zebra_stripes=True)
            with Vertical(classes="report-section"):
                yield Static(
                    _(SECTION_TITLES["aging-title"]), id="aging-title", classes="report-title"
                )
                yield DataTable(id="aging-table", cursor_type="row", zebra_stripes=True)
            with Vertical(classes="report-section"):
                yield Static(
                    _(SECTION_TITLES["promises-title"]), id="promises-title", classes="report-title"
                )
                yield DataTable(id="promises-table", cursor_type="row", zebra_stripes=True)
            with Vertical(classes="report-section"):
                yield Static(id="bands-title", classes="report-title")
                yield DataTable(id="bands-table", cursor_type="row", zebra_stripes=True)
            with Vertical(classes="report-section"):
                yield Static(
                    _(SECTION_TITLES["agents-title"]), id="agents-title", classes="report-title"
                )
                yield DataTable(id="agents-table", cursor_type="row", zebra_stripes=True)
            with Vertical(classes="report-section"):
                yield Static(id="vintage-title", classes="report-title")
                yield DataTable(id="vintage-table", cursor_type="row", zebra_stripes=True)
            with Vertical(classes="report-section"):
                yield Static(
                    _(SECTION_TITLES["strategies-title"]),
                    id="strategies-title",
                    classes="report-title",
                )
                yield DataTable(id="strategies-table", cursor_type="row", zebra_stripes=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        super().on_mount()
        self.title = _("Reports")
        self.sub_title = printable(self.actor.display_name)
        self._set_columns()
        self._set_promise_columns()
        self.query_one("#reports-body", VerticalScroll).focus()
        self.load_dashboard()

    def _set_columns(self) -> None:
        for table_id, columns in (
            ("#collections-table", COLLECTION_COLUMNS),
            ("#aging-table", AGING_COLUMNS),
            ("#agents-table", AGENT_COLUMNS),
            ("#bands-table", PROMISE_BAND_COLUMNS),
            ("#vintage-table", VINTAGE_COLUMNS),
        ):
            table = self.query_one(table_id, DataTable)
            table.clear(columns=True)
            for label, key in columns:
                table.add_column(str(label), key=key)

    def language_changed(self) -> None:
        """Every word of the dashboard in the new language at once: the bar, the section titles,
        the columns and the charts from the figures already read; then the figures are read
        again for what the services word (the period, the buckets)."""
        super().language_changed()
        self.title = _("Reports")
        if self._wide is None:
            return  # not mounted yet: on_mount words it
        currency_label, period_label = self.query(".reports-label").results(Label)
        currency_label.update(_("Currency"))
        period_label.update(_("Period"))
        self.query_one("#reports-currency", Select).tooltip = _(
            "Figures are never added across currencies"
        )
        period = self.query_one("#reports-period", Select)
        with period.prevent(Select.Changed):
            period.set_options([(str(label), days) for days, label in PERIOD_CHOICES])
            period.value = self.days
        for section_id, title in SECTION_TITLES.items():
            self.query_one(f"#{section_id}", Static).update(_(title) if title else "")
        self._set_columns()
        self._wide = None  # the promise and strategy columns too
        self._set_promise_columns()
        if self.dashboard is None:
            self.query_one("#reports-summary", Static).update(_("Reading the figures…"))
        else:
            self.show_currency()
        self.load_dashboard()

    def _set_promise_columns(self) -> None:
        wide = self.app.size.width >= WIDE_AT
        if wide == self._wide:
            return
        self._wide = wide
        table = self.query_one("#promises-table", DataTable)
        table.clear(columns=True)
        for label, key in PROMISE_COLUMNS if wide else NARROW_PROMISE_COLUMNS:
            table.add_column(label, key=key)
        table = self.query_one("#strategies-table", DataTable)
        table.clear(columns=True)
        for label, key in STRATEGY_COLUMNS if wide else NARROW_STRATEGY_COLUMNS:
            table.add_column(str(label), key=key)

    def on_resize(self) -> None:
        if self._wide is None:
            return
        before = self._wide
        self._set_promise_columns()
        if before != self._wide and self.dashboard is not None and self.currency is not None:
            _fill(
                self.query_one("#promises-table", DataTable),
                _cells(self.dashboard.promises, self.currency),
            )
            self._show_strategies(self.dashboard, self.currency)

    # -- loading ----------------------------------------------------------------------------------

    @work(
        thread=True,
        exclusive=True,
        group="reports",
        exit_on_error=False,
        description="read the reports",
    )
    def load_dashboard(self) -> None:
        from collector_tui.services.reporting.dashboard import load_dashboard

        dashboard = self.context.run(load_dashboard, days=self.days)
        self.post_message(DashboardLoaded(dashboard))

    def on_dashboard_loaded(self, message: DashboardLoaded) -> None:
        dashboard = message.dashboard
        if dashboard.days != self.days:
            return  # a period chosen before the last one, finishing late
        self.dashboard = dashboard
        currencies = dashboard.currencies
        if self.currency not in currencies:
            self.currency = currencies[0] if currencies else None
        select = self.query_one("#reports-currency", Select)
        with select.prevent(Select.Changed):
            if currencies:
                select.set_options([(safe_text(c), c) for c in currencies])
                select.value = self.currency
            else:
                select.set_options([(_("none"), "")])
                select.value = ""
        self.show_currency()

    # -- showing ----------------------------------------------------------------------------------

    def show_currency(self) -> None:
        dashboard = self.dashboard
        if dashboard is None:
            return
        currency = self.currency
        with self.app.batch_update():
            if currency is None:
                self.query_one("#reports-summary", Static).update(
                    Text(_("Nothing to report yet: no case has a balance, a promise or a payment."))
                )
                for chart in self.query(".report-chart"):
                    chart.show_message(_("No figures"))  # type: ignore[attr-defined]
                for table in self.query(DataTable):
                    table.clear()
                return
            self._show_summary(dashboard, currency)
            self._show_charts(dashboard, currency)
            self._show_tables(dashboard, currency)

    def _show_summary(self, dashboard: Dashboard, currency: str) -> None:
        from collector_tui.services.reporting.tables import grouped

        aging = [r for r in dashboard.aging.records if r.currency == currency]
        collections = [r for r in dashboard.collections.records if r.currency == currency]
        promises = [r for r in dashboard.promises.records if r.currency == currency]
        open_items = sum(r.count for r in aging)
        balance = sum(r.balance for r in aging)
        collected = sum(r.collected for r in collections)
        promised = sum(r.promised_due for r in collections)
        made = sum(r.made for r in promises)
        kept = sum(r.kept for r in promises)
        judged = sum(r.kept + r.partial + r.broken for r in promises)
        code = printable(currency)
        # Rounded as services.reports rounds its rates, so the figure matches the tables.
        rate = (
            f"{(Decimal(kept) * 100 / judged).quantize(Decimal('0.1'), ROUND_HALF_UP)}%"
            if judged
            else _("no outcome yet")
        )
        # First the book as it stands today (aging, DSO), then what happened in the period.
        text = Text()
        text.append(code, style="bold")
        text.append(
            " "
            + _("open {count} items {balance}").format(
                count=open_items, balance=grouped(balance, currency)
            )
        )
        text.append(" · ", style="dim")
        text.append_text(_dso_text(dashboard, currency))
        text.append("\n")
        text.append(
            _("collected {amount}").format(amount=grouped(collected, currency)), style="green"
        )
        text.append(" " + _("of {amount} promised due").format(amount=grouped(promised, currency)))
        text.append(" · ", style="dim")
        text.append(
            (
                _("{made} promise, kept {kept} of {judged} judged ({rate})")
                if made == 1
                else _("{made} promises, kept {kept} of {judged} judged ({rate})")
            ).format(made=made, kept=kept, judged=judged, rate=rate)
        )
        scope = _("all cases") if dashboard.supervisor_view else _("your cases only")
        per = _("per week") if dashboard.per == "week" else _("per day")
        text.append(
            "\n"
            + _("{first} to {last} (UTC dates), {per}, {scope}").format(
                first=day_text(dashboard.first), last=day_text(dashboard.last), per=per, scope=scope
            ),
            style="dim",
        )
        self.query_one("#reports-summary", Static).update(text)

    def _show_charts(self, dashboard: Dashboard, currency: str) -> None:
        buckets = [
            (r.bucket, r.count, r.balance)
            for r in dashboard.aging.records
            if r.currency == currency
        ]
        self.query_one("#chart-aging-balance", AgingChart).show_aging(
            currency, buckets, measure="balance"
        )
        self.query_one("#chart-aging-count", AgingChart).show_aging(
            currency, buckets, measure="count"
        )
        periods = [
            (r.period_start, r.collected, r.promised_due)
            for r in dashboard.collections.records
            if r.currency == currency
        ]
        self.query_one("#chart-collections", CollectionsChart).show_collections(
            currency, periods, per=dashboard.per
        )
        outcomes = {"kept": 0, "partial": 0, "broken": 0, "pending": 0}
        for row in dashboard.promises.records:
            if row.currency == currency:
                for name in outcomes:
                    outcomes[name] += getattr(row, name)
        self.query_one("#chart-promises", PromiseOutcomeChart).show_outcomes(currency, outcomes)
        vintages = dashboard.vintage.records if dashboard.vintage is not None else ()
        curves = [
            (row.placed_month, [point.rate for point in row.points])
            for row in sorted(vintages, key=lambda r: r.placed_month, reverse=True)
            if row.currency == currency
        ]
        self.query_one("#chart-vintage", VintageChart).show_vintages(currency, curves)

    def _show_tables(self, dashboard: Dashboard, currency: str) -> None:
        from collector_tui.services.reporting.tables import grouped

        code = printable(currency)
        collections = _cells(dashboard.collections, currency)
        if not collections:
            title = _("Collections in {code}: nothing collected or promised due in the period")
        elif dashboard.per == "week":
            title = _(
                "Collections per week (from Monday) in {code}: collected against promised due"
            )
        else:
            title = _("Collections per day in {code}: collected against promised due")
        self.query_one("#collections-title", Static).update(Text(title.format(code=code)))
        _fill(self.query_one("#collections-table", DataTable), collections)
        self.query_one("#aging-title", Static).update(
            Text(
                _("Aging on {day} ({code}): open invoices and cases").format(
                    day=day_text(dashboard.last), code=code
                )
            )
        )
        self.query_one("#promises-title", Static).update(
            Text(_("Promises made in the period ({code}), outcome as of now").format(code=code))
        )
        self.query_one("#agents-title", Static).update(
            Text(
                _(
                    "Agent activity in the period; collected in {code} on the agents' current cases"
                ).format(code=code)
            )
        )
        _fill(self.query_one("#aging-table", DataTable), _cells(dashboard.aging, currency))
        _fill(self.query_one("#promises-table", DataTable), _cells(dashboard.promises, currency))
        agents = _cells(dashboard.agents)
        money_column = f"collected_{currency}"
        for row in agents:
            row["collected"] = row.get(money_column, grouped(0, currency))
        _fill(self.query_one("#agents-table", DataTable), agents)
        self._show_kpi_tables(dashboard, currency)

    def _show_kpi_tables(self, dashboard: Dashboard, currency: str) -> None:
        """The promise-kept rate by amount and the placement months' liquidation today."""
        code = printable(currency)
        self.query_one("#bands-title", Static).update(
            Text(
                _(
                    "Promises kept by amount ({currency}): kept of those due"
                    " (kept, partial or broken)"
                ).format(currency=code)
            )
        )
        bands = _cells(dashboard.promise_bands, currency) if dashboard.promise_bands else []
        _fill(self.query_one("#bands-table", DataTable), bands)
        self.query_one("#vintage-title", Static).update(
            Text(
                _(
                    "Liquidation by placement month ({currency}): collected / placed, to today"
                ).format(currency=code)
            )
        )
        latest: dict[str, dict[str, str]] = {}
        for row in _cells(dashboard.vintage, currency) if dashboard.vintage else []:
            latest[row["placement_month"]] = row  # the rows run month 1, 2, ...: keep the last
        _fill(
            self.query_one("#vintage-table", DataTable),
            [latest[month] for month in sorted(latest, reverse=True)],
        )
        self._show_strategies(dashboard, currency)

    def _show_strategies(self, dashboard: Dashboard, currency: str) -> None:
        code = printable(currency)
        rows = _cells(dashboard.strategies, currency) if dashboard.strategies else []
        wide = bool(self._wide)
        for row in rows:
            for rate, count in (("contact_rate", "contacted"), ("rpc_rate", "rpc")):
                shown = _percent(row.get(rate))
                # Wide, a rate stands beside the count it is made of: "66.7 (2)".
                row[rate] = f"{shown} ({row[count]})" if wide and shown else shown
            row["liquidation_rate"] = _percent(row.get("liquidation_rate"))
            row["kept_of_made"] = f"{row['promises_kept']}/{row['promises_made']}"
        self.query_one("#strategies-title", Static).update(
            Text(
                _(
                    "Strategies in {currency}: champion against challenger, every case placed"
                ).format(currency=code)
                if rows
                else _("Strategies in {currency}: no case placed by a strategy").format(
                    currency=code
                )
            )
        )
        _fill(self.query_one("#strategies-table", DataTable), rows)

    # -- actions ----------------------------------------------------------------------------------

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def action_refresh(self) -> None:
        self.load_dashboard()

    def action_next_currency(self) -> None:
        if self.dashboard is None:
            return
        currencies = self.dashboard.currencies
        if len(currencies) < 2 or self.currency is None:
            self.collector.tell(_("There is only one currency to show."))
            return
        self.set_currency(currencies[(currencies.index(self.currency) + 1) % len(currencies)])

    def set_currency(self, currency: str) -> None:
        self.currency = currency
        select = self.query_one("#reports-currency", Select)
        with select.prevent(Select.Changed):
            select.value = currency
        self.show_currency()

    def action_next_period(self) -> None:
        choices = [days for days, _ in PERIOD_CHOICES]
        following = (
            choices[(choices.index(self.days) + 1) % len(choices)]
            if (self.days in choices)
            else DEFAULT_DAYS
        )
        self.set_period(following)

    def action_period(self, days: int) -> None:
        self.set_period(int(days))

    def set_period(self, days: int) -> None:
        self.days = days
        select = self.query_one("#reports-period", Select)
        with select.prevent(Select.Changed):
            select.value = days
        self.load_dashboard()

    def action_currency(self, currency: str) -> None:
        if self.dashboard is not None and currency in self.dashboard.currencies:
            self.set_currency(currency)

    @on(Select.Changed, "#reports-currency")
    def _currency_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value and event.value != self.currency:
            self.currency = event.value
            self.show_currency()

    @on(Select.Changed, "#reports-period")
    def _period_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, int) and event.value != self.days:
            self.days = event.value
            self.load_dashboard()

    def action_export(self) -> None:
        def chosen(choice: ExportChoice | None) -> None:
            if choice is not None:
                self.export(choice)

        self.app.push_screen(ExportDialog(), chosen)

    @work(thread=True, group="export", exit_on_error=False, description="export to CSV")
    def export(self, choice: ExportChoice) -> None:
        from collector_tui.services.reporting.exports import export

        app = self.collector
        count = self.context.run(
            export, what=choice.what, path=choice.path, bom=choice.bom, headers=choice.headers
        )
        app.call_from_thread(
            app.tell,
            _("Wrote {count} {what} to {path}").format(
                count=count, what=_(EXPORT_WORDS.get(choice.what, choice.what)), path=choice.path
            ),
            severity="information",
        )


def _dso_text(dashboard: Dashboard, currency: str) -> Text:
    """`report dso` for one currency, or why there is none: DSO weighs open invoices by their
    age, so a book without open invoices has no DSO (which is not a DSO of 0 days)."""
    from collector_tui.services.reporting.tables import grouped

    rows = {r.basis: r for r in dashboard.dso.records if r.currency == currency}
    if not rows:
        return Text(
            _("no DSO: no open invoices in {code}").format(code=printable(currency)), style="dim"
        )
    text = Text()
    row = rows.get("issue_date")
    if row is not None:
        text.append(_("DSO {days} days").format(days=row.days), style="bold")
        text.append(
            " "
            + (
                _("over {count} open invoice ({amount})")
                if row.invoices == 1
                else _("over {count} open invoices ({amount})")
            ).format(count=row.invoices, amount=grouped(row.open_receivables, currency))
        )
    late = rows.get("days_past_due")
    if late is not None:
        # Invoices without an issue date have no DSO: their age is said for what it is.
        if row is not None:
            text.append(" · ", style="dim")
        else:
            text.append(_("no DSO (no issue dates): "), style="dim")
        text.append(
            _("{days} days past due, open invoices: {count} ({amount})").format(
                days=late.days,
                count=late.invoices,
                amount=grouped(late.open_receivables, currency),
            )
        )
    return text


def _percent(rate: str | None) -> str:
    """A report's rate ("0.6667") in percent to one place ("66.7"); "" for none."""
    if not rate:
        return ""
    return str((Decimal(rate) * 100).quantize(Decimal("0.1"), ROUND_HALF_UP))


def _fill(table: DataTable[Text], rows: Sequence[dict[str, str]]) -> None:
    """Replace the table's rows (column key -> text), its columns sized to fit."""
    keys = [column.key.value or "" for column in table.ordered_columns]
    cells = [{key: _cell(key, row.get(key, "")) for key in keys} for row in rows]
    fill_measured(table, {str(index): row for index, row in enumerate(cells)})


# -- export dialog ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportChoice:
    what: str  # one of services.exports.EXPORT_KINDS
    path: Path
    bom: bool
    headers: str = "en"  # "zh_CN": the cases' column headers in Chinese (ticked in the dialog)


class WritableCsvPath(Validator):
    """A file name in a folder that exists; not a folder itself."""

    def validate(self, value: str) -> ValidationResult:
        text = value.strip()
        if not text:
            return self.failure(_("Name the file to write"))
        path = Path(text).expanduser()
        if path.is_dir():
            return self.failure(_("{path} is a folder: name a file").format(path=printable(text)))
        folder = path.parent if str(path.parent) else Path(".")
        if not folder.is_dir():
            return self.failure(_("No folder {path}").format(path=printable(str(folder))))
        return self.success()


class ExportDialog(CollectorModal[ExportChoice | None]):
    """What to export, where, and whether to start with a BOM (Excel)."""

    _suggested = "cases"

    COMMANDS = {ExportCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "cancel",
            N_("Cancel"),
            id="export.cancel",
            tooltip=N_("Close, export nothing"),
        ),
        Binding("ctrl+s", "save", N_("Export"), id="export.save", tooltip=N_("Write the file")),
    ]

    def compose(self) -> ComposeResult:
        from collector_tui.services.reporting.exports import EXPORT_KINDS

        with Vertical(id="export-dialog", classes="dialog"):
            yield Static(_("Export to CSV"), classes="dialog-title")
            yield Static(
                _("UTF-8; amounts as decimal strings beside their currency;")
                + " "
                + (_("every case.") if self.actor.is_supervisor else _("your cases only.")),
                classes="dialog-hint",
            )
            yield Select(
                [(_(EXPORT_WORDS.get(kind, kind)), kind) for kind in EXPORT_KINDS],
                allow_blank=False,
                value="cases",
                id="export-what",
            )
            yield Input(
                value="cases.csv",
                placeholder=_("file to write, e.g. cases.csv"),
                id="export-path",
                validators=[WritableCsvPath()],
                validate_on=["changed", "submitted"],
            )
            yield Checkbox(_("Start with a BOM (for Excel)"), value=True, id="export-bom")
            # Off whatever the user's language, as `export cases` without `--lang zh_CN`: the
            # English headers are what scripts and imports read (docs/decisions.md).
            yield Checkbox(
                _("Chinese column headers (cases)"),
                value=False,
                id="export-zh",
                tooltip=_("English headers are what scripts read; Chinese ones for people"),
            )
            yield Static("", id="export-error", classes="form-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(_("Export"), id="export-save", variant="primary")
                yield Button(_("Cancel"), id="export-cancel")
        yield KeyFooter()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#export-path", Input).focus()

    @on(Select.Changed, "#export-what")
    def _kind_changed(self, event: Select.Changed) -> None:
        # Follow the kind in the file name only while it is the name we suggested.
        path = self.query_one("#export-path", Input)
        typed = Path(path.value.strip())
        if not path.value.strip() or typed.name == f"{self._suggested}.csv":
            path.value = (
                str(typed.with_name(f"{event.value}.csv")) if path.value else (f"{event.value}.csv")
            )
        self._suggested = str(event.value)
        # Only the cases' export has Chinese headers (services/reporting/exports.py).
        self.query_one("#export-zh", Checkbox).disabled = event.value != "cases"

    @on(Button.Pressed, "#export-save")
    @on(Input.Submitted, "#export-path")
    def action_save(self) -> None:
        path_input = self.query_one("#export-path", Input)
        result = path_input.validate(path_input.value)
        error = self.query_one("#export-error", Static)
        if result is not None and not result.is_valid:
            error.update(Text(" ".join(result.failure_descriptions)))
            path_input.focus()
            return
        what = self.query_one("#export-what", Select).value
        chinese = self.query_one("#export-zh", Checkbox)
        self.dismiss(
            ExportChoice(
                what=str(what),
                path=Path(path_input.value.strip()).expanduser(),
                bom=self.query_one("#export-bom", Checkbox).value,
                headers="zh_CN" if what == "cases" and chinese.value else "en",
            )
        )

    @on(Button.Pressed, "#export-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
