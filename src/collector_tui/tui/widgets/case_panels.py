"""The case screen's panels, each rendering part of a `CaseFile` as Rich text (never markup)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from collector_tui.display import first_line, safe_text
from collector_tui.i18n import N_, pgettext
from collector_tui.i18n import gettext as _
from collector_tui.models import case_status_label
from collector_tui.phones import format_phone, mask_phone
from collector_tui.services.casework.casefile import CaseFile, DisputeBrief, HoldView, PhoneView
from collector_tui.tui.formatting import (
    AGING,
    CONTACT_SOURCES,
    CONTACT_STATUSES,
    DEBTOR_FLAGS,
    DEBTOR_KINDS,
    DISPUTE_CATEGORIES,
    FACTOR_NAMES,
    HOLD_KINDS,
    RELATIONS,
    TIER_NAMES,
    agent_time,
    day_text,
    debtor_clock,
    locale_amount,
    plain_amount,
    relative,
    word,
)

FLAG_STYLE = "bold white on red"
ELLIPSIS = "…"

# Phone types in the agent's words (phones.py stores phonenumbers' categories).
PHONE_KIND_WORDS = {
    "mobile": N_("mobile"),
    "landline": N_("landline"),
    "home": N_("home"),
    "work": N_("work"),
    "fixed_or_mobile": N_("mobile or landline"),
    "toll_free": N_("toll-free"),
    "premium": N_("premium rate"),
    "shared_cost": N_("shared cost"),
    "voip": N_("internet (VoIP)"),
    "personal": N_("personal number"),
    "pager": N_("pager"),
    "uan": N_("company number"),
    "voicemail": N_("voicemail"),
    "unknown": N_("type unknown"),
    "third_party": N_("third party"),
    "third party": N_("third party"),
}


def phone_kind_words(kind: str) -> str:
    return word(PHONE_KIND_WORDS, kind)


class OneLine:
    """`text` on one line: cut before the last word that does not fit (a figure is never cut in
    two), with an ellipsis."""

    def __init__(self, text: Text) -> None:
        self.text = text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield one_line(self.text, options.max_width)


def one_line(text: Text, width: int) -> Text:
    if text.cell_len <= width:
        line = text.copy()
    else:
        plain = text.plain
        cut = 0
        for index, char in enumerate(plain):
            if char == " " and Text(plain[:index]).cell_len <= width - 1:
                cut = index
        if cut == 0:
            line = text.copy()
            line.truncate(width, overflow="ellipsis")
        else:
            line = text[:cut]
            line.rstrip()
            line.append(ELLIPSIS)
    line.no_wrap = True
    line.overflow = "ellipsis"
    return line


class Lines:
    """Renderables one under the other (a panel made of lines chosen for the width)."""

    def __init__(self, lines: Iterable[RenderableType]) -> None:
        self.lines = list(lines)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from self.lines


def _zone_name(zone: str) -> str:
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def case_header(case: CaseFile, locale: str, tz: str, now: datetime) -> Text:
    debtor = case.debtor
    text = Text()
    text.append_text(safe_text(debtor.name, style="bold"))
    text.append(f"  {word(DEBTOR_KINDS, debtor.kind)} · {debtor.country}", style="dim")
    if debtor.risk_grade:
        text.append(" · " + _("risk") + " ", style="dim")
        text.append_text(safe_text(debtor.risk_grade, style="dim"))
    for flag in debtor.flags:
        text.append("  ")
        text.append(f" {word(DEBTOR_FLAGS, flag)} ", style=FLAG_STYLE)
    text.append("   ")
    text.append_text(safe_text(case.client, style="dim"))
    text.append(" / ", style="dim")
    text.append_text(safe_text(case.client_ref, style="bold"))
    text.append("\n")
    text.append(_("Balance") + " ")
    text.append(locale_amount(case.balance, case.currency, locale), style="bold")
    text.append("  ·  ")
    text.append(
        _("{days} days past due ({aging})").format(
            days=case.days_past_due, aging=word(AGING, case.aging)
        )
    )
    text.append("  ·  " + _("status") + " ")
    text.append_text(safe_text(case_status_label(case.status), style="bold"))
    if case.holds:
        text.append("  ")
        kinds = _(", ").join(word(HOLD_KINDS, h.kind) for h in case.holds)
        text.append(" " + _("ON HOLD: {kinds}").format(kinds=kinds) + " ", style=FLAG_STYLE)
    # The third line answers "may I call, and why am I here" without scrolling at 80x24.
    text.append("\n")
    if case.verdict is not None:
        if case.verdict.callable:
            text.append(_("call now: allowed"), style="bold green")
        else:
            text.append(_("call now: no"), style="bold red")
            if case.verdict.callable_at is not None:
                until = agent_time(case.verdict.callable_at, tz, now)
                text.append(" " + _("until {time}").format(time=until), style="red")
        text.append(" · ")
    if case.next_action_at is not None and case.next_action_at > now:
        # Waiting (a promise not yet due, a retry delay): say until when, not the tier's name.
        next_at = agent_time(case.next_action_at, tz, now)
        text.append(_("next action {time}").format(time=next_at), style="bold")
    else:
        text.append(word(TIER_NAMES, case.tier_name), style="bold")
    text.append(" " + _("(score {score})").format(score=case.score), style="dim")
    text.append(" · " + _("last try") + " ")
    text.append(relative(case.last_attempt_at, now))
    return text


def _local_clock(phone: PhoneView, zones: int = 2) -> Text:
    if not phone.local_times:
        return Text(_("local time unknown"), style="dim")
    clocks = " / ".join(
        f"{debtor_clock(t.at)} {_zone_name(t.zone)}" for t in phone.local_times[:zones]
    )
    if len(phone.local_times) > zones:
        clocks += f" +{len(phone.local_times) - zones}"
    text = Text(clocks, style="bold cyan")
    if phone.zones_guessed:
        text.append(" " + _("(country)"), style="dim")
    return text


# A phone's status in the agent's words, flagged when it stops the number being dialled.
STATUS_FLAGS = {
    "wrong": N_("WRONG"),
    "disconnected": N_("DISCONNECTED"),
    "dnc": N_("DO NOT CALL"),
    "unverified": N_("unverified"),
}


def _phone_flags(phone: PhoneView, now: datetime | None = None) -> Text:
    flags = Text()
    if phone.retired:
        flags.append(_("retired"), style="dim")
        return flags
    status = phone.status
    if status == "valid" and phone.do_not_call:
        status = "dnc"
    if status == "valid" and not phone.valid:
        flags.append(" " + _("INVALID") + " ", style=FLAG_STYLE)
        flags.append(" ")
    elif status == "unverified":
        flags.append(_("unverified") + " ", style="yellow")
    elif status in STATUS_FLAGS:
        flags.append(f" {_(STATUS_FLAGS[status])} ", style=FLAG_STYLE)
        flags.append(" ")
    consents = phone.mark.consents(now) if phone.mark is not None and now is not None else ()
    if "call" in consents:
        flags.append(_("call ok") + " ", style="green")
    if phone.sms_consent:
        flags.append(_("sms ok"), style="green")
    flags.rstrip()
    return flags


def _number(phone: PhoneView) -> Text:
    number = Text()
    number.append("★ " if phone.is_primary else "  ", style="yellow")
    if phone.e164:
        number.append(format_phone(phone.e164, phone.extension), style="bold")
    else:
        number.append_text(safe_text(phone.raw, style="bold"))
    return number


class PhoneLines:
    """One line a number when the width allows; else the debtor's clock goes under it. The number
    and its type are never cut (this is where the agent dials from)."""

    def __init__(
        self,
        phones: tuple[PhoneView, ...],
        now: datetime | None = None,
        details: dict[uuid.UUID, Text] | None = None,
    ) -> None:
        self.phones = phones
        self.now = now
        # A dim line under a number (source, consent's dates, why it was marked), when given.
        self.details = details or {}

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        numbers = [_number(phone) for phone in self.phones]
        kinds = [Text(phone_kind_words(phone.kind), style="dim") for phone in self.phones]
        number_width = max(number.cell_len for number in numbers)
        kind_width = max(kind.cell_len for kind in kinds)
        for phone, number, kind in zip(self.phones, numbers, kinds, strict=True):
            flags = _phone_flags(phone, self.now)
            detail = self.details.get(phone.id)
            if phone.retired:
                number.stylize("dim strike")
            head = number.copy()
            head.pad_right(number_width - number.cell_len)
            head.append("  ")
            head.append_text(kind)
            head.pad_right(kind_width - kind.cell_len)
            # With a detail line under the number, the flags may go there rather than push the
            # clock onto a line of its own.
            tries = [(clock, True) for clock in (_local_clock(phone, 2), _local_clock(phone, 1))]
            if detail is not None and flags:
                tries.append((_local_clock(phone, 2), False))
            for clock, flags_beside in tries:
                line = head.copy()
                line.append("  ")
                line.append_text(clock)
                if flags and flags_beside:
                    line.append("  ")
                    line.append_text(flags)
                if line.cell_len <= width:
                    yield one_line(line, width)
                    if flags and not flags_beside:
                        assert detail is not None
                        detail = flags + Text("  ") + detail if detail else flags
                    break
            else:
                yield from self._narrow(head, flags, phone, width)
            if detail:
                yield one_line(Text("    ") + detail, width)

    @staticmethod
    def _narrow(head: Text, flags: Text, phone: PhoneView, width: int) -> RenderResult:
        """The number and type on a line; the flags beside it or under it; the clock under."""
        line = head.copy()
        line.rstrip()
        if flags and line.cell_len + 2 + flags.cell_len <= width:
            line.append("  ")
            line.append_text(flags)
            flags = Text()
        yield one_line(line, width)
        if flags:
            yield one_line(Text("    ") + flags, width)
        yield one_line(Text("    ") + _local_clock(phone, 2), width)


def phones_panel(case: CaseFile) -> RenderableType:
    """Every number in full, its type in words, with the debtor's clock."""
    if not case.phones:
        return Text(_("No phone number on file."), style="dim")
    return PhoneLines(case.phones)


