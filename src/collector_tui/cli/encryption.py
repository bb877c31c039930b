"""Encrypted database files (SQLCipher 4) from the command line.

    collector-tui --user NAME encrypt FILE [--recovery PUBLIC_KEY] [--json]
    collector-tui --user NAME decrypt FILE [--json]
    collector-tui recovery-key new --out FILE [--json]
    collector-tui --db MASTER --user NAME recovery-key set PUBLIC_KEY [--json]   (supervisors)
    collector-tui recover FILE --key FILE --user NAME [--json]

`encrypt` turns a plain file into an encrypted one in place (crash-safe, no plaintext copy left:
cipherfile.py) that opens with the acting user's password and, with `--recovery`, with the team's
recovery key. `decrypt` turns it back. `recovery-key new` makes the team's recovery key pair: the
private half in a file protected by a passphrase (COLLECTOR_RECOVERY_PASSWORD or a prompt), the
public half printed for `encrypt --recovery` and `init --encrypt --recovery`. `recover` opens a
file with the private recovery key and gives a user a new password (COLLECTOR_NEW_PASSWORD or a
prompt) both for the file's key and for logging in. The keys never appear in output or errors.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from collector_tui.cli.arguments import Commands
from collector_tui.cli.context import Context
from collector_tui.cli.output import CliError, show
from collector_tui.i18n import gettext as _

__all__ = ["register"]

RECOVERY_FORMAT = "collector-tui recovery key 1"


def register(commands: Commands) -> None:
    about = _("encrypt a SQLite database file in place (opens with your password only)")
    encrypt = commands.add("encrypt", _cmd_encrypt, help=about, description=about)
    encrypt.add_argument("file", metavar="FILE", type=Path)
    encrypt.add_argument(
        "--recovery",
        metavar="PUBLIC_KEY",
        help=_("the team's recovery public key (from `recovery-key new`)"),
    )
    encrypt.add_argument("--json", action="store_true", help=_("print the result as JSON"))

    about = _("turn an encrypted database file back into plain SQLite, in place")
    decrypt = commands.add("decrypt", _cmd_decrypt, help=about, description=about)
    decrypt.add_argument("file", metavar="FILE", type=Path)
    decrypt.add_argument("--json", action="store_true", help=_("print the result as JSON"))

    about = _("the team's recovery key: opens a laptop file whose password was forgotten")
    recovery = commands.group(
        "recovery-key",
        help=about,
        description=about,
        dest="recovery_command",
        without_action=_("recovery-key: say what to do, e.g. `recovery-key new --out FILE`"),
    )
    new = recovery.add(
        "new", _cmd_recovery_new, help=_("make a recovery key pair (private half in --out)")
    )
    new.add_argument("--out", required=True, metavar="FILE", type=Path)
    new.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    keep = recovery.add(
        "set",
        _cmd_recovery_set,
        help=_(
            "keep the recovery public key on the master: laptops pulled from it are sealed to it"
        ),
    )
    keep.add_argument("public_key", metavar="PUBLIC_KEY")
    keep.add_argument("--json", action="store_true", help=_("print the result as JSON"))

    about = _("open an encrypted file with the recovery key and give a user a new password")
    recover = commands.add("recover", _cmd_recover, help=about, description=about)
    recover.add_argument("file", metavar="FILE", type=Path)
    recover.add_argument("--key", required=True, metavar="FILE", type=Path)
    recover.add_argument("--json", action="store_true", help=_("print the result as JSON"))


def _answer(ctx: Context, text: str, **fields: Any) -> int:
    if ctx.option("json"):
        ctx.json(fields)
    else:
        ctx.print(text)
    return 0


def recovery_public(text: str | None) -> bytes | None:
    """The recovery public key as given, or None."""
    from collector_tui import vault

    if text is None:
        return None
    try:
        return vault.recovery_public(text)
    except vault.VaultError as error:
        raise CliError(f"--recovery: {error}") from None


def _cmd_encrypt(ctx: Context) -> int:
    from collector_tui import bootstrap, cipherfile

    args = ctx.args
    args.db = str(args.file)
    if not args.file.is_file():
        raise CliError(_("no database file at {path}").format(path=args.file))
    if bootstrap.encrypted_file(args.file) is not None:
        raise CliError(_("{file} is already encrypted").format(file=args.file.name))
    recovery = recovery_public(args.recovery)
    path = args.file
    actor = ctx.actor()
    ctx.close()  # the conversion needs the file to itself
    try:
        cipherfile.encrypt_for(path, actor.username, ctx.given_password(), recovery)
    except cipherfile.ConversionError as error:
        raise CliError(str(error)) from None
    return _answer(
        ctx,
        f"encrypted {show(str(path))}: it opens with {ctx.username()}'s password"
        + (" or the recovery key" if recovery else ""),
        encrypted=str(path),
        users=[ctx.username()],
        recovery=recovery is not None,
    )


def _cmd_decrypt(ctx: Context) -> int:
    from collector_tui import cipherfile

    args = ctx.args
    args.db = str(args.file)
    if not args.file.is_file():
        raise CliError(_("no database file at {path}").format(path=args.file))
    store = ctx.open()
    if store.key is None:
        raise CliError(_("{file} is not encrypted").format(file=args.file.name))
    ctx.actor()  # the file's key opened; the user must still be one of its users
    key = store.key.reveal()
    ctx.close()
    try:
        cipherfile.decrypt_file(args.file, key)
    except cipherfile.ConversionError as error:
        raise CliError(str(error)) from None
    return _answer(ctx, f"decrypted {show(str(args.file))}", decrypted=str(args.file))


def _cmd_recovery_new(ctx: Context) -> int:
    from collector_tui import vault

    out: Path = ctx.args.out
    if out.exists():
        raise CliError(
            _("{path} exists: choose another file (a recovery key is never overwritten)").format(
                path=out
            )
        )
    passphrase = ctx.password(
        "COLLECTOR_RECOVERY_PASSWORD", "passphrase for the recovery key: ", confirm=True
    )
    if len(passphrase) < 12:
        raise CliError(_("a recovery passphrase needs at least 12 characters"))
    pair = vault.new_recovery_keys()
    data = {
        "format": RECOVERY_FORMAT,
        "public": base64.b64encode(pair.public).decode(),
        "private": vault.wrap_for_user(pair.private, "recovery", passphrase),
    }
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1)
    public = data["public"]
    return _answer(
        ctx,
        f"recovery key written to {show(str(out))} (keep it with the supervisors)\n"
        f"public key: {public}",
        out=str(out),
        public=public,
    )


def _cmd_recovery_set(ctx: Context) -> int:
    from collector_tui.services.sync import devices

    ctx.actor()
    public = ctx.run(devices.set_recovery_key, public_key=ctx.args.public_key)
    return _answer(
        ctx,
        "recovery key kept on the master: laptop files pulled from now on are sealed to it",
        recovery_key=public,
    )


def _recovery_private(ctx: Context, path: Path) -> bytes:
    from collector_tui import vault

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise CliError(_("{path} is not a recovery key file").format(path=path)) from None
    if not isinstance(data, dict) or data.get("format") != RECOVERY_FORMAT:
        raise CliError(_("{path} is not a recovery key file").format(path=path))
    passphrase = ctx.password("COLLECTOR_RECOVERY_PASSWORD", "passphrase for the recovery key: ")
    try:
        return vault.unwrap_entry(data.get("private"), "recovery", passphrase, where=path.name)
    except vault.WrongPassword:
        raise CliError(_("wrong passphrase for the recovery key")) from None
    except vault.VaultError as error:
        raise CliError(str(error)) from None


def _cmd_recover(ctx: Context) -> int:
    from collector_tui import bootstrap, db, vault
    from collector_tui.services import accounts

    args = ctx.args
    name = ctx.username()
    if not name:
        raise CliError(_("say whose password to set: --user NAME"))
    if bootstrap.encrypted_file(args.file) is None:
        raise CliError(_("{file} is not an encrypted database file").format(file=args.file.name))
    private = _recovery_private(ctx, args.key)
    try:
        key = vault.recover_key(args.file, private)
    except vault.VaultError as error:
        raise CliError(str(error)) from None
    password = ctx.password("COLLECTOR_NEW_PASSWORD", f"new password for {name}: ", confirm=True)
    store = bootstrap.open_store(args.file, key=db.DatabaseKey(key))
    ctx.opened.append(store)
    problem = bootstrap.schema_problem(store)
    if problem is not None:
        raise CliError(problem)
    from collector_tui.services.context import Context as Services

    services = Services(store=store, clock=ctx.clock, settings=ctx.load_settings(), actor=None)
    user = services.run(accounts.get_actor, username=name)
    # The recovery acts as the user whose password it sets: the audit trail names them.
    Services(store=store, clock=ctx.clock, settings=ctx.load_settings(), actor=user).run(
        accounts.change_password, username=name, password=password
    )
    vault.allow_user(args.file, key, user.username, password)
    return _answer(
        ctx,
        f"{show(user.username)} can open {show(str(args.file))} with the new password",
        recovered=str(args.file),
        user=user.username,
    )
