"""The case's strategy on the case screen: its treatment, test group and why, in the "why this
case is here" panel, with an escalation point reached said first (services/strategies)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from collector_tui.display import safe_text
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _

if TYPE_CHECKING:
    from collector_tui.services.strategies.assign import CaseStrategy

__all__ = ["GROUP_WORDS", "strategy_line"]

GROUP_WORDS = {"champion": N_("champion"), "challenger": N_("challenger")}


def strategy_line(placed: CaseStrategy | None, *, compact: bool = False) -> Text | None:
    """ "Strategy standard (challenger) · queue weight 150% · rule default: …", or None when the
    case has no strategy (none applied yet)."""
    if placed is None or placed.strategy is None:
        return None
    text = Text()
    due = placed.escalation_due
    if due is not None:
        # Compact (80 columns), the figures behind it give way to the strategy and group.
        figures = (
            ""
            if compact
            else f" (p {placed.p or 0:.2f} < {due.p_below:.2f}, "
            + _("{days} days placed").format(days=placed.days_placed)
            + ")"
        )
        text.append(_("Escalation due: {to}").format(to=due.to) + figures + " · ", style="bold red")
    text.append(_("Strategy") + " ", style="dim")
    text.append_text(safe_text(placed.strategy, style="bold"))
    text.append(f" ({GROUP_WORDS.get(placed.group or '', placed.group or '?')})")
    weight = placed.treatment.get("queue_weight")
    if isinstance(weight, int) and weight != 100:
        text.append(" · " + _("queue weight {weight}%").format(weight=weight), style="dim")
    rule = placed.treatment.get("rule")
    if isinstance(rule, str):
        text.append(" · " + _("rule") + " ", style="dim")
        text.append_text(safe_text(rule, style="dim"))
        if placed.reason:
            text.append(": ", style="dim")
            text.append_text(safe_text(placed.reason, style="dim"))
    return text
