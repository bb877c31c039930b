"""Strategies in force: checking and applying a file, assigning cases, the case's strategy, the
escalations due.

A file is only input. `apply_strategy_file` checks it whole (book.py) before anything is written,
then stores it as the next `strategy_set` version (the newest is in force; a bad file leaves the
previous set working) and assigns every open case: the rule that matches it now gives its
strategy. A case keeps its group (champion or challenger) unless the rule that placed it changed;
a new or re-placed case is drawn by a stable hash of (client, client reference, strategy name),
so a rerun draws the same. Every change to a case's strategy is audited with before and after.
Placement (the import) assigns its new cases by the set in force, in the same transaction.

Strategies are the master's: a laptop neither applies a file nor moves a case between groups
(services/sync/policy.py: the case's strategy fields are master-owned).
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, func, select

from collector_tui.config import Settings
from collector_tui.i18n import _
from collector_tui.models import (
    CLOSED_STATUSES,
    Case,
    CaseStatus,
    Debtor,
    Promise,
    PromiseStatus,
    StrategySet,
    SyncState,
    User,
)
from collector_tui.services import audit
from collector_tui.services.accounts import Actor, ensure_case_access, require_supervisor
from collector_tui.services.assessment import model as risk
from collector_tui.services.casework.change import case_state, changing, finish_case_change
from collector_tui.services.context import reads, writes
from collector_tui.services.errors import Forbidden, InvalidInput, NotFound
from collector_tui.services.reminders.sequences import RulesError, load_rules
from collector_tui.services.rules import scoring
from collector_tui.services.strategies.book import (
    CHALLENGER,
    CHAMPION,
    Escalation,
    Rule,
    Strategy,
    StrategyBook,
    Traits,
    Treatment,
    book_from_json,
    parse_book,
)

__all__ = [
    "AppliedSet",
    "CaseStrategy",
    "DueEscalation",
    "FileCheck",
    "SetView",
    "apply_strategy_file",
    "apply_strategy_text",
    "assign_new_cases",
    "case_strategy",
    "case_key",
    "check_strategy_file",
    "draw_group",
    "due_escalations",
    "escalate_due",
    "strategy_in_force",
]

MAX_FILE_BYTES = 1_000_000
_BATCH = 500


def case_key(case: Case) -> str:
    """What the draw reads of a case: its identity as the client knows it (client and reference,
    unique together), the same on the master, on a laptop and in a rebuilt database."""
    return f"{case.client}\x1f{case.client_ref}"


def draw_group(key: str, strategy: str, share: int) -> str:
    """The case's group in the strategy: a stable draw, the same on every rerun and machine
    (a hash of the case's key and the strategy's name, read as a number from 0 to 9999)."""
    if share <= 0:
        return CHAMPION
    digest = hashlib.sha256(f"{key}\x1f{strategy}".encode()).digest()
    return CHALLENGER if int.from_bytes(digest[:8], "big") % 10_000 < share * 100 else CHAMPION


# --- results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupCount:
    strategy: str
    group: str
    cases: int


@dataclass(frozen=True)
class FileCheck:
    """A file checked: what it holds and what applying it now would do."""

    source: str
    title: str
    strategies: tuple[str, ...]
    rules: int
    counts: tuple[GroupCount, ...]  # open cases per strategy and group, after applying
    would_change: int  # cases whose strategy, group or treatment would change
    would_switch_group: int  # of those, cases already placed whose group would change


@dataclass(frozen=True)
class AppliedSet:
    version: int
    source: str
    counts: tuple[GroupCount, ...]
    assigned: int  # cases that had no strategy
    switched: int  # cases moved to another strategy or group (their rule changed)
    updated: int  # cases whose treatment changed, strategy and group kept
    unchanged: int


@dataclass(frozen=True)
class SetView:
    version: int
    source: str
    title: str
    applied_at: datetime
    applied_by: str | None
    text: str
    strategies: tuple[dict[str, Any], ...]
    rules: tuple[dict[str, Any], ...]
    counts: tuple[GroupCount, ...]


@dataclass(frozen=True)
class CaseStrategy:
    case_id: uuid.UUID
    strategy: str | None  # None: no strategy set applied yet
    group: str | None
    reason: str | None
    treatment: dict[str, Any]
    escalation_due: Escalation | None
    p: float | None  # the p the escalation was judged on (None: none to judge)
    days_placed: int


@dataclass(frozen=True)
class DueEscalation:
    case_id: uuid.UUID
    client_ref: str
    strategy: str
    group: str
    status: str
    days_placed: int
    p: float
    p_below: float
    after_days: int
    to: str


# --- reading the file and the set -----------------------------------------------------------------


def _sequence_names(settings: Settings) -> frozenset[str]:
    try:
        return frozenset(load_rules(settings).sequences)
    except RulesError as error:
        raise InvalidInput(
            _("the reminder sequences cannot be read to check the file: {error}").format(
                error=error
            )
        ) from None


def _read_file(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InvalidInput(
                _("{name}: larger than {max} bytes").format(name=path.name, max=MAX_FILE_BYTES)
            )
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(_("{name}: not UTF-8 text").format(name=path.name)) from None
    except OSError as error:
        raise InvalidInput(
            _("{name}: cannot be read ({error})").format(
                name=path.name, error=error.strerror or error
            )
        ) from None


def _book_of(path: Path, settings: Settings) -> tuple[StrategyBook, str]:
    text = _read_file(path)
    return parse_book(text, path.name, sequences=_sequence_names(settings)), text


def current_set(session: Session) -> StrategySet | None:
    return session.exec(
        select(StrategySet).order_by(col(StrategySet.version).desc()).limit(1)
    ).first()


def _book_in_force(session: Session) -> StrategyBook | None:
    row = current_set(session)
    return book_from_json(row.rules, row.source) if row is not None else None


def _is_laptop(session: Session) -> bool:
    row = session.get(SyncState, 1)
    return row is not None and row.role == "laptop"


# --- assigning ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Placement:
    strategy: str
    group: str
    reason: str
    treatment: dict[str, Any]


def _reason(rule: Rule) -> str:
    """The matched rule's conditions as the file gave them (its name is in the treatment)."""
    return (rule.words or "default rule")[:500]


