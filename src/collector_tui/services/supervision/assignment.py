"""Who works a case: moving cases between agents, auto-balancing, their history
(docs/decisions.md, data model).

Every move writes an `Assignment` row (from, to, moved by, when, why) and an audit event, and
re-places the case in the queue in the same transaction, so a moved case is never in two queues
nor in none. Open follow-ups that an agent owned on a moved case go with the case: the old agent
can no longer open it, and a callback nobody can make would silently rot.

Auto-balance spreads cases (chosen ones, or every open unassigned one) over chosen agents: largest
balance first, each to the agent with the fewest open cases, ties to the one with the smallest
balance in that case's currency (balances of different currencies never add up). The agents'
existing open cases count, so a balance evens out the load rather than only the new cases.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, func, select

from collector_tui.config import Settings
from collector_tui.db import in_batches
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.models import OPEN_STATUSES, Assignment, Case, FollowUp, Role, User
from collector_tui.services import audit, reasons
from collector_tui.services.accounts import Actor, ensure_case_access
from collector_tui.services.casework.change import case_state, changing, finish_case_change
from collector_tui.services.context import reads, writes
from collector_tui.services.errors import Forbidden, InvalidInput, NotFound

MAX_REASON = reasons.MAX_REASON  # the one bound (services/reasons.py)


def _check_reason(reason: str | None) -> str | None:
    return reasons.check_reason(reason, required=False, what=N_("the reason"))


def _target(session: Session, to_user_id: uuid.UUID | None) -> User | None:
    if to_user_id is None:
        return None
    user = session.get(User, to_user_id)
    if user is None:
        raise NotFound(_("no such user to assign to"))
    if not user.active:
        raise InvalidInput(
            _("{username} is not an active user").format(username=user.username), field="to_user"
        )
    return user


def _load_cases(session: Session, case_ids: Sequence[uuid.UUID]) -> list[Case]:
    found: dict[uuid.UUID, Case] = {}
    for batch in in_batches(case_ids):
        for case in session.exec(select(Case).where(col(Case.id).in_(batch))):
            found[case.id] = case
    missing = [case_id for case_id in case_ids if case_id not in found]
    if missing:
        if len(missing) == 1:
            raise NotFound(_("no case with id {id}").format(id=missing[0]))
        raise NotFound(
            _("no case with id {id} and {count} more").format(id=missing[0], count=len(missing) - 1)
        )
    return [found[case_id] for case_id in case_ids]


def _move_follow_ups(
    session: Session, now: datetime, actor: Actor, case: Case, target: User
) -> None:
    agent_owned = (
        select(FollowUp)
        .join(User, col(User.id) == col(FollowUp.owner_id))
        .where(
            FollowUp.case_id == case.id,
            col(FollowUp.done_at).is_(None),
            FollowUp.owner_id != target.id,
            User.role == Role.agent.value,
        )
    )
    for follow_up in session.exec(agent_owned).all():
        before = follow_up.owner_id
        follow_up.owner_id = target.id
        follow_up.updated_at = now
        session.add(follow_up)
        audit.record(
            session=session,
            now=now,
            user_id=actor.user_id,
            entity="follow_up",
            entity_id=follow_up.id,
            action="reassign",
            before={"owner_id": before},
            after={"owner_id": target.id},
        )


def _move_cases(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    cases: Sequence[Case],
    target: User | None,
    settings: Settings,
    why: str | None,
) -> int:
    """Move checked cases to `target` (None: unassign); cases already there are left alone."""
    to_user_id = target.id if target is not None else None
    moved = 0
    with changing(session):
        for case in cases:
            if case.assigned_to_id == to_user_id:
                continue
            before = case_state(case)
            previous = case.assigned_to_id
            case.assigned_to_id = to_user_id
            history = Assignment(
                case_id=case.id,
                from_user_id=previous,
                to_user_id=to_user_id,
                moved_by_id=actor.user_id,
                at=now,
                reason=why,
            )
            session.add(history)
            session.flush()
            audit.record(
                session=session,
                now=now,
                user_id=actor.user_id,
                entity="case",
                entity_id=case.id,
                action="assign",
                before={"assigned_to_id": previous},
                after={"assigned_to_id": to_user_id, "reason": why, "assignment_id": history.id},
            )
            if target is not None:
                _move_follow_ups(session, now, actor, case, target)
            finish_case_change(
                session=session,
                now=now,
                settings=settings,
                case=case,
                before=before,
                user_id=actor.user_id,
            )
            moved += 1
    return moved


@writes
def assign_cases(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    case_ids: Sequence[uuid.UUID],
    to_user_id: uuid.UUID | None,
    settings: Settings,
    reason: str | None = None,
) -> int:
    """Give the cases to `to_user_id` (None: unassign them). Supervisors and admins only.

    Returns how many cases moved; a case already with that user is left alone (no history row).
    Nothing is written unless every case exists and the target user can take them.
    """
    if not actor.is_supervisor:
        raise Forbidden(_("only a supervisor can assign cases"))
    why = _check_reason(reason)
    target = _target(session, to_user_id)
    unique = list(dict.fromkeys(case_ids))
    cases = _load_cases(session, unique)
    return _move_cases(
        session=session,
        now=now,
        actor=actor,
        cases=cases,
        target=target,
        settings=settings,
        why=why,
    )


@dataclass(frozen=True)
class AssignmentView:
    id: uuid.UUID
    case_id: uuid.UUID
    from_user_id: uuid.UUID | None
    to_user_id: uuid.UUID | None
    moved_by_id: uuid.UUID | None
    at: datetime
    reason: str | None


@reads
def assignment_history(
    *, session: Session, case_id: uuid.UUID, actor: Actor | None = None
) -> list[AssignmentView]:
    """The case's moves, oldest first; with `actor`, only if the actor may see the case."""
    if actor is not None:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound(_("no such case"))
        ensure_case_access(actor, case)
    statement = select(Assignment).where(Assignment.case_id == case_id).order_by(col(Assignment.at))
    return [
        AssignmentView(
            row.id,
            row.case_id,
            row.from_user_id,
            row.to_user_id,
            row.moved_by_id,
            row.at,
            row.reason,
        )
        for row in session.exec(statement)
    ]


