"""The import screen's reading options, for either kind of file: how amounts are written (auto,
1,234.50, 1.234,50) and the encoding. A file the services will not guess about gets the reason
under the option that settles it, in the form's words; choosing it with the keys makes the check
pass and the import write what the file meant."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import col, func, select
from textual.pilot import Pilot
from textual.widgets import Button, Input, RadioSet, Static

from collector_tui.models import Case, Debtor, Payment

from .conftest import build_app, drive, rendered, settle, type_text
from .seed import Seeded
from .test_import_screen import choose_file, open_import

SEMICOLON_CASES = (
    "client;client_ref;debtor_name;country;currency;principal;due_date\n"
    "Globex;DEC-1;Hans Meier;DE;EUR;1,500;2026-09-01\n"
    "Globex;DEC-2;Eva Braun;DE;EUR;2.345,67;2026-09-01\n"
)
KANA_CASES = (
    "client,client_ref,debtor_name,country,currency,principal,due_date\n"
    "ﾄｳｷｮｳ,KANA-1,ﾔﾏﾀﾞ ﾀﾛｳ,JP,JPY,1500,2026-09-01\n"
)


def _count(demo: Seeded, model: type) -> int:
    with demo.store.read() as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_amounts_that_read_two_ways_ask_for_the_decimal_mark(demo: Seeded, tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text(SEMICOLON_CASES, encoding="utf-8")
    before = _count(demo, Case)
    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        screen = await open_import(pilot, tmp_path)
        await choose_file(pilot, screen, path, "cases")
        await pilot.press("ctrl+r")
        await settle(pilot)
        error = screen.query_one("#import-decimal-error", Static)
        marks = screen.query_one("#import-decimal", RadioSet)
        assert error.has_class("-shown") and marks.has_class("-invalid")
        assert rendered(error) == (
            "Amounts: semi.csv: the amount '1,500' on line 2 reads two ways (1500 or 1.500):"
            " choose 1,234.50 or 1.234,50"
        )
        assert "--decimal" not in rendered(error)  # the command line's words stay there
        assert screen.focused is marks
        assert "Nothing was written" in rendered(screen.query_one("#import-summary", Static))

        await pilot.press("right", "right", "space")  # auto, 1,234.50, 1.234,50
        await pilot.pause()
        assert marks.pressed_button is not None and marks.pressed_button.id == "decimal-comma"
        assert not error.has_class("-shown")
        await pilot.press("ctrl+r")
        await settle(pilot)
        text = rendered(screen.query_one("#import-summary", Static))
        assert "Check passed: 2 rows, 2 cases to create" in text
        assert "Read with amounts with a decimal comma." in text
        assert not screen.query_one("#import-run", Button).disabled
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Imported: 2 rows, 2 cases created" in rendered(
            screen.query_one("#import-summary", Static)
        )

    drive(app, scenario, size=(80, 24))
    assert _count(demo, Case) == before + 2
    with demo.store.read() as session:
        balances = session.exec(
            select(Case.client_ref, Case.balance)
            .where(col(Case.client_ref).in_(["DEC-1", "DEC-2"]))
            .order_by(Case.client_ref)
        ).all()
    assert [tuple(row) for row in balances] == [("DEC-1", 150), ("DEC-2", 234_567)]


def test_an_encoding_that_cannot_be_told_is_typed_on_the_form(demo: Seeded, tmp_path: Path) -> None:
    path = tmp_path / "kana.csv"
    path.write_bytes(KANA_CASES.encode("cp932"))
    before = _count(demo, Case)
    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        screen = await open_import(pilot, tmp_path)
        await choose_file(pilot, screen, path, "cases")
        await pilot.press("ctrl+r")
        await settle(pilot)
        error = screen.query_one("#import-encoding-error", Static)
        encoding = screen.query_one("#import-encoding", Input)
        assert rendered(error) == (
            "Encoding: could not tell the encoding of kana.csv (it is not UTF-8): type its"
            " encoding (e.g. gb18030, cp1252, shift_jis)"
        )
        assert screen.focused is encoding
        await type_text(pilot, "klingon")
        await pilot.press("enter")  # submitting an option checks again
        await settle(pilot)
        assert rendered(error) == "Encoding: unknown encoding 'klingon'"
        encoding.value = ""
        await type_text(pilot, "cp932")
        await pilot.press("ctrl+r")
        await settle(pilot)
        text = rendered(screen.query_one("#import-summary", Static))
        assert "Check passed: 1 rows, 1 cases to create" in text
        assert "Read with encoding cp932." in text
        assert "Read as cp932." in text
        await pilot.press("ctrl+s")
        await settle(pilot)

    drive(app, scenario, size=(80, 24))
    assert _count(demo, Case) == before + 1
    with demo.store.read() as session:
        name = session.exec(
            select(Debtor.name)
            .join(Case, col(Case.debtor_id) == Debtor.id)
            .where(Case.client_ref == "KANA-1")
        ).one()
    assert name == "ﾔﾏﾀﾞ ﾀﾛｳ"


def test_a_payments_file_takes_the_reading_options_too(demo: Seeded, tmp_path: Path) -> None:
    path = tmp_path / "bank.csv"
    path.write_text(
        "client_ref;amount;date;reference\nREF-1001;1,500;2026-11-19;BANK-77\n", encoding="utf-8"
    )
    before = _count(demo, Payment)
    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        screen = await open_import(pilot, tmp_path)
        await choose_file(pilot, screen, path, "payments")
        assert screen.query_one("#import-reading").display
        await pilot.press("ctrl+r")
        await settle(pilot)
        error = screen.query_one("#import-decimal-error", Static)
        assert error.display and "reads two ways (1500 or 1.500)" in rendered(error)
        await pilot.press("right", "right", "space")
        await pilot.press("ctrl+r")
        await settle(pilot)
        text = rendered(screen.query_one("#import-summary", Static))
        assert "1 payments to post" in text and "1.50 CNY" in text
        await pilot.press("ctrl+s")
        await settle(pilot)

    drive(app, scenario, size=(80, 24))
    assert _count(demo, Payment) == before + 1
    with demo.store.read() as session:
        amount = session.exec(select(Payment.amount).where(Payment.reference == "BANK-77")).one()
    assert amount == 150