def _treatment_json(treatment: Treatment, rule: Rule) -> dict[str, Any]:
    return {**treatment.as_dict(), "rule": rule.name}


def _place(case: Case, rule: Rule, strategy: Strategy) -> _Placement:
    stored_rule = (case.strategy_treatment or {}).get("rule")
    same_rule = case.strategy == strategy.name and stored_rule == rule.name
    if same_rule and case.strategy_group in (CHAMPION, CHALLENGER):
        group = case.strategy_group
        if group == CHALLENGER and strategy.challenger is None:
            group = CHAMPION  # the challenger ended: its cases go back to the champion
    else:
        group = draw_group(case_key(case), strategy.name, strategy.share)
    return _Placement(
        strategy.name,
        group,
        _reason(rule),
        _treatment_json(strategy.treatment(group), rule),
    )


def _probabilities(
    session: Session, pairs: Sequence[tuple[Case, Debtor]], now: datetime, settings: Settings
) -> dict[uuid.UUID, float]:
    """p per case: the fitted model's, or the rule score's likelihood while none is fitted."""
    if not pairs:
        return {}
    fitted = risk.current_model(session)
    if fitted is not None:
        rows = risk.feature_rows(session, pairs)
        return {
            case.id: risk.probability(fitted, row)
            for (case, _debtor), row in zip(pairs, rows, strict=True)
        }
    ids = [case.id for case, _ in pairs]
    broken = dict(
        session.exec(
            select(Promise.case_id, func.count())
            .where(col(Promise.case_id).in_(ids), Promise.status == PromiseStatus.broken)
            .group_by(col(Promise.case_id))
        ).all()
    )
    today = now.date()
    found = {}
    for case, debtor in pairs:
        recent = case.last_contact_at is not None and now - case.last_contact_at <= timedelta(
            days=settings.weights.recent_contact_days
        )
        found[case.id] = (
            scoring.likelihood_pct(
                risk_grade=debtor.risk_grade,
                dpd=scoring.days_past_due(case.due_date, today),
                broken_promises=int(broken.get(case.id, 0)),
                recent_contact=recent,
                weights=settings.weights,
            )
            / 100
        )
    return found


