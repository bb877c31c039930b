"""A form field: caption, the input widget, and the line under it where its error is shown."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Label

from collector_tui.display import safe_text


class FormField(Vertical):
    """Wraps one input; `set_error` shows a message right under it
    (docs/decisions.md, bad input)."""

    DEFAULT_CSS = """
    FormField {
        height: auto;
        margin-bottom: 0;
    }
    FormField > .field-caption {
        color: $text-muted;
        padding: 0 1;
    }
    FormField > .field-hint {
        color: $text-muted;
        padding: 0 1;
        width: 100%;
        text-style: italic;
    }
    FormField > .field-error {
        color: $text-error;
        padding: 0 1;
        width: 100%;
        display: none;
    }
    FormField.-invalid > .field-error {
        display: block;
    }
    FormField.-invalid > Input, FormField.-invalid > TextArea {
        border: tall $error;
    }
    FormField.-invalid > Select > SelectCurrent {
        border: tall $error;
    }
    """

    def __init__(
        self,
        caption: str,
        widget: Widget,
        *,
        name: str,
        hint: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=f"field-{name}", classes=classes)
        self.field_name = name
        self.caption = caption
        self.widget = widget
        self.hint = hint
        self._error: str | None = None

    def compose(self) -> ComposeResult:
        yield Label(safe_text(self.caption), classes="field-caption")
        yield self.widget
        yield Label("", classes="field-error", id=f"error-{self.field_name}")
        if self.hint:
            yield Label(safe_text(self.hint), classes="field-hint")

    def set_caption(self, caption: str) -> None:
        """Change the field's caption (the interface's language was switched)."""
        self.caption = caption
        for label in self.query(".field-caption").results(Label):
            label.update(safe_text(caption))

    def set_hint(self, hint: str) -> None:
        """Change the line under the field (only for a field built with a hint)."""
        self.hint = hint
        for label in self.query(".field-hint").results(Label):
            label.update(safe_text(hint))

    @property
    def error(self) -> str | None:
        return self._error

    def set_error(self, message: str | None) -> None:
        self._error = message
        self.query_one(".field-error", Label).update(safe_text(message or ""))
        self.set_class(bool(message), "-invalid")
