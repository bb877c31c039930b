"""Reusable widgets: form fields with their error line, case panels, the timeline."""
