"""Finding a case by what an agent has at hand: a name, a client reference or a phone number.

A phone number is matched in any format the agent types ("138 0013 8000", "+86 138-0013-8000",
"(212) 555-0123"): it is turned into E.164 the same way numbers were stored (phones.search_key) and
looked up by the indexed `Phone.e164`. A reference ("HX-6131" finds "HX-61310") and a debtor's name
("mcd" finds "McDonald", "王" finds "王小明") match by prefix. Agents find only their own cases;
supervisors every case.

Prefixes are read through the plain (binary) indexes on `client_ref` and `Debtor.name`, as ranges
`name >= 'McD' AND name < 'McE'`, one per upper/lower-case spelling of the first letters typed,
so a search is a few index seeks even on a million cases. SQLite's own LIKE optimisation would
need the column declared COLLATE NOCASE (or `PRAGMA case_sensitive_like`, which makes every LIKE
of the connection case-sensitive): a schema change, so it is not used. For the same reason a name
is matched from its start only: "smith" does not find "John Smith" (that needs a word index).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false
from sqlmodel import Session, col, or_, select

from collector_tui.models import Case, Debtor, Phone, User
from collector_tui.phones import search_key
from collector_tui.services.accounts import Actor
from collector_tui.services.context import reads

# A number typed without its country code is tried as a number of each of these regions, in
# order; the demo and the shipped rule packs cover China, the United States and the United Kingdom.
SEARCH_REGIONS: tuple[str, ...] = ("CN", "US", "GB")
# One character is a whole Chinese surname ("王"); it is an index range like any other prefix.
MIN_NAME_LENGTH = 1
# Spellings tried for the leading letters ("mcd": mcd, mcD, ..., MCD); letters past them are
# checked by LIKE inside those ranges, case-insensitively for ASCII.
MAX_CASE_VARIANTS = 16


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
    return f"{escaped}%"


def _case_variants(text: str) -> list[str]:
    """Upper/lower-case spellings of `text`'s leading characters, at most MAX_CASE_VARIANTS."""
    variants = [""]
    for char in text:
        forms = [
            form for form in dict.fromkeys((char, char.lower(), char.upper())) if len(form) == 1
        ]
        if len(variants) * len(forms) > MAX_CASE_VARIANTS:
            break
        variants = [variant + form for variant in variants for form in forms]
    return variants


def _prefix_clause(column: Any, text: str) -> ColumnElement[bool]:
    if not text:
        return false()
    ranges = []
    for variant in _case_variants(text):
        last = ord(variant[-1])
        seek = column >= variant
        if last < 0x10FFFF:
            seek = and_(seek, column < variant[:-1] + chr(last + 1))
        # The letters past the variant are compared by LIKE within the range (SQLite folds only
        # ASCII letters, so the variant keeps the spelling of accented leading letters). It also
        # keeps the range exact under a linguistic collation (PostgreSQL), where "Mc-Donald"
        # sorts between "McD" and "McE".
        rest = _like_pattern(variant + text[len(variant) :])
        ranges.append(and_(seek, column.ilike(rest, escape="\\")))
    return or_(*ranges) if ranges else false()


def name_prefix_clause(text: str) -> ColumnElement[bool]:
    """Debtor names starting with `text`, in any letter case, as ranges of the name index."""
    return _prefix_clause(col(Debtor.name), text)


def reference_prefix_clause(text: str) -> ColumnElement[bool]:
    """Client references starting with `text`, in any letter case, as ranges of their index."""
    return _prefix_clause(col(Case.client_ref), text)


@reads
def search_cases(
    *,
    session: Session,
    actor: Actor,
    text: str,
    limit: int = 50,
    regions: tuple[str, ...] = SEARCH_REGIONS,
) -> list[CaseHit]:
    """Cases matching `text`: exact client reference, reference prefix, phone, name prefix."""
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
    collect(
        base.where(reference_prefix_clause(query)).order_by(col(Case.client_ref), col(Case.client)),
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
            # As a subquery, so the planner starts from the name index rather than the cases.
            base.where(
                col(Case.debtor_id).in_(select(Debtor.id).where(name_prefix_clause(query)))
            ).order_by(col(Debtor.name), col(Case.client_ref)),
            "name",
        )
    return hits