def _traits(case: Case, debtor: Debtor, p: float, now: datetime) -> Traits:
    return Traits(
        client=case.client,
        country=debtor.country,
        currency=case.currency,
        balance=case.balance,
        dpd=scoring.days_past_due(case.due_date, now.date()),
        grade=debtor.risk_grade,
        p=p,
    )


def _open_case_ids(session: Session, case_ids: Iterable[uuid.UUID] | None) -> list[uuid.UUID]:
    statement = select(Case.id).where(col(Case.status).not_in(list(CLOSED_STATUSES)))
    if case_ids is not None:
        wanted = list(case_ids)
        if not wanted:
            return []
        statement = statement.where(col(Case.id).in_(wanted))
    return list(session.exec(statement.order_by(col(Case.id))).all())


def _pairs(session: Session, ids: Sequence[uuid.UUID]) -> list[tuple[Case, Debtor]]:
    rows = session.exec(
        select(Case, Debtor)
        .join(Debtor, col(Debtor.id) == Case.debtor_id)
        .where(col(Case.id).in_(list(ids)))
    ).all()
    by_id = {case.id: (case, debtor) for case, debtor in rows}
    return [by_id[i] for i in ids if i in by_id]


@dataclass
class _Tally:
    counts: Counter[tuple[str, str]]
    assigned: int = 0
    switched: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_counts(self) -> tuple[GroupCount, ...]:
        return tuple(
            GroupCount(strategy, group, n) for (strategy, group), n in sorted(self.counts.items())
        )


def _walk(
    session: Session,
    book: StrategyBook,
    case_ids: Sequence[uuid.UUID],
    now: datetime,
    settings: Settings,
    write: Any,
) -> _Tally:
    """Place each case by the book; `write(case, placement)` (None: a dry run) applies one."""
    tally = _Tally(Counter())
    for start in range(0, len(case_ids), _BATCH):
        pairs = _pairs(session, case_ids[start : start + _BATCH])
        p = _probabilities(session, pairs, now, settings) if book.uses_p else {}
        for case, debtor in pairs:
            rule = book.rule_for(_traits(case, debtor, p.get(case.id, 0.0), now))
            placed = _place(case, rule, book.strategies[rule.strategy])
            tally.counts[(placed.strategy, placed.group)] += 1
            before = (case.strategy, case.strategy_group)
            if (placed.strategy, placed.group, placed.reason, placed.treatment) == (
                case.strategy,
                case.strategy_group,
                case.strategy_reason,
                case.strategy_treatment,
            ):
                tally.unchanged += 1
                continue
            if case.strategy is None:
                tally.assigned += 1
            elif before != (placed.strategy, placed.group):
                tally.switched += 1
            else:
                tally.updated += 1
            if write is not None:
                write(case, placed)
    return tally


def _audited(case: Case) -> dict[str, Any]:
    """What a strategy audit event says of the case: strategy, group and the rule that placed it."""
    return {
        "strategy": case.strategy,
        "strategy_group": case.strategy_group,
        "rule": (case.strategy_treatment or {}).get("rule"),
    }


def _writer(
    session: Session, now: datetime, settings: Settings, user_id: uuid.UUID | None, version: int
) -> Any:
    def write(case: Case, placed: _Placement) -> None:
        before = _audited(case)
        treatment_before = case.strategy_treatment
        weight_before = scoring.queue_weight_of(case)
        state = case_state(case)
        case.strategy = placed.strategy
        case.strategy_group = placed.group
        case.strategy_reason = placed.reason
        case.strategy_treatment = placed.treatment
        after = _audited(case)
        if treatment_before is not None and treatment_before != placed.treatment:
            # A new treatment of the same strategy and group: its before and after. A first
            # placement's treatment is the set version's (kept with the set), not repeated here.
            before["treatment"] = treatment_before
            after["treatment"] = placed.treatment
        audit.record(
            session=session,
            now=now,
            user_id=user_id,
            entity="case",
            entity_id=case.id,
            action="strategy",
            before=before,
            after={**after, "set_version": version},
        )
        if scoring.queue_weight_of(case) != weight_before:
            finish_case_change(
                session=session,
                now=now,
                settings=settings,
                case=case,
                before=state,
                user_id=user_id,
            )
        else:
            case.updated_at = now
            session.add(case)

    return write