# --- auto-balance --------------------------------------------------------------------------------

BALANCE_REASON = "auto-balance"


@dataclass(frozen=True)
class BalanceCase:
    case_id: uuid.UUID
    currency: str
    balance: int


@dataclass(frozen=True)
class AgentLoad:
    """What an agent already holds: open cases, and their balance per currency."""

    open_cases: int = 0
    balances: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class BalanceShare:
    agent_id: uuid.UUID
    username: str
    cases: int  # cases this balance gave the agent
    balances: tuple[tuple[str, int], ...]  # their balance per currency, by currency


@dataclass(frozen=True)
class BalanceResult:
    considered: int  # cases spread
    moved: int  # of which changed hands (one already with its chosen agent stays, unrecorded)
    shares: tuple[BalanceShare, ...]  # in the order the agents were given


def plan_balance(
    cases: Sequence[BalanceCase], loads: Mapping[uuid.UUID, AgentLoad]
) -> dict[uuid.UUID, uuid.UUID]:
    """Case id -> agent id. Greedy and deterministic: by currency, largest balance first, each
    case to the agent with the fewest cases, then the smallest balance in its currency, then the
    first in `loads` order. Agents that start level end at most one case apart."""
    if not loads:
        raise InvalidInput(_("choose at least one agent"), field="agents")
    agents = list(loads)
    counts = {agent: loads[agent].open_cases for agent in agents}
    money: dict[uuid.UUID, dict[str, int]] = {
        agent: dict(loads[agent].balances) for agent in agents
    }
    order = {agent: index for index, agent in enumerate(agents)}
    plan: dict[uuid.UUID, uuid.UUID] = {}
    for case in sorted(cases, key=lambda c: (c.currency, -c.balance, str(c.case_id))):
        if case.case_id in plan:
            continue
        chosen = min(
            agents,
            key=lambda a: (counts[a], money[a].get(case.currency, 0), order[a]),
        )
        plan[case.case_id] = chosen
        counts[chosen] += 1
        money[chosen][case.currency] = money[chosen].get(case.currency, 0) + case.balance
    return plan


def _current_loads(
    session: Session,
    agents: Sequence[User],
    leaving: Sequence[BalanceCase],
    holders: Mapping[uuid.UUID, uuid.UUID | None],
) -> dict[uuid.UUID, AgentLoad]:
    """Each agent's open cases and balances, less the cases being spread again."""
    ids = [agent.id for agent in agents]
    counts: dict[uuid.UUID, int] = dict.fromkeys(ids, 0)
    money: dict[uuid.UUID, dict[str, int]] = {agent_id: {} for agent_id in ids}
    statement = (
        select(col(Case.assigned_to_id), col(Case.currency), func.count(), func.sum(Case.balance))
        .where(col(Case.assigned_to_id).in_(ids), col(Case.status).in_(OPEN_STATUSES))
        .group_by(col(Case.assigned_to_id), col(Case.currency))
    )
    for agent_id, currency, count, balance in session.execute(statement).all():
        counts[agent_id] += int(count)
        money[agent_id][currency] = int(balance or 0)
    for case in leaving:
        holder = holders.get(case.case_id)
        if holder in counts:
            counts[holder] -= 1
            money[holder][case.currency] = money[holder].get(case.currency, 0) - case.balance
    return {agent_id: AgentLoad(counts[agent_id], money[agent_id]) for agent_id in ids}


def _balance_targets(session: Session, agent_ids: Sequence[uuid.UUID]) -> list[User]:
    unique = list(dict.fromkeys(agent_ids))
    if not unique:
        raise InvalidInput(_("choose at least one agent to spread the cases over"), field="agents")
    targets: list[User] = []
    for agent_id in unique:
        user = _target(session, agent_id)
        assert user is not None
        targets.append(user)
    return targets


