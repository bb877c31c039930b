"""A debtor's contact data: phones, postal and e-mail addresses, consent, third parties
(`book`), and the cases to skip-trace (`skiptrace`). Above casework: every change is a case change
through casework/change.py; the case file's read model of the same data is casework/contact_book.py.
"""
