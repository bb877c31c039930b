"""Reminders by SMS, e-mail and letter: sequences, templates, the outbox and its send run."""
