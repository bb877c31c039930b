"""What a laptop's operation may do on the master: the app's own checks, applied to rows.

A laptop sends rows, not service calls: a contact logged offline arrives as an activity, a promise,
a case update and audit events, and replaying the service would make them twice. So each row is
admitted here by the rules of the service that writes it in the app, as the authenticated user:

- the actor is the user the master authenticated (the device's owner), never a field of the row:
  an operation sent in another user's name, or a row written in another user's name
  (`user_id`, `created_by_id`, `placed_by_id`, `requested_by_id`, ...), is refused;
- the case must be one the app would let that user change (an agent's own case; a fact taken
  offline on a case that moved away meanwhile is still kept, by the conflict rules of
  services/sync/policy.py); an update or a deletion touches only the agent's current cases or
  rows the agent made;
- every value passes the service's own checks (promises.validate_promise, notes.check_note,
  holds.check_kind, the 500-character reasons, the accepted date range);
- fields no app user of that role could set are refused (a settlement's decision, an approval above
  the agent's limit, a debtor's name, a phone's time zones); the master writes its own audit trail.

Every refusal is a ServiceError with the reason the app would give; services/sync/apply.py answers
it `rejected` and keeps the operation for a supervisor's review.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from collector_tui.config import Settings
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.models import (
    REMINDER_CHANNELS,
    Activity,
    Case,
    Channel,
    Debtor,
    EmailAddress,
    FollowUp,
    Hold,
    Invoice,
    PaymentPlan,
    Phone,
    PostalAddress,
    Promise,
    ThirdParty,
)
from collector_tui.phones import parse_phone
from collector_tui.services.accounts import Actor, ensure_case_access
from collector_tui.services.casework import change, holds, promises
from collector_tui.services.contacts import book as contacts
from collector_tui.services.errors import Forbidden, InvalidInput
from collector_tui.services.rules import dispositions
from collector_tui.services.sync import codec, hlc

# How far a laptop's clock may run ahead of the master's: beyond, its clock values are capped (they
# would win every last-writer-wins comparison and push the master's clock into the future), and
# an instant it sends is refused as in the future.
MAX_CLOCK_SKEW = timedelta(hours=12)
# One accepted range for every date and instant a laptop sends.
EARLIEST = date(1900, 1, 1)
LATEST = date(2200, 12, 31)
KINDS = ("insert", "update", "delete")
MAX_KEY_LENGTH = 64
MAX_REASON = 500
# An offline promise's dates are judged against the day it was taken (the clock of its
# operation), not the day it reaches the master, within this window.
MAX_OFFLINE_DAYS = 366

# Columns that name the user who did something: always the authenticated actor.
ACTOR_COLUMNS: dict[str, tuple[str, ...]] = {
    "activity": ("user_id",),
    "promise": ("created_by_id",),
    "paymentplan": ("created_by_id",),
    "followup": ("created_by_id",),
    "hold": ("placed_by_id",),
    "settlement": ("requested_by_id",),
    "payment": ("recorded_by_id",),
    "invoice_dispute": ("opened_by_id",),
    "assessment": ("assessed_by_id",),
    "postaladdress": ("created_by_id",),
    "emailaddress": ("created_by_id",),
    "thirdparty": ("created_by_id",),
    "reminder": ("created_by_id",),
}

# What an agent may change on an existing row from the app, by table (anything else is the
# master's or derived: services/sync/apply.py answers those by policy).
AGENT_FIELDS: dict[str, frozenset[str]] = {
    "followup": frozenset({"due_at", "done_at", "reason"}),
    "promise": frozenset({"status"}),
    "paymentplan": frozenset({"status"}),
    "phone": frozenset(
        {
            "valid",
            "do_not_call",
            "kind",
            "source",
            "is_primary",
            "status_reason",
            "status_at",
            "dnc_how",
            "consent_until",
            "call_consent_at",
            "call_consent_how",
            "sms_consent",
            "sms_consent_at",
            "sms_consent_how",
        }
    ),
    "postaladdress": frozenset({"source", "status_reason", "status_at", "is_primary"}),
    "emailaddress": frozenset(
        {"source", "status_reason", "status_at", "opt_in", "opt_in_at", "opt_in_how"}
    ),
    "thirdparty": frozenset(
        {"name", "relation", "note", "source", "objected_how", "recontact_requested_at"}
    ),
    "collection_case": frozenset({"routed_reason"}),
}


# --- the operation itself ------------------------------------------------------------------------


def check_shape(*, kind: str, entity: str, entity_id: str, clock: str) -> None:
    """An operation the master can read at all: known kind and table, a row key that is a UUID,
    a well-formed clock (one running ahead is capped where it is compared: apply._clock)."""
    if kind not in KINDS:
        raise InvalidInput(_("unknown operation {kind}").format(kind=repr(str(kind)[:16])))
    if entity in codec.LOCAL_TABLES or entity not in codec.BRIEFCASE_TABLES + ("auditevent",):
        raise InvalidInput(_("{entity} rows are not synchronised").format(entity=str(entity)[:64]))
    if len(entity_id) > MAX_KEY_LENGTH:
        raise InvalidInput(_("the row key is too long"))
    try:
        uuid.UUID(entity_id)
    except ValueError:
        raise InvalidInput(_("the row key is not an id")) from None
    stamp = hlc.parse(clock)
    if stamp.wall_ms <= 0 or stamp.text() != clock:
        raise InvalidInput(_("the operation's clock is malformed"))


def offline_day(clock: str, now: datetime) -> date:
    """The UTC day an operation was made on the laptop, kept within the last year."""
    # Clamped in milliseconds first: a forged clock may lie beyond what a datetime can hold.
    earliest = hlc.wall_ms(now - timedelta(days=MAX_OFFLINE_DAYS))
    made = min(max(hlc.parse(clock).wall_ms, earliest), hlc.wall_ms(now))
    return datetime.fromtimestamp(made / 1000, tz=UTC).date()


# --- who ----------------------------------------------------------------------------------------


def check_actor_columns(entity: str, values: dict[str, Any], actor: Actor) -> None:
    """Rows name their author; a laptop writes only in its own user's name."""
    for name in ACTOR_COLUMNS.get(entity, ()):
        given = values.get(name)
        if given is not None and given != actor.user_id:
            raise Forbidden(
                _("{entity} written in another user's name ({name})").format(
                    entity=entity, name=name
                )
            )
        values[name] = actor.user_id


