"""The master's side of a push: apply each laptop operation once, answer for each.

Operations come grouped by the laptop transaction that made them (`txn_id`) and ordered by their
hybrid logical clock. Each group is applied in a savepoint; each operation is answered:

- `accepted`: applied as sent (a derived value is recomputed rather than copied, and says so);
- `conflict`: applied by the conflict rules rather than as sent: kept with a review task, or the
  master's value stood (the message says which and why);
- `rejected`: not applied (a fact edited, a master-owned change, a row deleted on the master).

Every answer is stored in `sync_applied_op` under the operation's id, so a replay (the same push
again, a packet carried twice) is answered from there and changes nothing. An unexpected failure
of a group is answered `error` and *not* stored: the laptop keeps those operations and sends them
again. After the groups, every case touched is recomputed from its facts (status, balance through
payment allocation, promise status, the queue place via services/scoring) and audited. The rules
themselves are described in services/sync/policy.py.
"""

from __future__ import annotations

import contextvars
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import event, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from collector_tui.config import Settings
from collector_tui.i18n import gettext as _
from collector_tui.models import (
    CLOSED_STATUSES,
    Activity,
    Assignment,
    Case,
    CaseStatus,
    Debtor,
    FollowUp,
    HoldKind,
    Invoice,
    Payment,
    Reminder,
    Role,
    SyncAppliedOp,
    SyncTombstone,
    User,
)
from collector_tui.money import Money, MoneyError, format_plain
from collector_tui.services import audit
from collector_tui.services.accounts import Actor
from collector_tui.services.casework import change, contact_book, payments, sweep
from collector_tui.services.errors import Forbidden, InvalidInput, ServiceError
from collector_tui.services.sync import admission, codec, hlc, policy
from collector_tui.services.sync.state import master_state

ACCEPTED, CONFLICT, REJECTED, ERROR = "accepted", "conflict", "rejected", "error"
MAX_MESSAGE = 1000


@dataclass(frozen=True)
class Op:
    """One laptop change as it travels (the outbox row without its local answer)."""

    op_id: uuid.UUID
    txn_id: uuid.UUID
    hlc: str
    device_id: uuid.UUID
    actor_id: uuid.UUID | None
    kind: str
    entity: str
    entity_id: str
    case_id: uuid.UUID | None
    base_version: int | None
    payload: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "op_id": str(self.op_id),
            "txn_id": str(self.txn_id),
            "hlc": self.hlc,
            "device_id": str(self.device_id),
            "actor_id": str(self.actor_id) if self.actor_id else None,
            "kind": self.kind,
            "entity": self.entity,
            "entity_id": self.entity_id,
            "case_id": str(self.case_id) if self.case_id else None,
            "base_version": self.base_version,
            "payload": self.payload,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Op:
        def key(name: str) -> uuid.UUID | None:
            value = data.get(name)
            return uuid.UUID(str(value)) if value else None

        base = data.get("base_version")
        return cls(
            op_id=uuid.UUID(str(data["op_id"])),
            txn_id=uuid.UUID(str(data["txn_id"])),
            hlc=str(data["hlc"]),
            device_id=uuid.UUID(str(data["device_id"])),
            actor_id=key("actor_id"),
            kind=str(data["kind"]),
            entity=str(data["entity"]),
            entity_id=str(data["entity_id"]),
            case_id=key("case_id"),
            base_version=int(base) if base is not None else None,
            payload=dict(data.get("payload") or {}),
        )


@dataclass(frozen=True)
class Answer:
    op_id: uuid.UUID
    outcome: str
    message: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"op_id": str(self.op_id), "outcome": self.outcome, "message": self.message}


@dataclass(frozen=True)
class ApplyResult:
    answers: tuple[Answer, ...]
    cases: tuple[uuid.UUID, ...]  # recomputed
    reviews: int  # review follow-ups raised

    def count(self, outcome: str) -> int:
        return sum(1 for answer in self.answers if answer.outcome == outcome)