def _phone_detail(phone: PhoneView, tz: str, now: datetime) -> Text | None:
    """Where the number came from, its consent's dates, why it was marked: one dim line."""
    mark = phone.mark
    if mark is None:
        return None
    parts: list[Text] = []
    if mark.source != "placement":
        parts.append(Text(_("from {source}").format(source=word(CONTACT_SOURCES, mark.source))))
    if mark.call_consent_until is not None and mark.call_consent_until > now:
        until = agent_time(mark.call_consent_until, tz, now)
        parts.append(Text(_("call ok until {time}").format(time=until)))
    if mark.status_reason and (mark.status != "valid" or mark.retired):
        state = _("retired") if mark.retired else word(CONTACT_STATUSES, mark.status)
        reason = Text(f"{state}: ")
        reason.append_text(first_line(mark.status_reason))
        parts.append(reason)
    if not parts:
        return None
    detail = Text(" · ").join(parts)
    detail.stylize("dim")
    return detail


def _mark_words(status: str, retired: bool) -> Text:
    if retired:
        return Text(_("retired"), style="dim")
    if status == "valid":
        return Text("")
    style = "yellow" if status == "unverified" else "bold red"
    flag = STATUS_FLAGS.get(status)
    shown = _(flag) if flag is not None else word(CONTACT_STATUSES, status).upper()
    return Text(shown, style=style)


