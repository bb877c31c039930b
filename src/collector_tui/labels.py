"""The words a person reads for stored codes: one table per kind of code, in one place.

A code (a hold's kind, a case's status, a charge's component, a reversal's reason...) is stored,
exported, printed in `--json` and compared as it is; where a sentence or a table shows it to a
person, it goes through `word(TABLE, code)` (or a helper below) and reads in the current language.
An unknown code is shown as it is, readable (`written_off` -> `written off`).

Core layer, and light on purpose: only `i18n` is imported, so the TUI (which must not import the
database) and the services (which must not import the TUI) share these tables without pulling
sqlmodel or sqlalchemy into the app's start path.
"""

from __future__ import annotations

from collections.abc import Mapping

from collector_tui.i18n import N_, gettext

__all__ = [
    "CASE_STATUS_LABELS",
    "CHANNELS",
    "CHARGE_COMPONENTS",
    "CHARGE_KINDS",
    "CONTACT_KINDS",
    "CONTACT_STATUSES",
    "EXPORT_KINDS",
    "HOLD_KINDS",
    "OUTCOME_LABELS",
    "PACKET_KINDS",
    "REVERSAL_REASONS",
    "STRATEGY_GROUPS",
    "case_status_label",
    "group_label",
    "outcome_label",
    "word",
]

# A case's status.
CASE_STATUS_LABELS: dict[str, str] = {
    "new": N_("new"),
    "active": N_("active"),
    "promised": N_("promised"),
    "plan": N_("on a plan"),
    "dispute": N_("in dispute"),
    "legal": N_("legal"),
    "settled": N_("settled"),
    "paid": N_("paid"),
    "written_off": N_("written off"),
    "closed": N_("closed"),
}

# The state of a promise, plan, payment, follow-up, hold, settlement or dispute (the timeline's
# outcome column).
OUTCOME_LABELS: dict[str, str] = {
    "pending": N_("pending"),
    "kept": N_("kept"),
    "partial": N_("partly kept"),
    "broken": N_("broken"),
    "cancelled": N_("cancelled"),
    "active": N_("active"),
    "completed": N_("completed"),
    "reversed": N_("reversed"),
    "reversal": N_("reversal"),
    "done": N_("done"),
    "open": N_("open"),
    "released": N_("released"),
    "approved": N_("approved"),
    "rejected": N_("rejected"),
    "lapsed": N_("lapsed"),
    "upheld": N_("upheld"),
    "partly": N_("partly upheld"),
}

# A hold's kind (what stops the collection).
# A contact's kind and status (contacts service), in the command line's result lines.
CONTACT_KINDS: dict[str, str] = {
    "phone": N_("phone"),
    "address": N_("address"),
    "email": N_("e-mail"),
    "third_party": N_("third party"),
}
CONTACT_STATUSES: dict[str, str] = {
    "valid": N_("valid"),
    # Not "wrong number": a wrong address or e-mail is marked the same way.
    "wrong": N_("wrong (not the debtor's)"),
    "disconnected": N_("disconnected"),
    "dnc": N_("do not call"),
    "unverified": N_("unverified"),
    "returned": N_("mail returned"),
    "retired": N_("retired"),
}

HOLD_KINDS: dict[str, str] = {
    "cease": N_("cease"),
    "dispute": N_("dispute"),
    "complaint": N_("complaint"),
    "hardship": N_("hardship"),
    "legal": N_("legal"),
    "bankruptcy": N_("bankruptcy"),
    "deceased": N_("deceased"),
}

# A contact's channel (an activity's; a reminder's are among them).
CHANNELS: dict[str, str] = {
    "call": N_("call"),
    "sms": N_("SMS"),
    "letter": N_("letter"),
    "email": N_("e-mail"),
    "visit": N_("visit"),
    "note": N_("note"),
}

# A strategy's group of cases.
STRATEGY_GROUPS: dict[str, str] = {"champion": N_("champion"), "challenger": N_("challenger")}

# A charge row: a charge added or a waiver taking one back; and the component it is on.
CHARGE_KINDS: dict[str, str] = {"charge": N_("charge"), "waiver": N_("waiver")}
CHARGE_COMPONENTS: dict[str, str] = {
    "principal": N_("principal"),
    "fees": N_("fees"),
    "interest": N_("interest"),
    "costs": N_("costs"),
}

# What an export holds (services.reporting.exports.EXPORT_KINDS).
EXPORT_KINDS: dict[str, str] = {
    "cases": N_("cases"),
    "activities": N_("activities"),
    "promises": N_("promises"),
    "payments": N_("payments"),
}

# A sync packet: a briefcase (master to laptop) or an outbox (laptop to master).
PACKET_KINDS: dict[str, str] = {"briefcase": N_("briefcase"), "outbox": N_("outbox")}

# Why a payment was reversed.
REVERSAL_REASONS: dict[str, str] = {
    "bounced": N_("bounced"),
    "chargeback": N_("chargeback"),
    "error": N_("entered in error"),
}


def word(labels: Mapping[str, str], code: str | None) -> str:
    """`code` in the current language through `labels`; an unknown code as it is, readable."""
    if not code:
        return ""
    found = labels.get(code)
    return gettext(found) if found is not None else code.replace("_", " ")


def case_status_label(status: str) -> str:
    """A case status as a person reads it, in the current language (unknown codes as they are)."""
    label = CASE_STATUS_LABELS.get(status)
    return gettext(label) if label is not None else status


def outcome_label(status: str) -> str:
    """A promise's, plan's, payment's... state in the current language (unknown: as it is)."""
    return word(OUTCOME_LABELS, status)


def group_label(group: str) -> str:
    """A strategy group (`champion`, `challenger`) in the current language."""
    return word(STRATEGY_GROUPS, group)