class _Refused(Exception):
    def __init__(self, outcome: str, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message


@dataclass
class _Run:
    session: Session
    now: datetime
    settings: Settings
    pusher: Actor
    touched: set[uuid.UUID] = field(default_factory=set)
    reviewed: set[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=set)  # (txn, case)
    reviews: int = 0
    users: dict[uuid.UUID, User | None] = field(default_factory=dict)

    def user(self, user_id: uuid.UUID | None) -> User | None:
        if user_id is None:
            return None
        if user_id not in self.users:
            self.users[user_id] = self.session.get(User, user_id)
        return self.users[user_id]


# --- a payment keeps the id the laptop gave it ------------------------------------------------

_pinned: contextvars.ContextVar[dict[type[Any], uuid.UUID] | None] = contextvars.ContextVar(
    "collector_sync_pinned_ids", default=None
)


@event.listens_for(OrmSession, "before_flush")
def _pin_ids(session: OrmSession, _context: Any, _instances: Any) -> None:
    pinned = _pinned.get()
    if not pinned:
        return
    for obj in session.new:
        key = pinned.get(type(obj))
        if key is not None:
            obj.id = key
            del pinned[type(obj)]


@contextmanager
def _pin(model: type[Any], key: uuid.UUID) -> Iterator[None]:
    token = _pinned.set({model: key})
    try:
        yield
    finally:
        _pinned.reset(token)


# --- helpers ------------------------------------------------------------------------------------


def _money(amount: int, currency: str) -> str:
    try:
        return format_plain(Money(amount, currency))
    except MoneyError:
        return f"{amount} {currency}"


# What a hostile or damaged row raises while it is decoded and written: the operation is refused
# (answered, kept for review, never sent again). Anything else (the database busy, a connection
# lost) fails the laptop transaction's group, which the laptop sends again.
MALFORMED = (ValueError, TypeError, KeyError, AttributeError, OverflowError, IntegrityError)


def _first_line(failure: BaseException) -> str:
    text = str(failure).strip()
    return text.splitlines()[0][:300] if text else type(failure).__name__


def _short(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def _clock(run: _Run, op: Op) -> hlc.Hlc:
    """The operation's clock for last-writer-wins, never more than MAX_CLOCK_SKEW ahead of the
    master: a laptop with a wrong (or forged) clock neither wins every comparison nor pushes the
    master's own clock into the future."""
    ceiling = hlc.Hlc(hlc.wall_ms(run.now + admission.MAX_CLOCK_SKEW), 0, "0")
    return min(hlc.parse(op.hlc), ceiling)


def _row_clock(session: Session, entity: str, entity_id: str, row: Any) -> str:
    applied = session.exec(
        select(func.max(SyncAppliedOp.hlc)).where(
            SyncAppliedOp.entity == entity,
            SyncAppliedOp.entity_id == entity_id,
            SyncAppliedOp.outcome != REJECTED,
        )
    ).one()
    stamp = hlc.of_instant(getattr(row, "updated_at", None))
    return max(applied or hlc.ZERO, stamp, key=hlc.parse)


def _supervisor_for(run: _Run, case: Case) -> uuid.UUID | None:
    """Who reviews: the supervisor who last moved the case, else the first active one."""
    session = run.session
    moves = session.exec(
        select(Assignment.moved_by_id)
        .where(Assignment.case_id == case.id)
        .order_by(col(Assignment.at).desc())
    ).all()
    for moved_by in moves:
        user = run.user(moved_by)
        if user is not None and user.active and user.role in (Role.supervisor, Role.admin):
            return user.id
    for role in (Role.supervisor, Role.admin):
        found = session.exec(
            select(User.id)
            .where(User.role == role.value, col(User.active))
            .order_by(col(User.username))
        ).first()
        if found is not None:
            return found
    return None


def _review(run: _Run, case: Case, owners: Sequence[uuid.UUID | None], reason: str) -> None:
    session = run.session
    for owner_id in dict.fromkeys(owner for owner in owners if owner is not None):
        row = FollowUp(
            case_id=case.id,
            owner_id=owner_id,
            due_at=run.now,
            reason=reason[:500],
            created_by_id=None,
            created_at=run.now,
            updated_at=run.now,
        )
        session.add(row)
        session.flush()
        audit.record(
            session=session,
            now=run.now,
            user_id=None,
            entity="follow_up",
            entity_id=row.id,
            action="create",
            after={
                **audit.snapshot(row, ("case_id", "owner_id", "due_at", "reason")),
                "why": "sync review",
            },
        )
        run.reviews += 1


def _had_case(run: _Run, case: Case, user_id: uuid.UUID | None) -> bool:
    """Whether the user holds the case or ever held it (a placement or a move gave it to them)."""
    if user_id is None:
        return False
    if case.assigned_to_id == user_id:
        return True
    held = run.session.exec(
        select(Assignment.id).where(
            Assignment.case_id == case.id,
            (Assignment.to_user_id == user_id) | (Assignment.from_user_id == user_id),
        )
    ).first()
    return held is not None


def _case(run: _Run, op: Op) -> Case:
    if op.case_id is None:
        raise _Refused(REJECTED, _("no case: nothing to apply it to"))
    case = run.session.get(Case, op.case_id)
    if case is None:
        raise _Refused(REJECTED, _("the case is no longer on the master"))
    if not _had_case(run, case, op.actor_id):
        raise _Refused(
            REJECTED,
            _("case {client_ref} was never assigned to this agent").format(
                client_ref=case.client_ref
            ),
        )
    return case


def _tombstoned(session: Session, op: Op) -> bool:
    return (
        session.exec(
            select(SyncTombstone.id).where(
                SyncTombstone.entity == op.entity, SyncTombstone.entity_id == op.entity_id
            )
        ).first()
        is not None
    )


def _model(entity: str) -> Any:
    model = codec.model_for(entity)
    if model is None:
        raise _Refused(REJECTED, _("{entity} rows are not synchronised").format(entity=entity))
    return model


def _new_row(op: Op) -> dict[str, Any]:
    values = codec.decode_row(op.entity, op.payload.get("row") or {})
    values["id"] = uuid.UUID(op.entity_id)
    values.pop("version", None)
    return values


# --- inserts ------------------------------------------------------------------------------------


def _insert(run: _Run, op: Op) -> tuple[str, str | None]:
    session = run.session
    model = _model(op.entity)
    if session.get(model, uuid.UUID(op.entity_id)) is not None:
        return ACCEPTED, _("already on the master")
    if op.entity in policy.DERIVED_TABLES:
        if op.entity == "invoice":
            raise _Refused(REJECTED, _("invoices are placed on the master"))
        return ACCEPTED, _("recomputed on the master")
    if op.entity in policy.MASTER_TABLES:
        raise _Refused(
            REJECTED,
            _("{entity} rows are created on the master").format(entity=op.entity.replace("_", " ")),
        )
    if op.entity == "auditevent":
        # The master writes its own trail of what it applied (as whom, from which device); a
        # laptop's events are never copied, and one in another user's name is refused.
        written_by = _new_row(op).get("user_id")
        if written_by is not None and written_by != run.pusher.user_id:
            raise Forbidden(_("an audit event in another user's name"))
        return ACCEPTED, _("the master keeps its own audit trail")
    if op.entity in codec.DEBTOR_TABLES:
        return _insert_contact(run, op, model)
    if op.entity not in policy.FACT_TABLES | policy.KEPT_INSERTS:
        raise _Refused(REJECTED, _("{entity} rows are not synchronised").format(entity=op.entity))
    case = _case(run, op)
    run.touched.add(case.id)
    values = _new_row(op)
    values["case_id"] = case.id
    admission.check_actor_columns(op.entity, values, run.pusher)
    if op.entity == "payment":
        return _replay_payment(run, op, case, values)
    day = admission.offline_day(op.hlc, run.now)
    outcome, message = ACCEPTED, None
    routed = False
    over: str | None = None
    if op.entity == "activity":
        admission.admit_activity(session, case, values, run.pusher, run.now, run.settings)
    elif op.entity == "promise":
        over = admission.admit_promise(session, case, values, day, run.now)
    elif op.entity == "paymentplan":
        admission.admit_plan(values, run.now)
    elif op.entity == "followup":
        admission.admit_follow_up(values, run.pusher, run.now)
        outcome, message = _follow_up_owner(run, case, values)
    elif op.entity == "hold":
        admission.admit_hold(values, run.now)
    elif op.entity == "reminder":
        admission.admit_reminder(session, case, values, run.pusher, run.now)
        taken = session.exec(
            select(Reminder.id).where(Reminder.idempotency_key == values["idempotency_key"])
        ).first()
        if taken is not None:
            return ACCEPTED, _("already queued on the master")
    elif op.entity == "settlement":
        routed = admission.admit_settlement(session, case, values, run.pusher, day, run.now)
    elif op.entity == "invoice_dispute":
        admission.admit_dispute(session, case, values, run.pusher, run.now, run.settings)
    elif op.entity == "assessment":
        admission.admit_assessment(session, case, values, run.now, run.settings)
    row = model(**values)
    session.add(row)
    session.flush()
    if op.entity == "invoice_dispute":
        # The invoice's flag is derived: the master sets it for the dispute it now holds.
        invoice = session.get(Invoice, values["invoice_id"])
        if invoice is not None and not invoice.disputed:
            invoice.disputed = True
            session.add(invoice)
    if op.entity == "assessment" and values.get("grade"):
        _debtor_grade(run, values["debtor_id"])
    _audit_insert(run, op, row)
    if op.entity == "hold":
        _hold_consequences(run, case, values)
    if routed and not case.routed_reason and case.status not in CLOSED_STATUSES:
        from collector_tui.services.casework.settlements import SETTLEMENT_ROUTED

        case.routed_reason = SETTLEMENT_ROUTED
        session.add(case)
    if op.entity in ("promise", "paymentplan"):
        return _promise_review(run, op, case, values, over) or (outcome, message)
    return outcome, message


# What the master's audit trail keeps of a row a laptop made (its own event, never the laptop's).
_AUDITED: dict[str, tuple[str, ...]] = {
    "phone": ("debtor_id", "e164", "kind", "status", "source", "retired_at"),
    "postaladdress": ("debtor_id", "text", "status", "source", "retired_at"),
    "emailaddress": ("debtor_id", "address", "status", "source", "opt_in", "retired_at"),
    "thirdparty": ("debtor_id", "name", "relation", "phone_id", "objected_at", "retired_at"),
    "activity": ("case_id", "channel", "direction", "disposition", "occurred_at", "phone_e164"),
    "promise": ("case_id", "plan_id", "amount", "due_date", "grace_days"),
    "paymentplan": ("case_id", "status"),
    "followup": ("case_id", "owner_id", "due_at", "reason"),
    "hold": ("case_id", "kind", "reason"),
    "settlement": ("case_id", "amount", "balance", "due_date", "status", "note"),
    "invoice_dispute": ("case_id", "invoice_id", "amount", "category", "reason", "resolve_by"),
    "assessment": (
        "case_id",
        "kind",
        "disposable",
        "grade",
        "grade_before",
        "reason",
        "assessed_at",
    ),
}


def _debtor_grade(run: _Run, debtor_id: uuid.UUID) -> None:
    """The debtor's grade is its latest graded assessment's: one made offline before a newer one
    on the master is kept in the history without overriding it."""
    from collector_tui.services.assessment.assess import latest_grade

    debtor = run.session.get(Debtor, debtor_id)
    grade = latest_grade(run.session, debtor_id=debtor_id)
    if debtor is not None and grade is not None and debtor.risk_grade != grade:
        debtor.risk_grade = grade
        debtor.updated_at = run.now
        run.session.add(debtor)


def _audit_insert(run: _Run, op: Op, row: Any) -> None:
    audit.record(
        session=run.session,
        now=run.now,
        user_id=run.pusher.user_id,
        entity=op.entity,
        entity_id=op.entity_id,
        action="create",
        after={
            **audit.snapshot(row, _AUDITED.get(op.entity)),
            "via": "sync",
            "device_id": str(op.device_id),
            "op_id": str(op.op_id),
        },
    )


def _follow_up_owner(run: _Run, case: Case, values: dict[str, Any]) -> tuple[str, str | None]:
    owner = run.user(values.get("owner_id"))
    if (
        owner is not None
        and owner.active
        and (owner.role != Role.agent or case.assigned_to_id == owner.id)
    ):
        return ACCEPTED, None
    new_owner = case.assigned_to_id or _supervisor_for(run, case)
    if new_owner is None:
        raise _Refused(REJECTED, _("nobody on the master can own this follow-up"))
    values["owner_id"] = new_owner
    name = run.user(new_owner)
    return CONFLICT, (
        f"kept; case {case.client_ref} is now {name.username if name else 'someone else'}'s, "
        "so the follow-up is theirs"
    )


def _hold_consequences(run: _Run, case: Case, values: dict[str, Any]) -> None:
    """What placing the hold means (services/holds): a dispute status, a routed case."""
    kind = values.get("kind")
    if kind == HoldKind.dispute and case.status not in CLOSED_STATUSES and case.status != "legal":
        case.status = CaseStatus.dispute.value
    routing = {HoldKind.deceased.value: "deceased", HoldKind.bankruptcy.value: "bankrupt"}
    if kind in routing:
        flag = routing[kind]
        debtor = run.session.get(Debtor, case.debtor_id)
        if debtor is not None and not getattr(debtor, flag):
            setattr(debtor, flag, True)
            debtor.updated_at = run.now
            run.session.add(debtor)
        if case.status not in CLOSED_STATUSES:
            case.routed_reason = flag
    run.session.add(case)


def _promise_review(
    run: _Run, op: Op, case: Case, values: dict[str, Any], over: str | None = None
) -> tuple[str, str] | None:
    """A promise or plan taken offline on a case that moved (or closed) meanwhile: kept and
    credited to its agent; the new owner and a supervisor get a review follow-up (one per case
    per laptop transaction, so a plan's installments raise one)."""
    agent = run.user(op.actor_id)
    moved = case.assigned_to_id != op.actor_id
    closed = case.status in CLOSED_STATUSES
    if not moved and not closed and over is None:
        return None
    who = agent.username if agent is not None else "an agent"
    owner = run.user(case.assigned_to_id)
    if moved:
        why = f"the case moved to {owner.username if owner else 'nobody'} meanwhile"
    elif closed:
        why = f"the case is {case.status} on the master"
    else:
        why = over or ""
    if op.entity == "promise":
        what = (
            f"promise of {_money(int(values.get('amount') or 0), case.currency)} due "
            f"{values.get('due_date')}"
        )
    else:
        what = "payment plan"
    reason = f"review {what} taken offline by {who}: {why}"
    key = (op.txn_id, case.id)
    if key not in run.reviewed:
        run.reviewed.add(key)
        _review(run, case, [case.assigned_to_id, _supervisor_for(run, case)], reason)
    return CONFLICT, _("kept and credited to {who}; {why}: review tasks raised").format(
        who=who, why=why
    )


def _replay_payment(
    run: _Run, op: Op, case: Case, values: dict[str, Any]
) -> tuple[str, str | None]:
    """A reported payment goes through services/payments.post_payment on the master, with the
    laptop's id, so allocation, promise status and balance follow the master's state. If the
    master refuses it (more than the balance now, a reference already recorded), the fact is
    kept with a reversal beside it (net nothing) and a supervisor is asked to look."""
    session = run.session
    agent = run.pusher
    amount = values.get("amount")
    if type(amount) is not int or amount <= 0:
        raise InvalidInput(_("a payment needs an amount above zero"), field="amount")
    if amount > max(case.principal + case.fees + case.interest, case.balance):
        raise InvalidInput(
            _("a payment of {amount} is more than the whole debt").format(
                amount=_money(amount, case.currency)
            ),
            field="amount",
        )
    if values.get("voids_id") is not None:
        raise Forbidden(_("payments are reversed on the master"))
    received_on = values.get("received_on")
    if isinstance(received_on, datetime) or not isinstance(received_on, date):
        raise InvalidInput(_("the date received must be a calendar date"), field="received_on")
    if not admission.EARLIEST <= received_on <= admission.LATEST:
        raise InvalidInput(
            _("the date received must fall between 1900 and 2200"), field="received_on"
        )
    try:
        # The agent's own authority: a case that moved away meanwhile is refused by the service,
        # and then kept with a reversal for a supervisor (below), as any refusal.
        with _pin(Payment, uuid.UUID(op.entity_id)), session.begin_nested():
            payments.post_payment(
                session=session,
                now=run.now,
                actor=agent,
                case_id=case.id,
                amount=amount,
                received_on=received_on,
                settings=run.settings,
                method=values.get("method"),
                reference=values.get("reference"),
            )
    except ServiceError as refusal:
        values["created_at"] = run.now
        for name, limit in (("method", 32), ("reference", 100)):
            text = values.get(name)
            if text is not None and (not isinstance(text, str) or len(text) > limit):
                values[name] = None
        session.add(Payment(**values))
        session.flush()
        reversal = Payment(
            case_id=case.id,
            amount=-int(values.get("amount") or 0),
            received_on=values.get("received_on") or run.now.date(),
            method=values.get("method"),
            reference=None,
            recorded_by_id=None,
            voids_id=values["id"],
            created_at=run.now,
        )
        session.add(reversal)
        session.flush()
        audit.record(
            session=session,
            now=run.now,
            user_id=None,
            entity="payment",
            entity_id=reversal.id,
            action="void",
            after={
                "voids_id": values["id"],
                "why": f"not applied on the master: {refusal.message}",
            },
        )
        who = agent.username
        _review(
            run,
            case,
            [_supervisor_for(run, case)],
            f"check a payment of {_money(int(values.get('amount') or 0), case.currency)} "
            f"reported offline by {who}: not applied ({refusal.message})",
        )
        return CONFLICT, _("kept but not applied: {reason}; a supervisor will check it").format(
            reason=refusal.message
        )
    return ACCEPTED, None


# --- updates and deletes -------------------------------------------------------------------------


def _update(run: _Run, op: Op) -> tuple[str, str | None]:
    session = run.session
    model = _model(op.entity)
    if op.entity in policy.FACT_TABLES:
        raise _Refused(REJECTED, _("facts are never edited: a correction is a new entry"))
    if op.entity in policy.DERIVED_TABLES:
        # Before the look-up: a derived row the laptop made (balance components) never exists
        # on the master under the laptop's id.
        return ACCEPTED, _("recomputed on the master")
    row = session.get(model, uuid.UUID(op.entity_id))
    if row is None:
        raise _Refused(REJECTED, _("no longer on the master"))
    case_id = getattr(row, "case_id", None) if op.entity != "collection_case" else row.id
    if op.entity == "hold":
        raise _Refused(REJECTED, _("holds are lifted on the master"))
    if op.entity == "reminder":
        raise _Refused(REJECTED, _("reminders are sent and changed on the master"))
    if op.entity in ("app_user", "assignment", "case_charge"):
        raise _Refused(
            REJECTED,
            _("{entity} rows change on the master only").format(entity=op.entity.replace("_", " ")),
        )
    checked: list[bool] = []

    def permitted() -> None:
        """Whether the pusher may change this row, asked only when something would change: a
        derived value sent for a case that moved away meanwhile is merely recomputed."""
        if not checked:
            admission.may_change_row(op.entity, row, _case_of(run, op.entity, row), run.pusher)
            checked.append(True)

    sent = op.payload.get("set") or {}
    if not isinstance(sent, dict):
        raise InvalidInput(_("an update carries the fields it sets"))
    changes = {name: value for name, value in sent.items() if name not in policy.ignored(op.entity)}
    agent_fields = admission.AGENT_FIELDS.get(op.entity, frozenset())
    columns = codec.table(op.entity).columns
    derived = policy.DERIVED_FIELDS.get(op.entity, frozenset())
    master_owned = policy.MASTER_FIELDS.get(op.entity, frozenset())
    tightening = policy.TIGHTENING.get(op.entity, {})
    withdrawal = policy.WITHDRAWALS.get(op.entity)
    applied: list[str] = []
    refused: list[str] = []
    lost: list[str] = []
    recomputed: list[str] = []
    editable: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in columns:
            continue
        decoded = codec.decode_value(columns[name].type, value)
        if withdrawal is not None and name == "status" and value == withdrawal[1]:
            if getattr(row, name) == withdrawal[0]:
                permitted()
                setattr(row, name, decoded)
                if hasattr(row, "resolved_at"):
                    row.resolved_at = run.now
                applied.append(name)
            elif getattr(row, name) != decoded:
                lost.append(
                    _("it is already {value} on the master").format(value=getattr(row, name))
                )
            continue
        if (op.entity, name) == policy.ROUTING_FIELD:
            current = getattr(row, name)
            if decoded is None or current == decoded:
                if current != decoded:
                    refused.append(name)
            elif current is None and row.status not in CLOSED_STATUSES:
                permitted()
                setattr(row, name, decoded)
                applied.append(name)
            else:
                lost.append(
                    _("the case is already with the supervisors ({reason})").format(reason=current)
                )
            continue
        if name in tightening:
            rule, current = tightening[name], getattr(row, name)
            if policy.tightens(rule, current, decoded):
                if current != decoded:
                    permitted()
                    setattr(row, name, decoded)
                applied.append(name)
            elif rule is policy.SET and current is not None and decoded is not None:
                pass  # stopped on the master already: its moment stands
            else:
                refused.append(name)
            continue
        if name in derived:
            recomputed.append(name)
            continue
        if (op.entity, name) == policy.SETTLEMENT_PROMISE:
            if _settlement_promise(run, row, decoded):
                permitted()
                row.promise_id = decoded
                row.decided_at = row.decided_at or row.requested_at
                applied.append(name)
            elif getattr(row, name) != decoded:
                refused.append(name)
            continue
        if name in master_owned or name not in agent_fields:
            if getattr(row, name) != decoded:
                refused.append(name)
            continue
        editable[name] = decoded
    admission.admit_changes(op.entity, editable, run.now)
    if op.entity in codec.DEBTOR_TABLES and editable:
        admission.admit_contact_changes(
            op.entity, row, editable, admission.offline_moment(op.hlc, run.now)
        )
    if editable:
        permitted()
        version = getattr(row, "version", None)
        unchanged = op.base_version is not None and version == op.base_version
        if unchanged or _clock(run, op) > hlc.parse(
            _row_clock(session, op.entity, op.entity_id, row)
        ):
            for name, decoded in editable.items():
                setattr(row, name, decoded)
            applied.extend(editable)
        else:
            lost.append(
                _("the master changed {fields} later").format(fields=", ".join(sorted(editable)))
            )
    if applied:
        if case_id is not None:  # only a change applied here can move what follows from it
            run.touched.add(case_id)
        if op.entity in codec.DEBTOR_TABLES:
            # A number marked or retired moves every case of the debtor the pusher holds.
            run.touched.update(_debtor_cases(run, row.debtor_id))
            if op.entity == "phone":
                contact_book.settle_phone_flags(row)
        if hasattr(row, "updated_at"):
            row.updated_at = max(row.updated_at, run.now)
        session.add(row)
        session.flush()
        audit.record(
            session=session,
            now=run.now,
            user_id=run.pusher.user_id,
            entity=op.entity,
            entity_id=op.entity_id,
            action="sync",
            after={"fields": sorted(applied), "op_id": str(op.op_id)},
        )
    notes: list[str] = []
    if refused:
        notes.append(
            _("{fields}: the master's value stands").format(fields=", ".join(sorted(refused)))
        )
    notes.extend(lost)
    if recomputed:
        notes.append(
            _("{fields}: recomputed on the master").format(fields=", ".join(sorted(recomputed)))
        )
    message = "; ".join(notes) or None
    if refused and not applied and not lost:
        return REJECTED, message
    if refused or lost:
        return CONFLICT, message
    return ACCEPTED, message


def _delete(run: _Run, op: Op) -> tuple[str, str | None]:
    session = run.session
    model = _model(op.entity)
    if op.entity in policy.FACT_TABLES:
        raise _Refused(REJECTED, _("facts are never deleted: a correction is a new entry"))
    if op.entity not in policy.DELETABLE:
        raise _Refused(
            REJECTED,
            _("{entity} rows are removed on the master").format(entity=op.entity.replace("_", " ")),
        )
    row = session.get(model, uuid.UUID(op.entity_id))
    if row is not None:
        admission.may_change_row(op.entity, row, _case_of(run, op.entity, row), run.pusher)
        version = getattr(row, "version", None)
        unchanged = op.base_version is not None and version == op.base_version
        if not unchanged and _clock(run, op) <= hlc.parse(
            _row_clock(session, op.entity, op.entity_id, row)
        ):
            return CONFLICT, _("the master changed it later: kept")
        case_id = getattr(row, "case_id", None)
        if case_id is not None:
            run.touched.add(case_id)
        session.delete(row)
        session.flush()
    session.add(
        SyncTombstone(
            entity=op.entity,
            entity_id=op.entity_id,
            case_id=op.case_id,
            hlc=op.hlc,
            deleted_at=run.now,
            deleted_by_id=run.pusher.user_id,
            device_id=op.device_id,
        )
    )
    session.flush()
    return ACCEPTED, None


def _case_of(run: _Run, entity: str, row: Any) -> Case | None:
    """The case a row belongs to; for a debtor's own rows (the debtor, a phone), one of the
    debtor's cases the pusher holds, if any."""
    session = run.session
    if entity == "collection_case":
        return row  # type: ignore[no-any-return]
    if entity == "debtor" or entity in codec.DEBTOR_TABLES:
        debtor_id = row.id if entity == "debtor" else row.debtor_id
        return session.exec(
            select(Case).where(
                Case.debtor_id == debtor_id, Case.assigned_to_id == run.pusher.user_id
            )
        ).first()
    case_id = getattr(row, "case_id", None)
    return session.get(Case, case_id) if case_id is not None else None


def _debtor_cases(run: _Run, debtor_id: uuid.UUID) -> set[uuid.UUID]:
    return set(
        run.session.exec(
            select(Case.id).where(
                Case.debtor_id == debtor_id, Case.assigned_to_id == run.pusher.user_id
            )
        ).all()
    )


def _insert_contact(run: _Run, op: Op, model: Any) -> tuple[str, str | None]:
    """A number, address, e-mail or third party added on a laptop: kept when the pusher holds a
    case of the debtor, its values checked as services/contacts checks them. One the master has
    already (added there meanwhile, or on another laptop) is kept retired beside it: the contacts
    logged against it still point at a row, and nothing is offered twice."""
    session = run.session
    values = _new_row(op)
    debtor_id = values.get("debtor_id")
    debtor = session.get(Debtor, debtor_id) if isinstance(debtor_id, uuid.UUID) else None
    if debtor is None:
        raise _Refused(REJECTED, _("the debtor is not on the master"))
    cases = _debtor_cases(run, debtor.id)
    if not cases and not run.pusher.is_supervisor:
        raise Forbidden(_("not your case: only its agent or a supervisor can change it"))
    admission.check_actor_columns(op.entity, values, run.pusher)
    duplicate = admission.admit_contact(
        session, op.entity, values, debtor, admission.offline_moment(op.hlc, run.now)
    )
    values["created_at"] = values.get("created_at") or run.now
    values["updated_at"] = run.now
    outcome, message = ACCEPTED, None
    if duplicate:
        values["retired_at"] = run.now
        if op.entity == "phone":
            values["is_primary"] = False
        outcome, message = CONFLICT, "already on the master: kept retired beside it"
    row = model(**values)
    if op.entity == "phone":
        contact_book.settle_phone_flags(row)
    session.add(row)
    session.flush()
    _audit_insert(run, op, row)
    run.touched.update(cases)
    return outcome, message


def _settlement_promise(run: _Run, settlement: Any, promise_id: Any) -> bool:
    """The promise an agent's settlement within the limit was recorded with (its second step
    offline): the settlement approved, no promise yet, one of the same terms on the same case."""
    if settlement.status != "approved" or settlement.promise_id is not None:
        return False
    from collector_tui.models import Promise

    promise = run.session.get(Promise, promise_id) if promise_id is not None else None
    return (
        promise is not None
        and promise.case_id == settlement.case_id
        and promise.amount == settlement.amount
        and promise.due_date == settlement.due_date
        and promise.created_by_id == run.pusher.user_id
    )


def _apply_one(run: _Run, op: Op) -> tuple[str, str | None]:
    admission.check_shape(kind=op.kind, entity=op.entity, entity_id=op.entity_id, clock=op.hlc)
    if op.actor_id != run.pusher.user_id:
        # The pusher is who the master authenticated (a courier carrying an agent's packet
        # applies it as that agent): a change in someone else's name is never theirs to make.
        raise Forbidden(_("sent in another user's name: each user pushes their own changes"))
    if _tombstoned(run.session, op):
        raise _Refused(REJECTED, _("deleted on the master"))
    if op.kind == "insert":
        return _insert(run, op)
    if op.kind == "update":
        return _update(run, op)
    if op.kind == "delete":
        return _delete(run, op)
    raise _Refused(REJECTED, _("unknown operation {kind}").format(kind=repr(op.kind)))


# --- recompute ----------------------------------------------------------------------------------


def recompute_case(
    *, session: Session, now: datetime, settings: Settings, case_id: uuid.UUID
) -> None:
    """Everything on the case that follows from its facts, as the master's services would set it."""
    from collector_tui.services.rules.dispositions import DISPOSITIONS

    case = session.get(Case, case_id)
    if case is None:
        return
    before = change.case_state(case)
    attempts = session.exec(
        select(Activity.occurred_at, Activity.disposition).where(
            Activity.case_id == case.id,
            Activity.channel != "note",
            col(Activity.voids_id).is_(None),
        )
    ).all()
    if attempts:
        latest = max(at for at, _ in attempts)
        if case.last_attempt_at is None or latest > case.last_attempt_at:
            case.last_attempt_at = latest
        spoken = [
            at for at, code in attempts if code in DISPOSITIONS and DISPOSITIONS[code].right_party
        ]
        if spoken and (case.last_contact_at is None or max(spoken) > case.last_contact_at):
            case.last_contact_at = max(spoken)
        if case.status == CaseStatus.new:
            case.status = CaseStatus.active.value
    change.settle_status(session=session, case=case)
    with change.changing(session):
        change.finish_case_change(
            session=session,
            now=now,
            settings=settings,
            case=case,
            before=before,
            user_id=None,
            action="sync",
        )
    sweep.sweep(session=session, now=now, settings=settings, case_ids=[case.id])


# --- the entry point --------------------------------------------------------------------------


def apply_ops(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    ops: Sequence[Op],
    settings: Settings,
) -> ApplyResult:
    """Apply a laptop's operations on the master (inside the caller's transaction)."""
    state = master_state(session=session, now=now)
    ordered = sorted(ops, key=lambda op: (hlc.parse(op.hlc), str(op.op_id)))
    known: dict[uuid.UUID, Answer] = {}
    ids = [op.op_id for op in ordered]
    for start in range(0, len(ids), 500):
        for row in session.exec(
            select(SyncAppliedOp).where(col(SyncAppliedOp.op_id).in_(ids[start : start + 500]))
        ):
            known[row.op_id] = Answer(row.op_id, row.outcome, row.message)

    run = _Run(session=session, now=now, settings=settings, pusher=actor)
    groups: dict[uuid.UUID, list[Op]] = defaultdict(list)
    for op in ordered:
        if op.op_id not in known:
            groups[op.txn_id].append(op)
    fresh: dict[uuid.UUID, Answer] = {}
    for txn_ops in groups.values():
        touched = set(run.touched)
        reviews = run.reviews
        try:
            with session.begin_nested():
                decided: list[Answer] = []
                for op in txn_ops:
                    # A refused operation leaves no trace, not even a recomputed case.
                    untouched = set(run.touched)
                    try:
                        with session.begin_nested():
                            outcome, message = _apply_one(run, op)
                    except _Refused as refusal:
                        outcome, message = refusal.outcome, refusal.message
                    except ServiceError as refusal:
                        outcome, message = REJECTED, refusal.message
                    except MALFORMED as failure:
                        outcome, message = (
                            REJECTED,
                            _("malformed: {error}").format(error=_first_line(failure)),
                        )
                    if outcome == REJECTED:
                        run.touched = untouched
                    decided.append(Answer(op.op_id, outcome, _short(message) if message else None))
                for op, answer in zip(txn_ops, decided, strict=True):
                    session.add(
                        SyncAppliedOp(
                            op_id=op.op_id,
                            device_id=op.device_id,
                            actor_id=run.pusher.user_id,
                            hlc=_clock(run, op).text(),
                            kind=op.kind,
                            entity=op.entity,
                            entity_id=op.entity_id,
                            case_id=op.case_id,
                            outcome=answer.outcome,
                            message=answer.message,
                            applied_at=now,
                            # Kept for a supervisor's review (services/sync/review.py).
                            payload=op.to_json() if answer.outcome == REJECTED else None,
                        )
                    )
                session.flush()
        except Exception as failure:  # noqa: BLE001 - answered, kept on the laptop, sent again
            run.touched = touched
            run.reviews = reviews
            text = _first_line(failure)
            for op in txn_ops:
                fresh[op.op_id] = Answer(
                    op.op_id, ERROR, _short(f"not applied, will retry: {text}")
                )
            continue
        for answer in decided:
            fresh[answer.op_id] = answer
        state.clock = hlc.receive(state.clock, _clock(run, txn_ops[-1]).text())

    for case_id in sorted(run.touched, key=str):
        recompute_case(session=session, now=now, settings=settings, case_id=case_id)
    session.add(state)
    if fresh:
        counts: dict[str, int] = defaultdict(int)
        for answer in fresh.values():
            counts[answer.outcome] += 1
        audit.record(
            session=session,
            now=now,
            user_id=actor.user_id,
            entity="sync",
            entity_id=str(ordered[0].device_id),
            action="apply",
            after={"ops": len(fresh), **counts, "cases": len(run.touched)},
        )
    session.flush()
    answers = tuple(known.get(op.op_id) or fresh[op.op_id] for op in ordered)
    return ApplyResult(
        answers=answers, cases=tuple(sorted(run.touched, key=str)), reviews=run.reviews
    )