def _contact_line(glyph: str, value: Text, *extra: Text, retired: bool = False) -> Text:
    line = Text(f"{glyph} ", style="dim")
    if retired:
        value.stylize("dim strike")
    line.append_text(value)
    for part in extra:
        if part:
            line.append("  ")
            line.append_text(part)
    return line


def contact_lines(case: CaseFile, *, compact: bool) -> list[Text]:
    """Postal addresses, e-mails and third parties, a line each (compact: the ones in use)."""
    lines: list[Text] = []
    for address in case.addresses:
        if compact and address.retired:
            continue
        value = first_line(address.text)
        lines.append(
            _contact_line(
                _("addr"),
                value,
                _mark_words(address.status, address.retired),
                Text(word(CONTACT_SOURCES, address.source), style="dim"),
                retired=address.retired,
            )
        )
    for email in case.emails:
        if compact and email.retired:
            continue
        opt_in = Text(_("opted in"), style="green") if email.opt_in else Text("")
        lines.append(
            _contact_line(
                _("mail"),
                safe_text(email.address),
                _mark_words(email.status, email.retired),
                opt_in,
                Text(word(CONTACT_SOURCES, email.source), style="dim"),
                retired=email.retired,
            )
        )
    for party in case.third_parties:
        if compact and party.retired:
            continue
        who = safe_text(party.name, style="bold")
        who.append(f" ({word(RELATIONS, party.relation)})", style="dim")
        number = Text(format_phone(party.phone_e164) if party.phone_e164 else "")
        objected = Text("")
        if party.objected:
            objected = Text(" " + _("OBJECTED") + " ", style=FLAG_STYLE)
        elif party.recontact_requested_at is not None:
            objected = Text(_("asked to be called again"), style="green")
        lines.append(_contact_line(_("3rd "), who, objected, number, retired=party.retired))
    return lines


