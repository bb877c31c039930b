"""The case screen's panels, each rendering part of a `CaseFile` as Rich text (never markup)."""

from __future__ import annotations

from datetime import datetime

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from collector_tui.display import first_line, safe_text
from collector_tui.phones import format_phone
from collector_tui.services.casework.casefile import CaseFile, PhoneView
from collector_tui.tui.formatting import (
    agent_time,
    debtor_clock,
    locale_amount,
    plain_amount,
    relative,
)

FLAG_STYLE = "bold white on red"


def _zone_name(zone: str) -> str:
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def case_header(case: CaseFile, locale: str, tz: str, now: datetime) -> Text:
    debtor = case.debtor
    text = Text()
    text.append_text(safe_text(debtor.name, style="bold"))
    text.append(f"  {debtor.kind} · {debtor.country}", style="dim")
    if debtor.risk_grade:
        text.append(" · risk ", style="dim")
        text.append_text(safe_text(debtor.risk_grade, style="dim"))
    for flag in debtor.flags:
        text.append("  ")
        text.append(f" {flag.upper()} ", style=FLAG_STYLE)
    text.append("   ")
    text.append_text(safe_text(case.client, style="dim"))
    text.append(" / ", style="dim")
    text.append_text(safe_text(case.client_ref, style="bold"))
    text.append("\n")
    text.append("Balance ")
    text.append(locale_amount(case.balance, case.currency, locale), style="bold")
    text.append(f"  ·  {case.days_past_due} days past due ({case.aging})")
    text.append("  ·  status ")
    text.append_text(safe_text(case.status, style="bold"))
    if case.holds:
        text.append("  ")
        text.append(f" ON HOLD: {', '.join(h.kind for h in case.holds)} ", style=FLAG_STYLE)
    # The third line answers "may I call, and why am I here" without scrolling at 80x24.
    text.append("\n")
    if case.verdict is not None:
        if case.verdict.callable:
            text.append("call now: allowed", style="bold green")
        else:
            text.append("call now: no", style="bold red")
            if case.verdict.callable_at is not None:
                text.append(f" until {agent_time(case.verdict.callable_at, tz, now)}", style="red")
        text.append(" · ")
    if case.next_action_at is not None and case.next_action_at > now:
        # Waiting (a promise not yet due, a retry delay): say until when, not the tier's name.
        text.append(f"next action {agent_time(case.next_action_at, tz, now)}", style="bold")
    else:
        text.append(case.tier_name, style="bold")
    text.append(f" (score {case.score})", style="dim")
    text.append(" · last try ")
    text.append(relative(case.last_attempt_at, now))
    return text


def _local_clock(phone: PhoneView) -> Text:
    if not phone.local_times:
        return Text("local time unknown", style="dim")
    clocks = " / ".join(f"{debtor_clock(t.at)} {_zone_name(t.zone)}" for t in phone.local_times[:2])
    if len(phone.local_times) > 2:
        clocks += f" +{len(phone.local_times) - 2}"
    text = Text(clocks, style="bold cyan")
    if phone.zones_guessed:
        text.append(" (country)", style="dim")
    return text


def _phone_flags(phone: PhoneView) -> Text:
    flags = Text()
    for flag, on in (("DO NOT CALL", phone.do_not_call), ("INVALID", not phone.valid)):
        if on:
            flags.append(f" {flag} ", style=FLAG_STYLE)
            flags.append(" ")
    if phone.sms_consent:
        flags.append("sms ok", style="green")
    return flags


def phones_panel(case: CaseFile) -> RenderableType:
    """Every number in full (this is where the agent dials from), with the debtor's clock."""
    if not case.phones:
        return Text("No phone number on file.", style="dim")
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True, style="dim")
    grid.add_column(no_wrap=True)
    grid.add_column()
    for phone in case.phones:
        number = Text()
        number.append("★ " if phone.is_primary else "  ", style="yellow")
        if phone.e164:
            number.append(format_phone(phone.e164, phone.extension), style="bold")
        else:
            number.append_text(safe_text(phone.raw, style="bold"))
        grid.add_row(number, phone.kind, _local_clock(phone), _phone_flags(phone))
    return grid


