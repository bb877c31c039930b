"""Charts of the reports dashboard, drawn with textual-plotext.

Each chart takes plain figures (the rows of reporting.reports, already limited to one currency) and
draws them; it never queries anything. Amounts arrive in minor units and are drawn in major units
scaled to a readable unit ("k", "M"); the float conversion is for drawing only, the exact figures
are in the tables beside the charts. A chart with nothing to draw says so in words instead of
drawing empty axes. Every label that comes from stored data goes through `printable`, since
plotext's output is parsed as ANSI text.

plotext 5 (the one textual-plotext uses) always draws its legend over the top-left corner of the
data, where it hides the start of the lines; it has no option to move it. A chart with several
series therefore draws no plotext legend and puts its colour key in the widget's bottom border
(`border_subtitle`; app.tcss gives the chart that border), below the axes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_CEILING, Decimal

from plotext import colorize
from rich.cells import cell_len
from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot

from collector_tui.display import printable
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.money import MoneyError, minor_digits
from collector_tui.tui.formatting import day_text, plotext_day_forms

__all__ = [
    "AgingChart",
    "Chart",
    "CollectionsChart",
    "PromiseOutcomeChart",
    "VintageChart",
    "scale_for",
]

# Colours by meaning, the same in every chart: money in, money expected, and the promise outcomes.
COLLECTED_COLOR = "green"
PROMISED_COLOR = "orange"
OUTCOME_WORDS = {
    "kept": N_("kept"),
    "partial": N_("partial"),
    "broken": N_("broken"),
    "pending": N_("pending"),
}
OUTCOME_COLORS = {"kept": "green", "partial": "orange", "broken": "red", "pending": "blue"}
BAR_COLOR = "cyan"
# One colour per placement month, the newest first (the vintage chart shows at most six).
VINTAGE_COLORS = ("cyan", "green", "orange", "magenta", "blue", "red")
COUNT_COLOR = "magenta"
# A thick horizontal bar spreads over the rows around its label, unevenly (plotext 5 rounds each
# bar's edges to rows on its own); a bar this thin is one row, on its label's row, at any height.
BAR_WIDTH = 0.01


def scale_for(largest: Decimal) -> tuple[Decimal, str]:
    """(divisor, suffix) that keeps axis labels short: thousands from 10,000, millions from 10M."""
    if largest >= 10_000_000:
        return Decimal(1_000_000), "M"
    if largest >= 10_000:
        return Decimal(1_000), "k"
    return Decimal(1), ""


def _major(minor: int, currency: str) -> Decimal:
    try:
        digits = minor_digits(currency)
    except MoneyError:
        digits = 0
    return Decimal(minor).scaleb(-digits)


def nice_ticks(largest: float, most: int = 5) -> list[float]:
    """Round ticks from 0 up to at least `largest`, steps of 1, 2 or 5 times a power of ten, at
    most `most` + 1 of them; plotext's own ticks read "1613.2" or "2.3 promises"."""
    if largest <= 0:
        return [0.0, 1.0]
    step = Decimal(1)
    while Decimal(str(largest)) / step > most:
        step *= Decimal("2.5") if str(step.normalize())[0] == "2" else Decimal(2)
    while step >= 10 and Decimal(str(largest)) / (step / 10) <= most:
        step /= 10
    count = int((Decimal(str(largest)) / step).to_integral_value(rounding=ROUND_CEILING))
    return [float(step * n) for n in range(count + 1)]


def _tick_labels(ticks: Sequence[float]) -> list[str]:
    return [f"{tick:,.0f}" if tick == int(tick) else f"{tick:g}" for tick in ticks]


