"""What a supervisor decides about one reminder in the outbox: cancel it, or settle one left
`uncertain` by a send run that stopped while handing it over (it arrived, or queue it again)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Select

from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.tui.screens.corrections import CorrectionReasonForm, read_reason, reason_field
from collector_tui.tui.screens.forms import FormScreen, Reader
from collector_tui.tui.widgets.field import FormField


class CancelReminderForm(CorrectionReasonForm):
    TITLE_TEXT = N_("Cancel the reminder")
    LABEL = N_("Why is it cancelled?")
    PLACEHOLDER = N_("e.g. debtor paid by phone this morning")
    HINT = N_("It is never sent; the outbox keeps it with the reason.")


@dataclass(frozen=True)
class UncertainSettled:
    delivered: bool
    reason: str


class SettleReminderForm(FormScreen[UncertainSettled]):
    """Did the reminder the stopped run was handing over arrive? Recorded sent (with its
    activity), or queued for the next run."""

    TITLE_TEXT = N_("Settle an uncertain reminder")
    FIELD_MAP: ClassVar[dict[str, str]] = {"reason": "reason", "reminder": "outcome"}

    def __init__(self, *, minimum: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.minimum = minimum

    def fields(self) -> ComposeResult:
        yield FormField(
            _("Did it arrive?"),
            Select(
                [
                    (_("No: queue it again for the next run"), "again"),
                    (_("Yes: record it sent, on the case's timeline"), "arrived"),
                ],
                value="again",
                allow_blank=False,
                id="outcome",
            ),
            name="outcome",
            hint=_("Check the mail server's log or the gateway first: a resend may duplicate."),
        )
        yield reason_field(
            self,
            label=_("How do you know?"),
            placeholder=_("e.g. the mail server's log shows it accepted at 09:14"),
            hint=_("Kept in the audit trail."),
        )

    def read_form(self) -> UncertainSettled:
        reader = Reader()
        text = read_reason(self, reader, minimum=self.minimum)
        reader.done()
        assert text is not None
        outcome = self.query_one("#outcome", Select).value
        return UncertainSettled(delivered=outcome == "arrived", reason=text)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()
