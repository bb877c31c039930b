"""Assessing the debtor: capacity to pay (a person's disposable income, a company's standing), the
risk grade and its reason (`assess.py`); the probability of payment fitted on the database's own
history and the expected loss (`model.py`); what a plan or settlement leaves of the disposable
income (`affordability.py`).

Above casework (it reads cases, promises and contacts and writes through the case-change unit of
work); reporting and sync may read it.
"""
