"""A client's statement as PDF (delivery/pdf.py): the same figures as `statement_table`, one row
per case and a total per currency, on a landscape page a client can file."""

from __future__ import annotations

from collector_tui.delivery.pdf import Document, Heading, Para, TableBlock, render_pdf
from collector_tui.services.reporting.statements import Statement
from collector_tui.services.reporting.tables import statement_table

__all__ = ["statement_document", "statement_pdf"]


def statement_document(statement: Statement, *, agency_name: str = "") -> Document:
    table = statement_table(statement)
    header = tuple(column.replace("_", " ") for column in table.columns)
    numeric = tuple(i for i, column in enumerate(table.columns) if column in table.numeric)
    period = f"{statement.date_from.isoformat()} to {statement.date_to.isoformat()}"
    blocks: list[Heading | Para | TableBlock] = [
        Para(f"Period: {period} (UTC dates)\nCommission: {statement.rule}"),
    ]
    if statement.cases:
        blocks.append(Heading("Collected by case"))
        blocks.append(TableBlock((header, *table.rows[: len(statement.cases)]), numeric=numeric))
        blocks.append(Heading("Totals by currency"))
        blocks.append(TableBlock((header, *table.rows[len(statement.cases) :]), numeric=numeric))
    else:
        blocks.append(
            Para("No money was received or reversed on this client's cases in the period.")
        )
    if agency_name:
        blocks.append(Para(f"Prepared by {agency_name}.", small=True))
    return Document(
        title=f"Statement of {statement.client}",
        blocks=tuple(blocks),
        author=agency_name,
        landscape=True,
    )


def statement_pdf(
    statement: Statement, *, agency_name: str = "", font_file: str | None = None
) -> bytes:
    document = statement_document(statement, agency_name=agency_name)
    return render_pdf(document, font_file=font_file)
