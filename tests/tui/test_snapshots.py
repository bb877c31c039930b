"""Snapshots of the main screens at 80x24 and 120x40, on the fixed clock and the seeded data.

Update after an intended change with `pytest tests/tui --snapshot-update` and look at the report.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from .conftest import build_app, login, settle
from .seed import Seeded, open_disputes

SIZES = [(80, 24), (120, 40)]


def opening(ref: str, demo: Seeded, *then: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def run_before(pilot: Pilot[None]) -> None:
        await login(pilot)
        if ref:
            pilot.app.screen.open_case(demo.cases[ref])  # type: ignore[attr-defined]
            await settle(pilot)
        for key in then:
            await pilot.press(key)
            await settle(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_queue_screen(snap_compare: Any, demo: Seeded, size: tuple[int, int]) -> None:
    assert snap_compare(build_app(demo), terminal_size=size, run_before=opening("", demo))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_case_screen(snap_compare: Any, demo: Seeded, size: tuple[int, int]) -> None:
    assert snap_compare(build_app(demo), terminal_size=size, run_before=opening("REF-1001", demo))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_promise_form_with_an_error(snap_compare: Any, demo: Seeded, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await opening("REF-1001", demo, "p")(pilot)
        pilot.app.screen.query_one("#amount", Input).value = "12.3.4"
        pilot.app.screen.query_one("#due_date", Input).value = "2026-11-25"
        await pilot.press("ctrl+s")
        await settle(pilot)

    assert snap_compare(build_app(demo), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_contact_form_disposition_typed(
    snap_compare: Any, demo: Seeded, size: tuple[int, int]
) -> None:
    # "p", the hot key of "promise", then "ok": the letters after the disposition's are the note's.
    assert snap_compare(
        build_app(demo),
        terminal_size=size,
        run_before=opening("REF-1001", demo, "c", "p", "o", "k"),
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_confirmation_before_a_dispute(
    snap_compare: Any, demo: Seeded, size: tuple[int, int]
) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await opening("REF-1001", demo, "d")(pilot)
        pilot.app.screen.query_one("#reason", Input).value = "says it was paid in March"
        await pilot.press("ctrl+s")
        await settle(pilot)

    assert snap_compare(build_app(demo), terminal_size=size, run_before=run_before)


def with_contacts(demo: Seeded) -> None:
    """REF-1001's debtor with a number given on a call (consent to call), a wrong one, an e-mail
    opted in, returned mail and an employer who objected."""
    from datetime import timedelta

    from collector_tui.services.contacts import book

    from .seed import NOW

    case_id = demo.cases["REF-1001"]

    def run(service: Any, **args: Any) -> Any:
        with demo.store.write() as session:
            return service(
                session=session,
                now=NOW,
                actor=demo.users["alice"],
                settings=demo.settings,
                case_id=case_id,
                **args,
            )

    run(
        book.add_phone,
        number="135 8888 6666",
        source="debtor",
        consent=("call", "sms"),
        consent_until=NOW + timedelta(days=30),
        consent_how="on the call",
    )
    wrong = run(book.add_phone, number="0755 8888 1235", source="skip trace")
    run(book.mark_contact, kind="phone", contact_id=wrong.contact_id, status="wrong",
        reason="a shop answers")  # fmt: skip
    run(book.add_email, address="wang.xm@example.cn", opt_in=True, opt_in_how="on the call")
    address = run(book.add_address, text="Room 5, 8 Jianguo Road, Beijing", source="skip trace")
    run(book.mark_contact, kind="address", contact_id=address.contact_id, status="returned")
    party = run(book.add_third_party, name="Acme Shenzhen Ltd", relation="employer",
                phone="+86 755 2222 3333")  # fmt: skip
    run(book.record_objection, party_id=party.contact_id, how="on the call")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_case_screen_with_contacts(snap_compare: Any, demo: Seeded, size: tuple[int, int]) -> None:
    with_contacts(demo)
    assert snap_compare(build_app(demo), terminal_size=size, run_before=opening("REF-1001", demo))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_add_contact_form(snap_compare: Any, demo: Seeded, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await opening("REF-1001", demo, "plus", "tab")(pilot)
        pilot.app.screen.query_one("#value", Input).value = "12"
        await pilot.press("ctrl+s")
        await settle(pilot)

    assert snap_compare(build_app(demo), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_invoices_with_a_dispute(snap_compare: Any, demo: Seeded, size: tuple[int, int]) -> None:
    open_disputes(demo)

    async def run_before(pilot: Pilot[None]) -> None:
        await opening("REF-1003", demo)(pilot)
        # Stacked at 80 columns: the invoices are the last panel.
        pilot.app.screen.query_one("#case-details").scroll_end(animate=False)
        await settle(pilot)

    assert snap_compare(build_app(demo), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_open_disputes_view(snap_compare: Any, demo: Seeded, size: tuple[int, int]) -> None:
    open_disputes(demo)
    assert snap_compare(
        build_app(demo, "sam"), terminal_size=size, run_before=opening("", demo, "d")
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_assessment_form_with_an_error(
    snap_compare: Any, demo: Seeded, size: tuple[int, int]
) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await opening("REF-1002", demo, "a")(pilot)
        pilot.app.screen.query_one("#income", Input).value = "8,000"
        pilot.app.screen.query_one("#housing", Input).value = "3,000"
        pilot.app.screen.query_one("#family", Input).value = "-50"
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)

    assert snap_compare(build_app(demo), terminal_size=size, run_before=run_before)


# -- Chinese (zh_CN): CJK characters take two cells; nothing may be cut or overflow ---------------


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_login_in_chinese(snap_compare: Any, demo: Seeded, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot, 1)
        await pilot.press("enter")  # the refusal under the empty password, in Chinese
        await settle(pilot)

    app = build_app(demo, language="zh_CN")
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help_in_chinese(snap_compare: Any, demo: Seeded, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot, 1)
        pilot.app.action_help()  # type: ignore[attr-defined]
        await settle(pilot)

    app = build_app(demo, language="zh_CN")
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_queue_in_chinese(snap_compare: Any, demo: Seeded, size: tuple[int, int]) -> None:
    app = build_app(demo, language="zh_CN")
    assert snap_compare(app, terminal_size=size, run_before=opening("", demo))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_case_in_chinese(snap_compare: Any, demo: Seeded, size: tuple[int, int]) -> None:
    with_contacts(demo)
    app = build_app(demo, language="zh_CN")
    assert snap_compare(app, terminal_size=size, run_before=opening("REF-1001", demo))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_contact_form_in_chinese(snap_compare: Any, demo: Seeded, size: tuple[int, int]) -> None:
    app = build_app(demo, language="zh_CN")
    assert snap_compare(
        app, terminal_size=size, run_before=opening("REF-1001", demo, "c", "p", "o", "k")
    )
