"""Errors a service raises on purpose; their text is shown to the user as is."""

from __future__ import annotations


class ServiceError(Exception):
    """A refusal with a message fit for a person (one stderr line, or next to a field)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class NotFound(ServiceError):
    pass


class Forbidden(ServiceError):
    pass


class InvalidInput(ServiceError):
    """Bad input; `field` names the form field the message belongs next to."""


class StaleEdit(ServiceError):
    """Someone else changed the record since it was read (optimistic concurrency)."""