def masked_numbers(case: CaseFile) -> CaseFile:
    """The case as a role that does not dial sees it: each number masked ("138****8000") in the
    contacts panel (`unmasked_roles`; revealing them is audited: contacts.reveal_contacts)."""
    phones = tuple(
        replace(phone, e164=None, extension=None, raw=mask_phone(phone.e164 or phone.raw))
        for phone in case.phones
    )
    parties = tuple(replace(party, phone_e164=None) for party in case.third_parties)
    return replace(case, phones=phones, third_parties=parties)


def contacts_panel(
    case: CaseFile, tz: str, now: datetime, *, compact: bool = False
) -> RenderableType:
    """The debtor's numbers (status, consent, source, local time), postal addresses, e-mails and
    third parties. Compact: a line a contact in use; wide: retired ones too, and a dim line under
    each number saying where it came from and what was marked."""
    phones = tuple(p for p in case.phones if not (compact and p.retired))
    details: dict[uuid.UUID, Text] = {}
    if not compact:
        for phone in phones:
            # Empty: no line under the number, unless its flags go there.
            details[phone.id] = _phone_detail(phone, tz, now) or Text(style="dim")
    lines: list[RenderableType] = []
    if phones:
        lines.append(PhoneLines(phones, now, details))
    else:
        lines.append(Text(_("No phone number on file."), style="dim"))
    retired = len(case.phones) - len(phones)
    if retired:
        more = _("+ {count} retired (wide screen shows them)").format(count=retired)
        lines.append(Text(f"  {more}", style="dim"))
    lines.extend(OneLine(line) for line in contact_lines(case, compact=compact))
    return Lines(lines)


def debt_panel(case: CaseFile, tz: str, now: datetime, *, compact: bool = False) -> RenderableType:
    if compact:
        # The balance, days past due and aging are in the header; the placed date and the agent
        # are left out (the wide layout has them).
        line = Text()
        for label, minor in (
            (_("principal"), case.principal),
            (_("fees"), case.fees),
            (_("interest"), case.interest),
            *(((_("charged"), case.charged),) if case.charged else ()),
        ):
            if line:
                line.append(" + ", style="dim")
            line.append(f"{label} ", style="dim")
            line.append(plain_amount(minor, case.currency).rsplit(" ", 1)[0])
        line.append(f" {case.currency}")
        line.append("  ·  " + _("due") + " ", style="dim")
        line.append(day_text(case.due_date))
        return line  # wraps between words only: an amount is never cut
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column(justify="right")
    grid.add_column(style="dim")
    grid.add_column()
    amount = lambda minor: plain_amount(minor, case.currency)  # noqa: E731
    grid.add_row(_("Principal"), amount(case.principal), _("Due date"), day_text(case.due_date))
    grid.add_row(_("Fees"), amount(case.fees), _("Placed"), day_text(case.placed_date))
    grid.add_row(_("Interest"), amount(case.interest), _("Aging"), word(AGING, case.aging))
    if case.charged:  # after placement (legal costs, fees, interest), less waivers
        grid.add_row(_("Charged"), amount(case.charged), "", "")
    grid.add_row(
        Text(_("Balance"), style="bold"),
        Text(amount(case.balance), style="bold"),
        _("Agent"),
        safe_text(case.assigned_to) if case.assigned_to else Text(_("unassigned")),
    )
    return grid


def _amount_due(minor: int, currency: str, day: str) -> str:
    return _("{amount} due {day}").format(amount=plain_amount(minor, currency), day=day)


def _paid(minor: int, currency: str) -> str:
    return _("(paid {amount})").format(amount=plain_amount(minor, currency))


def _score(score: int) -> str:
    return _("score {score}").format(score=score)


