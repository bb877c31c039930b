"""Delivery of reminders: SMS gateways, e-mail, letters as PDF. No database, no rules."""
