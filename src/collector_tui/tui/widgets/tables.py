"""Filling a DataTable whose columns fit their cells (the supervisor's tables, the dashboard's)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable


def fill_measured(table: DataTable[Text], rows: dict[str, dict[str, Text]]) -> None:
    """Show `rows` with columns as wide as their widest cell, keeping the cursor on its row.

    DataTable measures cells when idle: a table filled before its screen had a size, or updated in
    place, was seen in tmux with rows cut to the header widths or a header lagging its rows.
    Explicit widths leave nothing to measure later."""
    # Cells are looked up by column key: a column without one (none here) has nothing to show.
    labels = {
        column.key.value: column.label
        for column in table.columns.values()
        if column.key.value is not None
    }
    selected: str | None = None
    if table.row_count and table.cursor_row < table.row_count:
        selected = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    with table.app.batch_update():
        table.clear(columns=True)
        for key, label in labels.items():
            width = max([label.cell_len] + [cells[key].cell_len for cells in rows.values()])
            table.add_column(label, key=key, width=width)
        for key, cells in rows.items():
            table.add_row(*(cells[column] for column in labels), key=key)
        if selected is not None and selected in rows:
            table.move_cursor(row=table.get_row_index(selected), animate=False)
        elif rows:
            table.move_cursor(row=0, animate=False)