def address_unlisted(case: CaseFile) -> str | None:
    """The placement's address when the contacts panel does not show it already (a placement
    makes it a postal-address row too; older data and hand-made case files may not have one)."""
    address = case.debtor.address
    if not address:
        return None
    key = " ".join(address.split()).casefold()
    if any(" ".join(row.text.split()).casefold() == key for row in case.addresses):
        return None
    return address


def debtor_panel(
    case: CaseFile, *, compact: bool = False, assessment: Text | None = None
) -> RenderableType | None:
    """The debtor's address (when not listed), language, capacity notes and, given, the line of
    the latest assessment (tui/screens/assessment.py: assessment_lines)."""
    debtor = case.debtor
    address = address_unlisted(case)
    if compact:
        lines: list[RenderableType] = []
        if address:
            lines.append(safe_text(address, multiline=True))
        if assessment is not None:
            lines.append(OneLine(assessment))
        elif debtor.capacity_notes:
            capacity = Text(_("capacity:") + " ", style="dim")
            capacity.append_text(first_line(debtor.capacity_notes))
            lines.append(OneLine(capacity))
        return Lines(lines) if lines else None
    rows = [
        (_("Address"), address),
        (_("Language"), debtor.language),
        (_("Capacity"), debtor.capacity_notes),
    ]
    rows = [(label, value) for label, value in rows if value]
    if not rows and assessment is None:
        return None
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    for label, value in rows:
        grid.add_row(label, safe_text(value, multiline=True))
    if assessment is not None:
        grid.add_row(_("Assessment"), assessment)
    return grid


def status_panel(
    case: CaseFile, tz: str, now: datetime, *, compact: bool = False
) -> RenderableType:
    if compact:
        return _compact_status(case, tz, now)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()

    def when(instant: datetime | None) -> Text:
        if instant is None:
            return Text(_("never"), style="dim")
        return Text(f"{agent_time(instant, tz, now)} ({relative(instant, now)})")

    if case.verdict is not None:
        if case.verdict.callable:
            grid.add_row(_("Call now"), Text(_("allowed"), style="bold green"))
        else:
            reason = safe_text(case.verdict.reason or _("not callable now"), style="bold red")
            if case.verdict.callable_at is not None:
                since = agent_time(case.verdict.callable_at, tz, now)
                reason.append(" · " + _("from {time}").format(time=since))
            grid.add_row(_("Call now"), reason)
    grid.add_row(_("Last attempt"), when(case.last_attempt_at))
    grid.add_row(_("Last contact"), when(case.last_contact_at))
    grid.add_row(_("Next action"), when(case.next_action_at))
    for hold in case.holds:
        grid.add_row(_("Hold"), OneLine(_hold_line(hold, tz, now)))
    for promise in case.open_promises:
        what = _("Installment") if promise.plan_id else _("Promise")
        due = day_text(promise.due_date)
        line = Text(_amount_due(promise.amount, case.currency, due))
        if promise.paid_amount:
            line.append(" " + _paid(promise.paid_amount, case.currency), style="dim")
        grid.add_row(what, line)
    for follow_up in case.open_follow_ups:
        line = Text(f"{agent_time(follow_up.due_at, tz, now)} ")
        line.append_text(first_line(follow_up.reason))
        grid.add_row(_("Follow-up"), OneLine(line))
    if case.routed_reason:
        grid.add_row(_("Routed"), safe_text(case.routed_reason, style="bold yellow"))
    return grid


def _hold_line(hold: HoldView, tz: str, now: datetime) -> Text:
    # One line (the full reason is on the timeline's entry): a wrapped hold label read as two.
    since = agent_time(hold.placed_at, tz, now)
    line = Text(
        _("{kind} since {time}").format(kind=word(HOLD_KINDS, hold.kind), time=since),
        style="bold red",
    )
    if hold.reason:
        line.append(": ")
        line.append_text(first_line(hold.reason))
    return line