def may_change_row(entity: str, row: Any, case: Case | None, actor: Actor) -> None:
    """An update or a deletion: the agent's current case, or a row the agent made."""
    if actor.is_supervisor or (case is not None and case.assigned_to_id == actor.user_id):
        return
    own = {
        "followup": ("owner_id", "created_by_id"),
        "promise": ("created_by_id",),
        "paymentplan": ("created_by_id",),
    }.get(entity, ())
    if any(getattr(row, name, None) == actor.user_id for name in own):
        return
    raise Forbidden(_("not your case: only its agent or a supervisor can change it"))


# --- values -------------------------------------------------------------------------------------


def _instant(value: Any, field: str, *, required: bool = True) -> datetime | None:
    if value is None:
        if required:
            raise InvalidInput(_("{field} is required").format(field=_(field)), field=field)
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidInput(
            _("{field} needs a date, a time and a zone").format(field=_(field)), field=field
        )
    if not EARLIEST <= value.astimezone(UTC).date() <= LATEST:
        raise InvalidInput(
            _("{field} must fall between {first} and {last}").format(
                field=field, first=EARLIEST.year, last=LATEST.year
            ),
            field=field,
        )
    return value


def _not_later(value: datetime | None, now: datetime, field: str) -> None:
    if value is not None and value > now + MAX_CLOCK_SKEW:
        raise InvalidInput(_("{field} is in the future").format(field=_(field)), field=field)


def _date(value: Any, field: str) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidInput(_("{field} must be a calendar date").format(field=_(field)), field=field)
    if not EARLIEST <= value <= LATEST:
        raise InvalidInput(
            _("{field} must fall between {first} and {last}").format(
                field=field, first=EARLIEST.year, last=LATEST.year
            ),
            field=field,
        )
    return value


def _text(value: Any, field: str, *, limit: int, required: bool = False) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput(_("{field} is required").format(field=_(field)), field=field)
        return None
    if not isinstance(value, str):
        raise InvalidInput(_("{field} must be text").format(field=_(field)), field=field)
    if len(value) > limit:
        raise InvalidInput(
            _("{field} can be at most {limit} characters").format(field=_(field), limit=limit),
            field=field,
        )
    return value