class Chart(PlotextPlot):
    """A plot that shows a sentence instead of empty axes when it has nothing to draw."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes=classes)
        self._empty: str | None = _("Loading…")

    def show_message(self, message: str) -> None:
        self._empty = message
        self.border_subtitle = None
        self.refresh()

    def _show_legend(self, entries: Sequence[tuple[str, str]]) -> None:
        """A colour key of (label, plotext colour) pairs below the axes, instead of plotext's."""
        legend = Text()
        for label, color in entries:
            if legend:
                legend.append("   ")
            # plotext's own ANSI for the colour, so the key matches the lines whatever the theme.
            legend.append_text(Text.from_ansi(colorize("━━", color)))
            legend.append(f" {printable(label)}")
        self.border_subtitle = legend

    def _start(self, title: str) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(printable(title))
        self._empty = None

    def render(self) -> RenderResult:
        if self._empty is not None:
            return Text(self._empty, style="dim", justify="center")
        return super().render()


class AgingChart(Chart):
    """Horizontal bars per aging bucket (current at the top): the balance or the number of open
    invoices and cases in each, for one currency."""

    def show_aging(
        self,
        currency: str,
        buckets: Sequence[tuple[str, int, int]],
        *,
        measure: str = "balance",
    ) -> None:
        """`buckets`: (bucket, count, balance in minor units) in bucket order."""
        if not buckets or not any(count for _, count, _ in buckets):
            self.show_message(_("No open balance in {code}").format(code=printable(currency)))
            return
        labels = [printable(bucket) for bucket, _, _ in buckets]
        if measure == "count":
            values: list[float] = [count for _, count, _ in buckets]
            title = _("Aging: open items ({code})").format(code=currency)
            color = COUNT_COLOR
        else:
            amounts = [_major(balance, currency) for _, _, balance in buckets]
            divisor, suffix = scale_for(max(amounts))
            values = [float(amount / divisor) for amount in amounts]
            unit = f"{currency} {suffix}".strip() if suffix else currency
            title = _("Aging: balance ({unit})").format(unit=unit)
            color = BAR_COLOR
        self._start(title)
        plt = self.plt
        # plotext draws the first label at the bottom: reverse so `current` is on top.
        plt.bar(labels[::-1], values[::-1], orientation="horizontal", width=BAR_WIDTH, color=color)
        ticks = nice_ticks(max(values))
        plt.xticks(ticks, _tick_labels(ticks))
        plt.xlim(0, ticks[-1])
        self.refresh()


class CollectionsChart(Chart):
    """Money collected per day or week against what promises said would fall due, one currency."""

    def show_collections(
        self,
        currency: str,
        periods: Sequence[tuple[date, int, int]],
        *,
        per: str = "day",
    ) -> None:
        """`periods`: (period start, collected, promised due), minor units, in date order."""
        if not periods or not any(collected or promised for _, collected, promised in periods):
            self.show_message(
                _("Nothing collected or promised in {code}").format(code=printable(currency))
            )
            return
        collected = [_major(value, currency) for _, value, _ in periods]
        promised = [_major(value, currency) for _, _, value in periods]
        divisor, suffix = scale_for(max(collected + promised))
        unit = f"{currency} {suffix}".strip() if suffix else currency
        title = (
            _("Collected vs promised due, per week ({unit})")
            if per == "week"
            else _("Collected vs promised due, per day ({unit})")
        )
        self._start(title.format(unit=unit))
        plt = self.plt
        # plotext's date patterns are strftime's without the "%": the axis shows the day cut.
        plt.date_form(*plotext_day_forms())
        days = [day_text(start) for start, _, _ in periods]
        marker = "braille"  # the finest plotext has: two lines that cross stay readable
        # No `label=`: the key goes below the axes (see the module's docstring).
        for values, color in ((collected, COLLECTED_COLOR), (promised, PROMISED_COLOR)):
            plt.plot(days, [float(v / divisor) for v in values], color=color, marker=marker)
        self._show_legend(((_("collected"), COLLECTED_COLOR), (_("promised due"), PROMISED_COLOR)))
        ticks = nice_ticks(float(max(collected + promised) / divisor), most=4)
        plt.yticks(ticks, _tick_labels(ticks))
        plt.ylim(0, ticks[-1])
        self.refresh()