def debt_panel(case: CaseFile, tz: str, now: datetime) -> RenderableType:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column(justify="right")
    grid.add_column(style="dim")
    grid.add_column()
    amount = lambda minor: plain_amount(minor, case.currency)  # noqa: E731
    grid.add_row("Principal", amount(case.principal), "Due date", case.due_date.isoformat())
    grid.add_row("Fees", amount(case.fees), "Placed", case.placed_date.isoformat())
    grid.add_row("Interest", amount(case.interest), "Aging", case.aging)
    grid.add_row(
        Text("Balance", style="bold"),
        Text(amount(case.balance), style="bold"),
        "Agent",
        safe_text(case.assigned_to or "unassigned"),
    )
    return grid


def debtor_panel(case: CaseFile) -> RenderableType | None:
    debtor = case.debtor
    rows = [
        ("Address", debtor.address),
        ("Language", debtor.language),
        ("Capacity", debtor.capacity_notes),
    ]
    rows = [(label, value) for label, value in rows if value]
    if not rows:
        return None
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    for label, value in rows:
        grid.add_row(label, safe_text(value, multiline=True))
    return grid


def status_panel(case: CaseFile, tz: str, now: datetime) -> RenderableType:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()

    def when(instant: datetime | None) -> Text:
        if instant is None:
            return Text("never", style="dim")
        return Text(f"{agent_time(instant, tz, now)} ({relative(instant, now)})")

    if case.verdict is not None:
        if case.verdict.callable:
            grid.add_row("Call now", Text("allowed", style="bold green"))
        else:
            reason = safe_text(case.verdict.reason or "not callable now", style="bold red")
            if case.verdict.callable_at is not None:
                reason.append(f" · from {agent_time(case.verdict.callable_at, tz, now)}")
            grid.add_row("Call now", reason)
    grid.add_row("Last attempt", when(case.last_attempt_at))
    grid.add_row("Last contact", when(case.last_contact_at))
    grid.add_row("Next action", when(case.next_action_at))
    for hold in case.holds:
        line = Text(f"{hold.kind} since {agent_time(hold.placed_at, tz, now)}", style="bold red")
        if hold.reason:
            line.append(": ")
            line.append_text(first_line(hold.reason, 50))
        grid.add_row("Hold", line)
    for promise in case.open_promises:
        what = "Installment" if promise.plan_id else "Promise"
        line = Text(f"{plain_amount(promise.amount, case.currency)} due {promise.due_date}")
        if promise.paid_amount:
            line.append(f" (paid {plain_amount(promise.paid_amount, case.currency)})", style="dim")
        grid.add_row(what, line)
    for follow_up in case.open_follow_ups:
        line = Text(f"{agent_time(follow_up.due_at, tz, now)} ")
        line.append_text(first_line(follow_up.reason, 44))
        grid.add_row("Follow-up", line)
    if case.routed_reason:
        grid.add_row("Routed", safe_text(case.routed_reason, style="bold yellow"))
    return grid


def why_panel(case: CaseFile) -> RenderableType:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", style="bold")
    grid.add_column()
    header = Text(f"{case.tier_name}", style="bold")
    header.append(f" · score {case.score}", style="dim")
    grid.add_row("", header)
    for factor in case.factors:
        points = f"+{factor.points}" if factor.points else "·"
        line = safe_text(factor.name)
        if factor.detail:
            line.append(" — ", style="dim")
            line.append_text(safe_text(factor.detail, style="dim"))
        grid.add_row(points, line)
    return grid


def invoices_panel(case: CaseFile) -> RenderableType | None:
    if not case.invoices:
        return None
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="dim")
    table.add_column("Invoice")
    table.add_column("Due")
    table.add_column("Amount", justify="right")
    table.add_column("Open", justify="right")
    table.add_column("DPD", justify="right")
    for invoice in case.invoices:
        number = first_line(invoice.number, 16)
        if invoice.disputed:
            number.append(" disputed", style="bold red")
        table.add_row(
            number,
            invoice.due_date.isoformat(),
            plain_amount(invoice.amount, case.currency),
            plain_amount(invoice.open_amount, case.currency),
            str(invoice.days_past_due),
        )
    return table
