"""Reminder templates: Jinja2 in a sandbox, checked when loaded, rendered from ReminderFields.

Files, shipped in `collector_tui/reminder_templates/` and in the team's folder (config
`[delivery] templates_dir`, which wins for the same channel, name and language):

    sms/<name>.<lang>.txt        the message, opt-out text included
    email/<name>.<lang>.txt      "Subject:" and "Opt-out:" lines, a blank line, the text part
    email/<name>.<lang>.html     optional: the HTML part's body (autoescaped); else made from text
    letter/<name>.<lang>.txt     a "Title:" line, a blank line, the letter: "# " starts a heading,
                                 lines starting with "|" are table rows, blank lines end paragraphs

`<name>` is lower-case letters, digits and `_`; `<lang>` a language code (`en`, `zh`). A reminder is
rendered in the debtor's language when the template exists in it, else in English.

Why a sandbox and a check at load (docs/decisions.md, reminders): a team's template is
code written by people who are not developers, and the data it shows comes from clients' files.
So templates run in Jinja2's ImmutableSandboxedEnvironment (no `__class__`, no mutation), undefined
names raise (StrictUndefined), HTML is autoescaped, and the data is only ever a value: every text a
template prints is flattened to one line (a name cannot add a header, a heading or a paragraph) and,
in letters, its `#`, `|` and `\\` are escaped. Before any reminder is sent, every template is
parsed and each name it reads is checked against ReminderFields (and the fields of its invoices,
promise and itemization): a typo or an unknown field is refused with the file and line.
"""

from __future__ import annotations

import dataclasses
import re
import traceback
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from jinja2 import StrictUndefined, nodes
from jinja2 import TemplateError as JinjaError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range

from collector_tui.config import Settings
from collector_tui.delivery.email import text_to_html
from collector_tui.i18n import gettext as _
from collector_tui.services.reminders.fields import ReminderFields

__all__ = [
    "CHANNELS",
    "SHIPPED_TEMPLATES",
    "RenderedReminder",
    "TemplateBook",
    "TemplateError",
    "UnknownTemplate",
    "load_template_book",
]

Channel = Literal["sms", "email", "letter"]
CHANNELS: tuple[Channel, ...] = ("sms", "email", "letter")
SHIPPED_TEMPLATES = Path(__file__).resolve().parents[2] / "reminder_templates"
FALLBACK_LANGUAGE = "en"

