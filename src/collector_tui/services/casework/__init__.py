"""Casework: everything an agent does on a case, and the case-change unit of work they share."""
