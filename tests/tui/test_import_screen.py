"""Importing from the TUI: a bad file shows every bad line and writes nothing; a good file is
checked first, then imported with a progress bar that reaches 100%; agents cannot import; the path
is validated; browsing fills it in; a placement file's missing client, currency and country come
from the form (as the CLI's options), its cases can go to one agent, and a refused option gets
its message under its own field."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from sqlmodel import col, func, select
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Input, ProgressBar, RadioButton, Select, Static

from collector_tui.models import Assignment, Case, Debtor, Payment, Phone, Promise
from collector_tui.tui.screens.imports import CsvTree, ImportScreen

from .conftest import build_app, drive, login, rendered, settle, type_text
from .seed import Seeded

PAYMENTS_BAD = (
    "client_ref,amount,date,reference\n"
    "REF-1001,100.00,2026-11-19,BANK-1\n"
    "REF-1001,12.3x,2026-11-19,BANK-2\n"
    "NOPE-1,5.00,2026-11-19,BANK-3\n"
    "REF-1002,5.00,2026-13-40,BANK-4\n"
)
PAYMENTS_GOOD = (
    "client_ref,amount,date,reference\n"
    "REF-1004,2800.00,2026-11-19,BANK-10\n"
    "REF-1001,150.00,2026-11-18,BANK-11\n"
    "REF-2001,25.00,2026-11-18,BANK-12\n"
)
# No client, currency or country column: the form supplies them. Local US numbers (no +1) are
# only valid with the region.
CASES_BARE = (
    "client_ref,debtor_name,phone,principal,due_date\n"
    "BARE-1,Jane Roe,(212) 555-0199,1000.00,2026-09-01\n"
    "BARE-2,John Doe,212 555 0188,80.50,2026-10-01\n"
)
CASES_GOOD = (
    "client,client_ref,debtor_name,country,phone,currency,principal,due_date\n"
    "Globex,NEW-1,周杰,CN,13800138011,CNY,1000.00,2026-09-01\n"
    "Globex,NEW-2,Jane Roe,US,+1 212 555 0199,USD,250.00,2026-08-15\n"
    "Globex,NEW-3,刘洋,CN,13800138012,CNY,80.50,2026-10-01\n"
)


def count(demo: Seeded, model: type) -> int:
    with demo.store.read() as session:
        return session.exec(select(func.count()).select_from(model)).one()


def cells(table: DataTable[Text]) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(row)] for row in range(table.row_count)]


async def open_import(pilot: Pilot[None], folder: Path) -> ImportScreen:
    await login(pilot)
    pilot.app.push_screen(ImportScreen(folder=folder))
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ImportScreen)
    return screen


async def choose_file(pilot: Pilot[None], screen: ImportScreen, path: Path, kind: str) -> None:
    screen.query_one("#import-path", Input).value = str(path)
    if kind == "payments":
        screen.query_one("#kind-payments", RadioButton).value = True
    await pilot.pause()


def test_a_bad_payments_file_lists_its_lines_and_writes_nothing(
    demo: Seeded, tmp_path: Path
) -> None:
    path = tmp_path / "bank.csv"
    path.write_text(PAYMENTS_BAD, encoding="utf-8")
    before = count(demo, Payment)
    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        screen = await open_import(pilot, tmp_path)
        await choose_file(pilot, screen, path, "payments")
        await pilot.press("ctrl+r")
        await settle(pilot)
        summary = rendered(screen.query_one("#import-summary", Static))
        assert "Refused: 4 rows, 3 bad" in summary and "Nothing was written" in summary
        rejects = cells(screen.query_one("#import-rejects", DataTable))
        assert [row[0] for row in rejects] == ["line 3", "line 4", "line 5"]
        assert "12.3x" in rejects[0][1]
        assert "NOPE-1" in rejects[1][1]
        assert "date" in rejects[2][1]
        assert screen.query_one("#import-run", Button).disabled
        # ctrl+s without a clean check imports nothing.
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.summary is not None and screen.summary.dry_run

    drive(app, scenario)
    assert count(demo, Payment) == before


def test_a_good_cases_file_is_checked_then_imported_with_progress(
    demo: Seeded, tmp_path: Path
) -> None:
    path = tmp_path / "placements.csv"
    path.write_text(CASES_GOOD, encoding="utf-8")
    before = count(demo, Case)
    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        screen = await open_import(pilot, tmp_path)
        await choose_file(pilot, screen, path, "cases")
        await pilot.press("ctrl+r")
        await settle(pilot)
        summary = screen.query_one("#import-summary", Static)
        assert "Check passed: 3 rows, 3 cases to create, 0 already there" in rendered(summary)
        assert count(demo, Case) == before  # a check writes nothing
        run = screen.query_one("#import-run", Button)
        assert not run.disabled

        await pilot.press("ctrl+s")
        await settle(pilot)
        bar = screen.query_one("#import-progress", ProgressBar)
        assert bar.display and bar.percentage == 1.0
        assert screen.progress_reports and screen.progress_reports[-1] == (3, 3)
        assert "Imported: 3 rows, 3 cases created" in rendered(summary)
        assert run.disabled  # done: a new import needs a new check

        # The same file again: nothing new to import.
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "0 cases to create, 3 already there" in rendered(summary)
        assert run.disabled

    drive(app, scenario)
    assert count(demo, Case) == before + 3
    with demo.store.read() as session:
        names = session.exec(
            select(Case.client_ref).where(col(Case.client) == "Globex").order_by(Case.client_ref)
        ).all()
    assert names == ["NEW-1", "NEW-2", "NEW-3"]


def test_a_good_payments_file_posts_and_keeps_the_promise(demo: Seeded, tmp_path: Path) -> None:
    path = tmp_path / "bank.csv"
    path.write_text(PAYMENTS_GOOD, encoding="utf-8")
    before = count(demo, Payment)
    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        screen = await open_import(pilot, tmp_path)
        await choose_file(pilot, screen, path, "payments")
        await pilot.press("ctrl+r")
        await settle(pilot)
        summary = screen.query_one("#import-summary", Static)
        assert "3 payments to post" in rendered(summary)
        assert "2,950.00 CNY, 25.00 USD" in rendered(summary)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.query_one("#import-progress", ProgressBar).percentage == 1.0
        assert screen.progress_reports[-1] == (3, 3)
        assert "Imported: 3 rows, 3 payments posted" in rendered(summary)

    drive(app, scenario)
    assert count(demo, Payment) == before + 3
    with demo.store.read() as session:
        kept = session.exec(select(Promise.status).where(Promise.case_id == demo.cases["REF-1004"]))
        assert list(kept) == ["kept"]


def test_a_file_changed_after_its_check_must_be_checked_again(demo: Seeded, tmp_path: Path) -> None:
    path = tmp_path / "placements.csv"
    path.write_text(CASES_GOOD, encoding="utf-8")
    before = count(demo, Case)
    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        screen = await open_import(pilot, tmp_path)
        await choose_file(pilot, screen, path, "cases")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert not screen.query_one("#import-run", Button).disabled
        # Choosing payments instead asks for a new check.
        screen.query_one("#kind-payments", RadioButton).value = True
        await pilot.pause()
        assert screen.query_one("#import-run", Button).disabled
        screen.query_one("#kind-cases", RadioButton).value = True
        await pilot.pause()
        # So does a file rewritten since (a bad row appended).
        await pilot.press("ctrl+r")
        await settle(pilot)
        path.write_text(CASES_GOOD + "Globex,NEW-4,Bad,CN,138,CNY,12.3x,2026-09-01\n")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.summary is not None and screen.summary.dry_run

    drive(app, scenario)
    assert count(demo, Case) == before


def test_the_path_is_validated(demo: Seeded, tmp_path: Path) -> None:
    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        screen = await open_import(pilot, tmp_path)
        error = screen.query_one("#import-path-error", Static)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "Type the path" in rendered(error)
        screen.query_one("#import-path", Input).value = str(tmp_path / "missing.csv")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "No file" in rendered(error)
        screen.query_one("#import-path", Input).value = str(tmp_path)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "is a folder" in rendered(error)
        assert screen.summary is None  # nothing was run

    drive(app, scenario)


def test_browsing_fills_in_the_path(demo: Seeded, tmp_path: Path) -> None:
    (tmp_path / "bank.csv").write_text(PAYMENTS_GOOD, encoding="utf-8")
    (tmp_path / "notes.docx").write_text("not a csv", encoding="utf-8")
    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        screen = await open_import(pilot, tmp_path)
        await pilot.press("ctrl+o")
        await pilot.pause(0.3)
        tree = screen.query_one(CsvTree)
        assert [child.label.plain for child in tree.root.children] == ["bank.csv"]
        await pilot.press("down", "enter")
        await pilot.pause(0.3)
        assert screen.query_one("#import-path", Input).value == str(tmp_path / "bank.csv")
        assert not screen.query(CsvTree)  # closed, and its loader with it

    drive(app, scenario)


def test_an_agent_cannot_import(demo: Seeded, tmp_path: Path) -> None:
    app = build_app(demo, "alice")

    async def scenario(pilot: Pilot[None]) -> None:
        screen = await open_import(pilot, tmp_path)
        assert "Only a supervisor" in rendered(screen.query_one("#import-summary", Static))
        assert screen.query_one("#import-path", Input).disabled
        assert screen.query_one("#import-check", Button).disabled

    drive(app, scenario)


async def fill_options(
    pilot: Pilot[None],
    screen: ImportScreen,
    *,
    client: str = "",
    region: str = "",
    currency: str = "",
) -> None:
    """Type the placement options with real keys, each into its own field."""
    for widget_id, text in (
        ("import-client", client),
        ("import-region", region),
        ("import-currency", currency),
    ):
        screen.query_one(f"#{widget_id}", Input).focus()
        await pilot.pause()
        await type_text(pilot, text)
    await pilot.pause()


def test_placement_options_fill_in_what_the_file_leaves_out(demo: Seeded, tmp_path: Path) -> None:
    path = tmp_path / "bare.csv"
    path.write_text(CASES_BARE, encoding="utf-8")
    before = count(demo, Case)
    bob = demo.users["bob"]
    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        screen = await open_import(pilot, tmp_path)
        await choose_file(pilot, screen, path, "cases")
        # The agents are offered, nobody first (the default); supervisors are not agents.
        assign = screen.query_one("#import-assign", Select)
        assert assign.value == "nobody"
        assert set(screen.agents) == {str(demo.users["alice"].user_id), str(bob.user_id)}

        # Without the options the file is refused for its missing columns, pointing at the form.
        await pilot.press("ctrl+r")
        await settle(pilot)
        summary = screen.query_one("#import-summary", Static)
        assert "missing columns: client, currency, country" in rendered(summary)
        assert "Client, Region and Currency above" in rendered(summary)

        await fill_options(pilot, screen, client="Initech", region="us", currency="usd")
        assign.focus()
        await pilot.press("enter")  # open the list
        await pilot.pause()
        await pilot.press("down", "down", "enter")  # nobody, Alice, Bob
        await pilot.pause()
        assert assign.value == str(bob.user_id)
        await pilot.press("ctrl+r")
        await settle(pilot)
        text = rendered(summary)
        assert "Check passed: 2 rows, 2 cases to create, 0 already there" in text
        assert "client Initech, region US, currency USD" in text
        assert "New cases go to Bob Miller." in text
        assert count(demo, Case) == before  # the check wrote nothing
        run = screen.query_one("#import-run", Button)
        assert not run.disabled

        # Another option after the check asks for a new one; the same options again unlock.
        screen.query_one("#import-currency", Input).value = "CNY"
        await pilot.pause()
        assert run.disabled
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert count(demo, Case) == before
        screen.query_one("#import-currency", Input).value = "usd"
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert not run.disabled

        await pilot.press("ctrl+s")
        await settle(pilot)
        text = rendered(summary)
        assert "Imported: 2 rows, 2 cases created" in text
        assert "New cases go to Bob Miller." in text
        assert screen.query_one("#import-progress", ProgressBar).percentage == 1.0
        for widget_id in ("client", "region", "currency", "assign"):
            assert not screen.query_one(f"#import-{widget_id}-error", Static).has_class("-shown")

    drive(app, scenario, size=(80, 24))
    assert count(demo, Case) == before + 2
    with demo.store.read() as session:
        rows = session.exec(
            select(Case, Debtor)
            .join(Debtor, col(Debtor.id) == Case.debtor_id)
            .where(col(Case.client_ref).in_(["BARE-1", "BARE-2"]))
            .order_by(Case.client_ref)
        ).all()
        assert [
            (case.client, case.currency, debtor.country, case.assigned_to_id)
            for case, debtor in rows
        ] == [("Initech", "USD", "US", bob.user_id)] * 2
        assert [case.balance for case, _ in rows] == [100000, 8050]
        phones = session.exec(
            select(Phone.e164).where(col(Phone.debtor_id).in_([d.id for _, d in rows]))
        ).all()
        assert sorted(phones) == ["+12125550188", "+12125550199"]
        moves = session.exec(
            select(Assignment).where(col(Assignment.case_id).in_([c.id for c, _ in rows]))
        ).all()
        assert len(moves) == 2
        assert {(m.from_user_id, m.to_user_id) for m in moves} == {(None, bob.user_id)}
        assert {m.moved_by_id for m in moves} == {demo.users["sam"].user_id}


def test_a_bad_region_is_shown_under_its_field_and_nothing_is_written(
    demo: Seeded, tmp_path: Path
) -> None:
    path = tmp_path / "bare.csv"
    path.write_text(CASES_BARE, encoding="utf-8")
    before = (count(demo, Case), count(demo, Assignment))
    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        screen = await open_import(pilot, tmp_path)
        await choose_file(pilot, screen, path, "cases")
        await fill_options(pilot, screen, client="Initech", region="XX", currency="USD")
        await pilot.press("ctrl+r")
        await settle(pilot)
        region = screen.query_one("#import-region", Input)
        error = screen.query_one("#import-region-error", Static)
        assert error.has_class("-shown") and region.has_class("-invalid")
        assert rendered(error) == "Region: unknown region 'XX': use an ISO 3166 code like CN"
        assert screen.focused is region
        for other in ("client", "currency", "assign"):
            assert not screen.query_one(f"#import-{other}-error", Static).has_class("-shown")
        assert "Nothing was written" in rendered(screen.query_one("#import-summary", Static))
        run = screen.query_one("#import-run", Button)
        assert run.disabled
        await pilot.press("ctrl+s")  # no clean check: nothing to import
        await settle(pilot)

        # An unknown currency likewise, under the currency; fixing the region cleared its error.
        region.value = "US"
        await pilot.pause()
        assert not error.has_class("-shown") and not region.has_class("-invalid")
        screen.query_one("#import-currency", Input).value = "XYZ"
        await pilot.press("ctrl+r")
        await settle(pilot)
        currency_error = screen.query_one("#import-currency-error", Static)
        assert currency_error.has_class("-shown")
        assert "XYZ" in rendered(currency_error) and "currency" in rendered(currency_error)
        assert run.disabled

    drive(app, scenario, size=(80, 24))
    assert (count(demo, Case), count(demo, Assignment)) == before


def test_payment_files_take_no_placement_options(demo: Seeded, tmp_path: Path) -> None:
    path = tmp_path / "bank.csv"
    path.write_text(PAYMENTS_GOOD, encoding="utf-8")
    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        screen = await open_import(pilot, tmp_path)
        await fill_options(pilot, screen, client="Initech", region="XX", currency="XYZ")
        await choose_file(pilot, screen, path, "payments")
        assert not screen.query_one("#import-defaults").display
        assert not screen.query_one("#import-assign-row").display
        await pilot.press("ctrl+r")
        await settle(pilot)
        # The typed (and bad) options are ignored for a payments file.
        assert "3 payments to post" in rendered(screen.query_one("#import-summary", Static))
        assert not screen.query_one("#import-region-error", Static).has_class("-shown")

    drive(app, scenario, size=(80, 24))
