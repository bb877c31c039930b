"""Why a message could not be delivered."""

from __future__ import annotations


class DeliveryFailed(Exception):
    """A channel refused or could not take a message. `permanent` failures are not retried."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
