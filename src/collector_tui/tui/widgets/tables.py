"""Filling a DataTable whose columns fit their cells (the queue, the supervisor's tables, the
dashboard's).

DataTable measures cells when idle: a table filled before its screen had a size, or refilled after
a resize, was seen in tmux with rows cut to the header widths (a balance of 5,081.56 shown as
`5,081.5` under "Balance") for a second or two. Explicit widths leave nothing to measure later, and
an amount is never cut: when the columns do not fit, whole columns are left out instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

from collector_tui.display import first_line, safe_text

# What a DataTable spends outside its cells: one cell of padding each side of every column, and
# the vertical scrollbar (reserved: a longer list must not push the last column out).
PADDING_PER_COLUMN = 2
SCROLLBAR = 2
ELLIPSIS = "…"


def fit_line(text: str | None, width: int, *, style: str = "") -> Text:
    """The first line of `text` cut to `width` cells, never inside a figure: when the cut would
    split a word holding a digit ("4,100.…") or part a figure from its currency ("2,500.00 CN…"),
    the figure goes whole."""
    shown = first_line(text, width, style=style)
    plain = shown.plain
    if not plain.endswith(ELLIPSIS):
        return shown
    kept = plain[: -len(ELLIPSIS)]
    whole = first_line(text, None).plain
    if not whole.startswith(kept) or len(whole) <= len(kept):
        return shown
    rest = whole[len(kept) :].split()
    partial = "" if whole[len(kept)].isspace() or kept.endswith(" ") else kept.split(" ")[-1]
    words = kept[: len(kept) - len(partial)].split()
    figure = bool(words) and any(char.isdigit() for char in words[-1])
    if any(char.isdigit() for char in partial):
        pass  # the split figure is gone already
    elif figure and (_currency_code(partial) or (not partial and rest and _currency_code(rest[0]))):
        words.pop()
    head = " ".join(words).rstrip()
    if not head:
        return shown
    return safe_text(head + ELLIPSIS, style=style)


def _currency_code(word: str) -> bool:
    return 0 < len(word) <= 3 and word.isascii() and word.isalpha() and word.isupper()


def fill_fitted(
    table: DataTable[Text],
    columns: Sequence[tuple[str, str]],
    rows: dict[str, dict[str, Text]],
    *,
    width: int,
    drop: Sequence[str] = (),
    flex: str | None = None,
    flex_texts: dict[str, str | None] | None = None,
    min_flex: int = 12,
) -> list[str]:
    """Show `rows` (row key -> column key -> cell) in the `columns` (key, label) that fit in
    `width` cells, each as wide as its widest cell; the cursor stays on its row.

    When they do not fit, the columns named in `drop` are left out, in that order. The `flex`
    column's text (`flex_texts`, cut at a word) takes what the others leave, at least `min_flex`
    cells. Returns the keys of the columns shown."""
    labels = dict(columns)
    widths = {
        key: max([Text(label).cell_len] + [cells[key].cell_len for cells in rows.values()])
        for key, label in columns
        if key != flex
    }

    def room(shown: list[str]) -> int:
        fixed = sum(widths[key] for key in shown if key != flex)
        return width - fixed - PADDING_PER_COLUMN * len(shown) - SCROLLBAR

    shown = [key for key, _ in columns]
    for key in drop:
        spare = room(shown)
        if spare >= (min_flex if flex in shown else 0):
            break
        if key in shown:
            shown.remove(key)
    if flex is not None and flex in shown:
        flex_width = max(min_flex, room(shown), Text(labels[flex]).cell_len)
        widths[flex] = flex_width
        texts = flex_texts or {}
        for row_key, cells in rows.items():
            cells[flex] = fit_line(texts.get(row_key), flex_width)
    layout = [(key, widths[key]) for key in shown]
    current = [(column.key.value, column.width) for column in table.columns.values()]
    selected: str | None = None
    if table.row_count and table.cursor_row < table.row_count:
        selected = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    with table.app.batch_update():
        if layout == current and [key.value for key in table.rows] == list(rows):
            for row_key, cells in rows.items():
                for key in shown:
                    table.update_cell(row_key, key, cells[key])
            return shown
        if layout != current:
            table.clear(columns=True)
            for key, column_width in layout:
                table.add_column(labels[key], key=key, width=column_width)
        else:
            table.clear()
        for row_key, cells in rows.items():
            table.add_row(*(cells[key] for key in shown), key=row_key)
        if selected is not None and selected in rows:
            table.move_cursor(row=table.get_row_index(selected), animate=False)
        elif rows:
            table.move_cursor(row=0, animate=False)
    return shown


def fill_measured(table: DataTable[Text], rows: dict[str, dict[str, Text]]) -> None:
    """Show `rows` with columns as wide as their widest cell, keeping the cursor on its row (the
    table's current columns, however wide the result; see fill_fitted to fit a width)."""
    columns = [(column.key.value, str(column.label)) for column in table.columns.values()]
    fill_fitted(table, columns, rows, width=1 << 20)  # type: ignore[arg-type]