def assign_new_cases(
    session: Session,
    *,
    now: datetime,
    settings: Settings,
    case_ids: Sequence[uuid.UUID],
    user_id: uuid.UUID | None,
) -> int:
    """Place cases just created (the placement import) by the set in force, inside the caller's
    transaction. Nothing without a set, or on a laptop. Returns the cases placed."""
    if not case_ids or _is_laptop(session):
        return 0
    row = current_set(session)
    if row is None:
        return 0
    book = book_from_json(row.rules, row.source)
    with changing(session):
        tally = _walk(
            session,
            book,
            list(case_ids),
            now,
            settings,
            _writer(session, now, settings, user_id, row.version),
        )
    return tally.assigned + tally.switched + tally.updated


@reads
def check_strategy_file(
    *, session: Session, now: datetime, settings: Settings, path: Path
) -> FileCheck:
    """Check a strategy file and say what applying it now would do; nothing is written."""
    book, _text = _book_of(Path(path), settings)
    tally = _walk(session, book, _open_case_ids(session, None), now, settings, None)
    return FileCheck(
        source=book.source,
        title=book.title,
        strategies=tuple(book.strategies),
        rules=len(book.rules),
        counts=tally.as_counts(),
        would_change=tally.assigned + tally.switched + tally.updated,
        would_switch_group=tally.switched,
    )


@writes
def apply_strategy_file(
    *, session: Session, now: datetime, actor: Actor, settings: Settings, path: Path
) -> AppliedSet:
    """Check the file whole, store it as the strategy set in force and assign every open case by
    it. A file refused leaves the set in force and every case as they were."""
    require_supervisor(actor, "apply a strategy file")
    path = Path(path)
    return apply_strategy_text(
        session=session,
        now=now,
        actor=actor,
        settings=settings,
        text=_read_file(path),
        source=path.name,
    )


@writes
def apply_strategy_text(
    *, session: Session, now: datetime, actor: Actor, settings: Settings, text: str, source: str
) -> AppliedSet:
    """`apply_strategy_file` for a file's text already read (`source` names it in messages)."""
    require_supervisor(actor, "apply a strategy file")
    if _is_laptop(session):
        raise Forbidden(_("strategies are applied on the master database, not on a laptop"))
    book = parse_book(text, source, sequences=_sequence_names(settings))
    previous = current_set(session)
    version = (previous.version if previous is not None else 0) + 1
    row = StrategySet(
        version=version,
        source=source[:500],
        text=text,
        rules=book.as_json(),
        applied_at=now,
        applied_by_id=actor.user_id,
    )
    session.add(row)
    session.flush()
    with changing(session):
        tally = _walk(
            session,
            book,
            _open_case_ids(session, None),
            now,
            settings,
            _writer(session, now, settings, actor.user_id, version),
        )
    audit.record(
        session=session,
        now=now,
        user_id=actor.user_id,
        entity="strategy_set",
        entity_id=row.id,
        action="apply",
        before={"version": previous.version if previous is not None else None},
        after={
            "version": version,
            "file": row.source,
            "assigned": tally.assigned,
            "switched": tally.switched,
            "updated": tally.updated,
            "unchanged": tally.unchanged,
        },
    )
    return AppliedSet(
        version=version,
        source=row.source,
        counts=tally.as_counts(),
        assigned=tally.assigned,
        switched=tally.switched,
        updated=tally.updated,
        unchanged=tally.unchanged,
    )


def _counts(session: Session) -> tuple[GroupCount, ...]:
    rows = session.exec(
        select(Case.strategy, Case.strategy_group, func.count())
        .where(col(Case.strategy).is_not(None), col(Case.status).not_in(list(CLOSED_STATUSES)))
        .group_by(col(Case.strategy), col(Case.strategy_group))
    ).all()
    return tuple(
        GroupCount(str(strategy), str(group), int(n))
        for strategy, group, n in sorted(rows, key=lambda r: (str(r[0]), str(r[1])))
    )


