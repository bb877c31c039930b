"""The reminder outbox: what is due (plan), putting it in the outbox (queue), sending it (the run).

Every reminder passes the case's compliance pack, at planning and again at send time (a hold placed
meanwhile wins): the holds and statuses that stop contact, the channels the pack allows, contact
hours in the debtor's zone (SMS and e-mail keep to them; a letter does not), SMS consent on the
number, e-mail opt-in, never a number or address marked wrong, returned or do-not-call, never a
third party's number, nothing while the whole balance is disputed. At most one reminder goes to a
debtor per local day across channels and cases: when several fall due, the step with the highest
priority goes, then the one due first; the others wait for a later day (docs/decisions.md,
reminders).

What waits (hours, the day's reminder already gone) stays queued with `next_try_at`; what is
stopped (a hold, no consent, no address) is `skipped` with its reason. A failed delivery is tried
again after `reminder_retry_min` minutes, doubled each time; after `reminder_max_tries` tries it
is `failed` and listed for a supervisor.

Idempotency: a reminder is marked `sending` (committed) before it is handed to its channel and
`sent`, with its activity, in one unit after; a sent one is never sent again. A run that stops
between the two (a crash) leaves it `sending`; the next run hands it again only to a channel that
can be asked twice safely (`Courier.idempotent`: the file gateway overwrites by key, the HTTP
gateway sends the key as Idempotency-Key, letters are rewritten); for the others (SMTP) it is
marked `uncertain` for a supervisor, who knows whether it arrived.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, tuple_
from sqlalchemy import select as select_columns
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from collector_tui.config import Settings
from collector_tui.delivery.errors import DeliveryFailed
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.models import (
    OPEN_STATUSES,
    REMINDER_CHANNELS,
    Activity,
    Case,
    Debtor,
    DisputeStatus,
    EmailAddress,
    Hold,
    InvoiceDispute,
    Phone,
    PostalAddress,
    Promise,
    PromiseStatus,
    Reminder,
    ReminderStatus,
    SyncState,
)
from collector_tui.phones import mask_phone
from collector_tui.services import audit, reasons
from collector_tui.services.accounts import Actor, ensure_case_access, require_supervisor
from collector_tui.services.casework import balances
from collector_tui.services.casework.contact_book import NOT_CALLABLE_STATUSES
from collector_tui.services.context import reads, writes
from collector_tui.services.errors import Forbidden, InvalidInput, NotFound
from collector_tui.services.reminders import run_lease
from collector_tui.services.reminders.fields import reminder_fields
from collector_tui.services.reminders.letters import letter_pdf
from collector_tui.services.reminders.sequences import (
    CaseTraits,
    ReminderRules,
    Step,
    load_rules,
)
from collector_tui.services.reminders.templates import (
    TemplateBook,
    TemplateError,
    load_template_book,
)
from collector_tui.services.rules import compliance
from collector_tui.services.rules.compliance import CaseFacts, RulePack

if TYPE_CHECKING:
    from collector_tui.db import Store

__all__ = [
    "Courier",
    "OutboxEntry",
    "Outgoing",
    "PlannedReminder",
    "QueueResult",
    "Receipt",
    "RunReport",
    "cancel_reminder",
    "list_outbox",
    "plan_reminders",
    "queue_due",
    "preview_reminder",
    "queue_reminder",
    "reminder_choices",
    "send_due",
    "settle_uncertain",
]

SEND = "send"
SKIP = "skip"
OPEN_ROWS = (ReminderStatus.queued.value, ReminderStatus.sending.value)
MANUAL = "manual"
MAX_TEMPLATE = 64


# --- what the faces see ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedReminder:
    """One reminder due now on a case: sent by the next run, or skipped and why."""

    case_id: uuid.UUID
    client_ref: str
    debtor_id: uuid.UUID
    channel: str
    template: str
    language: str
    sequence: str | None
    step: int | None
    due: date
    action: str  # send | skip
    reason: str | None
    destination: str | None  # masked for a number
    key: str
    priority: int = 0
    # Internal: the row the reminder would go to (not shown).
    destination_id: uuid.UUID | None = field(default=None, repr=False, compare=False)
    destination_value: str | None = field(default=None, repr=False, compare=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "case_id": str(self.case_id),
            "client_ref": self.client_ref,
            "channel": self.channel,
            "template": self.template,
            "due": self.due.isoformat(),
            "action": self.action,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class QueueResult:
    queued: int
    skipped: int  # planned but not queued (hours, the day's reminder, a hold, ...)
    already: int  # steps already in the outbox (the key exists)
    plan: tuple[PlannedReminder, ...]


@dataclass(frozen=True)
class OutboxEntry:
    id: uuid.UUID
    case_id: uuid.UUID
    client_ref: str
    channel: str
    template: str
    language: str
    sequence: str | None
    step: int | None
    due: date
    status: str
    reason: str | None
    tries: int
    next_try_at: datetime | None
    destination: str | None  # masked for a number
    created_at: datetime
    sent_at: datetime | None
    subject: str | None
    body: str | None
    pdf_path: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "case_id": str(self.case_id),
            "client_ref": self.client_ref,
            "channel": self.channel,
            "template": self.template,
            "language": self.language,
            "sequence": self.sequence,
            "step": self.step,
            "due": self.due.isoformat(),
            "status": self.status,
            "reason": self.reason,
            "tries": self.tries,
            "next_try_at": self.next_try_at.isoformat() if self.next_try_at else None,
            "destination": self.destination,
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "pdf_path": self.pdf_path,
        }


# --- couriers: what the faces hand the send run ---------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """A rendered reminder, as a channel takes it."""

    reminder_id: uuid.UUID
    case_id: uuid.UUID
    client_ref: str
    channel: str
    to: str  # E.164 number, e-mail address or postal address
    subject: str | None
    text: str
    html: str | None
    language: str
    template: str
    idempotency_key: str
    opt_out: str | None = None  # an e-mail's opt-out line, from its template
    recipient_name: str = ""  # a letter's addressee
    date_line: str = ""  # a letter's date, the debtor's day
    pdf: bytes | None = field(
        default=None, repr=False
    )  # a letter's PDF, rendered from its template


@dataclass(frozen=True)
class Receipt:
    """What a channel says it did: its message id, or the letter's file and hash."""

    reference: str | None = None
    pdf_path: str | None = None
    pdf_sha256: str | None = None


class Courier(Protocol):
    """A channel's sender. `idempotent`: handing it the same message again (same idempotency key)
    never delivers it twice, so a message left `sending` by a crash may be handed again."""

    idempotent: bool

    def send(self, message: Outgoing) -> Receipt: ...