@dataclass(frozen=True)
class _BalancePlan:
    targets: list[User]
    chosen: list[BalanceCase]
    holders: dict[uuid.UUID, uuid.UUID | None]
    by_agent: dict[uuid.UUID, list[uuid.UUID]]

    def shares(self) -> tuple[BalanceShare, ...]:
        amounts = {case.case_id: case for case in self.chosen}
        shares: list[BalanceShare] = []
        for user in self.targets:
            given = self.by_agent[user.id]
            per_currency: dict[str, int] = {}
            for case_id in given:
                case = amounts[case_id]
                per_currency[case.currency] = per_currency.get(case.currency, 0) + case.balance
            shares.append(
                BalanceShare(
                    user.id, user.username, len(given), tuple(sorted(per_currency.items()))
                )
            )
        return tuple(shares)

    def changing_hands(self) -> int:
        return sum(
            1
            for agent_id, given in self.by_agent.items()
            for case_id in given
            if self.holders.get(case_id) != agent_id
        )


def _plan(
    session: Session,
    actor: Actor,
    agent_ids: Sequence[uuid.UUID],
    case_ids: Sequence[uuid.UUID] | None,
) -> _BalancePlan:
    """Which agent each case goes to, read from the database as it is now; writes nothing."""
    if not actor.is_supervisor:
        raise Forbidden(_("only a supervisor can balance workloads"))
    targets = _balance_targets(session, agent_ids)
    holders: dict[uuid.UUID, uuid.UUID | None] = {}
    chosen: list[BalanceCase] = []
    if case_ids is None:
        statement = (
            select(col(Case.id), col(Case.currency), col(Case.balance))
            .where(col(Case.assigned_to_id).is_(None), col(Case.status).in_(OPEN_STATUSES))
            .order_by(col(Case.id))
        )
        for case_id, currency, balance in session.execute(statement).all():
            chosen.append(BalanceCase(case_id, currency, int(balance)))
            holders[case_id] = None
    else:
        unique = list(dict.fromkeys(case_ids))
        for case in _load_cases(session, unique):
            chosen.append(BalanceCase(case.id, case.currency, case.balance))
            holders[case.id] = case.assigned_to_id
    loads = _current_loads(session, targets, chosen, holders)
    plan = plan_balance(chosen, loads)
    by_agent: dict[uuid.UUID, list[uuid.UUID]] = {user.id: [] for user in targets}
    for balance_case in chosen:
        by_agent[plan[balance_case.case_id]].append(balance_case.case_id)
    return _BalancePlan(targets, chosen, holders, by_agent)


@reads
def preview_balance(
    *,
    session: Session,
    actor: Actor,
    agent_ids: Sequence[uuid.UUID],
    case_ids: Sequence[uuid.UUID] | None = None,
) -> BalanceResult:
    """What `auto_balance` with the same arguments would do now, without doing it: who gets how
    many cases (and their balance per currency), and how many change hands."""
    plan = _plan(session, actor, agent_ids, case_ids)
    return BalanceResult(
        considered=len(plan.chosen), moved=plan.changing_hands(), shares=plan.shares()
    )


@writes
def auto_balance(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    settings: Settings,
    agent_ids: Sequence[uuid.UUID],
    case_ids: Sequence[uuid.UUID] | None = None,
    reason: str | None = None,
) -> BalanceResult:
    """Spread `case_ids` (None: every open unassigned case) over `agent_ids` by count and balance.

    Every move is an Assignment row (moved by the actor, reason "auto-balance: ...") and an audit
    event, the case re-placed in its new queue; one more audit event records the balance as a
    whole. Supervisors and admins only; nothing is written unless all of it can be.
    """
    if not actor.is_supervisor:
        raise Forbidden(_("only a supervisor can balance workloads"))
    why = _check_reason(reason)
    label = f"{BALANCE_REASON}: {why}" if why else BALANCE_REASON
    balance_plan = _plan(session, actor, agent_ids, case_ids)
    targets, chosen, by_agent = balance_plan.targets, balance_plan.chosen, balance_plan.by_agent

    moved = 0
    for user in targets:
        given = by_agent[user.id]
        if given:
            moved += _move_cases(
                session=session,
                now=now,
                actor=actor,
                cases=_load_cases(session, given),
                target=user,
                settings=settings,
                why=label[:MAX_REASON],
            )
    shares = list(balance_plan.shares())
    audit.record(
        session=session,
        now=now,
        user_id=actor.user_id,
        entity="workload",
        entity_id=uuid.uuid4(),
        action="balance",
        after={
            "reason": why,
            "cases": len(chosen),
            "moved": moved,
            "source": "unassigned" if case_ids is None else "selected",
            "shares": {share.username: share.cases for share in shares},
        },
    )
    session.flush()
    return BalanceResult(considered=len(chosen), moved=moved, shares=tuple(shares))
