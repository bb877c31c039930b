"""The supervisor's dialogs: assign, balance, filter the case browser, decide, settlement.

They are FormScreens: `ctrl+s` reads the fields, a field that cannot be read gets its
message under it, the service runs in a worker through the `saver` the supervisor screen built, and
a refusal keeps the dialog open with what was typed. The filter dialog only collects.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Select, SelectionList, Static
from textual.widgets.selection_list import Selection

from collector_tui.display import safe_text
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.money import MoneyError, parse_money
from collector_tui.services.errors import ServiceError
from collector_tui.tui.formatting import day_text, plain_amount
from collector_tui.tui.screens.confirm import ConfirmScreen
from collector_tui.tui.screens.forms import FormScreen, Reader
from collector_tui.tui.typeahead import keys_may_flow
from collector_tui.tui.widgets.field import FormField

if TYPE_CHECKING:
    from collector_tui.services.casework.settlements import SettlementView
    from collector_tui.services.supervision.assignment import BalanceResult
    from collector_tui.services.supervision.workload import BrowserFilter

MAX_REASON = 500
UNASSIGNED = "__unassigned__"
ANY = "__any__"


@dataclass(frozen=True)
class AgentChoice:
    """Someone cases can go to, as the dialogs list them."""

    user_id: uuid.UUID
    username: str
    display_name: str


@dataclass(frozen=True)
class AssignChoice:
    to_user_id: uuid.UUID | None  # None: unassign
    to_name: str
    reason: str | None


@dataclass(frozen=True)
class BalanceChoice:
    agent_ids: tuple[uuid.UUID, ...]
    reason: str | None


@dataclass(frozen=True)
class SettlementDecision:
    approve: bool
    note: str | None


def _agent_label(agent: AgentChoice) -> Text:
    label = safe_text(agent.display_name)
    if agent.display_name != agent.username:
        label.append(f"  {agent.username}", style="dim")
    return label


def _reason_of(form: FormScreen[Any], reader: Reader, *, required: bool, what: str) -> str | None:
    text = " ".join(form.text_of("reason").split())
    if not text and required:
        reader.fail("reason", _("say {what}").format(what=what))
    elif len(text) > MAX_REASON:
        reader.fail(
            "reason",
            _("keep it under {limit} characters ({count} now)").format(
                limit=MAX_REASON, count=len(text)
            ),
        )
    return text or None


class SupervisorForm(FormScreen[Any]):
    """A supervisor's dialog: saves with ctrl+s (or enter in the last line), never "and next"."""

    FIELD_MAP: ClassVar[dict[str, str]] = {"to_user": "agent", "agents": "agents"}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Written once as lazy English on the class; the dialog shows it in the current language.
        self.TITLE_TEXT = _(self.TITLE_TEXT)  # type: ignore[misc]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "save_next":
            return False  # there is no "next case" from the supervisor's screen
        return True

    @on(Input.Submitted, "#reason")
    def _reason_submitted(self) -> None:
        self.action_save()