_FILE_NAME = re.compile(
    r"(?P<name>[a-z0-9_]+)\.(?P<lang>[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?)\.(?P<ext>txt|html)"
)
_HEADERS: dict[str, tuple[str, ...]] = {
    "sms": (),
    "email": ("Subject", "Opt-out"),
    "letter": ("Title",),
}
_HEADER_LINE = re.compile(r"(?P<key>[A-Za-z-]+):[ \t]*(?P<value>.*)")
# What Jinja offers a template besides the fields: `range` (the sandbox's, bounded) and a loop's
# `loop`. No `namespace`, `cycler`, `joiner` or `lipsum`: nothing a reminder needs.
_GLOBALS = {"range": safe_range}
# A reminder is a page at most: a repeated string or list past this is a mistake or an attack.
_MAX_REPEAT = 100_000
_MAX_EXPONENT = 64
_REFUSED_TAGS: dict[type[nodes.Node], str] = {
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "from ... import",
    nodes.Extends: "extends",
    nodes.Macro: "macro",
    nodes.CallBlock: "call",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


class TemplateError(Exception):
    """A template that cannot be used: the file, the line (when known) and why."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {message}")


class UnknownTemplate(LookupError):
    """No template of that name for that channel, in the language asked nor in English."""


@dataclass(frozen=True)
class RenderedReminder:
    channel: str
    template: str
    language: str
    subject: str  # the e-mail's subject or the letter's title; "" for an SMS
    text: str
    html: str  # the e-mail's HTML body fragment; "" for other channels
    opt_out: str = ""  # the e-mail's opt-out line (delivery.email.build_email ends both parts)


def _flatten(value: Any) -> str:
    # Data is one line of text whatever it holds: newlines, tabs and other controls are spaces.
    if value is None:
        return ""
    return _CONTROL.sub(" ", str(value))


def _letter_finalize(value: Any) -> str:
    text = _flatten(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("#", "\\#")


class _Sandbox(ImmutableSandboxedEnvironment):
    """The sandbox, also refusing `'x' * 10**9` and `9 ** 9 ** 9`: the stock sandbox keeps a
    template from reaching Python, not from spending all memory or time."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > _MAX_EXPONENT:
            raise SecurityError(f"exponent {right} is too large")
        if operator == "*":
            for sequence, count in ((left, right), (right, left)):
                if (
                    isinstance(sequence, str | list | tuple)
                    and isinstance(count, int)
                    and len(sequence) * count > _MAX_REPEAT
                ):
                    raise SecurityError("a repeated text or list is too long")
        return super().call_binop(context, operator, left, right)


def _environment(kind: Literal["text", "letter", "html"]) -> ImmutableSandboxedEnvironment:
    finalize: Callable[[Any], str] = _letter_finalize if kind == "letter" else _flatten
    env = _Sandbox(
        undefined=StrictUndefined,
        autoescape=kind == "html",
        finalize=finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,
    )
    env.globals.clear()
    env.globals.update(_GLOBALS)
    return env


_ENVIRONMENTS = {kind: _environment(kind) for kind in ("text", "letter", "html")}


# --- the check at load: every name a template reads is a field ------------------------------


def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {field.name: hints[field.name] for field in dataclasses.fields(cls)}


def _dataclass_in(hint: Any) -> type | None:
    """The dataclass a field holds, directly, as `X | None`, or as the items of `tuple[X, ...]`."""
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return hint
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType, tuple, list):
        for argument in typing.get_args(hint):
            found = _dataclass_in(argument)
            if found is not None:
                return found
    return None


class _Checker:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.fields = _field_types(ReminderFields)

    def fail(self, node: nodes.Node, message: str) -> TemplateError:
        return TemplateError(self.path, getattr(node, "lineno", None), message)

    def check(self, tree: nodes.Template) -> None:
        self.visit(tree, {})

    def type_of(self, node: nodes.Node, scope: dict[str, Any]) -> Any:
        if isinstance(node, nodes.Name):
            if node.name in scope:
                return scope[node.name]
            return self.fields.get(node.name)
        if isinstance(node, nodes.Getattr):
            holder = _dataclass_in(self.type_of(node.node, scope))
            if holder is not None and not _is_collection(self.type_of(node.node, scope)):
                return _field_types(holder).get(node.attr)
        return None

    def visit(self, node: nodes.Node, scope: dict[str, Any]) -> None:
        for refused, tag in _REFUSED_TAGS.items():
            if isinstance(node, refused):
                raise self.fail(
                    node, _("{{% {tag} %}} is not allowed in a reminder template").format(tag=tag)
                )
        if isinstance(node, nodes.For):
            self.visit(node.iter, scope)
            item = _dataclass_in(self.type_of(node.iter, scope))
            inner = dict(scope)
            inner["loop"] = None
            for target in _names(node.target):
                inner[target] = item if isinstance(node.target, nodes.Name) else None
            for child in (*node.body, *node.else_):
                self.visit(child, inner)
            if node.test is not None:
                self.visit(node.test, inner)
            return
        if isinstance(node, nodes.With):
            inner = dict(scope)
            for value in node.values:
                self.visit(value, scope)
            for assigned in node.targets:
                for name in _names(assigned):
                    inner[name] = None
            for child in node.body:
                self.visit(child, inner)
            return
        if isinstance(node, nodes.Assign | nodes.AssignBlock):
            for child in node.iter_child_nodes(exclude=("target",)):
                self.visit(child, scope)
            for target in _names(node.target):
                scope[target] = None
            return
        if isinstance(node, nodes.Name):
            if node.ctx == "load" and not (
                node.name in scope or node.name in self.fields or node.name in _GLOBALS
            ):
                raise self.fail(node, _("unknown field {name}").format(name=repr(node.name)))
            return
        if isinstance(node, nodes.Getattr):
            if node.attr.startswith("_"):
                raise self.fail(
                    node, _("attribute {attr} is not allowed").format(attr=repr(node.attr))
                )
            holder_type = self.type_of(node.node, scope)
            holder = _dataclass_in(holder_type)
            if (
                holder is not None
                and not _is_collection(holder_type)
                and node.attr not in _field_types(holder)
            ):
                raise self.fail(node, _("unknown field {node}").format(node=repr(_dotted(node))))
            self.visit(node.node, scope)
            return
        if isinstance(node, nodes.Getitem):
            if isinstance(node.arg, nodes.Const) and str(node.arg.value).startswith("_"):
                raise self.fail(
                    node, _("item {value} is not allowed").format(value=repr(node.arg.value))
                )
        for child in node.iter_child_nodes():
            self.visit(child, scope)