def _flag(value: Any, field: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidInput(_("{field} is true or false").format(field=_(field)), field=field)
    return value


# What `_same_case` refuses, by the kind of row referred to (lazy: worded when raised).
_ANOTHER_CASE = {
    "plan": N_("the payment plan this refers to belongs to another case"),
    "contact": N_("the contact this refers to belongs to another case"),
}


def _same_case(session: Session, model: type[Any], key: Any, case: Case, what: str) -> None:
    if key is None:
        return
    row = session.get(model, key)
    if row is None or row.case_id != case.id:
        raise InvalidInput(_(_ANOTHER_CASE[what]))


# --- inserts, table by table ----------------------------------------------------------------------


def admit_activity(
    session: Session,
    case: Case,
    values: dict[str, Any],
    actor: Actor,
    now: datetime,
    settings: Settings,
) -> None:
    """A contact attempt or a note, as services/activities checks them."""
    channel = values.get("channel")
    if channel not in Channel.__members__:
        raise InvalidInput(
            _("unknown channel {channel}").format(channel=repr(str(channel)[:16])), field="channel"
        )
    direction = values.get("direction") or "outbound"
    if direction not in ("outbound", "inbound"):
        raise InvalidInput(_("the direction is outbound or inbound"), field="direction")
    values["direction"] = direction
    code = values.get("disposition")
    if channel == Channel.note:
        if code is not None:
            raise InvalidInput(_("a note has no disposition"), field="disposition")
    elif code is not None:
        dispositions.check_disposition(code)
    note = values.get("note")
    if note is not None and not isinstance(note, str):
        raise InvalidInput(_("the note must be text"), field="note")
    if note is not None and len(note) > settings.max_note_length:
        raise InvalidInput(
            _("a note can be at most {max_note_length} characters (this one has {note})").format(
                max_note_length=settings.max_note_length, note=len(note)
            ),
            field="note",
        )
    occurred = _instant(values.get("occurred_at"), N_("the time of contact"))
    _not_later(occurred, now, N_("the time of contact"))
    values["created_at"] = _instant(values.get("created_at"), "created_at", required=False) or now
    duration = values.get("duration_s")
    if duration is not None and (type(duration) is not int or not 0 <= duration <= 86_400):
        raise InvalidInput(_("the duration is a number of seconds, 0 to 86400"), field="duration_s")
    values["with_consent"] = _flag(values.get("with_consent"), "with_consent")
    phone_id = values.get("phone_id")
    if phone_id is not None:
        phone = session.get(Phone, phone_id)
        if phone is None or phone.debtor_id != case.debtor_id:
            raise InvalidInput(_("that phone is not one of this debtor's numbers"), field="phone")
        given = values.get("phone_e164")
        if given is not None and given != phone.e164:
            raise InvalidInput(_("the number does not match the phone chosen"), field="phone")
        values["phone_e164"] = phone.e164
    elif values.get("phone_e164") is not None:
        raise InvalidInput(_("a number dialled must be one of the debtor's phones"), field="phone")
    voided = values.get("voids_id")
    if voided is not None:
        _admit_void(session, case, values, voided, actor)


def _admit_void(
    session: Session, case: Case, values: dict[str, Any], voided: Any, actor: Actor
) -> None:
    """A void made offline, by the rules of services/corrections.void_contact: a note on the same
    case voiding a contact attempt once, by its own agent on the day it was logged (or by a
    supervisor)."""
    from collector_tui.services.casework.corrections import local_day

    target = session.get(Activity, voided)
    if target is None or target.case_id != case.id:
        raise InvalidInput(_("the contact this voids belongs to another case"))
    if values.get("channel") != Channel.note:
        raise InvalidInput(_("a void is a note on the timeline"))
    if target.voids_id is not None or target.channel == Channel.note:
        raise InvalidInput(_("only a contact attempt can be voided"))
    already = session.exec(select(Activity.id).where(Activity.voids_id == target.id)).first()
    if already is not None:
        raise InvalidInput(_("this contact is already voided"))
    if not actor.is_supervisor:
        if target.user_id != actor.user_id:
            raise Forbidden(_("only the agent who logged a contact, or a supervisor, can void it"))
        when = values["occurred_at"]  # admitted above: an aware instant
        if local_day(target.created_at, actor.time_zone) != local_day(when, actor.time_zone):
            raise Forbidden(_("a contact can be voided by its agent only on the day it was logged"))


def admit_promise(
    session: Session, case: Case, values: dict[str, Any], day: date, now: datetime
) -> str | None:
    """A promise (or a plan's installment), by promises' own terms as of the day it was taken
    offline, and never more than the whole debt. What the master learnt meanwhile (the case paid
    or closed, its balance lower now) does not refuse a fact taken honestly: the answer says so,
    and services/sync/apply.py keeps the promise with a review."""
    amount = values.get("amount")
    due = _date(values.get("due_date"), "the due date")
    grace = values.get("grace_days")
    promises.check_terms(
        promises.PromiseInput(amount=amount, due_date=due, grace_days=grace),  # type: ignore[arg-type]
        today=day,
        horizon_days=promises.MAX_PLAN_DAYS_AHEAD
        if values.get("plan_id")
        else promises.MAX_PROMISE_DAYS_AHEAD,
    )
    whole = max(case.principal + case.fees + case.interest, case.balance)
    if amount > whole:  # type: ignore[operator]
        raise InvalidInput(
            _("a promise of {amount} is more than the whole debt ({whole})").format(
                amount=change.show_money(amount, case.currency),  # type: ignore[arg-type]
                whole=change.show_money(whole, case.currency),
            ),
            field="amount",
        )
    _same_case(session, PaymentPlan, values.get("plan_id"), case, "plan")
    _same_case(session, Activity, values.get("activity_id"), case, "contact")
    values["grace_days"] = grace if grace is not None else 0
    values.update(paid_amount=0, status="pending", resolved_at=None)
    values["created_at"] = _instant(values.get("created_at"), "created_at", required=False) or now
    values["updated_at"] = now
    committed = promises.pending_committed(session=session, case_id=case.id)
    if amount > case.balance - committed:  # type: ignore[operator]
        return (
            f"more than the {change.show_money(max(case.balance - committed, 0), case.currency)}"
            " still open on the master now"
        )
    return None


def admit_plan(values: dict[str, Any], now: datetime) -> None:
    """A plan's own row (its installments are promises): a case closed meanwhile keeps it too,
    with a review (services/sync/apply.py)."""
    values.update(status="active", created_at=now, updated_at=now)


def admit_follow_up(values: dict[str, Any], actor: Actor, now: datetime) -> None:
    """A follow-up: an agent's own (as the app makes them), a reason, a due time in range."""
    if not actor.is_supervisor and values.get("owner_id") not in (None, actor.user_id):
        raise Forbidden(_("an agent sets follow-ups for themselves"))
    values.setdefault("owner_id", actor.user_id)
    if values["owner_id"] is None:
        values["owner_id"] = actor.user_id
    _instant(values.get("due_at"), N_("the due time"))
    _text(values.get("reason"), N_("the reason"), limit=MAX_REASON, required=True)
    done = _instant(values.get("done_at"), "done_at", required=False)
    _not_later(done, now, "done_at")
    values.update(created_at=now, updated_at=now)


def admit_reminder(
    session: Session, case: Case, values: dict[str, Any], actor: Actor, now: datetime
) -> None:
    """A reminder queued offline by the case's agent: a reminder channel, a template name, the
    case's debtor, queued by hand (a sequence's steps are queued by the master itself). Whatever
    the laptop said about its sending is dropped: it arrives queued, and the master's send run
    checks the case again (a hold placed here meanwhile wins)."""
    ensure_case_access(actor, case)
    if values.get("channel") not in REMINDER_CHANNELS:
        raise InvalidInput(_("not a reminder channel"), field="channel")
    _text(values.get("template"), N_("the template"), limit=64, required=True)
    _text(values.get("language"), N_("the language"), limit=16, required=True)
    key = _text(values.get("idempotency_key"), N_("the key"), limit=200, required=True)
    if values.get("sequence") is not None or values.get("step") is not None:
        raise Forbidden(_("sequence steps are queued by the master"))
    if not str(key).startswith(f"manual:{case.id}:"):
        raise InvalidInput(_("a reminder queued offline carries its case's key"), field="key")
    if values.get("debtor_id") != case.debtor_id:
        raise InvalidInput(_("the reminder's debtor is not the case's"), field="debtor")
    _date(values.get("due_date"), "the due date")
    _text(values.get("destination"), N_("the destination"), limit=500)
    values.update(
        status="queued",
        reason=None,
        tries=0,
        next_try_at=None,
        subject=None,
        body=None,
        pdf_path=None,
        pdf_sha256=None,
        provider_ref=None,
        sent_at=None,
        activity_id=None,
        created_at=now,
        updated_at=now,
    )


def admit_hold(values: dict[str, Any], now: datetime) -> None:
    """A hold placed offline (it only stops contact): a known kind, a reason of sane length."""
    holds.check_kind(str(values.get("kind")))
    _text(values.get("reason"), N_("the reason"), limit=MAX_REASON)
    placed = _instant(values.get("placed_at"), "placed_at", required=False) or now
    _not_later(placed, now, "placed_at")
    values.update(placed_at=placed, released_at=None, released_by_id=None)


def admit_assessment(
    session: Session,
    case: Case,
    values: dict[str, Any],
    now: datetime,
    settings: Settings,
) -> None:
    """An assessment made offline, by the checks of services/assessment.assess: the debtor of the
    case, figures in the case's currency and in range, a grade with its reason. It keeps the
    instant it was made on the laptop (not later than now), and the grade the laptop saw before."""
    from collector_tui.services.assessment.assess import AssessmentInput, check_figures

    debtor = session.get(Debtor, case.debtor_id)
    if debtor is None:
        raise InvalidInput(_("the case has no debtor on the master"))
    made = _instant(values.get("assessed_at"), "assessed_at")
    _not_later(made, now, "assessed_at")
    review = values.get("review_by")
    if review is not None:
        _date(review, "the review date")
    given = AssessmentInput(
        **{
            name: values.get(name)
            for name in AssessmentInput.__dataclass_fields__
            if name != "review_by"
        }
    )
    checked = check_figures(
        kind=debtor.kind,
        currency=case.currency,
        given=given,
        current_grade=values.get("grade_before"),
        today=(made or now).date(),
        min_reason=settings.min_reason_length,
    )
    values.update(checked.values)
    values.update(
        debtor_id=debtor.id,
        review_by=review,
        grade_before=values.get("grade_before") if checked.values["grade"] else None,
        created_at=now,
    )


def admit_dispute(
    session: Session,
    case: Case,
    values: dict[str, Any],
    actor: Actor,
    now: datetime,
    settings: Settings,
) -> None:
    """An invoice dispute opened offline, by the checks of casework.disputes.open_dispute: an
    invoice of the case, a known category, a reason, an amount within what is open and not
    disputed on the master now, the agent's own (or a supervisor's) ownership, a resolve-by date
    in range. It arrives open: a resolution made on a laptop is not taken."""
    from collector_tui.services.casework import balances, disputes

    invoice = session.get(Invoice, values.get("invoice_id"))
    if invoice is None or invoice.case_id != case.id:
        raise InvalidInput(_("the invoice this dispute is about belongs to another case"))
    disputes.check_category(str(values.get("category")))
    text = _text(values.get("reason"), N_("the reason"), limit=MAX_REASON, required=True)
    if text is None or len(text) < settings.min_reason_length:
        raise InvalidInput(_("the dispute's reason is too short"), field="reason")
    amount = values.get("amount")
    if type(amount) is not int or amount <= 0:
        raise InvalidInput(_("a disputed amount must be above zero"), field="amount")
    room = invoice.open_amount - balances.disputed_by_invoice(session, case.id).get(invoice.id, 0)
    if amount > room:
        raise InvalidInput(
            _(
                "a dispute of {amount} is more than the {room} open and "
                "undisputed on invoice {number} on the master now"
            ).format(
                amount=change.show_money(amount, case.currency),
                room=change.show_money(max(room, 0), case.currency),
                number=invoice.number,
            ),
            field="amount",
        )
    if not actor.is_supervisor and values.get("owner_id") not in (None, actor.user_id):
        raise Forbidden(_("an agent opens disputes for themselves"))
    if values.get("owner_id") is None:
        values["owner_id"] = actor.user_id
    _date(values.get("resolve_by"), "the resolve-by date")
    opened = _instant(values.get("opened_at"), "opened_at", required=False) or now
    _not_later(opened, now, "opened_at")
    follow_up = (
        session.get(FollowUp, values["follow_up_id"]) if values.get("follow_up_id") else None
    )
    if follow_up is None or follow_up.case_id != case.id:
        values["follow_up_id"] = None  # not on the master: the dispute stands alone
    hold = session.get(Hold, values["hold_id"]) if values.get("hold_id") else None
    if hold is None or hold.case_id != case.id:
        values["hold_id"] = None
    values.update(
        reason=text,
        status="open",
        credited=0,
        opened_at=opened,
        resolved_by_id=None,
        resolved_at=None,
        resolution_reason=None,
        updated_at=now,
    )


def admit_settlement(
    session: Session,
    case: Case,
    values: dict[str, Any],
    actor: Actor,
    day: date,
    now: datetime,
) -> bool:
    """An agent's settlement, as settlements.request_settlement makes it: approved at once only
    within the agent's own limit (with its promise, decided by nobody), otherwise pending for a
    supervisor. Returns whether it waits for a supervisor (the case is then routed to them)."""
    from collector_tui.services.casework import settlements

    promises.check_open(case)
    amount = values.get("amount")
    if type(amount) is not int or amount <= 0:
        raise InvalidInput(_("a settlement needs an amount above zero"), field="amount")
    if amount >= case.balance:
        raise InvalidInput(_("a settlement is below the balance: record a promise instead"))
    due = _date(values.get("due_date"), "the due date")
    promises.check_terms(
        promises.PromiseInput(amount=amount, due_date=due),
        today=day,
        horizon_days=promises.MAX_PROMISE_DAYS_AHEAD,
    )
    _text(values.get("note"), N_("the note"), limit=MAX_REASON)
    live = settlements.live_settlement(session, case.id)
    if live is not None:
        raise InvalidInput(
            _("case {client_ref} already has a settlement {status}").format(
                client_ref=case.client_ref, status=live.status
            )
        )
    status: object = values.get("status")  # anything a packet holds, until checked below
    decided_by = values.get("decided_by_id")
    if decided_by is not None and decided_by != actor.user_id:
        raise Forbidden(_("a settlement decided in another user's name"))
    if values.get("decision_note") is not None:
        raise Forbidden(_("a settlement's decision is a supervisor's"))
    limit = settlements.limit_of(session, actor, case)
    within = settlements.within_limit(case.balance - amount, case.balance, limit)
    if status == "approved":
        if not within:
            raise Forbidden(
                _(
                    "a discount of {discount} is above {username}'s limit "
                    "({limit}%): it needs a supervisor's approval"
                ).format(
                    discount=change.show_money(case.balance - amount, case.currency),
                    username=actor.username,
                    limit=limit or 0,
                )
            )
        if decided_by is not None and not actor.is_supervisor:
            raise Forbidden(_("an agent does not decide settlements"))
        promise_id = values.get("promise_id")
        promise = session.get(Promise, promise_id) if promise_id is not None else None
        if promise_id is not None and (
            promise is None
            or promise.case_id != case.id
            or promise.amount != amount
            or promise.due_date != due
        ):
            raise InvalidInput(_("an approved settlement's promise has the settlement's terms"))
    elif status == "pending":
        if values.get("promise_id") is not None or decided_by is not None:
            raise InvalidInput(_("a settlement waiting for approval has no decision yet"))
    else:
        raise Forbidden(
            _("a settlement {status} is a supervisor's decision").format(
                status=repr(str(status)[:16])
            )
        )
    requested = _instant(values.get("requested_at"), "requested_at", required=False) or now
    _not_later(requested, now, "requested_at")
    values.update(
        balance=case.balance,
        requested_at=requested,
        decided_at=requested if status == "approved" else None,
        decided_by_id=decided_by,
        updated_at=now,
    )
    return status == "pending"


# --- updates -------------------------------------------------------------------------------------


def admit_changes(entity: str, changes: Mapping[str, Any], now: datetime) -> None:
    """The values of an agent-editable update, checked as the app checks the same edit."""
    if entity == "followup":
        if "due_at" in changes:
            _instant(changes["due_at"], N_("the due time"))
        if "done_at" in changes:
            _not_later(_instant(changes["done_at"], "done_at", required=False), now, "done_at")
        if "reason" in changes:
            _text(changes["reason"], N_("the reason"), limit=MAX_REASON, required=True)
    if entity == "collection_case" and "routed_reason" in changes:
        _text(changes["routed_reason"], N_("the reason"), limit=200)


# --- contact data (services/contacts) -------------------------------------------------------------


def offline_moment(clock: str, now: datetime) -> datetime:
    """When an operation was made on the laptop (its clock, kept within the last year and never
    after now): the "now" a consent's end is judged against."""
    earliest = hlc.wall_ms(now - timedelta(days=MAX_OFFLINE_DAYS))
    made = min(max(hlc.parse(clock).wall_ms, earliest), hlc.wall_ms(now))
    return datetime.fromtimestamp(made / 1000, tz=UTC)


def _one_of(value: Any, allowed: tuple[str, ...], field: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise InvalidInput(
            _("{field} must be one of: {allowed}").format(
                field=_(field), allowed=", ".join(allowed)
            ),
            field=field,
        )
    return value


def admit_contact(
    session: Session, entity: str, values: dict[str, Any], debtor: Debtor, made: datetime
) -> bool:
    """A contact row made on a laptop, checked as services/contacts checks the same addition;
    values the master derives (E.164, zones, the flags, duplicate keys) are derived again here.
    True when the master has the same contact already (apply keeps it retired)."""
    if "source" in values:
        values["source"] = _one_of(values.get("source"), contacts.SOURCES, "source")
    for name in ("status_reason",):
        _text(values.get(name), name, limit=contacts.MAX_REASON)
    if entity == "phone":
        raw = _text(values.get("raw"), "phone", limit=100, required=True)
        parsed = parse_phone(raw or "", debtor.country)
        if not parsed.valid or parsed.e164 is None:
            raise InvalidInput(parsed.error or _("not a valid phone number"), field="phone")
        given = values.get("e164")
        if given is not None and given != parsed.e164:
            raise InvalidInput(_("the number does not match what was typed"), field="phone")
        values["e164"], values["extension"] = parsed.e164, parsed.extension
        values["time_zones"] = ",".join(parsed.time_zones)
        kinds = (*contacts.PHONE_TYPES, "third_party")
        values["kind"] = _one_of(values.get("kind") or parsed.kind, kinds, "type")
        values["status"] = _one_of(values.get("status", "valid"), contacts.PHONE_STATUSES, "status")
        for name in ("call_consent_how", "sms_consent_how", "dnc_how"):
            _text(values.get(name), name, limit=contacts.MAX_HOW)
        for name in ("status_at", "retired_at", "call_consent_at", "sms_consent_at", "dnc_at"):
            _not_later(_instant(values.get(name), name, required=False), made, name)
        _flag(values.get("sms_consent"), "sms_consent")
        _consent_end(values.get("consent_until"), made, values.get("call_consent_at"))
        values["is_primary"] = bool(values.get("is_primary")) and not _has_primary(
            session, debtor.id
        )
        return (
            session.exec(
                select(Phone.id).where(Phone.debtor_id == debtor.id, Phone.e164 == parsed.e164)
            ).first()
            is not None
        )
    if entity == "postaladdress":
        text = _text(values.get("text"), "address", limit=contacts.MAX_ADDRESS, required=True)
        values["match_key"] = contacts.address_key(text or "")
        values["status"] = _one_of(values.get("status"), contacts.ADDRESS_STATUSES, "status")
        _flag(values.get("is_primary"), "is_primary")
        return (
            session.exec(
                select(PostalAddress.id).where(
                    PostalAddress.debtor_id == debtor.id,
                    PostalAddress.match_key == values["match_key"],
                )
            ).first()
            is not None
        )
    if entity == "emailaddress":
        values["address"] = contacts.normalise_email(str(values.get("address") or ""))
        values["status"] = _one_of(values.get("status"), contacts.EMAIL_STATUSES, "status")
        _flag(values.get("opt_in"), "opt_in")
        _text(values.get("opt_in_how"), "opt_in_how", limit=contacts.MAX_HOW)
        return (
            session.exec(
                select(EmailAddress.id).where(
                    EmailAddress.debtor_id == debtor.id,
                    EmailAddress.address == values["address"],
                )
            ).first()
            is not None
        )
    # thirdparty
    _text(values.get("name"), "name", limit=contacts.MAX_NAME, required=True)
    values["relation"] = _one_of(values.get("relation"), contacts.RELATIONS, "relation")
    _text(values.get("note"), "note", limit=contacts.MAX_NOTE)
    _text(values.get("objected_how"), "objected_how", limit=contacts.MAX_HOW)
    phone_id = values.get("phone_id")
    if phone_id is not None:
        phone = session.get(Phone, phone_id)
        if phone is None or phone.debtor_id != debtor.id:
            raise InvalidInput(_("that phone is not one of this debtor's numbers"), field="phone")
    return (
        phone_id is not None
        and session.exec(select(ThirdParty.id).where(ThirdParty.phone_id == phone_id)).first()
        is not None
    )


def admit_contact_changes(entity: str, row: Any, changes: dict[str, Any], made: datetime) -> None:
    """The agent-editable values of a contact update, checked as the services check them."""
    if "source" in changes:
        _one_of(changes["source"], contacts.SOURCES, "source")
    if "status_reason" in changes:
        _text(changes["status_reason"], "status_reason", limit=contacts.MAX_REASON)
    for name in ("call_consent_how", "sms_consent_how", "dnc_how", "opt_in_how", "objected_how"):
        if name in changes:
            _text(changes[name], name, limit=contacts.MAX_HOW)
    for name in ("status_at", "call_consent_at", "sms_consent_at", "opt_in_at"):
        if name in changes:
            _not_later(_instant(changes[name], name, required=False), made, name)
    for name in ("is_primary", "sms_consent", "opt_in"):
        if name in changes:
            _flag(changes[name], name)
    if entity == "phone":
        if "kind" in changes:
            _one_of(changes["kind"], (*contacts.PHONE_TYPES, "third_party"), "type")
        if "consent_until" in changes:
            _consent_end(changes["consent_until"], made, changes.get("call_consent_at"))
        loosening = changes.get("sms_consent") or changes.get("consent_until") is not None
        if loosening and (row.do_not_call or not row.valid or row.retired_at is not None):
            raise InvalidInput(
                _("consent cannot be recorded on a number not dialled"), field="consent"
            )
    if entity == "emailaddress" and changes.get("opt_in") and row.status in ("wrong", "dnc"):
        raise InvalidInput(
            _("{address} is {status}: no opt-in on it").format(
                address=row.address, status=row.status
            ),
            field="consent",
        )
    if entity == "thirdparty":
        if "name" in changes:
            _text(changes["name"], "name", limit=contacts.MAX_NAME, required=True)
        if "relation" in changes:
            _one_of(changes["relation"], contacts.RELATIONS, "relation")
        if "note" in changes:
            _text(changes["note"], "note", limit=contacts.MAX_NOTE)
        if changes.get("recontact_requested_at") is not None and row.objected_at is not None:
            raise InvalidInput(_("this third party objected: not contacted again"), field="party")


def _consent_end(value: Any, made: datetime, given: Any) -> None:
    """Consent to call ends after it was given (the laptop's moment) and within a year of it."""
    end = _instant(value, "consent_until", required=False)
    if end is None:
        return
    start = given if isinstance(given, datetime) and given.tzinfo is not None else made
    if end <= min(start, made):
        raise InvalidInput(_("the consent's end is in the past"), field="consent_until")
    if end > made + timedelta(days=366):
        raise InvalidInput(_("consent to call lasts at most a year"), field="consent_until")


def _has_primary(session: Session, debtor_id: uuid.UUID) -> bool:
    return (
        session.exec(
            select(Phone.id).where(
                Phone.debtor_id == debtor_id,
                Phone.is_primary == True,  # noqa: E712
                Phone.valid == True,  # noqa: E712
                Phone.do_not_call == False,  # noqa: E712
            )
        ).first()
        is not None
    )
