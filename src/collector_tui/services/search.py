"""Finding a case by what an agent has at hand: a name, a client reference or a phone number.

A phone number is matched in any format the agent types ("138 0013 8000", "+86 138-0013-8000",
"(212) 555-0123"): it is turned into E.164 the same way numbers were stored (phones.search_key) and
looked up by the indexed `Phone.e164`. Agents find only their own cases; supervisors every case.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlmodel import Session, col, or_, select

from collector_tui.models import Case, Debtor, Phone, User
from collector_tui.phones import search_key
from collector_tui.services.accounts import Actor

# A number typed without its country code is tried as a number of each of these regions, in
# order; the demo and the shipped rule packs cover China, the United States and the United Kingdom.
SEARCH_REGIONS: tuple[str, ...] = ("CN", "US", "GB")
# One character is a whole Chinese surname ("王"); LIMIT stops the scan early anyway.
MIN_NAME_LENGTH = 1


@dataclass(frozen=True)
class CaseHit:
    case_id: uuid.UUID
    client: str
    client_ref: str
    debtor: str
    debtor_country: str
    currency: str
    balance: int
    status: str
    assigned_to: str | None
    matched: str  # reference | phone | name


def _phone_keys(text: str, regions: tuple[str, ...]) -> set[str]:
    digits = sum(ch.isdigit() for ch in text)
    if digits < 5:
        return set()
    keys: set[str] = set()
    if text.strip().startswith(("+", "00")):
        key = search_key(text, None)
        if key:
            keys.add(key)
    for region in regions:
        key = search_key(text, region)
        if key:
            keys.add(key)
    return keys


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_cases(
    *,
    session: Session,
    actor: Actor,
    text: str,
    limit: int = 50,
    regions: tuple[str, ...] = SEARCH_REGIONS,
) -> list[CaseHit]:
    """Cases matching `text`: exact client reference first, then phone, then name (contains)."""
    query = " ".join(text.split())
    if not query:
        return []
    base = (
        select(Case, Debtor.name, Debtor.country, User.display_name)
        .join(Debtor, col(Debtor.id) == col(Case.debtor_id))
        .outerjoin(User, col(User.id) == col(Case.assigned_to_id))
    )
    if not actor.is_supervisor:
        base = base.where(Case.assigned_to_id == actor.user_id)

    hits: list[CaseHit] = []
    seen: set[uuid.UUID] = set()

    def collect(statement: object, matched: str) -> None:
        remaining = limit - len(hits)
        if remaining <= 0:
            return
        for case, name, country, agent in session.exec(statement.limit(remaining + len(seen))):  # type: ignore[attr-defined]
            if case.id in seen or len(hits) >= limit:
                continue
            seen.add(case.id)
            hits.append(
                CaseHit(
                    case_id=case.id,
                    client=case.client,
                    client_ref=case.client_ref,
                    debtor=name,
                    debtor_country=country,
                    currency=case.currency,
                    balance=case.balance,
                    status=case.status,
                    assigned_to=agent,
                    matched=matched,
                )
            )

    collect(
        base.where(or_(Case.client_ref == query, Case.client_ref == query.upper())).order_by(
            col(Case.client), col(Case.client_ref)
        ),
        "reference",
    )
    keys = _phone_keys(query, regions)
    if keys:
        debtor_ids = select(Phone.debtor_id).where(col(Phone.e164).in_(sorted(keys)))
        collect(
            base.where(col(Case.debtor_id).in_(debtor_ids)).order_by(
                col(Debtor.name), col(Case.client_ref)
            ),
            "phone",
        )
    if len(query) >= MIN_NAME_LENGTH:
        collect(
            base.where(col(Debtor.name).ilike(_like_pattern(query), escape="\\")).order_by(
                col(Debtor.name), col(Case.client_ref)
            ),
            "name",
        )
    return hits
