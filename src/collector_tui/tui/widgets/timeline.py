"""The case's history as a table, newest first; a note shows its first line, cut to fit."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual import events
from textual.widgets import DataTable

from collector_tui.display import first_line
from collector_tui.services.casework.casefile import TimelineEntry
from collector_tui.tui.formatting import agent_time

KIND_STYLES = {
    "contact": "",
    "note": "italic",
    "promise": "cyan",
    "payment": "bold green",
    "follow_up": "yellow",
    "hold": "bold red",
    "settlement": "magenta",
}
WHEN_WIDTH = 11  # "11-20 22:30"
MIN_NOTE_WIDTH = 12
# Cells the table spends outside the cells: one of padding each side of every column, and the
# vertical scrollbar.
PADDING_PER_COLUMN = 2
SCROLLBAR = 2


def column_widths(width: int) -> dict[str, int]:
    """Fixed widths for the columns that fit in `width` cells; the last takes what is left.

    Narrow tables show one "entry" column: the summary, then the note's first line after it.
    """
    if width >= 100:
        layout = {"when": WHEN_WIDTH, "what": 40, "who": 12, "note": 0}
    elif width >= 90:
        layout = {"when": WHEN_WIDTH, "what": 30, "who": 10, "note": 0}
    else:
        layout = {"when": WHEN_WIDTH, "entry": 0}
    spent = sum(layout.values()) + PADDING_PER_COLUMN * len(layout) + SCROLLBAR
    last = next(reversed(layout))
    layout[last] = max(MIN_NOTE_WIDTH, width - spent)
    return layout


LABELS = {"when": "When", "what": "What", "who": "Who", "note": "Note", "entry": "What · note"}


# A voided contact stays on the timeline (facts are append-only), struck through.
VOIDED_STYLE = "strike dim"


def entry_style(entry: TimelineEntry) -> str:
    style = KIND_STYLES.get(entry.kind, "")
    return f"{style} {VOIDED_STYLE}".strip() if entry.voided else style


def entry_cell(entry: TimelineEntry, width: int) -> Text:
    """Summary and first note line in one cell, cut to `width` cells."""
    style = entry_style(entry)
    summary = first_line(entry.title, width, style=style)
    room = width - summary.cell_len - 3
    if entry.note and room >= 6:
        summary.append(" · ", style="dim")
        summary.append_text(first_line(entry.note, room, style="dim"))
    return summary


class Timeline(DataTable[Text]):
    """Rows keyed by position; `entries[i]` is the full entry behind row i."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.entries: tuple[TimelineEntry, ...] = ()
        self.tz = "UTC"
        self.now: datetime | None = None
        self._widths: dict[str, int] = {}

    def show(self, entries: tuple[TimelineEntry, ...], *, tz: str, now: datetime) -> None:
        self.entries = entries
        self.tz = tz
        self.now = now
        self._draw()

    def _draw(self) -> None:
        widths = column_widths(self.size.width or 80)
        row = self.cursor_row
        if widths != self._widths:
            self.clear(columns=True)
            for key, width in widths.items():
                self.add_column(LABELS[key], width=width, key=key)
            self._widths = widths
        else:
            self.clear()
        for index, entry in enumerate(self.entries):
            style = entry_style(entry)
            cells = {
                "when": Text(
                    agent_time(entry.at, self.tz, self.now),
                    style=VOIDED_STYLE if entry.voided else "",
                ),
                "what": first_line(entry.title, widths.get("what", 0), style=style),
                "who": first_line(entry.user or "", widths.get("who", 0), style="dim"),
                "note": first_line(entry.note, widths.get("note", 0)),
                "entry": entry_cell(entry, widths.get("entry", 0)),
            }
            self.add_row(*(cells[key] for key in widths), key=str(index))
        if self.entries:
            self.move_cursor(row=min(row, len(self.entries) - 1), animate=False)

    def on_resize(self, event: events.Resize) -> None:
        if column_widths(event.size.width) != self._widths:
            self._draw()

    def selected_entry(self) -> TimelineEntry | None:
        if not self.entries or self.cursor_row >= len(self.entries):
            return None
        return self.entries[self.cursor_row]
