"""The debtor's contact data from the case screen: add a number, e-mail, postal address or third
party; mark one (wrong, disconnected, do-not-call, returned mail, a third party's objection);
edit a number's type and consent or an e-mail's opt-in; retire one (it stays in the history).

Each form reads what was typed into a small value (the case screen's saver turns it into one
services/contacts call, with the case version the form was opened on); a refusal lands under the
field the service names. Pickers take a letter (or a digit for a contact), open or closed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Select

from collector_tui.display import first_line, safe_text
from collector_tui.i18n import N_, _
from collector_tui.phones import format_phone
from collector_tui.services.casework.casefile import CaseFile
from collector_tui.tui.formatting import CONTACT_STATUSES, day_text, word, zone
from collector_tui.tui.formatting import RELATIONS as RELATION_WORDS
from collector_tui.tui.parsing import local_instant, parse_date
from collector_tui.tui.screens.forms import FormScreen, Reader, read_line
from collector_tui.tui.widgets.case_panels import phone_kind_words
from collector_tui.tui.widgets.field import FormField


def end_of_day(day: date, tz: str) -> datetime:
    """Consent "until" a day: to the end of it, in the agent's zone."""
    return local_instant(day, time(23, 59), zone(tz))


# -- pickers --------------------------------------------------------------------------------------


class KeySelect(Select[str]):
    """A list whose options each have a key (a letter or digit) that picks it, open or closed."""

    def __init__(self, options: Sequence[tuple[str, str, Text | str]], **kwargs: Any) -> None:
        """`options`: (key, value, label); a `str` label is a message, shown translated."""
        kwargs.setdefault("allow_blank", False)
        super().__init__(self._prompts(options), type_to_search=False, **kwargs)
        self.keys = {key: value for key, value, _label in options}

    @staticmethod
    def _prompts(options: Sequence[tuple[str, str, Text | str]]) -> list[tuple[Text, str]]:
        prompts: list[tuple[Text, str]] = []
        for key, value, label in options:
            prompt = Text(f"{key} ", style="bold")
            prompt.append_text(label if isinstance(label, Text) else Text(_(label)))
            prompts.append((prompt, value))
        return prompts

    def set_keyed(self, options: Sequence[tuple[str, str, Text | str]], value: str) -> None:
        self.keys = {key: value for key, value, _label in options}
        self.set_options(self._prompts(options))
        self.value = value

    def on_key(self, event: events.Key) -> None:
        character = event.character
        if character is None or character not in self.keys:
            return
        event.stop()
        event.prevent_default()
        self.value = self.keys[character]


KINDS = (
    ("p", "phone", N_("phone number")),
    ("e", "email", N_("e-mail address")),
    ("a", "address", N_("postal address")),
    ("t", "third_party", N_("third party (employer, relative...)")),
)
VALUE_CAPTIONS = {
    "phone": N_("Number (as the debtor says it; +country for a foreign one)"),
    "email": N_("E-mail address"),
    "address": N_("Postal address (one line; commas between parts)"),
    "third_party": N_("Name"),
}
SOURCES = (
    ("d", "debtor", N_("debtor")),
    ("a", "agent", N_("agent")),
    ("t", "third party", N_("third party")),
    ("s", "skip trace", N_("skip trace")),
    ("p", "placement", N_("placement")),
)
PHONE_TYPES = (
    ("m", "mobile", N_("mobile")),
    ("h", "home", N_("home")),
    ("w", "work", N_("work")),
    ("n", "", N_("not said (from the number)")),
)
PHONE_CONSENT = (
    ("n", "", N_("none")),
    ("c", "call", N_("call at otherwise inconvenient times (Reg F)")),
    ("s", "sms", N_("text messages")),
    ("b", "call sms", N_("calls and text messages")),
)
EMAIL_CONSENT = (
    ("n", "", N_("no opt-in")),
    ("o", "opt_in", N_("opted in to e-mail")),
)
RELATIONS = (
    ("e", "employer", N_("employer")),
    ("r", "relative", N_("relative")),
    ("g", "guarantor", N_("guarantor")),
    ("f", "reference", N_("reference (friend, neighbour)")),
)
# Field name -> the kinds that show it.
KIND_FIELDS = {
    "type": ("phone",),
    "consent": ("phone", "email"),
    "until": ("phone",),
    "how": ("phone", "email"),
    "relation": ("third_party",),
    "party_phone": ("third_party",),
}


