"""The case's history as a table, newest first; a note shows its first line, cut to fit.

A payment plan is one row; enter or space on it shows its installments under it (and hides them
again). From 60 cells on, a promise's or plan's outcome (kept, partial, broken, pending...) has a
column of its own, and who did it is shown in full.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from collector_tui.display import first_line, safe_text
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.models import outcome_label
from collector_tui.phones import mask_phone
from collector_tui.services.casework.casefile import PLAN_INSTALLMENT, TimelineEntry
from collector_tui.tui.formatting import agent_time
from collector_tui.tui.widgets.tables import PADDING_PER_COLUMN, SCROLLBAR, fit_line

KIND_STYLES = {
    "contact": "",
    "note": "italic",
    "promise": "cyan",
    "plan": "bold cyan",
    "payment": "bold green",
    "follow_up": "yellow",
    "hold": "bold red",
    "settlement": "magenta",
    "dispute": "bold magenta",
    "charge": "bold yellow",
}
OUTCOME_STYLES = {
    "kept": "bold green",
    "completed": "bold green",
    "partial": "yellow",
    "broken": "bold red",
    "pending": "cyan",
    "active": "cyan",
    "cancelled": "dim",
    "reversed": "bold red",
}
# Entries whose status is an outcome the agent reads at a glance (a payment's: reversed).
OUTCOME_KINDS = frozenset({"promise", "plan", "payment"})
MIN_WHAT_WIDTH = 24
# Below this width one "entry" column holds the summary, the outcome and the note.
COLUMNS_FROM = 60
MAX_WHO_WIDTH = 24
INSTALLMENT_MARK = "└ "
ELLIPSIS = "…"

# A voided contact stays on the timeline (facts are append-only), struck through.
VOIDED_STYLE = "strike dim"

LABELS = {
    "when": N_("When"),
    "what": N_("What · note"),
    "outcome": N_("Outcome"),
    "who": N_("Who"),
    "entry": N_("What · note"),
}


def entry_style(entry: TimelineEntry) -> str:
    style = KIND_STYLES.get(entry.kind, "")
    return f"{style} {VOIDED_STYLE}".strip() if entry.voided else style


def outcome_of(entry: TimelineEntry) -> str | None:
    if entry.kind == "payment" and entry.status != "reversed":
        return None  # a reversal says so in its title
    return entry.status if entry.kind in OUTCOME_KINDS and entry.status else None


def outcome_word(entry: TimelineEntry) -> str | None:
    """The outcome as the agent reads it (the title says it in the same words)."""
    outcome = outcome_of(entry)
    return outcome_label(outcome) if outcome else None


def summary_of(entry: TimelineEntry, *, with_outcome: bool) -> str:
    """The entry's title; a promise's status goes to the outcome column when there is one."""
    title = entry.title
    outcome = outcome_word(entry)
    if entry.kind == "promise" and outcome and not with_outcome:
        return title
    if entry.kind == "promise" and outcome:
        head, sep, tail = title.partition(f" · {outcome}")
        return head + tail if sep else title
    if entry.kind == "plan" and outcome and not with_outcome:
        return f"{title} · {outcome}"
    if entry.kind == "payment" and outcome and with_outcome:
        return title.removesuffix(f" · {outcome}")
    return title


def entry_cell(entry: TimelineEntry, width: int, *, with_outcome: bool, indent: str = "") -> Text:
    """Summary and first note line in one cell, cut to `width` cells (never inside a figure)."""
    style = entry_style(entry)
    summary = safe_text(indent, style="dim")
    title = summary_of(entry, with_outcome=with_outcome)
    if indent:
        # Under its plan's row an installment is its amount and due date.
        title = title.removeprefix(_(PLAN_INSTALLMENT).split("{amount}", 1)[0])
    summary.append_text(fit_line(title, width - len(indent), style=style))
    number = number_text(entry, width - summary.cell_len - 3, with_note=bool(entry.note))
    if number:
        summary.append(" · ", style="dim")
        summary.append(number, style=f"{style} dim".strip())
    room = width - summary.cell_len - 3
    if entry.note and room >= 6:
        summary.append(" · ", style="dim")
        summary.append_text(fit_line(entry.note, room, style="dim"))
    return summary


# The number's last digits, when the whole of it does not fit: enough to tell two numbers apart.
SHORT_NUMBER_DIGITS = 4


def number_text(entry: TimelineEntry, room: int, *, with_note: bool) -> str:
    """The number dialled on a contact, masked as lists show numbers ("138****8000": which
    number, not the number; the contacts panel is where one dials) when it leaves a note some
    room, else its last digits ("…8000"), else nothing."""
    if not entry.phone_e164 or room <= SHORT_NUMBER_DIGITS:
        return ""
    masked = mask_phone(entry.phone_e164)
    if len(masked) <= room - (12 if with_note else 0):
        return masked
    return ELLIPSIS + entry.phone_e164[-SHORT_NUMBER_DIGITS:]


def column_widths(
    width: int, entries: tuple[TimelineEntry, ...], when_width: int
) -> dict[str, int]:
    """The columns that fit in `width` cells and their widths; "what" (or "entry") takes what is
    left. The outcome and the name are as wide as their longest value: never cut."""

    def spent(layout: dict[str, int]) -> int:
        return sum(layout.values()) + PADDING_PER_COLUMN * len(layout) + SCROLLBAR

    if width >= COLUMNS_FROM:
        outcomes = [outcome_word(e) for e in entries]
        outcome_width = max((cell_len(o) for o in outcomes if o), default=0)
        who_width = min(
            MAX_WHO_WIDTH, max((Text(e.user).cell_len for e in entries if e.user), default=0)
        )
        layout = {"when": when_width, "what": 0}
        if outcome_width:
            layout["outcome"] = max(outcome_width, cell_len(_(LABELS["outcome"])))
        if who_width:
            layout["who"] = max(who_width, cell_len(_(LABELS["who"])))
        for optional in ("who", "outcome"):
            if width - spent(layout) >= MIN_WHAT_WIDTH:
                break
            layout.pop(optional, None)
        layout["what"] = max(MIN_WHAT_WIDTH, width - spent(layout))
        if "outcome" in layout or "who" in layout:
            return layout
    layout = {"when": when_width, "entry": 0}
    layout["entry"] = max(12, width - spent(layout))
    return layout


class Timeline(DataTable[Text]):
    """Rows keyed by position; `entries[i]` is the entry behind row i (a plan's installments are
    rows only while it is open); `all_entries` is the whole history."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter,space",
            "select_cursor",
            N_("Open"),
            id="timeline.open",
            tooltip=N_(
                "Timeline: the full entry; on a payment plan, show or hide its installments"
            ),
            show=False,
        ),
    ]

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.all_entries: tuple[TimelineEntry, ...] = ()
        self.entries: tuple[TimelineEntry, ...] = ()
        self.open_plans: set[uuid.UUID] = set()
        self.tz = "UTC"
        self.now: datetime | None = None
        self._widths: dict[str, int] = {}

    def show(
        self,
        entries: tuple[TimelineEntry, ...],
        *,
        tz: str,
        now: datetime,
        another_case: bool = False,
    ) -> None:
        """`another_case`: the entries are another case's (save & next shows it in the same
        screen), so no plan stays open and the cursor starts at the top, as on a new screen."""
        self.all_entries = entries
        self.tz = tz
        self.now = now
        if another_case:
            self.open_plans = set()
        self._draw(top=another_case)

    # -- rows -------------------------------------------------------------------------------------

    def _rows(self) -> list[tuple[TimelineEntry, bool]]:
        """(entry, is an installment shown under its plan), in the order shown."""
        plans = {e.plan_id for e in self.all_entries if e.kind == "plan"}
        installments: dict[uuid.UUID, list[TimelineEntry]] = {}
        for entry in self.all_entries:
            if entry.kind == "promise" and entry.plan_id in plans:
                installments.setdefault(entry.plan_id, []).append(entry)  # type: ignore[arg-type]
        rows: list[tuple[TimelineEntry, bool]] = []
        for entry in self.all_entries:
            if entry.kind == "promise" and entry.plan_id in plans:
                continue
            rows.append((entry, False))
            if entry.kind == "plan" and entry.plan_id in self.open_plans:
                # Loaded latest due first; the schedule reads first due first.
                rows.extend((i, True) for i in reversed(installments.get(entry.plan_id, [])))
        return rows

    def _when(self, entry: TimelineEntry) -> Text:
        return Text(
            agent_time(entry.at, self.tz, self.now), style=VOIDED_STYLE if entry.voided else ""
        )

    def _draw(self, *, top: bool = False) -> None:
        rows = self._rows()
        self.entries = tuple(entry for entry, _ in rows)
        when_width = max(
            [cell_len(_(LABELS["when"]))] + [self._when(e).cell_len for e in self.all_entries]
        )
        widths = column_widths(self.size.width or 80, self.all_entries, when_width)
        row = 0 if top else self.cursor_row
        with self.app.batch_update():
            if widths != self._widths:
                self.clear(columns=True)
                for key, width in widths.items():
                    self.add_column(_(LABELS[key]), width=width, key=key)
                self._widths = widths
            else:
                self.clear()
            with_outcome = "outcome" in widths
            for index, (entry, installment) in enumerate(rows):
                indent = INSTALLMENT_MARK if installment else ""
                code = outcome_of(entry) or ""
                outcome = outcome_label(code) if code else ""
                cells = {
                    "when": self._when(entry),
                    "what": entry_cell(
                        entry, widths.get("what", 0), with_outcome=with_outcome, indent=indent
                    ),
                    "outcome": Text(outcome, style=OUTCOME_STYLES.get(code, "")),
                    "who": first_line(
                        entry.user or "",
                        widths.get("who", 0),
                        style=VOIDED_STYLE if entry.voided else "dim",
                    ),
                    "entry": entry_cell(
                        entry, widths.get("entry", 0), with_outcome=False, indent=indent
                    ),
                }
                self.add_row(*(cells[key] for key in widths), key=str(index))
            if rows:
                self.move_cursor(row=min(row, len(rows) - 1), animate=False)

    def relabel(self) -> None:
        """Set the column titles again at the next draw (the language changed)."""
        self._widths = {}

    def on_resize(self, event: events.Resize) -> None:
        when_width = self._widths.get("when", cell_len(_(LABELS["when"])))
        if column_widths(event.size.width, self.all_entries, when_width) != self._widths:
            self._draw()

    # -- the cursor -------------------------------------------------------------------------------

    def selected_entry(self) -> TimelineEntry | None:
        if not self.entries or self.cursor_row >= len(self.entries):
            return None
        return self.entries[self.cursor_row]

    def toggle_plan(self, plan_id: uuid.UUID) -> None:
        """Show or hide the plan's installments, the cursor staying on the plan's row."""
        if plan_id in self.open_plans:
            self.open_plans.discard(plan_id)
        else:
            self.open_plans.add(plan_id)
        self._draw()
        for index, entry in enumerate(self.entries):
            if entry.kind == "plan" and entry.plan_id == plan_id:
                self.move_cursor(row=index, animate=False)
                break

    def reveal(self, entry: TimelineEntry) -> None:
        """Put the cursor on `entry`, opening its plan when it is an installment."""
        if entry not in self.entries and entry.plan_id is not None:
            self.open_plans.add(entry.plan_id)
            self._draw()
        if entry in self.entries:
            self.move_cursor(row=self.entries.index(entry), animate=False)

    def action_select_cursor(self) -> None:
        entry = self.selected_entry()
        if entry is not None and entry.kind == "plan" and entry.plan_id is not None:
            self.toggle_plan(entry.plan_id)
            return
        super().action_select_cursor()