def _compact_status(case: CaseFile, tz: str, now: datetime) -> RenderableType:
    """The status in as few lines as it takes: whether a call is allowed and the last try are
    in the header, so here only why not, then one line per hold, promise and follow-up."""
    lines: list[RenderableType] = []
    if case.verdict is not None and not case.verdict.callable and case.verdict.reason:
        why_not = _("why not: {reason}").format(reason=case.verdict.reason)
        lines.append(OneLine(safe_text(why_not, style="red")))
    times = Text()
    times.append(_("last contact") + " ", style="dim")
    times.append(agent_time(case.last_contact_at, tz, now) if case.last_contact_at else _("never"))
    times.append(" · " + _("next action") + " ", style="dim")
    times.append(agent_time(case.next_action_at, tz, now))
    lines.append(OneLine(times))
    for hold in case.holds:
        hold_line = Text(_("hold") + " ", style="dim")
        hold_line.append_text(_hold_line(hold, tz, now))
        lines.append(OneLine(hold_line))
    shown_plans: set[object] = set()
    for promise in case.open_promises:
        if promise.plan_id is not None:
            # A plan is one line here: its next installment and how many remain.
            if promise.plan_id in shown_plans:
                continue
            shown_plans.add(promise.plan_id)
            left = sum(1 for p in case.open_promises if p.plan_id == promise.plan_id)
            line = Text(_("plan, next") + " ", style="dim")
            line.append(_amount_due(promise.amount, case.currency, day_text(promise.due_date)))
            line.append(" " + _("({count} to pay)").format(count=left), style="dim")
            lines.append(line)
            continue
        line = Text(_("promise") + " ", style="dim")
        line.append(_amount_due(promise.amount, case.currency, day_text(promise.due_date)))
        if promise.paid_amount:
            line.append(" " + _paid(promise.paid_amount, case.currency), style="dim")
        lines.append(line)  # wraps between words: an amount is never cut
    for follow_up in case.open_follow_ups:
        line = Text(_("follow-up") + " ", style="dim")
        line.append(f"{agent_time(follow_up.due_at, tz, now)} ")
        line.append_text(first_line(follow_up.reason))
        lines.append(OneLine(line))
    if case.routed_reason:
        routed = Text(_("routed") + " ", style="dim")
        routed.append_text(safe_text(case.routed_reason, style="bold yellow"))
        lines.append(OneLine(routed))
    return Lines(lines)


def why_panel(
    case: CaseFile,
    *,
    compact: bool = False,
    chance: Text | None = None,
    strategy: Text | None = None,
) -> RenderableType:
    """The queue tier, score and factors; `chance`, given, is the fitted probability of payment
    with its top factors and the expected loss (tui/screens/assessment.py: chance_line);
    `strategy` the case's strategy, group and why (tui/screens/strategy.py)."""
    if chance is not None or strategy is not None:
        first = [OneLine(line) for line in (strategy, chance) if line is not None]
        return Lines([*first, why_panel(case, compact=compact)])
    if compact:
        # The tier and score are in the header: the factors that gave points, one line each,
        # then the ones that gave none on one line.
        lines: list[RenderableType] = []
        quiet = Text()
        for factor in case.factors:
            if not factor.points:
                if quiet:
                    quiet.append(" · ", style="dim")
                quiet.append_text(
                    safe_text(factor.detail or word(FACTOR_NAMES, factor.name), style="dim")
                )
                continue
            line = Text(f"{factor.points:+d} ", style="bold")
            line.append_text(safe_text(word(FACTOR_NAMES, factor.name)))
            if factor.detail:
                line.append(" — ", style="dim")
                line.append_text(safe_text(factor.detail, style="dim"))
            lines.append(OneLine(line))
        if quiet:
            lines.append(OneLine(quiet))
        tier = word(TIER_NAMES, case.tier_name)
        return Lines(lines) if lines else Text(f"{tier} · " + _score(case.score))
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", style="bold")
    grid.add_column()
    header = Text(word(TIER_NAMES, case.tier_name), style="bold")
    header.append(" · " + _score(case.score), style="dim")
    grid.add_row("", header)
    for factor in case.factors:
        points = f"{factor.points:+d}" if factor.points else "·"
        line = safe_text(word(FACTOR_NAMES, factor.name))
        if factor.detail:
            line.append(" — ", style="dim")
            line.append_text(safe_text(factor.detail, style="dim"))
        grid.add_row(points, line)
    return grid


