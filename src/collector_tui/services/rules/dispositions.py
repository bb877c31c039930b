"""Disposition codes an agent picks when logging an attempt, in the order the form lists them.

Which of these count toward a call cap is each rule pack's business (packs/*.toml, `[dispositions]`,
read by rules/compliance.py): the same codes serve every jurisdiction. What a disposition does to
the case (a promise, a follow-up, a hold) is applied by casework.activities.
"""

from __future__ import annotations

from dataclasses import dataclass

from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.services.errors import InvalidInput


@dataclass(frozen=True)
class Disposition:
    code: str
    group: str  # no_contact | contact | result
    # Lazy text (i18n.N_): `str(label)` is in the interface's language; the code never changes.
    label: str
    connected: bool  # a person answered (the CN packs count these per debtor per day)
    right_party: bool  # we spoke with the debtor: a right-party contact
    needs: str | None  # 'promise' | 'plan' | 'follow_up' | None: what the form must also carry


def _disposition(
    code: str,
    group: str,
    label: str,
    *,
    connected: bool = True,
    right_party: bool = False,
    needs: str | None = None,
) -> Disposition:
    return Disposition(code, group, label, connected, right_party, needs)


# docs/decisions.md, dispositions; in the order the form lists them.
DISPOSITIONS: dict[str, Disposition] = {
    d.code: d
    for d in (
        _disposition("no_answer", "no_contact", N_("No answer"), connected=False),
        _disposition("busy", "no_contact", N_("Busy"), connected=False),
        _disposition("voicemail", "no_contact", N_("Voicemail / message left"), connected=False),
        _disposition(
            "disconnected", "no_contact", N_("Disconnected / not in service"), connected=False
        ),
        # Someone answered, but not for this debtor.
        _disposition("wrong_number", "no_contact", N_("Wrong number")),
        _disposition("right_party", "contact", N_("Spoke with the debtor"), right_party=True),
        _disposition("third_party", "contact", N_("Spoke with a third party")),
        _disposition("promise", "result", N_("Promise to pay"), right_party=True, needs="promise"),
        _disposition("plan", "result", N_("Payment plan agreed"), right_party=True, needs="plan"),
        _disposition("refused", "result", N_("Refused to pay"), right_party=True),
        _disposition("dispute", "result", N_("Disputes the debt"), right_party=True),
        _disposition(
            "callback", "result", N_("Call back later"), right_party=True, needs="follow_up"
        ),
        _disposition("paid", "result", N_("Says already paid"), right_party=True),
        _disposition("hardship", "result", N_("Hardship"), right_party=True),
        # Usually told by a relative or an administrator, not the debtor.
        _disposition("deceased", "result", N_("Debtor deceased")),
        _disposition("bankrupt", "result", N_("Debtor bankrupt")),
        _disposition("cease", "result", N_("Asks to cease contact"), right_party=True),
    )
}


DISPOSITION_GROUPS: tuple[str, ...] = ("no_contact", "contact", "result")


def check_disposition(code: str) -> Disposition:
    disposition = DISPOSITIONS.get(code) if isinstance(code, str) else None
    if disposition is None:
        shown = str(code)[:32]
        raise InvalidInput(
            _("unknown disposition {code}: pick one from the list").format(code=repr(shown)),
            field="disposition",
        )
    return disposition