@dataclass(frozen=True)
class Rendered:
    subject: str | None
    text: str
    html: str | None
    opt_out: str | None = None
    pdf: bytes | None = None  # a letter, ready to print


# (session, case, row, now, settings) -> the rendered message; the template book by default.
Renderer = Callable[[Session, Case, Reminder, datetime, Settings], Rendered]


@dataclass(frozen=True)
class RunReport:
    queued: int
    sent: int
    waiting: int  # outside hours, or the debtor's reminder of the day already went
    skipped: int
    failed: int  # given up on (tries used up, or refused for good)
    retrying: int  # failed this time, tried again later
    uncertain: int
    files: tuple[str, ...] = ()  # print batches and other files the couriers wrote


# --- facts about a case ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    id: uuid.UUID | None
    value: str
    shown: str
    zones: tuple[str, ...]


@dataclass
class _CaseView:
    case: Case
    debtor: Debtor
    pack: RulePack
    facts: CaseFacts
    holds: list[tuple[str, str | None]]
    zones: tuple[str, ...]
    today: date
    day_start: datetime
    language: str
    # The balance less what is under open dispute, once known (the plan knows it for a chunk).
    collectible: int | None = None
    # Where each channel's message would go (or why nowhere), once looked up for this case.
    targets: dict[str, _Target | str] = field(default_factory=dict)


def _language(debtor: Debtor) -> str:
    if debtor.language:
        return debtor.language[:16]
    return "zh" if debtor.country.upper() == "CN" else "en"


