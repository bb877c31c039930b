"""Cases to skip-trace: open cases whose debtor has no number that may be dialled (every one wrong,
disconnected, do-not-call or retired) or whose mail came back with no other address to write to.

The supervisors' view and `skiptrace export` read this list; `skiptrace import`
(services/imports/skip_trace_file.py) brings the numbers and addresses found back with source
"skip trace".
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import Session, col, select

from collector_tui.models import OPEN_STATUSES, Case, Debtor, Phone, PostalAddress, User
from collector_tui.services.accounts import Actor
from collector_tui.services.context import reads

NO_CALLABLE_NUMBER = "no callable number"
RETURNED_MAIL = "returned mail"
# Phone kinds that are someone else's number: they do not make the debtor reachable.
THIRD_PARTY_KINDS = frozenset({"third_party", "reference", "emergency_contact"})


@dataclass(frozen=True)
class SkipTraceCase:
    case_id: uuid.UUID
    client: str
    client_ref: str
    debtor_id: uuid.UUID
    debtor_name: str
    country: str
    assigned_to: str | None
    reasons: tuple[str, ...]  # NO_CALLABLE_NUMBER and/or RETURNED_MAIL
    numbers: tuple[tuple[str, str], ...]  # (number as stored, status or "retired")
    addresses: tuple[tuple[str, str], ...]  # (text, status or "retired")


@reads
def skip_trace_cases(
    *, session: Session, actor: Actor, limit: int | None = None
) -> tuple[SkipTraceCase, ...]:
    """The open cases to skip-trace, by client and reference: every case for a supervisor, the
    agent's own for an agent."""
    statement = (
        select(Case, Debtor.name, Debtor.country)
        .join(Debtor, col(Debtor.id) == col(Case.debtor_id))
        .where(col(Case.status).in_(OPEN_STATUSES))
        .order_by(col(Case.client), col(Case.client_ref))
    )
    if not actor.is_supervisor:
        statement = statement.where(Case.assigned_to_id == actor.user_id)
    rows = session.exec(statement).all()
    debtor_ids = list({case.debtor_id for case, _name, _country in rows})
    phones: dict[uuid.UUID, list[Phone]] = defaultdict(list)
    addresses: dict[uuid.UUID, list[PostalAddress]] = defaultdict(list)
    for start in range(0, len(debtor_ids), 500):
        batch = debtor_ids[start : start + 500]
        for phone in session.exec(
            select(Phone)
            .where(col(Phone.debtor_id).in_(batch))
            .order_by(col(Phone.created_at), col(Phone.id))
        ):
            phones[phone.debtor_id].append(phone)
        for address in session.exec(
            select(PostalAddress)
            .where(col(PostalAddress.debtor_id).in_(batch))
            .order_by(col(PostalAddress.created_at), col(PostalAddress.id))
        ):
            addresses[address.debtor_id].append(address)
    names = dict(session.exec(select(User.id, User.display_name)).all())
    found: list[SkipTraceCase] = []
    for case, name, country in rows:
        reasons = trace_reasons(phones.get(case.debtor_id, ()), addresses.get(case.debtor_id, ()))
        if not reasons:
            continue
        found.append(
            SkipTraceCase(
                case_id=case.id,
                client=case.client,
                client_ref=case.client_ref,
                debtor_id=case.debtor_id,
                debtor_name=name,
                country=country,
                assigned_to=names.get(case.assigned_to_id) if case.assigned_to_id else None,
                reasons=reasons,
                numbers=tuple(
                    (p.e164 or p.raw, "retired" if p.retired_at is not None else p.status)
                    for p in phones.get(case.debtor_id, ())
                ),
                addresses=tuple(
                    (a.text, "retired" if a.retired_at is not None else a.status)
                    for a in addresses.get(case.debtor_id, ())
                ),
            )
        )
        if limit is not None and len(found) >= limit:
            break
    return tuple(found)


def trace_reasons(
    phones: list[Phone] | tuple[Phone, ...] | tuple[()],
    addresses: list[PostalAddress] | tuple[PostalAddress, ...] | tuple[()],
) -> tuple[str, ...]:
    reasons: list[str] = []
    own = [p for p in phones if p.kind not in THIRD_PARTY_KINDS]
    if not any(p.valid and p.e164 and not p.do_not_call and p.retired_at is None for p in own):
        reasons.append(NO_CALLABLE_NUMBER)
    live = [a for a in addresses if a.retired_at is None]
    if any(a.status == "returned" for a in live) and not any(
        a.status in ("valid", "unverified") for a in live
    ):
        reasons.append(RETURNED_MAIL)
    return tuple(reasons)
