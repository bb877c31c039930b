"""The one object a face hands to services: where the data is, what time it is, who is acting, and
the team's settings — and the unit of work each service declares.

A service function is written against a `Session` (so services compose inside one transaction, and
tests and sync call them directly), and declares with `@reads` or `@writes` which unit of work it
needs. A face never opens a session: it calls `context.run(service, **arguments)`, which opens a
short unit of the declared kind, passes `session`, and `now`, `actor` and `settings` where the
service takes them, and commits (a write) or rolls back on any error. So a screen does not need to
know that building a queue writes (it sweeps broken promises first): the queue says so itself.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, TypeVar

if TYPE_CHECKING:
    from collector_tui.clock import Clock
    from collector_tui.config import Settings
    from collector_tui.db import Store
    from collector_tui.services.accounts import Actor  # accounts uses this module's decorators

# Store is named here too (for annotations only: importing this module loads no database code) so
# that a face can type what it hands over without importing core's db.
__all__ = ["Context", "Service", "Store", "Unit", "reads", "takes", "unit_of", "writes"]

Unit = Literal["read", "write"]
Service = TypeVar("Service", bound=Callable[..., Any])
Result = TypeVar("Result")

_UNIT = "__collector_unit__"
_INJECTED = ("now", "actor", "settings")


def _declare(unit: Unit) -> Callable[[Service], Service]:
    def mark(service: Service) -> Service:
        setattr(service, _UNIT, unit)
        return service

    return mark


reads = _declare("read")
writes = _declare("write")


def unit_of(service: Callable[..., Any]) -> Unit | None:
    unit: Unit | None = getattr(service, _UNIT, None)
    return unit


@lru_cache(maxsize=512)
def _parameters(service: Callable[..., Any]) -> frozenset[str]:
    return frozenset(inspect.signature(service).parameters)


def takes(service: Callable[..., Any], name: str) -> bool:
    """Whether `service` has a parameter `name` (a face asks before it logs someone in)."""
    return name in _parameters(service)


@dataclass(frozen=True)
class Context:
    store: Store
    clock: Clock
    settings: Settings
    actor: Actor | None = None

    def now(self) -> datetime:
        return self.clock.now()

    def acting_as(self, actor: Actor | None) -> Context:
        return replace(self, actor=actor)

    def run(self, service: Callable[..., Result], /, **arguments: Any) -> Result:
        """Run `service` in one unit of work of the kind it declares."""
        unit = unit_of(service)
        if unit is None:
            raise TypeError(f"{service.__qualname__} does not declare @reads or @writes")
        wanted = _parameters(service)
        given: dict[str, Any] = {"now": self.now(), "actor": self.actor, "settings": self.settings}
        for name in _INJECTED:
            if name in wanted and name not in arguments:
                if name == "actor" and self.actor is None:
                    raise TypeError(f"{service.__qualname__} needs an actor; nobody is logged in")
                arguments[name] = given[name]
        opened = self.store.write() if unit == "write" else self.store.read()
        with opened as session:
            return service(session=session, **arguments)