@reads
def strategy_in_force(*, session: Session) -> SetView | None:
    """The strategy set in force, with the open cases per strategy and group (None: none yet)."""
    row = current_set(session)
    if row is None:
        return None
    who = session.get(User, row.applied_by_id) if row.applied_by_id is not None else None
    strategies = tuple(
        {"name": name, **raw} for name, raw in row.rules.get("strategies", {}).items()
    )
    return SetView(
        version=row.version,
        source=row.source,
        title=str(row.rules.get("title", row.source)),
        applied_at=row.applied_at,
        applied_by=who.username if who is not None else None,
        text=row.text,
        strategies=strategies,
        rules=tuple(row.rules.get("rules", [])),
        counts=_counts(session),
    )


# --- escalations ----------------------------------------------------------------------------------


def _due(treatment: dict[str, Any], days_placed: int, p: float) -> Escalation | None:
    for raw in treatment.get("escalations") or []:
        escalation = Escalation(int(raw["after_days"]), float(raw["p_below"]), str(raw["to"]))
        if days_placed >= escalation.after_days and p < escalation.p_below:
            return escalation
    return None


def _escalable(case: Case) -> bool:
    return case.status not in CLOSED_STATUSES and case.status != CaseStatus.legal


@reads
def case_strategy(
    *, session: Session, now: datetime, actor: Actor, settings: Settings, case_id: uuid.UUID
) -> CaseStrategy:
    """The case's strategy, group, why, treatment, and whether an escalation point is due."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(_("no such case"))
    ensure_case_access(actor, case)
    treatment = dict(case.strategy_treatment or {})
    days = max(0, (now.date() - case.placed_date).days)
    due = None
    p = None
    debtor = session.get(Debtor, case.debtor_id)
    if treatment.get("escalations") and debtor is not None and _escalable(case):
        p = _probabilities(session, [(case, debtor)], now, settings)[case.id]
        due = _due(treatment, days, p)
    return CaseStrategy(
        case_id=case.id,
        strategy=case.strategy,
        group=case.strategy_group,
        reason=case.strategy_reason,
        treatment=treatment,
        escalation_due=due,
        p=p,
        days_placed=days,
    )


@reads
def due_escalations(
    *, session: Session, now: datetime, actor: Actor, settings: Settings
) -> list[DueEscalation]:
    """Open cases whose strategy's escalation point is reached (days since placement, p below),
    not yet with legal; for supervisors."""
    require_supervisor(actor, "list the escalations due")
    ids = list(
        session.exec(
            select(Case.id)
            .where(
                col(Case.strategy_treatment).is_not(None),
                col(Case.status).not_in([*CLOSED_STATUSES, CaseStatus.legal.value]),
            )
            .order_by(col(Case.placed_date), col(Case.client_ref))
        ).all()
    )
    found: list[DueEscalation] = []
    for start in range(0, len(ids), _BATCH):
        pairs = [
            (case, debtor)
            for case, debtor in _pairs(session, ids[start : start + _BATCH])
            if (case.strategy_treatment or {}).get("escalations")
        ]
        p = _probabilities(session, pairs, now, settings)
        for case, _debtor in pairs:
            days = max(0, (now.date() - case.placed_date).days)
            due = _due(case.strategy_treatment or {}, days, p[case.id])
            if due is None:
                continue
            found.append(
                DueEscalation(
                    case_id=case.id,
                    client_ref=case.client_ref,
                    strategy=str(case.strategy),
                    group=str(case.strategy_group),
                    status=case.status,
                    days_placed=days,
                    p=p[case.id],
                    p_below=due.p_below,
                    after_days=due.after_days,
                    to=due.to,
                )
            )
    return found


@writes
def escalate_due(
    *, session: Session, now: datetime, actor: Actor, settings: Settings
) -> list[DueEscalation]:
    """Send every case whose escalation point is due to legal, through the supervisors' own
    legal escalation (a legal hold, a note saying which strategy point was reached)."""
    from collector_tui.services.supervision.decisions import escalate_to_legal

    due = due_escalations(session=session, now=now, actor=actor, settings=settings)
    for item in due:
        escalate_to_legal(
            session=session,
            now=now,
            actor=actor,
            case_id=item.case_id,
            settings=settings,
            reason=(
                f"strategy {item.strategy} ({item.group}): {item.days_placed} days since "
                f"placement, p {item.p:.2f} below {item.p_below:.2f}"
            ),
        )
    return due
