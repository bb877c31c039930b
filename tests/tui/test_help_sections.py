"""The help screen lists the keys of every screen: each screen of tui/screens with keys of its own
is found by walking the package (so a new screen cannot be forgotten), and the help opened from it
shows its keys first."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterable

from textual.binding import Binding, BindingType
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Static

import collector_tui.tui.screens as screens_package
from collector_tui.tui.app import CollectorApp
from collector_tui.tui.screens.help import HelpScreen, help_sections

from .conftest import build_app, drive, login, rendered, settle
from .seed import Seeded

# The help itself: its keys (escape, ? to close) are in its own footer.
NOT_IN_HELP = {HelpScreen}


def keys(bindings: Iterable[BindingType]) -> set[tuple[str, str]]:
    """(key, action) pairs, one per key of a comma-separated binding."""
    return {
        (binding.key, binding.action)
        for binding in Binding.make_bindings(bindings)
        if binding.action != "noop"
    }


def screens_with_keys() -> dict[type[Screen[object]], set[tuple[str, str]]]:
    """Every Screen class defined in tui/screens whose class body declares BINDINGS."""
    found: dict[type[Screen[object]], set[tuple[str, str]]] = {}
    for module_info in pkgutil.iter_modules(screens_package.__path__):
        module = importlib.import_module(f"{screens_package.__name__}.{module_info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__ or not issubclass(cls, Screen):
                continue
            own = keys(cls.__dict__.get("BINDINGS", ()))
            if own:
                found[cls] = own
    return found


def test_the_walk_finds_the_screens() -> None:
    names = {cls.__name__ for cls in screens_with_keys()}
    # If this breaks, the walk broke, and the test below would pass for nothing.
    assert {
        "QueueScreen",
        "CaseScreen",
        "FormScreen",
        "SupervisorScreen",
        "SupervisorQueueScreen",
        "ImportScreen",
        "SyncScreen",
        "ExportDialog",
        "HelpScreen",
    } <= names


def test_every_screen_with_keys_is_in_the_help_first_when_it_asks() -> None:
    everything = keys(
        b for _, bindings in help_sections(None, CollectorApp.BINDINGS) for b in bindings
    )
    missing: dict[str, set[tuple[str, str]]] = {}
    not_first: dict[str, str] = {}
    for cls, own in screens_with_keys().items():
        if cls in NOT_IN_HELP:
            continue
        if not own <= everything:
            missing[cls.__name__] = own - everything
            continue
        title, first = help_sections(cls)[0]
        if not own <= keys(first):
            not_first[cls.__name__] = title
    assert not missing, f"screens whose keys the help does not list: {missing}"
    assert not not_first, f"help opened from these screens starts elsewhere: {not_first}"
    titles = [title for title, _ in help_sections()]
    assert len(titles) == len(set(titles))


def test_sync_and_the_supervisors_own_screens_have_their_sections() -> None:
    from collector_tui.tui.screens.supervision_forms import AssignForm
    from collector_tui.tui.screens.supervisor import SupervisorQueueScreen
    from collector_tui.tui.screens.sync import SyncScreen

    title, bindings = help_sections(SyncScreen)[0]
    assert title == "Sync" and keys(bindings) == {("escape", "back"), ("ctrl+s", "sync")}
    # The supervisor's own queue: its escape first, then the queue's keys.
    titles = [title for title, _ in help_sections(SupervisorQueueScreen)]
    assert titles[:2] == ["Supervisor's own queue", "Queue"]
    # A supervisor's dialog has no "save and next"; the agents' forms section follows.
    (title, dialog), (after, _) = help_sections(AssignForm)[:2]
    assert (title, after) == ("Supervisor's dialogs", "Forms")
    assert ("ctrl+s", "save") in keys(dialog)
    assert all(action != "save_next" for _, action in keys(dialog))
    # With no context the order is the help's own, "Everywhere" last.
    assert help_sections()[0][0] == "Queue" and help_sections()[-1][0] == "Everywhere"


def test_the_help_opened_from_sync_shows_its_keys_first(demo: Seeded) -> None:
    from collector_tui.tui.screens.sync import SyncScreen

    app = build_app(demo, "sam")

    async def scenario(pilot: Pilot[None]) -> None:
        await login(pilot)
        app.push_screen(HelpScreen(context=SyncScreen))
        await settle(pilot)
        sections = [rendered(s) for s in app.screen.query(".help-section").results(Static)]
        assert sections[0].lstrip().startswith("Sync")
        assert "Push, then pull" in sections[0]
        assert any(section.lstrip().startswith("Import") for section in sections)

    drive(app, scenario, size=(80, 24))
