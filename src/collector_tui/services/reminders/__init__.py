"""Reminders by SMS, e-mail and letter: the fields templates see, the templates, the channels,
the sequences, the outbox and its send run."""
