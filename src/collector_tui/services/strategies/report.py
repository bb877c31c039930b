"""Champion against challenger: each strategy's groups side by side, with the counts behind every
rate (`report strategies`, the reports dashboard).

Per strategy and group, over every case the group holds (closed ones too: a paid case is the
outcome being measured):

- cases: the cases in the group;
- contacted / contact_rate: cases with at least one live attempt a person answered
  (a `connected` disposition, services/rules/dispositions.py) / cases;
- rpc / rpc_rate: cases with at least one live right-party contact / cases;
- promises_made: promises taken on the cases (plan instalments each count; cancelled ones not);
  promises_kept: of those, the ones kept; promise_kept_rate = kept / made;
- placed, collected (per currency): what was placed (principal + fees + interest) and the
  payments received net of reversals; liquidation_rate per currency = collected / placed;
  collected_per_case per currency = collected / the group's cases in that currency.

A "live" attempt is one no correction replaced (a correction counts instead of the row it voids).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import exists
from sqlalchemy import select as core_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from collector_tui.models import Activity, Case, Payment, Promise, PromiseStatus
from collector_tui.services.accounts import Actor
from collector_tui.services.context import reads
from collector_tui.services.rules.dispositions import DISPOSITIONS

__all__ = ["GroupOutcome", "rate", "strategy_outcomes"]

RATE_PLACES = Decimal("0.0001")


def rate(numerator: int, denominator: int) -> Decimal | None:
    """numerator / denominator to four places (None: nothing to divide by)."""
    if denominator <= 0:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATE_PLACES, ROUND_HALF_UP)


@dataclass(frozen=True)
class GroupOutcome:
    strategy: str
    group: str
    cases: int
    contacted: int
    rpc: int
    promises_made: int
    promises_kept: int
    cases_by_currency: dict[str, int] = field(default_factory=dict)
    placed: dict[str, int] = field(default_factory=dict)  # minor units per currency
    collected: dict[str, int] = field(default_factory=dict)

    @property
    def contact_rate(self) -> Decimal | None:
        return rate(self.contacted, self.cases)

    @property
    def rpc_rate(self) -> Decimal | None:
        return rate(self.rpc, self.cases)

    @property
    def promise_kept_rate(self) -> Decimal | None:
        return rate(self.promises_kept, self.promises_made)

    def liquidation_rate(self, currency: str) -> Decimal | None:
        return rate(self.collected.get(currency, 0), self.placed.get(currency, 0))

    def collected_per_case(self, currency: str) -> int:
        """Minor units, rounded half up."""
        cases = self.cases_by_currency.get(currency, 0)
        if not cases:
            return 0
        exact = Decimal(self.collected.get(currency, 0)) / Decimal(cases)
        return int(exact.quantize(Decimal(1), ROUND_HALF_UP))


def _codes(right_party: bool) -> list[str]:
    return sorted(
        code for code, d in DISPOSITIONS.items() if (d.right_party if right_party else d.connected)
    )


def _cases_with(session: Session, codes: list[str]) -> dict[uuid.UUID, bool]:
    correction = aliased(Activity)
    rows = session.exec(
        select(Activity.case_id)
        .where(
            col(Activity.channel) != "note",
            col(Activity.disposition).in_(codes),
            ~exists().where(col(correction.voids_id) == col(Activity.id)),
        )
        .distinct()
    ).all()
    return dict.fromkeys(rows, True)


@reads
def strategy_outcomes(*, session: Session, actor: Actor | None = None) -> list[GroupOutcome]:
    """Every strategy's groups, by strategy name, champion first. An agent's covers their cases."""
    statement = core_select(
        col(Case.id), col(Case.strategy), col(Case.strategy_group), col(Case.currency),
        col(Case.principal) + col(Case.fees) + col(Case.interest),
    ).where(col(Case.strategy).is_not(None))  # fmt: skip
    if actor is not None and not actor.is_supervisor:
        statement = statement.where(col(Case.assigned_to_id) == actor.user_id)
    cases = session.execute(statement).all()
    if not cases:
        return []
    contacted = _cases_with(session, _codes(right_party=False))
    spoke = _cases_with(session, _codes(right_party=True))
    made: dict[uuid.UUID, int] = defaultdict(int)
    kept: dict[uuid.UUID, int] = defaultdict(int)
    for case_id, status, count in session.exec(
        select(Promise.case_id, Promise.status, func.count())
        .where(col(Promise.status) != PromiseStatus.cancelled.value)
        .group_by(col(Promise.case_id), col(Promise.status))
    ).all():
        made[case_id] += int(count)
        if status == PromiseStatus.kept.value:
            kept[case_id] += int(count)
    paid = dict(
        session.exec(
            select(Payment.case_id, func.sum(Payment.amount)).group_by(col(Payment.case_id))
        ).all()
    )

    @dataclass
    class _Sum:
        cases: int = 0
        contacted: int = 0
        rpc: int = 0
        made: int = 0
        kept: int = 0
        by_currency: dict[str, int] = field(default_factory=lambda: defaultdict(int))
        placed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
        collected: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    sums: dict[tuple[str, str], _Sum] = defaultdict(_Sum)
    for case_id, strategy, group, currency, placed in cases:
        s = sums[(str(strategy), str(group))]
        s.cases += 1
        s.contacted += case_id in contacted
        s.rpc += case_id in spoke
        s.made += made.get(case_id, 0)
        s.kept += kept.get(case_id, 0)
        s.by_currency[currency] += 1
        s.placed[currency] += int(placed)
        s.collected[currency] += int(paid.get(case_id) or 0)
    order = {"champion": 0, "challenger": 1}
    return [
        GroupOutcome(
            strategy=strategy,
            group=group,
            cases=s.cases,
            contacted=s.contacted,
            rpc=s.rpc,
            promises_made=s.made,
            promises_kept=s.kept,
            cases_by_currency=dict(sorted(s.by_currency.items())),
            placed=dict(sorted(s.placed.items())),
            collected=dict(sorted(s.collected.items())),
        )
        for (strategy, group), s in sorted(
            sums.items(), key=lambda item: (item[0][0], order.get(item[0][1], 2), item[0][1])
        )
    ]