def _view(
    session: Session,
    case: Case,
    now: datetime,
    settings: Settings,
    holds: list[tuple[str, str | None]] | None = None,
) -> _CaseView:
    """The case as the checks see it; `holds` (its active holds, oldest first) when the caller
    read them already."""
    debtor = session.get(Debtor, case.debtor_id)
    if debtor is None:
        raise NotFound(_("the case's debtor is missing"))
    pack, zones = compliance.case_contact_zones(session=session, case=case, settings=settings)
    zone = ZoneInfo(zones[0]) if zones else UTC
    local = now.astimezone(zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
    if holds is None:
        holds = [
            (kind, reason)
            for kind, reason in session.exec(
                select(Hold.kind, Hold.reason)
                .where(Hold.case_id == case.id, col(Hold.released_at).is_(None))
                .order_by(col(Hold.placed_at))
            )
        ]
    facts = CaseFacts(
        case_id=case.id,
        debtor_id=case.debtor_id,
        country=debtor.country,
        status=case.status,
        routed_reason=case.routed_reason,
        deceased=debtor.deceased,
        bankrupt=debtor.bankrupt,
    )
    return _CaseView(
        case, debtor, pack, facts, holds, zones, local.date(), start, _language(debtor)
    )


def _sms_target(session: Session, view: _CaseView) -> _Target | str:
    phones = session.exec(
        select(Phone)
        .where(Phone.debtor_id == view.debtor.id, col(Phone.retired_at).is_(None))
        .order_by(col(Phone.is_primary).desc(), col(Phone.created_at), col(Phone.id))
    ).all()
    own = [p for p in phones if p.kind not in view.pack.third_party_kinds and p.e164]
    if not own:
        return _("no mobile number")
    usable = [
        p for p in own if p.valid and not p.do_not_call and p.status not in NOT_CALLABLE_STATUSES
    ]
    if not usable:
        return _("every number is marked wrong or do-not-call")
    consented = [p for p in usable if p.sms_consent]
    if not consented:
        return _("no SMS consent on any number")
    phone = consented[0]
    assert phone.e164 is not None
    zones = compliance.phone_zones(phone.e164, phone.time_zones, view.debtor.country, view.pack)
    return _Target(phone.id, phone.e164, mask_phone(phone.e164), zones or view.zones)


def _email_target(session: Session, view: _CaseView) -> _Target | str:
    rows = session.exec(
        select(EmailAddress)
        .where(EmailAddress.debtor_id == view.debtor.id, col(EmailAddress.retired_at).is_(None))
        .order_by(col(EmailAddress.created_at), col(EmailAddress.id))
    ).all()
    if not rows:
        return _("no e-mail address")
    if all(row.status == "dnc" for row in rows):
        return _("e-mail opted out")
    usable = [row for row in rows if row.status in ("valid", "unverified")]
    if not usable:
        return _("every e-mail address is marked wrong or opted out")
    opted = [row for row in usable if row.opt_in]
    if not opted:
        return _("e-mail not opted in")
    return _Target(opted[0].id, opted[0].address, opted[0].address, view.zones)


def _letter_target(session: Session, view: _CaseView) -> _Target | str:
    rows = session.exec(
        select(PostalAddress)
        .where(PostalAddress.debtor_id == view.debtor.id, col(PostalAddress.retired_at).is_(None))
        .order_by(
            col(PostalAddress.is_primary).desc(),
            col(PostalAddress.created_at),
            col(PostalAddress.id),
        )
    ).all()
    if not rows:
        return _("no postal address")
    usable = [row for row in rows if row.status in ("valid", "unverified")]
    if not usable:
        return _("every postal address is marked returned or wrong")
    return _Target(usable[0].id, usable[0].text, usable[0].text, ())


_TARGETS: dict[str, Callable[[Session, _CaseView], _Target | str]] = {
    "sms": _sms_target,
    "email": _email_target,
    "letter": _letter_target,
}


def _target(session: Session, view: _CaseView, channel: str) -> _Target | str:
    if channel not in view.targets:
        view.targets[channel] = _TARGETS[channel](session, view)
    return view.targets[channel]


def _blocked(session: Session, view: _CaseView, channel: str) -> str | None:
    """Why nothing may go to this case by `channel` at all (not a matter of waiting)."""
    reason = compliance.contact_block(view.facts, view.holds, view.pack)
    if reason is not None:
        return reason
    if channel not in view.pack.channels:
        return _("{channel} not allowed ({pack})").format(channel=channel, pack=view.pack.name)
    if view.collectible is None:
        view.collectible = balances.collectible(session, view.case)
    if view.collectible <= 0:
        return _("nothing collectible: the rest of the balance is disputed")
    return None


def _hours(
    target: _Target, channel: str, view: _CaseView, now: datetime
) -> tuple[str, datetime | None] | None:
    if channel == "letter":
        return None  # a letter arrives when the post brings it
    found = compliance.hours_block(target.zones, now, view.pack)
    if found is None:
        return None
    reason, opens = found
    return reason.replace("calling hours", "contact hours").replace("(calls ", "(hours "), opens


def _sent_today(
    session: Session, debtor_id: uuid.UUID, since: datetime, other_than: uuid.UUID | None = None
) -> Reminder | None:
    # One whose fate is unknown (left sending by a crash, uncertain) may have gone: it takes the
    # day too.
    statement = select(Reminder).where(
        Reminder.debtor_id == debtor_id,
        or_(
            and_(col(Reminder.status) == ReminderStatus.sent, col(Reminder.sent_at) >= since),
            and_(
                col(Reminder.status).in_((ReminderStatus.uncertain, ReminderStatus.sending)),
                col(Reminder.updated_at) >= since,
            ),
        ),
    )
    if other_than is not None:
        statement = statement.where(Reminder.id != other_than)
    return session.exec(statement.limit(1)).first()


# --- planning -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Planned:
    """What the plan's first pass reads of a case and its debtor (no ORM object per case)."""

    id: uuid.UUID
    client_ref: str
    client: str
    status: str
    balance: int
    currency: str
    placed_date: date
    last_contact_at: datetime | None
    strategy_treatment: dict[str, Any] | None
    country: str
    debtor_kind: str


PLANNED_COLUMNS: tuple[Any, ...] = (
    Case.id,
    Case.client_ref,
    Case.client,
    Case.status,
    Case.balance,
    Case.currency,
    Case.placed_date,
    Case.last_contact_at,
    Case.strategy_treatment,
    Debtor.country,
    Debtor.kind,
)


def _traits(case: _Planned) -> CaseTraits:
    return CaseTraits(
        client=case.client,
        country=case.country,
        debtor_kind=case.debtor_kind,
        status=case.status,
        balance=case.balance,
        currency=case.currency,
    )


def step_key(case_id: uuid.UUID, sequence: str, step: Step, anchor_id: uuid.UUID | None) -> str:
    """The idempotency key of a sequence step on a case (and, for a step after a broken promise,
    that promise): the outbox holds it once."""
    key = f"{case_id}:{sequence}:{step.number}"
    return f"{key}:{anchor_id}" if anchor_id is not None else key


def _broken_on(promise: Promise) -> date:
    if promise.resolved_at is not None:
        return promise.resolved_at.date()
    return promise.due_date + timedelta(days=promise.grace_days + 1)


def _latest_broken(
    session: Session, case_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[uuid.UUID, date]]:
    """Each case's latest broken promise (its id, the day it broke), for the steps counted from
    it: one query for a chunk of cases."""
    found: dict[uuid.UUID, tuple[uuid.UUID, date]] = {}
    if not case_ids:
        return found
    promises = session.exec(
        select(Promise)
        .where(col(Promise.case_id).in_(list(case_ids)), Promise.status == PromiseStatus.broken)
        .order_by(col(Promise.case_id), col(Promise.due_date).desc(), col(Promise.id))
    ).all()
    for promise in promises:
        if promise.case_id not in found:
            found[promise.case_id] = (promise.id, _broken_on(promise))
    return found


def _due_steps(
    case: _Planned,
    rules: ReminderRules,
    now: datetime,
    today: date,
    broken: tuple[uuid.UUID, date] | None,
) -> list[tuple[str, Step, date, str]]:
    """(sequence, step, due date, key) of the case's steps due by `today` whose conditions
    hold; `broken` is the case's latest broken promise (for the steps counted from it)."""
    sequence = rules.sequence_for(_traits(case))
    if sequence is None:
        return []  # a closed case, or no attach rule for it
    # The case's strategy may name its sequence (services/strategies, checked against these
    # sequences when applied); one since removed from the file leaves the attach rule's.
    chosen = (case.strategy_treatment or {}).get("sequence")
    if isinstance(chosen, str) and chosen in rules.sequences:
        sequence = rules.sequences[chosen]
    found: list[tuple[str, Step, date, str]] = []
    for step in sequence.steps:
        if step.anchor == "placement":
            due = case.placed_date + timedelta(days=step.day)
            key = step_key(case.id, sequence.name, step, None)
        else:
            if broken is None:
                continue
            promise_id, broken_on = broken
            due = broken_on + timedelta(days=step.day)
            key = step_key(case.id, sequence.name, step, promise_id)
        if due > today:
            continue
        if step.statuses is not None and case.status not in step.statuses:
            continue
        if step.no_contact_since_days is not None and case.last_contact_at is not None:
            if case.last_contact_at > now - timedelta(days=step.no_contact_since_days):
                continue
        found.append((sequence.name, step, due, key))
    return found


def _check(
    session: Session, view: _CaseView, channel: str, now: datetime
) -> tuple[str | None, _Target | None, datetime | None]:
    """(why not now, where it would go, when to try again when it is a matter of waiting)."""
    blocked = _blocked(session, view, channel)
    if blocked is not None:
        return blocked, None, None
    target = _target(session, view, channel)
    if isinstance(target, str):
        return target, None, None
    hours = _hours(target, channel, view, now)
    if hours is not None:
        return hours[0], target, hours[1] or now + timedelta(hours=1)
    return None, target, None


def _plan_case(
    session: Session,
    view: _CaseView,
    steps: list[tuple[str, Step, date, str]],
    now: datetime,
) -> list[PlannedReminder]:
    planned: list[PlannedReminder] = []
    for sequence, step, due, key in steps:
        reason, target, _later = _check(session, view, step.channel, now)
        planned.append(
            PlannedReminder(
                case_id=view.case.id,
                client_ref=view.case.client_ref,
                debtor_id=view.debtor.id,
                channel=step.channel,
                template=step.template,
                language=view.language,
                sequence=sequence,
                step=step.number,
                due=due,
                action=SKIP if reason else SEND,
                reason=reason,
                destination=target.shown if target else None,
                key=key,
                priority=step.priority,
                destination_id=target.id if target else None,
                destination_value=target.value if target else None,
            )
        )
    return planned


def _one_a_day(
    session: Session, planned: list[PlannedReminder], views: Mapping[uuid.UUID, _CaseView]
) -> list[PlannedReminder]:
    """At most one reminder per debtor per local day: one already sent today or waiting in the
    outbox takes the day; otherwise the highest priority, then the earliest due, goes."""
    by_debtor: dict[uuid.UUID, list[int]] = defaultdict(list)
    for index, item in enumerate(planned):
        if item.action == SEND:
            by_debtor[item.debtor_id].append(index)
    result = list(planned)
    for debtor_id, indexes in by_debtor.items():
        view = views[planned[indexes[0]].case_id]
        taken = _sent_today(session, debtor_id, view.day_start)
        waiting = session.exec(
            select(Reminder)
            .where(Reminder.debtor_id == debtor_id, col(Reminder.status).in_(OPEN_ROWS))
            .limit(1)
        ).first()
        holder = taken or waiting
        ordered = sorted(
            indexes, key=lambda i: (-planned[i].priority, planned[i].due, planned[i].key)
        )
        if holder is not None:
            if taken is not None:
                note = _("one reminder a day: {template} by {channel} sent today")
            else:
                note = _("one reminder a day: {template} by {channel} waiting in the outbox")
            note = note.format(template=holder.template, channel=holder.channel)
            losers = ordered
        else:
            winner = planned[ordered[0]]
            note = _("one reminder a day: {template} by {channel} goes first").format(
                template=winner.template, channel=winner.channel
            )
            losers = ordered[1:]
        for index in losers:
            result[index] = replace(planned[index], action=SKIP, reason=note)
    return result


# The debtor's today is at most 14 hours ahead of UTC's (Kiribati): a step due after UTC's
# today plus 14 hours is due nowhere yet.
AHEAD_OF_UTC = timedelta(hours=14)
PLAN_CHUNK = 1000


def _chunk_facts(
    session: Session, case_ids: list[uuid.UUID]
) -> tuple[dict[uuid.UUID, Case], dict[uuid.UUID, list[tuple[str, str | None]]], set[uuid.UUID]]:
    """For the cases the plan checks in full, read together: the cases and their debtors (then
    in the session), their active holds oldest first, and which have an open invoice dispute
    (the others' collectible amount is their balance)."""
    cases = {case.id: case for case in session.exec(select(Case).where(col(Case.id).in_(case_ids)))}
    debtor_ids = list({case.debtor_id for case in cases.values()})
    session.exec(select(Debtor).where(col(Debtor.id).in_(debtor_ids))).all()
    holds: dict[uuid.UUID, list[tuple[str, str | None]]] = defaultdict(list)
    for case_id, kind, reason in session.exec(
        select(Hold.case_id, Hold.kind, Hold.reason)
        .where(col(Hold.case_id).in_(case_ids), col(Hold.released_at).is_(None))
        .order_by(col(Hold.case_id), col(Hold.placed_at))
    ):
        holds[case_id].append((kind, reason))
    disputed = set(
        session.exec(
            select(InvoiceDispute.case_id).where(
                col(InvoiceDispute.case_id).in_(case_ids),
                InvoiceDispute.status == DisputeStatus.open,
            )
        ).all()
    )
    return cases, holds, disputed


def _new_steps(
    steps: list[tuple[str, Step, date, str]], known: set[str], channels: frozenset[str]
) -> list[tuple[str, Step, date, str]]:
    return [item for item in steps if item[3] not in known and item[1].channel in channels]


def _plan(
    session: Session,
    *,
    now: datetime,
    settings: Settings,
    case_ids: Sequence[uuid.UUID] | None,
    channels: frozenset[str],
    owner_id: uuid.UUID | None,
) -> tuple[list[PlannedReminder], int]:
    """The plan and how many reminders the planned cases already have in the outbox.

    Read in chunks of open cases in reference order: the sequence steps of a chunk are worked
    out from the case and debtor rows alone (and the latest broken promises, one query); only
    a case with a step due and not yet in the outbox gets the full check (its zones, holds,
    numbers and addresses). Most cases of a large book have nothing new on a given day, so the
    plan costs a few queries per thousand cases rather than several per case, and the session
    keeps only the cases that have something to plan."""
    rules = load_rules(settings, templates=template_names(settings))
    from_broken = any(
        step.anchor != "placement"
        for sequence in rules.sequences.values()
        for step in sequence.steps
    )
    horizon = (now + AHEAD_OF_UTC).date()
    statement = (
        select_columns(*PLANNED_COLUMNS)
        .join(Debtor, col(Debtor.id) == col(Case.debtor_id))
        .where(col(Case.status).in_(OPEN_STATUSES))
    )
    if case_ids is not None:
        statement = statement.where(col(Case.id).in_(list(case_ids)))
    if owner_id is not None:
        statement = statement.where(col(Case.assigned_to_id) == owner_id)
    views: dict[uuid.UUID, _CaseView] = {}
    planned: list[PlannedReminder] = []
    already = 0
    after: tuple[str, uuid.UUID] | None = None
    while True:
        page = statement
        if after is not None:
            page = page.where(tuple_(col(Case.client_ref), col(Case.id)) > tuple_(*after))
        rows = [
            _Planned(*row)
            for row in session.execute(
                page.order_by(col(Case.client_ref), col(Case.id)).limit(PLAN_CHUNK)
            ).all()
        ]
        if not rows:
            break
        after = (rows[-1].client_ref, rows[-1].id)
        chunk = [row.id for row in rows]
        known = set(
            session.exec(
                select(Reminder.idempotency_key).where(col(Reminder.case_id).in_(chunk))
            ).all()
        )
        already += len(known)
        broken = _latest_broken(session, chunk) if from_broken else {}
        candidates = [
            row
            for row in rows
            if _new_steps(_due_steps(row, rules, now, horizon, broken.get(row.id)), known, channels)
        ]
        if candidates:
            cases, holds, disputed = _chunk_facts(session, [row.id for row in candidates])
        for row in candidates:
            case = cases[row.id]
            view = _view(session, case, now, settings, holds=holds.get(row.id, []))
            if row.id not in disputed:
                view.collectible = case.balance
            latest = broken.get(row.id)
            steps = _new_steps(_due_steps(row, rules, now, view.today, latest), known, channels)
            if steps:
                views[case.id] = view
                planned.extend(_plan_case(session, view, steps, now))
        if len(rows) < PLAN_CHUNK:
            break
    return _one_a_day(session, planned, views), already


def _channels(channels: Iterable[str] | None) -> frozenset[str]:
    if channels is None:
        return frozenset(REMINDER_CHANNELS)
    chosen = frozenset(channels)
    unknown = sorted(chosen - set(REMINDER_CHANNELS))
    if unknown:
        raise InvalidInput(
            _("unknown channel {unknown} (one of {choices})").format(
                unknown=repr(unknown[0]), choices=", ".join(REMINDER_CHANNELS)
            ),
            field="channel",
        )
    return chosen


@reads
def plan_reminders(
    *,
    session: Session,
    now: datetime,
    settings: Settings,
    actor: Actor,
    case_ids: Sequence[uuid.UUID] | None = None,
    channels: Iterable[str] | None = None,
) -> tuple[PlannedReminder, ...]:
    """What the sequences make due now, per case, with `send` or `skip` and why (a dry run: writes
    nothing). An agent sees their own cases; a supervisor every case."""
    chosen = _channels(channels)
    owner = None if actor.is_supervisor else actor.user_id
    planned, _already = _plan(
        session, now=now, settings=settings, case_ids=case_ids, channels=chosen, owner_id=owner
    )
    return tuple(planned)


# --- queueing -------------------------------------------------------------------------------------


def _new_row(item: PlannedReminder, now: datetime, user_id: uuid.UUID | None) -> Reminder:
    return Reminder(
        case_id=item.case_id,
        debtor_id=item.debtor_id,
        channel=item.channel,
        template=item.template,
        language=item.language,
        sequence=item.sequence,
        step=item.step,
        due_date=item.due,
        destination=item.destination_value,
        destination_id=item.destination_id,
        status=ReminderStatus.queued.value,
        idempotency_key=item.key,
        created_by_id=user_id,
        created_at=now,
        updated_at=now,
    )


@writes
def queue_due(
    *,
    session: Session,
    now: datetime,
    settings: Settings,
    actor: Actor,
    channels: Iterable[str] | None = None,
) -> QueueResult:
    """Put every reminder the plan says to send into the outbox (status queued). Idempotent: a
    step already in the outbox (its key) is never queued again. Supervisors only."""
    require_supervisor(actor, N_("queue the reminders of every case"))
    chosen = _channels(channels)
    planned, already = _plan(
        session, now=now, settings=settings, case_ids=None, channels=chosen, owner_id=None
    )
    queued = 0
    for item in planned:
        if item.action != SEND:
            continue
        row = _new_row(item, now, actor.user_id)
        session.add(row)
        queued += 1
    session.flush()
    if queued:
        audit.record(
            session=session,
            now=now,
            user_id=actor.user_id,
            entity="reminder",
            entity_id="queue",
            action="queue_due",
            after={"queued": queued},
        )
    return QueueResult(
        queued=queued,
        skipped=sum(1 for item in planned if item.action == SKIP),
        already=already,
        plan=tuple(planned),
    )


def _check_template(channel: str, template: str, settings: Settings) -> None:
    if not template or len(template) > MAX_TEMPLATE:
        raise InvalidInput(_("name a template"), field="template")
    names = template_names(settings)
    if names is not None and template not in names.get(channel, frozenset()):
        raise InvalidInput(
            _("no {channel} template named {template}").format(
                channel=channel, template=repr(template)
            ),
            field="template",
        )


def manual_key(case_id: uuid.UUID, channel: str, template: str, day: date) -> str:
    """A reminder queued by hand: one of a template by a channel per case per debtor day."""
    return f"{MANUAL}:{case_id}:{channel}:{template}:{day.isoformat()}"


@dataclass(frozen=True)
class ManualCheck:
    """What `m` on the case screen shows before it queues: where it would go, and any refusal."""

    case_id: uuid.UUID
    client_ref: str
    channel: str
    template: str
    language: str
    destination: str | None
    refusal: str | None  # the reason it cannot be queued, or None
    waits: str | None  # why it would not go out at once (hours), or None
    key: str


def _manual(
    session: Session, case: Case, channel: str, template: str, now: datetime, settings: Settings
) -> tuple[ManualCheck, _Target | None]:
    view = _view(session, case, now, settings)
    key = manual_key(case.id, channel, template, view.today)
    reason, target, later = _check(session, view, channel, now)
    refusal = None if later is not None else reason
    waits = reason if later is not None else None
    if refusal is None:
        existing = session.exec(
            select(Reminder.status).where(Reminder.idempotency_key == key)
        ).first()
        if existing is not None:
            refusal = _("this reminder is already {status} today").format(status=existing)
    return (
        ManualCheck(
            case_id=case.id,
            client_ref=case.client_ref,
            channel=channel,
            template=template,
            language=view.language,
            destination=target.shown if target else None,
            refusal=refusal,
            waits=waits,
            key=key,
        ),
        target,
    )


def _case_of(session: Session, case_id: uuid.UUID, actor: Actor) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(_("no such case"))
    ensure_case_access(actor, case)
    return case


@reads
def check_reminder(
    *,
    session: Session,
    now: datetime,
    settings: Settings,
    actor: Actor,
    case_id: uuid.UUID,
    channel: str,
    template: str,
) -> ManualCheck:
    """Whether `queue_reminder` would take this reminder, and where it would go."""
    _channels([channel])
    _check_template(channel, template, settings)
    case = _case_of(session, case_id, actor)
    check, _target = _manual(session, case, channel, template, now, settings)
    return check


@dataclass(frozen=True)
class ReminderPreview:
    """A reminder as it would be sent now, with what the checks say (the case screen's preview)."""

    check: ManualCheck
    subject: str | None
    text: str | None
    error: str | None  # the template could not be rendered


@reads
def preview_reminder(
    *,
    session: Session,
    now: datetime,
    settings: Settings,
    actor: Actor,
    case_id: uuid.UUID,
    channel: str,
    template: str,
) -> ReminderPreview:
    """The rendered reminder for the case and whether it could be queued (writes nothing)."""
    _channels([channel])
    _check_template(channel, template, settings)
    case = _case_of(session, case_id, actor)
    check, target = _manual(session, case, channel, template, now, settings)
    draft = Reminder(
        case_id=case.id,
        debtor_id=case.debtor_id,
        channel=channel,
        template=template,
        language=check.language,
        due_date=now.date(),
        destination=target.value if target else None,
        idempotency_key=check.key,
        created_at=now,
        updated_at=now,
    )
    try:
        rendered = render_with_book(session, case, draft, now, settings)
    except (ValueError, LookupError, InvalidInput, TemplateError) as error:
        return ReminderPreview(check, None, None, str(error))
    return ReminderPreview(check, rendered.subject, rendered.text, None)


@dataclass(frozen=True)
class ReminderChoice:
    channel: str
    template: str


def reminder_choices(settings: Settings) -> tuple[ReminderChoice, ...]:
    """Every (channel, template) the template book offers, for the case screen's list."""
    names = template_names(settings) or {}
    return tuple(
        ReminderChoice(channel, template)
        for channel in REMINDER_CHANNELS
        for template in sorted(names.get(channel, ()))
    )


@writes
def queue_reminder(
    *,
    session: Session,
    now: datetime,
    settings: Settings,
    actor: Actor,
    case_id: uuid.UUID,
    channel: str,
    template: str,
) -> OutboxEntry:
    """Queue one reminder on a case by hand (the case screen's `m`): the case's agent or a
    supervisor, the same checks as the plan (a hold, consent, an address; hours only delay it).
    Works on a laptop: the row travels to the master as a fact, which checks it again before it
    sends."""
    _channels([channel])
    _check_template(channel, template, settings)
    case = _case_of(session, case_id, actor)
    check, target = _manual(session, case, channel, template, now, settings)
    if check.refusal is not None:
        raise InvalidInput(check.refusal, field="channel")
    assert target is not None
    row = Reminder(
        case_id=case.id,
        debtor_id=case.debtor_id,
        channel=channel,
        template=template,
        language=check.language,
        due_date=_view(session, case, now, settings).today,
        destination=target.value,
        destination_id=target.id,
        status=ReminderStatus.queued.value,
        idempotency_key=check.key,
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    audit.record(
        session=session,
        now=now,
        user_id=actor.user_id,
        entity="reminder",
        entity_id=row.id,
        action="queue",
        after={"case_id": case.id, "channel": channel, "template": template},
    )
    try:
        session.flush()
    except IntegrityError:
        raise InvalidInput(_("this reminder is already queued today"), field="channel") from None
    return _entry(row, case.client_ref)


# --- the list -------------------------------------------------------------------------------------


def _shown(channel: str, value: str | None) -> str | None:
    if value is None:
        return None
    return mask_phone(value) if channel == "sms" else value


def _entry(row: Reminder, client_ref: str) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        case_id=row.case_id,
        client_ref=client_ref,
        channel=row.channel,
        template=row.template,
        language=row.language,
        sequence=row.sequence,
        step=row.step,
        due=row.due_date,
        status=row.status,
        reason=row.reason,
        tries=row.tries,
        next_try_at=row.next_try_at,
        destination=_shown(row.channel, row.destination),
        created_at=row.created_at,
        sent_at=row.sent_at,
        subject=row.subject,
        body=row.body,
        pdf_path=row.pdf_path,
    )


@reads
def list_outbox(
    *,
    session: Session,
    actor: Actor,
    statuses: Iterable[str] | None = None,
    case_id: uuid.UUID | None = None,
    limit: int = 500,
) -> tuple[OutboxEntry, ...]:
    """The outbox, newest first: every case for a supervisor, an agent's own cases."""
    chosen = tuple(statuses) if statuses is not None else None
    if chosen is not None:
        unknown = sorted(set(chosen) - {status.value for status in ReminderStatus})
        if unknown:
            raise InvalidInput(
                _("unknown status {unknown} (one of {value})").format(
                    unknown=repr(unknown[0]),
                    value=", ".join(status.value for status in ReminderStatus),
                ),
                field="status",
            )
    statement = select(Reminder, Case.client_ref).join(Case, col(Case.id) == col(Reminder.case_id))
    if chosen is not None:
        statement = statement.where(col(Reminder.status).in_(chosen))
    if case_id is not None:
        statement = statement.where(Reminder.case_id == case_id)
    if not actor.is_supervisor:
        statement = statement.where(Case.assigned_to_id == actor.user_id)
    rows = session.exec(
        statement.order_by(col(Reminder.created_at).desc(), col(Reminder.id)).limit(limit)
    ).all()
    return tuple(_entry(row, ref) for row, ref in rows)


@writes
def cancel_reminder(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    settings: Settings,
    reminder_id: uuid.UUID,
    reason: str,
) -> OutboxEntry:
    """A supervisor cancels a queued, failed or uncertain reminder (never a sent one), saying why
    (at least `min_reason_length` characters, as for holds: it goes to the audit trail)."""
    require_supervisor(actor, N_("cancel a reminder"))
    why = reasons.check_reason(reason, minimum=settings.min_reason_length) or ""
    row = session.get(Reminder, reminder_id)
    if row is None:
        raise NotFound(_("no such reminder"))
    if row.status not in (
        ReminderStatus.queued,
        ReminderStatus.failed,
        ReminderStatus.uncertain,
    ):
        raise InvalidInput(
            _("a {status} reminder cannot be cancelled").format(status=row.status), field="reminder"
        )
    before = row.status
    row.status = ReminderStatus.cancelled.value
    row.reason = why
    row.updated_at = now
    session.add(row)
    audit.record(
        session=session,
        now=now,
        user_id=actor.user_id,
        entity="reminder",
        entity_id=row.id,
        action="cancel",
        before={"status": before},
        after={"status": row.status, "reason": row.reason},
    )
    session.flush()
    case = session.get(Case, row.case_id)
    return _entry(row, case.client_ref if case else "")


@writes
def settle_uncertain(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    settings: Settings,
    reminder_id: uuid.UUID,
    delivered: bool,
    reason: str,
) -> OutboxEntry:
    """A supervisor settles a reminder left `uncertain` by a crash: it did arrive (recorded sent,
    with its activity, as the run would have) or it did not (queued again for the next run).
    The reason (how the supervisor knows) is required, as for a cancel."""
    require_supervisor(actor, N_("settle an uncertain reminder"))
    why = reasons.check_reason(reason, minimum=settings.min_reason_length) or ""
    row = session.get(Reminder, reminder_id)
    if row is None:
        raise NotFound(_("no such reminder"))
    if row.status != ReminderStatus.uncertain:
        raise InvalidInput(
            _("the reminder is {status}, not uncertain").format(status=row.status), field="reminder"
        )
    case = session.get(Case, row.case_id)
    assert case is not None
    if delivered:
        message = Outgoing(
            reminder_id=row.id,
            case_id=row.case_id,
            client_ref=case.client_ref,
            channel=row.channel,
            to=row.destination or "",
            subject=row.subject,
            text=row.body or "",
            html=None,
            language=row.language,
            template=row.template,
            idempotency_key=row.idempotency_key,
        )
        receipt = Receipt(
            reference=row.provider_ref, pdf_path=row.pdf_path, pdf_sha256=row.pdf_sha256
        )
        _record_sent(session, message=message, receipt=receipt, now=now, actor=actor)
    else:
        _set(row, now, status=ReminderStatus.queued.value, reason=None, next_try_at=None)
        session.add(row)
    audit.record(
        session=session,
        now=now,
        user_id=actor.user_id,
        entity="reminder",
        entity_id=row.id,
        action="settle",
        before={"status": ReminderStatus.uncertain.value},
        after={"status": row.status, "reason": why},
    )
    session.flush()
    return _entry(row, case.client_ref)


# --- the send run ---------------------------------------------------------------------------------


def template_names(settings: Settings) -> dict[str, frozenset[str]] | None:
    """Template names by channel from the template book, or None when it cannot be read (its
    own error comes when a reminder is rendered, with the file and line)."""
    try:
        book = load_template_book(settings)
    except TemplateError:
        return None
    return {channel: frozenset(book.names(channel)) for channel in REMINDER_CHANNELS}


def template_language(language: str) -> str:
    """The template book's name for a debtor's language: "zh_CN" and "zh-CN" are "zh"."""
    return language.replace("_", "-").split("-")[0].lower() or "en"


def book_renderer(settings: Settings) -> Renderer:
    """Render reminders with the team's template book (read once, at the first reminder) from
    the case's fields; a letter's PDF is made here too."""
    book: TemplateBook | None = None

    def render(
        session: Session, case: Case, row: Reminder, now: datetime, settings: Settings
    ) -> Rendered:
        nonlocal book
        if book is None:
            book = load_template_book(settings)
        fields = reminder_fields(session=session, case_id=case.id, now=now, settings=settings)
        rendered = book.render(row.template, row.channel, template_language(row.language), fields)
        return Rendered(
            subject=rendered.subject or None,
            text=rendered.text,
            html=rendered.html or None,
            opt_out=rendered.opt_out or None,
            pdf=(
                letter_pdf(rendered, fields, font_file=settings.delivery.letter_font)
                if row.channel == "letter"
                else None
            ),
        )

    return render


def render_with_book(
    session: Session, case: Case, row: Reminder, now: datetime, settings: Settings
) -> Rendered:
    return book_renderer(settings)(session, case, row, now, settings)


def is_laptop(session: Session) -> bool:
    row = session.get(SyncState, 1)
    return row is not None and row.role == "laptop"


@dataclass(frozen=True)
class _Claim:
    message: Outgoing


SEND_RUN = "reminders-send"


def _retry_at(now: datetime, tries: int, settings: Settings) -> datetime:
    return now + timedelta(minutes=settings.reminder_retry_min * 2 ** max(0, tries - 1))


def _set(row: Reminder, now: datetime, **values: Any) -> None:
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at = now


def _claim(
    session: Session,
    *,
    reminder_id: uuid.UUID,
    now: datetime,
    settings: Settings,
    couriers: Mapping[str, Courier],
    render: Renderer,
    tally: dict[str, int],
) -> _Claim | None:
    """Check one reminder again and, when it may go, render it and mark it `sending`."""
    row = session.get(Reminder, reminder_id)
    if row is None or row.status not in OPEN_ROWS:
        return None
    case = session.get(Case, row.case_id)
    assert case is not None
    courier = couriers.get(row.channel)
    if courier is None:
        return None
    if row.status == ReminderStatus.sending and not courier.idempotent:
        _set(
            row,
            now,
            status=ReminderStatus.uncertain.value,
            reason=_(
                "the send run stopped while handing it to the {channel} channel: whether it "
                "went out is not known; check before sending it again"
            ).format(channel=row.channel),
        )
        session.add(row)
        tally["uncertain"] += 1
        return None
    view = _view(session, case, now, settings)
    blocked = _blocked(session, view, row.channel)
    target: _Target | str | None = None
    if blocked is None:
        target = _target(session, view, row.channel)
        if isinstance(target, str):
            blocked = target
    if blocked is not None:
        _set(row, now, status=ReminderStatus.skipped.value, reason=blocked[:500])
        session.add(row)
        tally["skipped"] += 1
        return None
    assert isinstance(target, _Target)
    hours = _hours(target, row.channel, view, now)
    taken = _sent_today(session, row.debtor_id, view.day_start, other_than=row.id)
    if hours is not None or taken is not None:
        if hours is not None:
            reason, opens = hours[0], hours[1] or now + timedelta(hours=1)
        else:
            assert taken is not None
            reason = _("one reminder a day: {template} by {channel} sent today").format(
                template=taken.template, channel=taken.channel
            )
            opens = view.day_start + timedelta(days=1)
        # Back to the queue (a crash's `sending` too: nothing goes out now).
        _set(row, now, status=ReminderStatus.queued.value, reason=reason[:500], next_try_at=opens)
        session.add(row)
        tally["waiting"] += 1
        return None
    try:
        rendered = render(session, case, row, now, settings)
    except (ValueError, LookupError, InvalidInput, TemplateError) as error:
        _set(
            row,
            now,
            status=ReminderStatus.failed.value,
            reason=_("cannot render: {error}").format(error=error)[:500],
        )
        session.add(row)
        tally["failed"] += 1
        return None
    _set(
        row,
        now,
        status=ReminderStatus.sending.value,
        reason=None,
        tries=row.tries + 1,
        destination=target.value,
        destination_id=target.id,
        subject=rendered.subject,
        body=rendered.text,
        next_try_at=None,
    )
    session.add(row)
    return _Claim(
        Outgoing(
            reminder_id=row.id,
            case_id=case.id,
            client_ref=case.client_ref,
            channel=row.channel,
            to=target.value,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            language=row.language,
            template=row.template,
            idempotency_key=row.idempotency_key,
            opt_out=rendered.opt_out,
            recipient_name=view.debtor.name,
            date_line=view.today.isoformat(),
            pdf=rendered.pdf,
        )
    )


def _record_sent(
    session: Session,
    *,
    message: Outgoing,
    receipt: Receipt,
    now: datetime,
    actor: Actor | None,
) -> None:
    """The reminder sent: its activity on the case's timeline and the row marked, in one unit.

    The case row itself is not changed (no version, no queue place): a reminder going out must not
    make an agent's open form stale."""
    row = session.get(Reminder, message.reminder_id)
    assert row is not None
    if message.channel == "letter":
        note = f"Letter {message.template}: {receipt.pdf_path} (sha256 {receipt.pdf_sha256})"
    else:
        subject = f"{message.subject}\n\n" if message.subject else ""
        note = f"{subject}{message.text}"
    phone_id = row.destination_id if message.channel == "sms" else None
    # Sent by the run, not by a person: no user on the activity, so a reminder is never one of
    # the supervisor's contact attempts (agent activity, the workload's attempts of the day);
    # the audit event below says who ran it.
    activity = Activity(
        case_id=row.case_id,
        user_id=None,
        occurred_at=now,
        channel=message.channel,
        direction="outbound",
        phone_id=phone_id,
        phone_e164=message.to if message.channel == "sms" else None,
        disposition=None,
        note=note,
        created_at=now,
    )
    session.add(activity)
    session.flush()
    _set(
        row,
        now,
        status=ReminderStatus.sent.value,
        sent_at=now,
        activity_id=activity.id,
        provider_ref=(receipt.reference or None) and receipt.reference[:200],
        pdf_path=receipt.pdf_path,
        pdf_sha256=receipt.pdf_sha256,
        reason=None,
    )
    session.add(row)
    audit.record(
        session=session,
        now=now,
        user_id=actor.user_id if actor is not None else None,
        entity="reminder",
        entity_id=row.id,
        action="sent",
        after={"case_id": row.case_id, "channel": row.channel, "activity_id": activity.id},
    )
    session.flush()


def _record_failure(
    session: Session,
    *,
    reminder_id: uuid.UUID,
    failure: DeliveryFailed,
    now: datetime,
    settings: Settings,
) -> str:
    row = session.get(Reminder, reminder_id)
    assert row is not None
    if failure.permanent or row.tries >= settings.reminder_max_tries:
        _set(row, now, status=ReminderStatus.failed.value, reason=failure.reason[:500])
        outcome = "failed"
    else:
        # Stored in the send run's language (docs/decisions.md, Languages).
        why = _("try {tries} failed: {reason}").format(tries=row.tries, reason=failure.reason)
        _set(
            row,
            now,
            status=ReminderStatus.queued.value,
            reason=why[:500],
            next_try_at=_retry_at(now, row.tries, settings),
        )
        outcome = "retrying"
    session.add(row)
    session.flush()
    return outcome


def _due_ids(session: Session, now: datetime, channels: frozenset[str]) -> list[uuid.UUID]:
    rows = session.exec(
        select(Reminder.id)
        .where(
            col(Reminder.status).in_(OPEN_ROWS),
            col(Reminder.channel).in_(list(channels)),
            (col(Reminder.next_try_at).is_(None)) | (col(Reminder.next_try_at) <= now),
        )
        .order_by(col(Reminder.created_at), col(Reminder.id))
    ).all()
    return list(rows)


def send_due(
    *,
    store: Store,
    now: datetime,
    settings: Settings,
    actor: Actor,
    couriers: Mapping[str, Courier],
    channels: Iterable[str] | None = None,
    render: Renderer | None = None,
    progress: Callable[[int, int], None] | None = None,
    take_over: bool = False,
) -> RunReport:
    """The send run (master only, supervisors): queue what is due, then for each reminder in the
    outbox due now check it again, render it, hand it to its channel's courier and record it.

    Each reminder is its own units of work (marked `sending` and committed before delivery,
    recorded `sent` after), so a run that stops half-way leaves every reminder either sent once
    or still to do (see the module doc for what is left `sending`). A courier raising
    DeliveryFailed is a failed try; anything else stops the run (the reminder stays `sending`).
    `progress(done, total)` is called after each reminder.

    One run at a time (run_lease.py): the run takes the outbox's lease first and refuses with
    RunBusy while another holds it; `take_over` takes it from a run known to be gone."""
    with store.read() as session:
        if is_laptop(session):
            raise Forbidden(
                _(
                    "reminders are sent by the master: queue them here, sync, "
                    "and the master's send run sends them"
                )
            )
    require_supervisor(actor, N_("send reminders"))
    chosen = _channels(channels)
    missing = sorted(chosen - set(couriers))
    renderer = render or book_renderer(settings)
    lease = run_lease.new_lease(SEND_RUN, actor.username)
    minutes = settings.reminder_run_lease_min
    started = time.monotonic()

    def lease_now() -> datetime:
        return now + timedelta(seconds=time.monotonic() - started)

    with store.write() as session:
        run_lease.acquire(session, lease=lease, now=now, minutes=minutes, take_over=take_over)
    try:
        return _run(
            store=store,
            now=now,
            settings=settings,
            actor=actor,
            couriers=couriers,
            chosen=chosen,
            missing=missing,
            renderer=renderer,
            progress=progress,
            still_ours=lambda session: run_lease.renew(
                session, lease=lease, now=lease_now(), minutes=minutes
            ),
        )
    finally:
        with store.write() as session:
            run_lease.release(session, lease=lease)


def _run(
    *,
    store: Store,
    now: datetime,
    settings: Settings,
    actor: Actor,
    couriers: Mapping[str, Courier],
    chosen: frozenset[str],
    missing: list[str],
    renderer: Renderer,
    progress: Callable[[int, int], None] | None,
    still_ours: Callable[[Session], bool],
) -> RunReport:
    with store.write() as session:
        queued = queue_due(
            session=session, now=now, settings=settings, actor=actor, channels=chosen
        ).queued
    with store.read() as session:
        ids = _due_ids(session, now, chosen - set(missing))
    tally: dict[str, int] = defaultdict(int)
    total = len(ids)
    for done, reminder_id in enumerate(ids, start=1):
        with store.write() as session:
            if not still_ours(session):
                raise run_lease.RunBusy(
                    _(
                        "another send run took over the outbox; this one stopped "
                        "after {done} of {total}"
                    ).format(done=done - 1, total=total),
                    field="run",
                )
            claim = _claim(
                session,
                reminder_id=reminder_id,
                now=now,
                settings=settings,
                couriers=couriers,
                render=renderer,
                tally=tally,
            )
        if claim is not None:
            courier = couriers[claim.message.channel]
            try:
                receipt = courier.send(claim.message)
            except DeliveryFailed as failure:
                with store.write() as session:
                    outcome = _record_failure(
                        session,
                        reminder_id=reminder_id,
                        failure=failure,
                        now=now,
                        settings=settings,
                    )
                tally[outcome] += 1
            else:
                with store.write() as session:
                    _record_sent(
                        session, message=claim.message, receipt=receipt, now=now, actor=actor
                    )
                tally["sent"] += 1
        if progress is not None:
            progress(done, total)
    files: list[str] = []
    for courier in couriers.values():
        finish = getattr(courier, "finish", None)
        if callable(finish):
            made = finish()
            if made:
                files.append(str(made))
    return RunReport(
        queued=queued,
        sent=tally["sent"],
        waiting=tally["waiting"],
        skipped=tally["skipped"],
        failed=tally["failed"],
        retrying=tally["retrying"],
        uncertain=tally["uncertain"],
        files=tuple(files),
    )
