"""What a laptop may change, and how the master treats each change (the conflict rules).

- Facts are kept: contact attempts and notes (`activity`), reported payments (`payment`),
  assessments of the debtor (`assessment`: the debtor's grade follows the latest one),
  promises and plans, follow-ups, and the laptop's audit events are inserted on the master with
  the ids the laptop gave them. A promise or plan on a case reassigned meanwhile is kept, credited
  to its agent, and raises review follow-ups for the case's new owner and a supervisor.
- Stopping contact is always safe: a hold placed on a laptop (a dispute, a cease request) and a
  phone, address or e-mail marked wrong, disconnected, returned or do-not-call, a contact retired,
  a third party's objection stand, and so does a case sent to the supervisors (routed,
  legal escalation requested, a settlement above the agent's limit) when the master had not.
  Contact data a laptop adds (a number, an address, an e-mail, a third party) is kept, its values
  checked as the app checks them (services/sync/admission.py); one the master already has is kept
  retired beside it, so what was logged against it still points somewhere.
  Lifting a hold, clearing do-not-call or a wrong-number mark, un-routing, assignment,
  placements, users, amounts, charges and their waivers, closures, settlement decisions and a
  case's strategy and test group are the master's: a laptop's try is rejected.
- Derived values (balance, promise status and paid amount, invoice open amounts, case status,
  the queue place) are never copied: the master recomputes them from the facts it now holds.
- Agent-editable fields (a follow-up done, rescheduled; a promise or plan withdrawn; debtor notes)
  apply when the master row is still at the version the laptop started from; otherwise the later
  hybrid-logical-clock wins (the master's side is the clock of its last change to the row).
- Deletions are tombstones: remembered on the master so a late change never resurrects the row.
"""

from __future__ import annotations

# Changes that never make an operation on their own: stamps and the case's cached queue place,
# which the master recomputes anyway.
IGNORED_FIELDS: dict[str, frozenset[str]] = {
    "*": frozenset({"updated_at", "version"}),
    "collection_case": frozenset(
        {
            "queue_tier",
            "priority",
            "score",
            "score_factors",
            "next_action_at",
            "last_attempt_at",
            "last_contact_at",
        }
    ),
}

# Inserted as sent (same id); refused as updates or deletes: facts are append-only.
FACT_TABLES = frozenset({"activity", "payment", "auditevent", "assessment"})
# New rows a laptop may create, each kept on the master. An invoice dispute opened offline is the
# debtor's statement: a fact; resolving it (and reversing a payment) is the master's.
KEPT_INSERTS = frozenset(
    {
        "promise",
        "paymentplan",
        "followup",
        "hold",
        "phone",
        "settlement",
        "invoice_dispute",
        "postaladdress",
        "emailaddress",
        "thirdparty",
        # A reminder an agent queued offline (services/reminders/outbox.queue_reminder): kept as
        # queued; only the master sends, checking the case again at send time.
        "reminder",
    }
)
# Whole tables the master derives from the facts (allocations, invoices' open amounts, the balance
# by component and where each payment went).
DERIVED_TABLES = frozenset({"paymentallocation", "invoice", "balance_component", "payment_part"})
# Never changed from a laptop. A charge (legal costs, a fee) or its waiver is a supervisor's
# decision on the money (services/casework/charges.py): made on the master, carried to laptops in
# the briefcase, refused when a laptop sends one.
MASTER_TABLES = frozenset({"collection_case", "debtor", "app_user", "assignment", "case_charge"})