class AssignForm(SupervisorForm):
    TITLE_TEXT = N_("Assign cases")

    def __init__(self, *, agents: Sequence[AgentChoice], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.agents = tuple(agents)

    def fields(self) -> ComposeResult:
        options: list[tuple[Text, str]] = [(_agent_label(a), str(a.user_id)) for a in self.agents]
        options.append(
            (Text(_("nobody (back to the unassigned list)"), style="italic"), UNASSIGNED)
        )
        yield FormField(
            _("Give them to"),
            Select(options, prompt=_("choose an agent"), id="agent"),
            name="agent",
        )
        yield FormField(
            _("Why (kept in the assignment history)"),
            Input(placeholder=_("e.g. alice on leave this week"), id="reason"),
            name="reason",
        )

    def read_form(self) -> AssignChoice:
        reader = Reader()
        value = self.query_one("#agent", Select).value
        if value is Select.NULL:
            reader.fail("agent", _("choose who gets the cases"))
        reason = _reason_of(self, reader, required=False, what=_("why"))
        reader.done()
        if value == UNASSIGNED:
            return AssignChoice(None, _("nobody"), reason)
        agent = next(a for a in self.agents if str(a.user_id) == value)
        return AssignChoice(agent.user_id, agent.display_name, reason)


@dataclass
class BalancePreviewed(Message):
    """The balance service's plan for the agents ticked (`result`), or why there is none."""

    agent_ids: tuple[uuid.UUID, ...]
    result: BalanceResult | None
    error: str | None
    confirm: bool


def _tick_label(agent: AgentChoice, ticked: bool) -> Text:
    # The mark is text, not only a colour: "[x]" ticked, "[ ]" not.
    label = Text("[x] " if ticked else "[ ] ", style="bold" if ticked else "dim")
    label.append_text(_agent_label(agent))
    return label


def balance_lines(result: BalanceResult, names: dict[uuid.UUID, str]) -> str:
    """Who gets how many, and their balance per currency (never added across currencies)."""
    lines = []
    for share in result.shares:
        money = ", ".join(plain_amount(amount, currency) for currency, amount in share.balances)
        name = names.get(share.agent_id, share.username)
        line = _("{name} gets {count}").format(name=name, count=share.cases)
        lines.append(line + (f" ({money})" if money else ""))
    moving = _("{count} case(s) spread, {moved} change hands").format(
        count=result.considered, moved=result.moved
    )
    return "\n".join([*lines, moving])


class BalanceForm(SupervisorForm):
    """Spread cases over agents. The reason has the focus first (a space typed in it is a space,
    never a tick); the agents are ticked `[x]` or not `[ ]`; below them the balance service's own
    plan for the agents ticked, and saving shows that plan again and asks before anything moves."""

    TITLE_TEXT = N_("Balance workloads")

    def __init__(
        self,
        *,
        agents: Sequence[AgentChoice],
        previewer: Callable[[tuple[uuid.UUID, ...]], BalanceResult],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.agents = tuple(agents)
        self.previewer = previewer
        self.confirmed: BalanceChoice | None = None

    def fields(self) -> ComposeResult:
        yield FormField(
            _("Why (kept in the assignment history)"),
            Input(placeholder=_("e.g. new placements of the week"), id="reason"),
            name="reason",
        )
        choices = SelectionList[str](
            *(
                Selection(_tick_label(a, True), str(a.user_id), True, id=str(a.user_id))
                for a in self.agents
            ),
            id="agents",
        )
        yield FormField(
            _("Spread over (tab here; space ticks or unticks an agent)"),
            choices,
            name="agents",
            hint=_("Largest balance first, each to the agent with the fewest open cases."),
        )
        yield Static("", id="balance-preview", classes="plan-preview")

    def on_mount(self) -> None:
        super().on_mount()
        self._ask_preview(confirm=False)

    def focus_first(self) -> None:
        for field in self.query(FormField):
            if field.error:
                field.widget.focus()
                return
        self.query_one("#reason", Input).focus()

    def _ticked(self) -> tuple[uuid.UUID, ...]:
        wanted = set(self.query_one("#agents", SelectionList).selected)
        return tuple(a.user_id for a in self.agents if str(a.user_id) in wanted)

    @on(SelectionList.SelectedChanged, "#agents")
    def _ticks_changed(self) -> None:
        choices = self.query_one("#agents", SelectionList)
        ticked = set(choices.selected)
        for agent in self.agents:
            key = str(agent.user_id)
            choices.replace_option_prompt(key, _tick_label(agent, key in ticked))
        self._ask_preview(confirm=False)

    def _ask_preview(self, *, confirm: bool) -> None:
        agent_ids = self._ticked()
        if not agent_ids and not confirm:
            self._show_preview(Text(_("Tick at least one agent."), style="dim"))
            return
        self._preview(agent_ids, confirm)

    @work(thread=True, exclusive=True, group="balance-preview", exit_on_error=False,
          description="balance preview")  # fmt: skip
    def _preview(self, agent_ids: tuple[uuid.UUID, ...], confirm: bool) -> None:
        try:
            result = self.previewer(agent_ids)
        except ServiceError as error:
            self.post_message(BalancePreviewed(agent_ids, None, error.message, confirm))
            return
        self.post_message(BalancePreviewed(agent_ids, result, None, confirm))

    def _show_preview(self, text: Text) -> None:
        self.query_one("#balance-preview", Static).update(text)

    def on_balance_previewed(self, message: BalancePreviewed) -> None:
        names = {a.user_id: a.display_name for a in self.agents}
        if message.agent_ids == self._ticked():
            if message.result is None:
                self._show_preview(Text(message.error or "", style="bold"))
            else:
                self._show_preview(Text(balance_lines(message.result, names)))
        if not message.confirm:
            return
        self.saving = False
        keys_may_flow(self)
        value = self.value
        if message.result is None or not isinstance(value, BalanceChoice):
            self.set_general_error(message.error or _("nothing to spread"))
            return
        if message.result.considered == 0:
            self.set_general_error(_("There is no open case to spread."))
            return
        if message.agent_ids != value.agent_ids:
            return  # the ticks changed meanwhile: the agent saves again

        def answered(yes: bool | None) -> None:
            if yes:
                self.confirmed = value
                self.submit(value)

        self.app.push_screen(
            ConfirmScreen(
                _("Move {count} case(s) now?").format(count=message.result.considered),
                balance_lines(message.result, names),
                yes=_("Move them"),
            ),
            answered,
        )

    def submit(self, value: Any) -> None:
        if value is self.confirmed:
            super().submit(value)
            return
        # First the service's plan for exactly these agents, then the question, then the move.
        self.value = value
        self.saving = True
        self._preview(value.agent_ids, True)

    def read_form(self) -> BalanceChoice:
        reader = Reader()
        ticked = self._ticked()
        if not ticked:
            reader.fail("agents", _("tick at least one agent"))
        reason = _reason_of(self, reader, required=False, what=_("why"))
        reader.done()
        return BalanceChoice(ticked, reason)


# What each decision does, for the dialog's title and hint.
DECISIONS: dict[str, tuple[str, str, bool]] = {
    "legal": (
        N_("Escalate to legal"),
        N_("The case goes to status legal with a legal hold: no more calls from the queue."),
        True,
    ),
    "write_off": (
        N_("Write off"),
        N_("The case closes as written off; pending promises and follow-ups are cancelled."),
        True,
    ),
    "close": (
        N_("Close case"),
        N_("The case closes (recalled, sold, duplicate...); pending promises are cancelled."),
        True,
    ),
    "unroute": (
        N_("Send back to the agent"),
        N_("Nothing to decide: the case leaves the supervisors' list and goes back to the queue."),
        False,
    ),
}


class DecisionForm(SupervisorForm):
    """The reason for a supervisor's decision on one case."""

    def __init__(self, *, decision: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.decision = decision
        self.TITLE_TEXT = str(DECISIONS[decision][0])  # type: ignore[misc]

    def fields(self) -> ComposeResult:
        hint, required = DECISIONS[self.decision][1:]
        yield FormField(
            _("Reason") if required else _("Reason (optional)"),
            Input(placeholder=_("kept in the audit trail and on the case"), id="reason"),
            name="reason",
            hint=str(hint),
        )

    def confirmation(self, value: str) -> tuple[str, str] | None:
        title, hint, required = DECISIONS[self.decision]
        if not required:
            return None  # sending a case back changes nothing that cannot be changed again
        return (
            _("{decision}: {case}?").format(
                decision=str(title), case=self.subtitle or _("this case")
            ),
            str(hint),
        )

    def read_form(self) -> str:
        reader = Reader()
        required = DECISIONS[self.decision][2]
        reason = _reason_of(self, reader, required=required, what=_("why"))
        reader.done()
        return reason or ""


class SettlementForm(SupervisorForm):
    """Approve or reject a settlement that is above the agent's limit."""

    TITLE_TEXT = N_("Settlement waiting for approval")
    FIELD_MAP: ClassVar[dict[str, str]] = {"note": "reason", "due_date": "decision"}

    def __init__(self, *, settlement: SettlementView, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settlement = settlement

    def fields(self) -> ComposeResult:
        view = self.settlement
        terms = Text()
        terms.append(plain_amount(view.amount, view.currency), style="bold")
        terms.append(" " + _("by {day} instead of").format(day=day_text(view.due_date)) + " ")
        terms.append(plain_amount(view.balance, view.currency))
        terms.append(
            "  (" + _("{percent} off").format(percent=f"{view.discount_pct}%"), style="bold yellow"
        )
        limit = (
            _("no limit")
            if view.limit_pct is None
            else _("limit {percent}").format(percent=f"{view.limit_pct}%")
        )
        terms.append(f", {limit})")
        terms.append("\n" + _("Asked by") + " ")
        terms.append_text(safe_text(view.requested_by or "?"))
        if view.note:
            terms.append(": ")
            terms.append_text(safe_text(view.note))
        yield Static(terms, classes="settlement-terms")
        yield FormField(
            _("Decision"),
            Select(
                [
                    (_("approve: record the promise for the agent"), "approve"),
                    (_("reject"), "reject"),
                ],
                value="approve",
                allow_blank=False,
                id="decision",
            ),
            name="decision",
        )
        yield FormField(
            _("Note (optional)"),
            Input(placeholder=_("e.g. client agrees to 30 percent off"), id="reason"),
            name="reason",
        )

    def focus_first(self) -> None:
        self.query_one("#decision", Select).focus()

    def read_form(self) -> SettlementDecision:
        reader = Reader()
        note = _reason_of(self, reader, required=False, what=_("a note"))
        reader.done()
        return SettlementDecision(self.query_one("#decision", Select).value == "approve", note)


class FilterForm(SupervisorForm):
    """Narrow the case browser; collects a BrowserFilter (the browser validates it again)."""

    TITLE_TEXT = N_("Filter cases")
    FIELD_MAP: ClassVar[dict[str, str]] = {
        "balance": "balance_min",
        "currency": "currency",
        "aging": "aging",
        "status": "status",
        "country": "country",
    }

    def __init__(
        self,
        *,
        agents: Sequence[AgentChoice],
        current: BrowserFilter,
        locale: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.agents = tuple(agents)
        self.current = current
        self.locale = locale

    def fields(self) -> ComposeResult:
        from collector_tui.models import CaseStatus, case_status_label
        from collector_tui.services.supervision.workload import AGING_BUCKETS

        flt = self.current
        agent_value = (
            UNASSIGNED if flt.unassigned else str(flt.agent_id) if flt.agent_id is not None else ANY
        )
        agent_options: list[tuple[Text | str, str]] = [(_("every agent"), ANY)]
        agent_options.append((_("nobody (unassigned)"), UNASSIGNED))
        agent_options.extend((_agent_label(a), str(a.user_id)) for a in self.agents)
        statuses: list[tuple[str, str]] = [
            (_("open (any open status)"), "open"),
            (_("closed (any closed status)"), "closed"),
            (_("every status"), "all"),
        ]
        statuses.extend((case_status_label(status.value), status.value) for status in CaseStatus)
        with Horizontal(classes="form-row"):
            yield FormField(
                _("Agent"),
                Select(agent_options, value=agent_value, allow_blank=False, id="agent"),
                name="agent",
            )
            yield FormField(
                _("Status"),
                Select(statuses, value=flt.status, allow_blank=False, id="status"),
                name="status",
            )
        with Horizontal(classes="form-row"):
            yield FormField(
                _("Days past due"),
                Select(
                    [(_("any"), ANY), *((name, name) for name, _low, _high in AGING_BUCKETS)],
                    value=flt.aging or ANY,
                    allow_blank=False,
                    id="aging",
                ),
                name="aging",
            )
            yield FormField(
                _("Routed to supervisors"),
                Select(
                    [(_("any case"), "no"), (_("only routed cases"), "yes")],
                    value="yes" if flt.routed else "no",
                    allow_blank=False,
                    id="routed",
                ),
                name="routed",
            )
        with Horizontal(classes="form-row"):
            yield FormField(
                _("Country"),
                Input(value=flt.country or "", placeholder="CN", id="country"),
                name="country",
                classes="narrow-field",
            )
            yield FormField(
                _("Currency"),
                Input(value=flt.currency or "", placeholder="CNY", id="currency"),
                name="currency",
                classes="narrow-field",
            )
            yield FormField(
                _("Balance from"),
                Input(value=self._amount(flt.balance_min), placeholder="0", id="balance_min"),
                name="balance_min",
                classes="narrow-field",
            )
            yield FormField(
                _("to"),
                Input(value=self._amount(flt.balance_max), placeholder=_("any"), id="balance_max"),
                name="balance_max",
                classes="narrow-field",
            )

    def _amount(self, minor: int | None) -> str:
        if minor is None or not self.current.currency:
            return ""
        try:
            return plain_amount(minor, self.current.currency).rsplit(" ", 1)[0]
        except MoneyError:
            return str(minor)

    def focus_first(self) -> None:
        self.query_one("#agent", Select).focus()

    def _selected(self, widget_id: str) -> str:
        return str(self.query_one(f"#{widget_id}", Select).value)

    def read_form(self) -> BrowserFilter:
        from collector_tui.services.supervision.workload import BrowserFilter

        reader = Reader()
        country = self.text_of("country").strip().upper()
        if country and (len(country) != 2 or not country.isalpha()):
            reader.fail("country", _("a two-letter code like CN"))
        currency = self.text_of("currency").strip().upper()
        if currency and (len(currency) != 3 or not currency.isalpha()):
            reader.fail("currency", _("a three-letter code like CNY"))
            currency = ""
        bounds: list[int | None] = []
        for name in ("balance_min", "balance_max"):
            text = self.text_of(name).strip()
            if not text:
                bounds.append(None)
                continue
            if not currency:
                reader.fail("currency", _("a balance range needs the currency"))
                bounds.append(None)
                continue
            try:
                bounds.append(parse_money(text, currency, self.locale).minor)
            except MoneyError as error:
                reader.fail(name, str(error))
                bounds.append(None)
        reader.done()
        agent = self._selected("agent")
        aging = self._selected("aging")
        return BrowserFilter(
            agent_id=uuid.UUID(agent) if agent not in (ANY, UNASSIGNED) else None,
            unassigned=agent == UNASSIGNED,
            status=self._selected("status"),
            aging=None if aging == ANY else aging,
            currency=currency or None,
            balance_min=bounds[0],
            balance_max=bounds[1],
            country=country or None,
            routed=self._selected("routed") == "yes",
        )
