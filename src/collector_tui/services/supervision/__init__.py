"""Supervision: supervisors' decisions, assignment and balancing, workloads, the audit trail."""