class PromiseOutcomeChart(Chart):
    """How the promises made in the period turned out: kept, partial, broken, still pending."""

    OUTCOMES = ("kept", "partial", "broken", "pending")

    def show_outcomes(self, currency: str, outcomes: dict[str, int]) -> None:
        values = [outcomes.get(name, 0) for name in self.OUTCOMES]
        if not any(values):
            self.show_message(
                _("No promises made in the period ({code})").format(code=printable(currency))
            )
            return
        self._start(_("Promise outcomes ({code}, by count)").format(code=currency))
        plt = self.plt
        # Horizontal: the width gives a count of 1 and of 2 visibly different bars, where ten rows
        # of height would draw them alike. One bar per call: plotext colours a call alike, and
        # draws the first position at the bottom, so `kept` goes last to end up on top.
        count = len(values)
        for position, (name, value) in enumerate(zip(self.OUTCOMES, values, strict=True)):
            plt.bar(
                [count - position],
                [value],
                color=OUTCOME_COLORS[name],
                width=BAR_WIDTH,
                orientation="horizontal",
            )
        labels = [str(OUTCOME_WORDS[name]) for name in self.OUTCOMES]
        if all(cell_len(label) == len(label) for label in labels):
            plt.yticks(list(range(count, 0, -1)), labels)
        else:
            # plotext counts a character as one cell: wide (CJK) tick labels would shift the bars
            # off their axis. The words go in the colour key instead, top to bottom.
            plt.yticks(list(range(count, 0, -1)), [""] * count)
            self._show_legend(
                [
                    (label, OUTCOME_COLORS[name])
                    for label, name in zip(labels, self.OUTCOMES, strict=True)
                ]
            )
        plt.ylim(0.5, count + 0.5)
        ticks = nice_ticks(max(values))
        plt.xticks(ticks, _tick_labels(ticks))
        plt.xlim(0, ticks[-1])
        self.refresh()


class VintageChart(Chart):
    """Liquidation by placement month: one line per placement month, the share of what was placed
    collected by the end of each month since placement (month 1 = the placement month), in %."""

    def show_vintages(
        self, currency: str, vintages: Sequence[tuple[date, Sequence[Decimal | None]]]
    ) -> None:
        """`vintages`: (placement month, rate at month 1, 2, ... as fractions), newest first."""
        shown = [
            (month, [float((rate or Decimal(0)) * 100) for rate in rates])
            for month, rates in vintages[: len(VINTAGE_COLORS)]
            if rates
        ]
        if not shown:
            self.show_message(
                _("No cases placed in {currency} in the last months").format(
                    currency=printable(currency)
                )
            )
            return
        self._start(_("Liquidation by placement month ({currency}, %)").format(currency=currency))
        plt = self.plt
        longest = max(len(rates) for _, rates in shown)
        top = max(max(rates) for _, rates in shown)
        curves = list(zip(shown, VINTAGE_COLORS, strict=False))
        # Oldest first: plotext draws each line over the ones before, and the newest months,
        # short and low, would vanish under the older ones.
        for (_month, rates), color in reversed(curves):
            months = list(range(1, len(rates) + 1))
            # A placement month with one point so far is a dot: a line needs two.
            plt.plot(months, rates, color=color, marker="braille" if len(rates) > 1 else "dot")
        self._show_legend([(f"{month:%Y-%m}", color) for (month, _rates), color in curves])
        plt.xticks(list(range(1, longest + 1)), [str(m) for m in range(1, longest + 1)])
        plt.xlim(0.8, longest + 0.2)
        plt.xlabel(_("months since placement"))
        ticks = nice_ticks(top, most=4)
        plt.yticks(ticks, _tick_labels(ticks))
        plt.ylim(0, ticks[-1])
        self.refresh()
