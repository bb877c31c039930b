"""Log a contact attempt: phone, disposition, note, duration.

A disposition that needs more (a promise, a plan, a follow-up) opens that form when the agent
saves; what it collects goes into the same `log_contact` call, so the attempt and its promise are
saved together or not at all. When the service refuses the promise part, its form opens again with
what was typed and the message under the field.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Input, Select, Static, TextArea
from textual.widgets._select import NoSelection

from collector_tui.display import first_line, safe_text
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _
from collector_tui.phones import format_phone
from collector_tui.services.casework.casefile import PhoneView
from collector_tui.services.errors import ServiceError
from collector_tui.tui.formatting import HOLD_KINDS, agent_time, day_text, plain_amount, word
from collector_tui.tui.parsing import parse_duration
from collector_tui.tui.screens.forms import (
    FollowUpForm,
    FormScreen,
    PlanForm,
    PromiseForm,
    Reader,
    note_too_long,
)
from collector_tui.tui.widgets.case_panels import phone_kind_words
from collector_tui.tui.widgets.field import FormField

if TYPE_CHECKING:
    from collector_tui.services.casework.activities import ContactInput
    from collector_tui.services.casework.followups import FollowUpInput
    from collector_tui.services.casework.promises import PlanInput, PromiseInput
    from collector_tui.services.rules.dispositions import Disposition

GROUP_TITLES = {"no_contact": N_("no contact"), "contact": N_("contact"), "result": N_("result")}
PROMISE_FIELDS = frozenset({"promise", "amount", "due_date", "grace_days"})
PLAN_FIELDS = frozenset({"plan", "installments"})
FOLLOW_UP_FIELDS = frozenset({"follow_up", "due_at", "reason"})


# One letter per disposition, shown beside it: pressed on the closed list it picks that disposition
# and moves on to the note (agents type `c`, the letter, the note, `ctrl+n`); in the open list it
# picks too and more letters narrow. Chosen to be remembered: the first letter where it is free,
# else the word that says it (x: dead line, s: spoke, a: already paid, k: broke, q: quiet).
HOT_KEYS: dict[str, str] = {
    "no_answer": "n",
    "busy": "b",
    "voicemail": "v",
    "disconnected": "x",
    "wrong_number": "w",
    "right_party": "s",
    "third_party": "t",
    "promise": "p",
    "plan": "l",
    "refused": "r",
    "dispute": "d",
    "callback": "c",
    "paid": "a",
    "hardship": "h",
    "deceased": "e",
    "bankrupt": "k",
    "cease": "q",
}
PICKER_HINT = N_("a letter picks, then type the note; enter lists them (type there to narrow)")


def ordered_dispositions(dispositions: Sequence[Disposition]) -> list[Disposition]:
    """No contact, then contact, then results (each group in the services' order)."""
    order = {group: index for index, group in enumerate(GROUP_TITLES)}
    ranked = sorted(
        enumerate(dispositions), key=lambda pair: (order.get(pair[1].group, 9), pair[0])
    )
    return [disposition for _, disposition in ranked]


def disposition_options(dispositions: Sequence[Disposition]) -> list[tuple[Text, str]]:
    """Select options: the hot key, the label, and its group dim."""
    options: list[tuple[Text, str]] = []
    for disposition in ordered_dispositions(dispositions):
        key = HOT_KEYS.get(disposition.code)
        prompt = Text(f"{key} " if key else "  ", style="bold")
        prompt.append_text(safe_text(_(disposition.label)))
        group = GROUP_TITLES.get(disposition.group)
        prompt.append(f"  · {_(group) if group else disposition.group}", style="dim")
        options.append((prompt, disposition.code))
    return options


def disposition_matches(dispositions: Sequence[Disposition], typed: str) -> list[str]:
    """The codes `typed` picks, best first: one letter is a hot key; more letters (or a hot key
    that is free) match the start of a word of the label or of the code. Never the placeholder."""
    typed = typed.casefold()
    found: list[str] = []
    if len(typed) == 1:
        found.extend(code for code, key in HOT_KEYS.items() if key == typed)
    for disposition in ordered_dispositions(dispositions):
        words = disposition.label.casefold().replace("/", " ").split()
        words += disposition.code.split("_")
        # In another language its label's words match too (a Chinese label: its first characters).
        shown = _(disposition.label).casefold()
        if shown != disposition.label.casefold():
            words += [*shown.replace("/", " ").split(), shown]
        if disposition.code not in found and any(word.startswith(typed) for word in words):
            found.append(disposition.code)
    return [code for code in found if any(d.code == code for d in dispositions)]


def picker_keys() -> list[BindingType]:
    """The picker's letters, for the help (the picker reads them itself: they are no bindings)."""
    from collector_tui.services.rules.dispositions import DISPOSITIONS

    return [
        Binding(
            HOT_KEYS[d.code],
            "pick",
            d.label,
            tooltip=_("What happened: {label}").format(label=_(d.label)),
        )
        for d in ordered_dispositions(list(DISPOSITIONS.values()))
    ]


class DispositionSelect(Select[str]):
    """The disposition list. On the closed list a hot key picks its disposition and `on_pick` moves
    the focus on (to the note), so the letters after it are the note's. In the open list letters
    pick too and more letters narrow to the first disposition with a word starting so (no time
    limit: a slow typist gets what was typed); a letter that narrows to nothing starts again from
    that letter. The placeholder is never picked by typing. Backspace takes back the last letter."""

    def __init__(
        self,
        dispositions: Sequence[Disposition],
        *,
        on_pick: Callable[[str], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(disposition_options(dispositions), type_to_search=False, **kwargs)
        self.dispositions = tuple(dispositions)
        self.typed = ""
        self.on_pick = on_pick

    def on_key(self, event: events.Key) -> None:
        if event.key == "backspace" and self.typed:
            event.stop()
            event.prevent_default()
            self._type(self.typed[:-1], restart=False)
            return
        character = event.character
        if character is None or not character.isalpha() or len(character) != 1:
            return
        event.stop()
        event.prevent_default()
        self._type(self.typed + character, restart=True)
        if not self.expanded and self.typed and self.on_pick is not None:
            code = self.value
            if code is not Select.NULL:
                self.typed = ""
                self.on_pick(str(code))

    def _type(self, typed: str, *, restart: bool) -> None:
        found = disposition_matches(self.dispositions, typed) if typed else []
        if not found and restart and len(typed) > 1:
            typed = typed[-1]
            found = disposition_matches(self.dispositions, typed)
        if typed and not found:
            typed = typed[:-1]  # nothing starts so: the letter is ignored
            self._show_typed()
            return
        self.typed = typed
        if found:
            # With the list open, the pick is highlighted there too and enter closes it, as a
            # Select does; closed, the pick is made at once.
            self.value = found[0]
        self._show_typed()

    def _show_typed(self) -> None:
        field = self.parent
        if isinstance(field, FormField):
            field.set_hint(
                _("typed: {letters}").format(letters=self.typed) if self.typed else _(PICKER_HINT)
            )

    def on_blur(self) -> None:
        self.typed = ""
        self._show_typed()


STATUS_MARKS = {"dnc": N_("DNC"), "wrong": N_("wrong"), "disconnected": N_("disconnected")}


def picker_order(phones: Sequence[PhoneView]) -> list[PhoneView]:
    """Dialable numbers first (the primary first, then as the case file lists them: a number just
    added is among them at once), then the others, which stay pickable for an inbound call."""
    dialable = [p for p in phones if p.dialable]
    dialable.sort(key=lambda p: not p.is_primary)
    return dialable + [p for p in phones if not p.dialable]


def phone_options(phones: Sequence[PhoneView]) -> list[tuple[Text, str]]:
    options: list[tuple[Text, str]] = []
    for phone in picker_order(phones):
        shown = format_phone(phone.e164, phone.extension) if phone.e164 else phone.raw
        prompt = safe_text(shown)
        prompt.append(f" {phone_kind_words(phone.kind)}", style="dim")
        if phone.retired:
            prompt.append(" " + _("retired"), style="bold red")
        elif phone.do_not_call or phone.status == "dnc":
            prompt.append(" " + _("DNC"), style="bold red")
        elif phone.status in STATUS_MARKS:
            prompt.append(f" {_(STATUS_MARKS[phone.status])}", style="bold red")
        elif not phone.valid:
            prompt.append(" " + _("invalid"), style="bold red")
        elif phone.status == "unverified":
            prompt.append(" " + _("unverified"), style="yellow")
        options.append((prompt, str(phone.id)))
    return options


def contact_form(app: Any, *, dispositions: Sequence[Disposition], **kwargs: Any) -> ContactForm:
    """The contact form for a case: the one kept from the last case, emptied and given this
    case (`ContactForm.reuse`), or a new one, kept for the next. Opening a kept form costs a
    fraction of composing one, and `c` is the key an agent presses most (bench/run.py, keys).
    Kept per user and language: a login as someone else, or another language, composes anew."""
    from collector_tui.i18n import current_language

    name = "contact-form"
    user = app.require_actor().user_id
    language = current_language()
    if app.is_screen_installed(name):
        kept = app.get_screen(name)
        in_use = kept in app.screen_stack
        if (
            isinstance(kept, ContactForm)
            and not in_use
            and kept.is_mounted
            and kept.kept_for == (user, language, tuple(dispositions))
        ):
            kept.reuse(**kwargs)
            return kept
        if not in_use:
            app.uninstall_screen(name)
            if kept.is_attached:
                kept.remove()
    form = ContactForm(dispositions=dispositions, **kwargs)
    form.kept_for = (user, language, tuple(dispositions))
    if not app.is_screen_installed(name):
        app.install_screen(form, name)
    return form


class ContactForm(FormScreen["ContactInput"]):
    TITLE_TEXT = N_("Log contact")
    FIELD_MAP: ClassVar[dict[str, str]] = {
        "phone_id": "phone",
        "phone_e164": "phone",
        "duration_s": "duration",
        "channel": "disposition",
    }

    def __init__(
        self,
        *,
        phones: Sequence[PhoneView],
        dispositions: Sequence[Disposition],
        currency: str,
        locale: str,
        today: date,
        balance: int,
        tz: str,
        now: datetime,
        max_note_length: int,
        today_zone: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.dispositions = {d.code: d for d in dispositions}
        self.disposition_list = tuple(dispositions)
        # What the follow-on form collected, and what was typed in it (to reopen it on an error).
        self.promise: PromiseInput | None = None
        self.plan: PlanInput | None = None
        self.follow_up: FollowUpInput | None = None
        self.extra_raw: dict[str, dict[str, str]] = {}
        # Whom and in which language it was composed for (contact_form keeps it for them).
        self.kept_for: tuple[Any, ...] = ()
        self._for_case(
            phones=phones,
            currency=currency,
            locale=locale,
            today=today,
            balance=balance,
            tz=tz,
            now=now,
            max_note_length=max_note_length,
            today_zone=today_zone,
        )

    def _for_case(
        self,
        *,
        phones: Sequence[PhoneView],
        currency: str,
        locale: str,
        today: date,
        balance: int,
        tz: str,
        now: datetime,
        max_note_length: int,
        today_zone: str,
    ) -> None:
        """What the form knows of the case it is open on; nothing collected for it yet."""
        self.phones = tuple(phones)
        self.currency = currency
        self.locale = locale
        self.today = today
        self.today_zone = today_zone
        self.balance = balance
        self.tz = tz
        self.now = now
        self.max_note_length = max_note_length
        self.promise = None
        self.plan = None
        self.follow_up = None
        self.extra_raw = {}

    def _default_phone(self) -> str | NoSelection:
        """The number the form starts on: the first dialable one, else the first valid one."""
        dialable = [str(p.id) for p in picker_order(self.phones) if p.dialable]
        valid = [str(p.id) for p in self.phones if p.valid]
        picked = dialable or valid
        return picked[0] if picked else Select.NULL

    def fields(self) -> ComposeResult:
        default_phone = self._default_phone()
        with Horizontal(classes="form-row"):
            yield FormField(
                _("What happened"),
                DispositionSelect(
                    self.disposition_list,
                    value=self.initial.get("disposition", Select.NULL),
                    prompt=_("pick a disposition (letter keys)"),
                    id="disposition",
                    on_pick=self._picked_by_letter,
                ),
                name="disposition",
                classes="wide-field",
                hint=_(PICKER_HINT),
            )
            yield FormField(
                _("Duration"),
                Input(
                    value=self.initial.get("duration", ""),
                    placeholder=_("3:20 or 5m"),
                    id="duration",
                ),
                name="duration",
                classes="narrow-field",
            )
        area = TextArea(self.initial.get("note", ""), id="note", soft_wrap=True)
        area.show_line_numbers = False
        yield FormField(_("Negotiation note"), area, name="note")
        with Horizontal(classes="form-row"):
            yield FormField(
                _("Phone"),
                Select(
                    phone_options(self.phones),
                    value=self.initial.get("phone", default_phone),
                    prompt=_("no phone (letter, visit…)"),
                    id="phone",
                ),
                name="phone",
            )
            yield FormField(
                _("Direction"),
                Select(
                    [
                        (_("outbound (we called)"), "outbound"),
                        (_("inbound (they called)"), "inbound"),
                    ],
                    value=self.initial.get("direction", "outbound"),
                    allow_blank=False,
                    id="direction",
                ),
                name="direction",
            )
        yield Static("", id="contact-extra", classes="contact-extra")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#contact-extra", Static).display = False

    def focus_first(self) -> None:
        for field in self.query(FormField):
            if field.error:
                field.widget.focus()
                return
        self.query_one("#disposition", Select).focus()

    def _picked_by_letter(self, code: str) -> None:
        # At once, not through the app's queue (as `focus()` would): the next key typed may already
        # be on its way and must land in the note.
        self.set_focus(self.query_one("#note", TextArea))

    # -- opened again, for another case (contact_form) -------------------------------------------

    def reuse(  # type: ignore[override]
        self,
        *,
        phones: Sequence[PhoneView],
        currency: str,
        locale: str,
        today: date,
        balance: int,
        tz: str,
        now: datetime,
        max_note_length: int,
        today_zone: str = "",
        **kwargs: Any,
    ) -> None:
        self._for_case(
            phones=phones,
            currency=currency,
            locale=locale,
            today=today,
            balance=balance,
            tz=tz,
            now=now,
            max_note_length=max_note_length,
            today_zone=today_zone,
        )
        super().reuse(**kwargs)

    def clear_fields(self) -> None:
        disposition = self.query_one("#disposition", DispositionSelect)
        disposition.expanded = False
        disposition.typed = ""
        disposition.clear()
        self.field("disposition").set_hint(PICKER_HINT)
        self.query_one("#duration", Input).value = ""
        # load_text, not clear: the last case's note must not come back with an undo.
        self.query_one("#note", TextArea).load_text("")
        phone = self.query_one("#phone", Select)
        phone.expanded = False
        phone.set_options(phone_options(self.phones))
        phone.value = self._default_phone()
        direction = self.query_one("#direction", Select)
        direction.expanded = False
        direction.value = "outbound"
        self._show_extra()

    # -- reading ----------------------------------------------------------------------------------

    def _selected(self, widget_id: str) -> str | None:
        value = self.query_one(f"#{widget_id}", Select).value
        return None if value is Select.NULL else str(value)

    def read_form(self) -> ContactInput:
        from collector_tui.services.casework.activities import ContactInput

        reader = Reader()
        code = self._selected("disposition")
        if code is None:
            reader.fail("disposition", _("pick what happened on this attempt"))
        duration = reader.take(lambda: parse_duration(self.text_of("duration"), field="duration"))
        note = self.text_of("note").strip()
        if len(note) > self.max_note_length:
            reader.fail("note", note_too_long(self.max_note_length, len(note)))
        reader.done()
        assert code is not None
        phone_id = self._selected("phone")
        phone = next((p for p in self.phones if str(p.id) == phone_id), None)
        needs = self._needs(code)
        return ContactInput(
            disposition=code,
            direction=self._selected("direction") or "outbound",
            phone_id=phone.id if phone else None,
            phone_e164=phone.e164 if phone else None,
            note=note or None,
            duration_s=duration,
            promise=self.promise if needs == "promise" else None,
            plan=self.plan if needs == "plan" else None,
            follow_up=self.follow_up if needs == "follow_up" else None,
        )

    def _needs(self, code: str) -> str | None:
        found = self.dispositions.get(code)
        return found.needs if found else None

    # -- saving -----------------------------------------------------------------------------------

    def confirmation(self, value: ContactInput) -> tuple[str, str] | None:
        from collector_tui.services.casework.activities import HOLD_FOR

        kind = HOLD_FOR.get(value.disposition)
        if kind is None:
            return None
        label = _(self.dispositions[value.disposition].label)
        return (
            _("Log \u201c{label}\u201d on {case}?").format(
                label=label, case=self.subtitle or _("this case")
            ),
            _(
                "It places a {kind} hold: the case leaves your queue until the hold is lifted."
            ).format(kind=word(HOLD_KINDS, kind)),
        )

    def submit(self, value: ContactInput) -> None:
        needs = self._needs(value.disposition)
        missing = (
            (needs == "promise" and value.promise is None)
            or (needs == "plan" and value.plan is None)
            or (needs == "follow_up" and value.follow_up is None)
        )
        if missing and needs is not None:
            self.open_extra(needs)
            return
        super().submit(value)

    def open_extra(self, needs: str, error: ServiceError | None = None) -> None:
        """Open the promise, plan or follow-up form that this disposition needs (collect only)."""
        initial = self.extra_raw.get(needs, {})
        form: FormScreen[Any]
        if needs == "promise":
            form = PromiseForm(
                currency=self.currency,
                locale=self.locale,
                today=self.today,
                today_zone=self.today_zone,
                balance=self.balance,
                initial=initial,
                error=error,
                subtitle=_("part of this contact: saved together with it"),
            )
        elif needs == "plan":
            form = PlanForm(
                currency=self.currency,
                locale=self.locale,
                today=self.today,
                today_zone=self.today_zone,
                balance=self.balance,
                initial=initial,
                error=error,
                subtitle=_("part of this contact: saved together with it"),
            )
        else:
            form = FollowUpForm(
                tz=self.tz,
                now=self.now,
                initial=initial or {"reason": _("callback requested")},
                error=error,
                subtitle=_("part of this contact: saved together with it"),
            )

        def collected(value: Any) -> None:
            self.extra_raw[needs] = form.raw_values()
            if value is None:
                return  # the agent went back to the contact form; nothing saved
            if needs == "promise":
                self.promise = value
            elif needs == "plan":
                self.plan = value
            else:
                self.follow_up = value
            self._show_extra()
            if form.then_next:
                self.then_next = True
            self.action_save()

        self.app.push_screen(form, collected)

    def _show_extra(self) -> None:
        extra = self.query_one("#contact-extra", Static)
        text = Text()
        if self.promise is not None:
            text.append(_("Promise:") + " ", style="bold")
            due = day_text(self.promise.due_date)
            amount = plain_amount(self.promise.amount, self.currency)
            text.append(_("{amount} on {day}").format(amount=amount, day=due))
        elif self.plan is not None:
            rows = self.plan.installments
            total = sum(p.amount for p in rows)
            text.append(_("Plan:") + " ", style="bold")
            text.append(
                _("{count} installments, {total}, first {day}").format(
                    count=len(rows),
                    total=plain_amount(total, self.currency),
                    day=day_text(rows[0].due_date),
                )
            )
        elif self.follow_up is not None:
            text.append(_("Follow-up:") + " ", style="bold")
            text.append(agent_time(self.follow_up.due_at, self.tz, self.now) + " ")
            text.append_text(first_line(self.follow_up.reason, 40))
        extra.update(text)
        extra.display = bool(text)

    def show_service_error(self, error: BaseException | None) -> None:
        if isinstance(error, ServiceError) and error.field:
            code = self._selected("disposition")
            needs = self._needs(code) if code else None
            part = (
                "promise"
                if error.field in PROMISE_FIELDS
                else "plan"
                if error.field in PLAN_FIELDS
                else "follow_up"
                if error.field in FOLLOW_UP_FIELDS
                else None
            )
            if part is not None and part == needs:
                # The refused part belongs to the follow-on form: reopen it, input intact.
                if part == "promise":
                    self.promise = None
                elif part == "plan":
                    self.plan = None
                else:
                    self.follow_up = None
                self._show_extra()
                self.open_extra(part, error)
                return
        super().show_service_error(error)

    @on(Select.Changed, "#disposition")
    def _disposition_changed(self, event: Select.Changed) -> None:
        self.field("disposition").set_error(None)
        self.draft_changed()

    @on(Input.Changed, "#duration")
    def _duration_changed(self) -> None:
        self.draft_changed()

    # -- drafts -----------------------------------------------------------------------------------

    def draft_payload(self) -> dict[str, Any]:
        note = self.text_of("note")
        if not note.strip():
            return {}
        return {
            "note": note,
            "disposition": self._selected("disposition"),
            "phone": self._selected("phone"),
            "duration": self.text_of("duration"),
        }

    def restore_draft(self, payload: dict[str, Any]) -> bool:
        area = self.query_one("#note", TextArea)
        note = payload.get("note")
        if not isinstance(note, str) or not note or area.text:
            return False
        area.load_text(note)
        area.move_cursor(area.document.end)
        disposition = self.query_one("#disposition", Select)
        code = payload.get("disposition")
        if disposition.value is Select.NULL and code in self.dispositions:
            disposition.value = code
        phone = payload.get("phone")
        if phone and any(str(p.id) == phone for p in self.phones):
            self.query_one("#phone", Select).value = phone
        duration = self.query_one("#duration", Input)
        if not duration.value and isinstance(payload.get("duration"), str):
            duration.value = payload["duration"]
        return True