# Fields the master recomputes: a laptop's value is taken as a hint and answered, never copied.
DERIVED_FIELDS: dict[str, frozenset[str]] = {
    "collection_case": frozenset({"status", "balance"}),
    "promise": frozenset({"paid_amount", "status", "resolved_at"}),
    "paymentplan": frozenset({"status"}),
    # The debtor's risk grade follows its latest graded assessment (a fact that travels).
    "debtor": frozenset({"deceased", "bankrupt", "risk_grade"}),
    "settlement": frozenset({"decided_at"}),
}
# Fields only the master changes (a laptop's change is rejected, the master's value stands).
MASTER_FIELDS: dict[str, frozenset[str]] = {
    "collection_case": frozenset(
        {
            "assigned_to_id",
            "client",
            "client_ref",
            "debtor_id",
            "currency",
            "principal",
            "fees",
            "interest",
            "due_date",
            "placed_date",
            "created_at",
            # The strategy, its test group and treatment are set on the master only
            # (services/strategies): a packet never moves a case between groups.
            "strategy",
            "strategy_group",
            "strategy_reason",
            "strategy_treatment",
        }
    ),
    "followup": frozenset({"case_id", "owner_id", "created_by_id", "created_at"}),
    "promise": frozenset({"case_id", "plan_id", "amount", "due_date", "created_by_id"}),
    "paymentplan": frozenset({"case_id", "created_by_id"}),
    "phone": frozenset({"debtor_id", "e164", "raw", "extension", "time_zones", "created_at"}),
    "postaladdress": frozenset({"debtor_id", "text", "match_key", "created_by_id", "created_at"}),
    "emailaddress": frozenset({"debtor_id", "address", "created_by_id", "created_at"}),
    "thirdparty": frozenset({"debtor_id", "phone_id", "created_by_id", "created_at"}),
    "debtor": frozenset({"created_at"}),
    # An invoice dispute travels as opened; its resolution and everything else on it are the
    # master's (services/casework/disputes.py resolves it there).
    "invoice_dispute": frozenset(
        {
            "case_id",
            "invoice_id",
            "amount",
            "category",
            "reason",
            "owner_id",
            "resolve_by",
            "status",
            "credited",
            "opened_by_id",
            "opened_at",
            "resolved_by_id",
            "resolved_at",
            "resolution_reason",
            "follow_up_id",
            "hold_id",
        }
    ),
    # A settlement's decision is a supervisor's; the agent's request travels as inserted.
    "settlement": frozenset(
        {
            "case_id",
            "amount",
            "balance",
            "status",
            "requested_by_id",
            "requested_at",
            "decided_by_id",
            "decision_note",
        }
    ),
}
# Sending a case to the supervisors (route, legal request, a settlement above the limit) is an
# agent's request: a laptop may set the reason when the master has none; clearing it is theirs.
ROUTING_FIELD = ("collection_case", "routed_reason")
# A laptop may set these one way only: the direction that stops contact. A set of values: any of
# them; SET: any value where the master has none (a retirement, an objection).
SET = object()
TIGHTENING: dict[str, dict[str, object]] = {
    "phone": {
        "valid": False,
        "do_not_call": True,
        "status": frozenset({"wrong", "disconnected", "dnc"}),
        "retired_at": SET,
        "dnc_at": SET,
    },
    "postaladdress": {"status": frozenset({"wrong", "returned"}), "retired_at": SET},
    "emailaddress": {"status": frozenset({"wrong", "dnc"}), "retired_at": SET, "opt_in": False},
    "thirdparty": {"objected_at": SET, "retired_at": SET},
}


def tightens(rule: object, current: object, value: object) -> bool:
    """Whether setting `value` (over the master's `current`) is the direction `rule` allows."""
    if rule is SET:
        return value is not None and current is None
    if isinstance(rule, frozenset):
        return value in rule
    return value == rule


# An agent's settlement within their limit is recorded with its promise in a second step: the
# link may be set once, to a promise of the same terms (services/sync/apply.py checks it).
SETTLEMENT_PROMISE = ("settlement", "promise_id")
# Rows a laptop may delete (tombstoned on the master): an agent's follow-ups.
DELETABLE = frozenset({"followup"})
# Withdrawals an agent may make offline (status -> value), if the row is still open on the master.
WITHDRAWALS: dict[str, tuple[str, str]] = {
    "promise": ("pending", "cancelled"),
    "paymentplan": ("active", "cancelled"),
}


def ignored(table: str) -> frozenset[str]:
    return IGNORED_FIELDS["*"] | IGNORED_FIELDS.get(table, frozenset())
