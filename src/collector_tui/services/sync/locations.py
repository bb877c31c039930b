"""Database locations as people see them and as a laptop keeps them: never with a password.

One place for the command line, the sync screen and the laptop's `sync_state.master`:

- `masked(target)`: a URL's password replaced by `***` (a file path is returned as given). The
  laptop stores its master this way, so the `***` also says that the master wants a password;
  `shown(target)` is the same with a SQLite URL shown as its file path;
- `scrub(text)`: the same for any URL inside a message (errors, logs);
- `with_password(target, ...)`: the URL to connect with, the password taken from the URL as
  typed, else `COLLECTOR_MASTER_PASSWORD`, else whoever asks (a prompt on a terminal, a field
  on the sync screen); a masked URL with none of those is a clear error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from collector_tui.i18n import gettext as _
from collector_tui.services.errors import InvalidInput

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

MASK = "***"
PASSWORD_VARIABLE = "COLLECTOR_MASTER_PASSWORD"

# scheme://user:password@  (the password is whatever runs up to the last @ before the host)
_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*):(?P<secret>[^\s@]*)@")


def _url(target: str) -> URL:
    from sqlalchemy.engine import make_url

    return make_url(target)


def masked(target: str | None) -> str:
    """`target` fit to show or store: a URL's password replaced by `***`."""
    if not target:
        return ""
    text = str(target)
    if "://" not in text:
        return text  # a file path: nothing secret in it
    try:
        return _url(text).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparseable URL is still masked, by pattern
        return scrub(text)


def shown(target: str | None) -> str:
    """`target` as a person reads it: a file as its full path, any other URL masked."""
    if target and "://" not in str(target):
        from collector_tui.db import database_url

        target = database_url(target)
    text = masked(target)
    if text.startswith("sqlite"):
        try:
            url = _url(text)
        except Exception:  # noqa: BLE001 - shown as it is
            return text
        if url.database:
            return url.database
    return text


def scrub(text: str) -> str:
    """Any URL password in a message replaced by `***`."""
    return _USERINFO.sub(lambda m: f"{m['head']}:{MASK}@", text)


def needs_password(target: str) -> bool:
    """Whether `target` is a URL whose password was masked away (it must come from elsewhere)."""
    if "://" not in target:
        return False
    try:
        return _url(target).password == MASK
    except Exception:  # noqa: BLE001 - make_url says what is wrong when it is opened
        return False


def with_password(
    target: str,
    *,
    given: str | None = None,
    ask: Callable[[], str] | None = None,
    environ: dict[str, str] | None = None,
) -> str:
    """The URL to connect with. A URL typed with its password is used as it is; otherwise the
    password is `given` (a field on the screen), then `COLLECTOR_MASTER_PASSWORD`, then `ask()`
    (only when the URL had one masked away). A URL without user name or password and nothing
    given is used as it is: `~/.pgpass`, a socket or a trusted host need none."""
    if "://" not in target:
        return target
    url = _url(target)
    if url.get_backend_name() == "sqlite" or (url.password and url.password != MASK):
        return target
    variables = os.environ if environ is None else environ
    password = given or variables.get(PASSWORD_VARIABLE) or None
    if password is None and url.password == MASK:
        if ask is None:
            raise InvalidInput(
                _("the master {target} needs its password: set {variable}").format(
                    target=masked(target), variable=PASSWORD_VARIABLE
                )
            )
        password = ask()
    if password is None:
        return target
    return url.set(password=password).render_as_string(hide_password=False)