@dataclass(frozen=True)
class NewContact:
    kind: str  # phone | email | address | third_party
    value: str  # the number, e-mail, address text or third party's name
    source: str
    phone_type: str | None = None
    consent: tuple[str, ...] = ()  # phone: "call", "sms"; e-mail: "opt_in"
    consent_until: datetime | None = None
    how: str | None = None
    relation: str | None = None
    party_phone: str | None = None


class AddContactForm(FormScreen[NewContact]):
    """`+` on the case: a number the debtor just gave, an e-mail, an address, a third party."""

    TITLE_TEXT = N_("Add contact")
    FIELD_MAP: ClassVar[dict[str, str]] = {
        "phone": "value",
        "email": "value",
        "address": "value",
        "name": "value",
        "consent_until": "until",
        "consent_how": "how",
        "opt_in_how": "how",
        "opt_in": "consent",
        "note": "value",
    }

    def __init__(self, *, tz: str, today: date, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tz = tz
        self.today = today

    def fields(self) -> ComposeResult:
        yield FormField(
            _("Kind"),
            KeySelect(KINDS, value=self.initial.get("kind", "phone"), id="kind"),
            name="kind",
            hint=_("p phone · e e-mail · a address · t third party"),
        )
        yield FormField(
            _(VALUE_CAPTIONS["phone"]),
            Input(value=self.initial.get("value", ""), id="value"),
            name="value",
        )
        with Horizontal(classes="form-row"):
            yield FormField(_("Type"), KeySelect(PHONE_TYPES, value="", id="type"), name="type")
            yield FormField(
                _("Consent"), KeySelect(PHONE_CONSENT, value="", id="consent"), name="consent"
            )
            yield FormField(
                _("Relation"),
                KeySelect(RELATIONS, value="employer", id="relation"),
                name="relation",
            )
            yield FormField(
                _("Their number (optional)"),
                Input(id="party_phone", placeholder="+86 10 1234 5678"),
                name="party_phone",
            )
        with Horizontal(classes="form-row"):
            yield FormField(
                _("Source"), KeySelect(SOURCES, value="debtor", id="source"), name="source"
            )
            yield FormField(
                _("Call consent until"),
                Input(id="until", placeholder=_("date or +30")),
                name="until",
                hint=_("empty: a week"),
            )
            yield FormField(
                _("How given (optional)"),
                Input(id="how", placeholder=_("e.g. on the call")),
                name="how",
            )

    def on_mount(self) -> None:
        super().on_mount()
        self._show_kind(self._kind())

    def focus_first(self) -> None:
        for field in self.query(FormField):
            if field.error and field.display:
                field.widget.focus()
                return
        self.query_one("#kind", Select).focus()

    def _kind(self) -> str:
        return str(self.query_one("#kind", Select).value)

    @on(Select.Changed, "#kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        self._show_kind(str(event.value))

    def _show_kind(self, kind: str) -> None:
        for name, kinds in KIND_FIELDS.items():
            self.field(name).display = kind in kinds
        field = self.field("value")
        field.set_caption(_(VALUE_CAPTIONS.get(kind, N_("Value"))))
        consent = self.query_one("#consent", KeySelect)
        if kind == "email" and "opt_in" not in consent.keys.values():
            consent.set_keyed(EMAIL_CONSENT, "")
        elif kind == "phone" and "call" not in consent.keys.values():
            consent.set_keyed(PHONE_CONSENT, "")

    def _field_for(self, service_field: str | None) -> FormField | None:
        if service_field == "phone" and self._kind() == "third_party":
            # The third party's own number: under its field, not under the name.
            return self.field("party_phone")
        return super()._field_for(service_field)

    def read_form(self) -> NewContact:
        kind = self._kind()
        reader = Reader()
        missing = _(
            {
                "phone": N_("type the number"),
                "email": N_("type the e-mail address"),
                "address": N_("type the address"),
                "third_party": N_("type their name"),
            }[kind]
        )
        value = read_line(self, reader, "value", missing=missing)
        consent: tuple[str, ...] = ()
        until = None
        how = None
        if kind in KIND_FIELDS["consent"]:
            consent = tuple(str(self.query_one("#consent", Select).value).split())
            how = read_line(self, reader, "how", missing=None)
        if kind == "phone":
            typed = self.text_of("until").strip()
            if typed:
                day = reader.take(lambda: parse_date(typed, self.today, field="until"))
                if day is not None and day < self.today:
                    reader.fail("until", _("{day} is in the past").format(day=day_text(day)))
                elif day is not None and "call" not in consent:
                    reader.fail("until", _("a date is for consent to call: pick c or b above"))
                elif day is not None:
                    until = end_of_day(day, self.tz)
        party_phone = None
        if kind == "third_party":
            party_phone = read_line(self, reader, "party_phone", missing=None)
        reader.done()
        assert value is not None
        phone_type = str(self.query_one("#type", Select).value) or None
        return NewContact(
            kind=kind,
            value=value,
            source=str(self.query_one("#source", Select).value),
            phone_type=phone_type if kind == "phone" else None,
            consent=consent,
            consent_until=until,
            how=how,
            relation=str(self.query_one("#relation", Select).value)
            if kind == "third_party"
            else None,
            party_phone=party_phone,
        )

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()


# -- picking a contact ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactChoice:
    kind: str  # phone | address | email | third_party
    id: uuid.UUID
    label: Text
    status: str
    retired: bool


def contact_choices(case: CaseFile, *, with_retired: bool = False) -> list[ContactChoice]:
    """The debtor's contacts a form can act on: numbers, addresses, e-mails, third parties."""
    found: list[ContactChoice] = []
    for phone in case.phones:
        shown = format_phone(phone.e164, phone.extension) if phone.e164 else phone.raw
        label = safe_text(shown)
        label.append(
            f" {phone_kind_words(phone.kind)} · {word(CONTACT_STATUSES, phone.status)}",
            style="dim",
        )
        found.append(ContactChoice("phone", phone.id, label, phone.status, phone.retired))
    for address in case.addresses:
        label = first_line(address.text, 40)
        label.append(f" · {word(CONTACT_STATUSES, address.status)}", style="dim")
        found.append(ContactChoice("address", address.id, label, address.status, address.retired))
    for email in case.emails:
        label = safe_text(email.address)
        label.append(f" · {word(CONTACT_STATUSES, email.status)}", style="dim")
        found.append(ContactChoice("email", email.id, label, email.status, email.retired))
    for party in case.third_parties:
        label = first_line(party.name, 30)
        label.append(f" · {word(RELATION_WORDS, party.relation)}", style="dim")
        status = "objected" if party.objected else "valid"
        found.append(ContactChoice("third_party", party.id, label, status, party.retired))
    return [choice for choice in found if with_retired or not choice.retired]


def has_contacts(case: CaseFile, *kinds: str) -> bool:
    """Whether the debtor has a contact in use of one of `kinds`."""
    return any(choice.kind in kinds for choice in contact_choices(case))


def choice_keys(choices: Sequence[ContactChoice]) -> list[tuple[str, str, Text]]:
    keys = "123456789abcdefghijklmnopqrstuvwxyz"
    return [
        (keys[index] if index < len(keys) else " ", f"{c.kind}:{c.id}", c.label)
        for index, c in enumerate(choices)
    ]


@dataclass(frozen=True)
class ContactMark:
    kind: str
    contact_id: uuid.UUID
    status: str  # a status, or "retire", "objected", "recontact"
    reason: str | None
    label: str  # the contact as shown, for the message after saving


STATUS_CHOICES = {
    "phone": (
        ("v", "valid", N_("valid: the debtor answers on it")),
        ("w", "wrong", N_("wrong number: not the debtor's")),
        ("x", "disconnected", N_("disconnected")),
        ("d", "dnc", N_("do not call (asked to stop)")),
        ("u", "unverified", N_("unverified")),
    ),
    "address": (
        ("v", "valid", N_("valid")),
        ("w", "wrong", N_("wrong: not the debtor's")),
        ("r", "returned", N_("mail returned")),
        ("u", "unverified", N_("unverified")),
    ),
    "email": (
        ("v", "valid", N_("valid")),
        ("w", "wrong", N_("wrong: not the debtor's")),
        ("d", "dnc", N_("do not e-mail (asked to stop)")),
        ("u", "unverified", N_("unverified")),
    ),
    "third_party": (
        ("o", "objected", N_("objected: never contact them again")),
        ("a", "recontact", N_("asked to be called again")),
    ),
}
# The marks in the hint under the field: the contact statuses, and what a third party asks.
MARK_WORDS = {
    **CONTACT_STATUSES,
    "objected": N_("objected"),
    "recontact": N_("call again"),
    "retire": N_("retire"),
}
RETIRE = (("r", "retire", N_("retire: no longer in use (kept in the history)")),)


class MarkContactForm(FormScreen[ContactMark]):
    """`x` on the case: mark a contact (or a third party's objection); `X`: retire one."""

    TITLE_TEXT = N_("Mark contact")
    FIELD_MAP: ClassVar[dict[str, str]] = {
        "contact": "contact",
        "kind": "contact",
        "party": "status",
        "how": "reason",
    }
    RETIRING: ClassVar[bool] = False

    def __init__(self, *, case: CaseFile, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.choices = contact_choices(case)
        self.by_value = {f"{c.kind}:{c.id}": c for c in self.choices}

    def _statuses(self, kind: str) -> tuple[tuple[str, str, str], ...]:
        return RETIRE if self.RETIRING else STATUS_CHOICES[kind]

    def fields(self) -> ComposeResult:
        keyed = choice_keys(self.choices)
        first = self.choices[0] if self.choices else None
        yield FormField(
            _("Contact"),
            KeySelect(keyed, value=keyed[0][1] if keyed else Select.NULL, id="contact"),
            name="contact",
            hint=_("a digit picks (1: the first)"),
        )
        statuses = self._statuses(first.kind if first else "phone")
        default = statuses[0][1] if self.RETIRING else ""
        yield FormField(
            _("Mark as") if not self.RETIRING else _("Retire"),
            KeySelect(
                statuses,
                value=default or Select.NULL,
                allow_blank=not self.RETIRING,
                prompt=_("a letter picks"),
                id="status",
            ),
            name="status",
            hint=self._status_hint(statuses),
        )
        yield FormField(
            _("Why (optional)"),
            Input(id="reason", placeholder=_("e.g. the debtor asked on the call of 11-20")),
            name="reason",
        )

    @staticmethod
    def _status_hint(statuses: Sequence[tuple[str, str, str]]) -> str:
        return " · ".join(f"{key} {word(MARK_WORDS, value)}" for key, value, _label in statuses)

    def focus_first(self) -> None:
        for field in self.query(FormField):
            if field.error:
                field.widget.focus()
                return
        # The first contact is picked already: most often the mark is what is left to say.
        target = "#contact" if len(self.choices) > 1 or self.RETIRING else "#status"
        self.query_one(target, Select).focus()

    @on(Select.Changed, "#contact")
    def _contact_changed(self, event: Select.Changed) -> None:
        choice = self.by_value.get(str(event.value))
        if choice is None or self.RETIRING:
            return
        statuses = self._statuses(choice.kind)
        self.query_one("#status", KeySelect).set_keyed(statuses, Select.NULL)  # type: ignore[arg-type]
        self.field("status").set_hint(self._status_hint(statuses))

    def read_form(self) -> ContactMark:
        reader = Reader()
        choice = self.by_value.get(str(self.query_one("#contact", Select).value))
        if choice is None:
            reader.fail("contact", _("pick a contact"))
        status = self.query_one("#status", Select).value
        if status is Select.NULL:
            reader.fail("status", _("pick a mark (a letter)"))
        reason = read_line(self, reader, "reason", missing=None)
        reader.done()
        assert choice is not None
        return ContactMark(
            kind=choice.kind,
            contact_id=choice.id,
            status=str(status),
            reason=reason,
            label=choice.label.plain.split(" · ")[0],
        )

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()


class RetireContactForm(MarkContactForm):
    TITLE_TEXT = N_("Retire contact")
    RETIRING = True


# -- editing a number's details --------------------------------------------------------------


@dataclass(frozen=True)
class ContactEdit:
    kind: str  # phone | email
    contact_id: uuid.UUID
    phone_type: str | None
    primary: bool
    consent: tuple[str, ...]  # what is to hold after the save: "call", "sms" / "opt_in"
    consent_until: datetime | None
    how: str | None


PRIMARY = (("y", "yes", N_("yes: dial it first")), ("n", "no", N_("no")))


class EditContactForm(FormScreen[ContactEdit]):
    """`E` on the case: a number's type, primary and consent; an e-mail's opt-in."""

    TITLE_TEXT = N_("Edit contact")
    FIELD_MAP: ClassVar[dict[str, str]] = {
        "phone": "contact",
        "consent_until": "until",
        "consent_how": "how",
        "opt_in_how": "how",
        "opt_in": "consent",
        "primary": "primary",
    }

    def __init__(self, *, case: CaseFile, tz: str, today: date, now: datetime, **kw: Any) -> None:
        super().__init__(**kw)
        self.case = case
        self.tz = tz
        self.today = today
        self.now = now
        self.choices = [c for c in contact_choices(case) if c.kind in ("phone", "email")]
        self.by_value = {f"{c.kind}:{c.id}": c for c in self.choices}

    def fields(self) -> ComposeResult:
        keyed = choice_keys(self.choices)
        yield FormField(
            _("Contact"),
            KeySelect(keyed, value=keyed[0][1] if keyed else Select.NULL, id="contact"),
            name="contact",
            hint=_("a digit picks (1: the first)"),
        )
        with Horizontal(classes="form-row"):
            yield FormField(_("Type"), KeySelect(PHONE_TYPES, value="", id="type"), name="type")
            yield FormField(
                _("Primary"), KeySelect(PRIMARY, value="no", id="primary"), name="primary"
            )
            yield FormField(
                _("Consent"), KeySelect(PHONE_CONSENT, value="", id="consent"), name="consent"
            )
        with Horizontal(classes="form-row"):
            yield FormField(
                _("Call consent until"),
                Input(id="until", placeholder=_("date or +30")),
                name="until",
                hint=_("empty: a week"),
            )
            yield FormField(
                _("How given (optional)"),
                Input(id="how", placeholder=_("e.g. on the call")),
                name="how",
            )

    def on_mount(self) -> None:
        super().on_mount()
        if self.choices:
            self._show(self.choices[0])

    def _show(self, choice: ContactChoice) -> None:
        phone = choice.kind == "phone"
        for name in ("type", "primary", "until"):
            self.field(name).display = phone
        consent = self.query_one("#consent", KeySelect)
        if phone:
            view = next(p for p in self.case.phones if p.id == choice.id)
            held = view.mark.consents(self.now) if view.mark is not None else ()
            consent.set_keyed(PHONE_CONSENT, " ".join(held))
            kind = view.kind if view.kind in ("mobile", "home", "work") else ""
            self.query_one("#type", KeySelect).value = kind
            self.query_one("#primary", KeySelect).value = "yes" if view.is_primary else "no"
        else:
            email = next(e for e in self.case.emails if e.id == choice.id)
            consent.set_keyed(EMAIL_CONSENT, "opt_in" if email.opt_in else "")

    @on(Select.Changed, "#contact")
    def _contact_changed(self, event: Select.Changed) -> None:
        choice = self.by_value.get(str(event.value))
        if choice is not None:
            self._show(choice)

    def read_form(self) -> ContactEdit:
        reader = Reader()
        choice = self.by_value.get(str(self.query_one("#contact", Select).value))
        if choice is None:
            reader.fail("contact", _("no number or e-mail to edit"))
        consent = tuple(str(self.query_one("#consent", Select).value).split())
        how = read_line(self, reader, "how", missing=None)
        until = None
        typed = self.text_of("until").strip()
        if choice is not None and choice.kind == "phone" and typed:
            day = reader.take(lambda: parse_date(typed, self.today, field="until"))
            if day is not None and day < self.today:
                reader.fail("until", _("{day} is in the past").format(day=day_text(day)))
            elif day is not None and "call" not in consent:
                reader.fail("until", _("a date is for consent to call: pick c or b above"))
            elif day is not None:
                until = end_of_day(day, self.tz)
        reader.done()
        assert choice is not None
        return ContactEdit(
            kind=choice.kind,
            contact_id=choice.id,
            phone_type=str(self.query_one("#type", Select).value) or None,
            primary=self.query_one("#primary", Select).value == "yes",
            consent=consent,
            consent_until=until,
            how=how,
        )

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()
