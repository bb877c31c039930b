"""Reporting: reports, exports and the report tables both faces show."""
