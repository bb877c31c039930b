"""Reminders by SMS, e-mail and letter: the fields templates see, the templates, the channels."""