def _invoice_table(
    case: CaseFile, *, currency_in_cells: bool, due: bool, tight: bool = False, dpd: bool = True
) -> Table:
    disputed = any(invoice.disputed_amount for invoice in case.invoices)

    def money(minor: int, style: str = "") -> Text:
        shown = plain_amount(minor, case.currency)
        if not currency_in_cells:
            shown = shown.rsplit(" ", 1)[0]
        # An amount is never wrapped or cut (the table is chosen to fit: InvoiceTable).
        return Text(shown, style=style, justify="right", no_wrap=True)

    table = Table(
        box=None,
        padding=(0, 1),
        show_edge=False,
        header_style="dim",
        collapse_padding=tight,
        pad_edge=not tight,
    )
    invoice_title = (
        _("Invoice")
        if currency_in_cells
        else _("Invoice ({currency})").format(currency=case.currency)
    )
    table.add_column(invoice_title, no_wrap=True)
    if due:
        table.add_column(_("Due"), no_wrap=True)
    table.add_column(_("Amount"), justify="right", no_wrap=True)
    table.add_column(pgettext("amount", "Open"), justify="right", no_wrap=True)
    if disputed:
        # Out of the collectible balance while the dispute is open (casework.disputes).
        table.add_column(_("Disputed"), justify="right", no_wrap=True)
    if dpd:
        table.add_column(_("DPD"), justify="right", no_wrap=True)
    for invoice in case.invoices:
        number = first_line(invoice.number, 16)
        cells: list[RenderableType] = [number]
        if due:
            cells.append(day_text(invoice.due_date))
        cells += [money(invoice.amount), money(invoice.open_amount)]
        if disputed:
            cells.append(
                money(invoice.disputed_amount, "bold red")
                if invoice.disputed_amount
                else Text("—", style="dim", justify="right")
            )
        elif invoice.disputed:
            number.append(" " + _("disputed"), style="bold red")
        if dpd:
            cells.append(str(invoice.days_past_due))
        table.add_row(*cells)
    return table


class InvoiceTable:
    """The invoices as wide as the panel allows: amounts with their currency, else the currency
    once in the header, else without the due date (the days past due stay), else one space
    between the columns, else without the days past due (the Debt panel gives the case's age):
    columns go, digits never."""

    def __init__(self, case: CaseFile) -> None:
        self.case = case

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        variants = [
            (True, True, False, True),
            (False, True, False, True),
            (False, False, False, True),
            (False, False, True, True),
            (False, False, True, False),
        ]
        for currency_in_cells, due, tight, dpd in variants:
            table = _invoice_table(
                self.case, currency_in_cells=currency_in_cells, due=due, tight=tight, dpd=dpd
            )
            # Measured unbounded: a measurement within `width` is clamped to it.
            natural = Measurement.get(console, options.update_width(1 << 16), table)
            if natural.maximum <= width:
                break
        yield table


def invoices_panel(case: CaseFile) -> RenderableType | None:
    if not case.invoices:
        return None
    if not case.disputes:
        return InvoiceTable(case)
    lines: list[RenderableType] = [InvoiceTable(case), _collectible_line(case)]
    lines.extend(OneLine(_dispute_line(case, dispute)) for dispute in case.disputes)
    return Lines(lines)


def _collectible_line(case: CaseFile) -> Text:
    line = Text(_("collectible") + " ", style="dim")
    line.append(plain_amount(case.collectible, case.currency), style="bold")
    line.append(" · " + _("disputed") + " ", style="dim")
    line.append(plain_amount(case.disputed, case.currency), style="bold red")
    return line


def _dispute_line(case: CaseFile, dispute: DisputeBrief) -> Text:
    """One open dispute: the invoice, the amount, by when (overdue in red), why, whose."""
    # Under the "disputed" total: the invoice first, and whether it is overdue before the rest.
    line = first_line(dispute.invoice, 16)
    line.append(f" {plain_amount(dispute.amount, case.currency)}")
    line.append(" · ", style="dim")
    if dispute.overdue:
        line.append(_("OVERDUE {day}").format(day=day_text(dispute.resolve_by)), style="bold red")
    else:
        line.append(_("by {day}").format(day=day_text(dispute.resolve_by)))
    line.append(" · ", style="dim")
    line.append(word(DISPUTE_CATEGORIES, dispute.category))
    line.append(" · ", style="dim")
    line.append_text(safe_text(dispute.owner))
    line.append(" · ", style="dim")
    line.append_text(first_line(dispute.reason))
    return line
