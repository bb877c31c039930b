"""A client's statement as PDF (delivery/pdf.py): the same figures as `statement_table`, one row
per case and a total per currency, on a landscape page a client can file."""

from __future__ import annotations

from collector_tui.delivery.pdf import Document, Heading, Para, TableBlock, render_pdf
from collector_tui.i18n import gettext as _
from collector_tui.services.reporting.statements import Statement
from collector_tui.services.reporting.tables import statement_table

__all__ = ["statement_document", "statement_pdf"]


def statement_document(statement: Statement, *, agency_name: str = "") -> Document:
    table = statement_table(statement)
    header = tuple(column.replace("_", " ") for column in table.columns)
    numeric = tuple(i for i, column in enumerate(table.columns) if column in table.numeric)
    blocks: list[Heading | Para | TableBlock] = [
        Para(
            _("Period: {start} to {end} (UTC dates)\nCommission: {rule}").format(
                start=statement.date_from.isoformat(),
                end=statement.date_to.isoformat(),
                rule=statement.rule,
            )
        ),
    ]
    if statement.cases:
        blocks.append(Heading(_("Collected by case")))
        blocks.append(TableBlock((header, *table.rows[: len(statement.cases)]), numeric=numeric))
        blocks.append(Heading(_("Totals by currency")))
        blocks.append(TableBlock((header, *table.rows[len(statement.cases) :]), numeric=numeric))
    else:
        blocks.append(
            Para(_("No money was received or reversed on this client's cases in the period."))
        )
    if agency_name:
        blocks.append(Para(_("Prepared by {agency}.").format(agency=agency_name), small=True))
    return Document(
        title=_("Statement of {client}").format(client=statement.client),
        blocks=tuple(blocks),
        author=agency_name,
        landscape=True,
    )


def statement_pdf(
    statement: Statement, *, agency_name: str = "", font_file: str | None = None
) -> bytes:
    document = statement_document(statement, agency_name=agency_name)
    return render_pdf(document, font_file=font_file)
