"""What an arrangement asks of the debtor against the assessed disposable income.

The forms propose within it and warn above it; they never refuse: the agent may know more than the
figures (a lump sum from family, a second income). Pure functions on minor units, no database.
"""

from __future__ import annotations

import math
from datetime import date

# An installment every so often, as a month's worth (a year of 52 weeks, 26 fortnights).
PER_MONTH = {"weekly": 52 / 12, "biweekly": 26 / 12, "monthly": 1.0}


def monthly_load(installment: int, interval: str) -> int:
    """What installments of `installment` every `interval` take out of a month."""
    return math.ceil(installment * PER_MONTH[interval])


def plan_warning(installment: int, interval: str, disposable: int | None) -> str | None:
    """None when the plan fits the disposable income (or none is known); else why it does not.
    Exactly the disposable income fits."""
    if disposable is None:
        return None
    load = monthly_load(installment, interval)
    if load <= disposable:
        return None
    if disposable <= 0:
        return "the assessment leaves nothing a month: this plan is above what the debtor has"
    return "above the disposable income"


def proposed_installments(
    total: int, disposable: int | None, *, interval: str = "monthly", low: int, high: int
) -> int | None:
    """The fewest installments of `total` each within the disposable income, in [low, high];
    None when nothing is known or nothing is left (the form keeps its own default)."""
    if disposable is None or disposable <= 0 or total <= 0:
        return None
    per_installment = disposable / PER_MONTH[interval]
    count = math.ceil(total / per_installment) if per_installment >= 1 else high
    return min(max(count, low), high)


def months_until(today: date, due: date) -> int:
    """Whole months of income until `due`, at least one (a settlement due this month)."""
    months = (due.year - today.year) * 12 + due.month - today.month
    if due.day < today.day:
        months -= 1
    return max(1, months)


def settlement_warning(
    amount: int, disposable: int | None, *, today: date, due: date
) -> str | None:
    """None when the lump sum fits the disposable income until it is due; else why not."""
    if disposable is None:
        return None
    available = max(disposable, 0) * months_until(today, due)
    if amount <= available:
        return None
    return "above the disposable income until it is due"