def _is_collection(hint: Any) -> bool:
    return typing.get_origin(hint) in (tuple, list)


def _names(target: nodes.Node) -> Iterator[str]:
    if isinstance(target, nodes.Name):
        yield target.name
    elif isinstance(target, nodes.Tuple):
        for item in target.items:
            yield from _names(item)


def _dotted(node: nodes.Node) -> str:
    if isinstance(node, nodes.Getattr):
        return f"{_dotted(node.node)}.{node.attr}"
    if isinstance(node, nodes.Name):
        return node.name
    return "…"


def _check_headers(path: Path, channel: str, source: str) -> None:
    wanted = _HEADERS[channel]
    if not wanted:
        return
    seen: set[str] = set()
    for number, line in enumerate(source.splitlines(), start=1):
        if not line.strip():
            break
        match = _HEADER_LINE.fullmatch(line)
        if match is None or match["key"] not in wanted:
            raise TemplateError(
                path,
                number,
                _("a {channel} template starts with {keys} lines, then a blank line").format(
                    channel=channel, keys=", ".join(k + ":" for k in wanted)
                ),
            )
        if not match["value"].strip():
            raise TemplateError(path, number, _("{key}: is empty").format(key=match["key"]))
        seen.add(match["key"])
    else:
        raise TemplateError(path, None, _("no blank line after the header lines"))
    missing = [key for key in wanted if key not in seen]
    if missing:
        raise TemplateError(
            path, 1, _("missing {keys} line").format(keys=", ".join(k + ":" for k in missing))
        )


# --- loading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Compiled:
    path: Path
    template: Any  # jinja2.Template (untyped enough that mypy gains nothing from naming it)


def _compile(path: Path, kind: Literal["text", "letter", "html"], source: str) -> _Compiled:
    env = _ENVIRONMENTS[kind]
    try:
        tree = env.parse(source, name=path.name, filename=str(path))
        _Checker(path).check(tree)
        code = env.compile(source, name=path.name, filename=str(path))
        template = env.template_class.from_code(env, code, env.make_globals(None), None)
    except JinjaError as error:
        line = getattr(error, "lineno", None)
        message = getattr(error, "message", None) or str(error)
        raise TemplateError(path, line, message) from None
    return _Compiled(path, template)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise TemplateError(path, None, _("not UTF-8 text")) from None
    except OSError as error:
        raise TemplateError(
            path, None, _("cannot read: {strerror}").format(strerror=error.strerror)
        ) from None


Key = tuple[str, str, str]  # channel, name, language


