"""Strategies: a rule file sending each case to a treatment (queue weight, reminder sequence,
settlement limit, escalation points), champion/challenger groups drawn stably, and their report.

`book.py` reads and checks a strategy file; `assign.py` applies it (stored, versioned, audited),
places cases and lists the escalations due; `report.py` compares the groups.
"""