class TemplateBook:
    """The loaded, checked templates: shipped ones, with the team's over them."""

    def __init__(self, texts: dict[Key, _Compiled], htmls: dict[Key, _Compiled]) -> None:
        self._texts = texts
        self._htmls = htmls

    def names(self, channel: str) -> tuple[str, ...]:
        return tuple(sorted({name for ch, name, _ in self._texts if ch == channel}))

    def languages(self, name: str, channel: str) -> tuple[str, ...]:
        return tuple(sorted(lang for ch, n, lang in self._texts if ch == channel and n == name))

    def path(self, name: str, channel: str, language: str) -> Path:
        return self._texts[self._key(name, channel, language)].path

    def _key(self, name: str, channel: str, language: str) -> Key:
        for lang in (language.lower(), language.split("-")[0].lower(), FALLBACK_LANGUAGE):
            if (channel, name, lang) in self._texts:
                return (channel, name, lang)
        raise UnknownTemplate(f"no {channel} template {name!r} in {language!r} or English")

    def render(
        self, name: str, channel: str, language: str, fields: ReminderFields
    ) -> RenderedReminder:
        key = self._key(name, channel, language)
        values = {field.name: getattr(fields, field.name) for field in dataclasses.fields(fields)}
        output = _render(self._texts[key], values)
        subject, opt_out, body = "", "", output
        if channel in ("email", "letter"):
            head, _sep, body = output.partition("\n\n")
            headers = dict(_split_header(line) for line in head.splitlines())
            subject = headers.get("Subject") or headers.get("Title") or ""
            opt_out = headers.get("Opt-out", "")
            if channel == "letter":
                subject = re.sub(r"\\(.)", r"\1", subject)
        body = re.sub(r"\n{3,}", "\n\n", body.strip("\n")).rstrip()
        html = ""
        if channel == "email":
            html_template = self._htmls.get(key)
            html = _render(html_template, values) if html_template else text_to_html(body)
        return RenderedReminder(
            channel=channel,
            template=name,
            language=key[2],
            subject=subject.strip(),
            text=body,
            html=html,
            opt_out=opt_out.strip(),
        )


def _split_header(line: str) -> tuple[str, str]:
    key, _sep, value = line.partition(":")
    return key.strip(), value.strip()


def _render(compiled: _Compiled, values: dict[str, Any]) -> str:
    try:
        return str(compiled.template.render(values))
    except Exception as error:
        # A template's expression may raise anything (`{{ 1 / 0 }}`, `range(10**9)`): the
        # reminder is not sent and the message says where. The line: the last frame Jinja
        # attributes to the file.
        line = None
        for frame in traceback.extract_tb(error.__traceback__):
            if frame.filename == str(compiled.path):
                line = frame.lineno
        message = getattr(error, "message", None) or str(error)
        raise TemplateError(compiled.path, line, message) from None


def _load_folder(folder: Path) -> tuple[dict[Key, _Compiled], dict[Key, _Compiled]]:
    texts: dict[Key, _Compiled] = {}
    htmls: dict[Key, _Compiled] = {}
    for channel in CHANNELS:
        channel_folder = folder / channel
        if not channel_folder.is_dir():
            continue
        for path in sorted(channel_folder.iterdir()):
            if path.name.startswith(".") or path.suffix not in (".txt", ".html"):
                continue
            match = _FILE_NAME.fullmatch(path.name)
            if match is None:
                raise TemplateError(
                    path, None, _("a template is named <name>.<lang>.txt (or .html for e-mail)")
                )
            key: Key = (channel, match["name"], match["lang"].lower())
            source = _read(path)
            if match["ext"] == "html":
                if channel != "email":
                    raise TemplateError(path, None, _("only e-mail templates have an HTML part"))
                htmls[key] = _compile(path, "html", source)
            else:
                _check_headers(path, channel, source)
                texts[key] = _compile(path, "letter" if channel == "letter" else "text", source)
    for key, compiled in htmls.items():
        if key not in texts:
            raise TemplateError(compiled.path, None, _("an HTML part without its .txt template"))
    return texts, htmls


def load_template_book(settings: Settings) -> TemplateBook:
    """Every template, shipped and the team's, parsed and checked; the first bad one raises
    TemplateError with its file and line."""
    texts, htmls = _load_folder(SHIPPED_TEMPLATES)
    team = settings.delivery.templates_dir
    if team:
        folder = Path(team).expanduser()
        if not folder.is_dir():
            raise TemplateError(folder, None, _("templates folder not found"))
        team_texts, team_htmls = _load_folder(folder)
        for key in team_texts:
            # The team's text replaces the shipped one whole: a shipped HTML part would no
            # longer say the same thing.
            htmls.pop(key, None)
        texts.update(team_texts)
        htmls.update(team_htmls)
    return TemplateBook(texts, htmls)
