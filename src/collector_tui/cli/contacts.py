"""A debtor's contact data, and skip tracing.

    collector-tui contact add CASE --phone NUMBER [--type mobile|home|work]
                      [--consent call|sms] [--consent-until ISO] [--how TEXT] [--source TEXT]
    collector-tui contact add CASE --email ADDR [--consent email] [--how TEXT] [--source TEXT]
    collector-tui contact add CASE --address TEXT [--source TEXT]
    collector-tui contact set CASE NUMBER|ADDR --status STATUS [--reason TEXT] [--how TEXT]
    collector-tui contact retire CASE NUMBER|ADDR [--reason TEXT]
    collector-tui contact list CASE [--reveal] [--json]
    collector-tui contact add-party CASE NAME --relation REL [--phone NUMBER] [--note TEXT]
    collector-tui contact objected CASE NAME [--how TEXT]      (a third party asked for no contact)
    collector-tui contact call-again CASE NAME                 (a third party asked to be called)
    collector-tui skiptrace export FILE.csv [--bom] [--json]
    collector-tui skiptrace import FILE.csv [--encoding NAME] [--json]

(`contact void`, the correction of a logged contact, is in corrections.py, in the same group.)

Every change is one transaction through services/contacts (the case's queue place moves in it);
an agent works on their own cases only. `skiptrace import` adds what a tracer found with source
"skip trace": all or nothing, every bad line named, the same file twice adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from collector_tui.cli.arguments import Commands, instant_value
from collector_tui.cli.context import Context
from collector_tui.cli.output import PROG, UsageError, iso_utc, local, pad, show
from collector_tui.i18n import N_
from collector_tui.i18n import gettext as _

__all__ = ["register"]

REJECTS_SHOWN = 20
STATUSES = ("valid", "wrong", "disconnected", "dnc", "unverified", "returned")
# contacts.book.RELATIONS, written out so that building the parser imports no service (start-up);
# tests/cli/test_contacts_cli.py holds the two equal.
RELATIONS = ("employer", "relative", "guarantor", "reference")


def register(commands: Commands) -> None:
    about = _("a debtor's phones, addresses and e-mails; logged contacts (void)")
    contact = commands.group(
        "contact",
        help=about,
        description=about,
        dest="contact_command",
        without_action=_("contact: say what to do, e.g. `contact add CASE --phone NUMBER`"),
    )
    about = _("add a phone number, an e-mail or a postal address")
    add = contact.add("add", _cmd_add, help=about, description=about)
    add.add_argument("case", metavar="CASE", help=_("client reference, CLIENT/REF, or case id"))
    what = add.add_mutually_exclusive_group(required=True)
    what.add_argument("--phone", metavar="NUMBER", help=_("as typed; the debtor's country decides"))
    what.add_argument("--email", metavar="ADDR")
    what.add_argument("--address", metavar="TEXT", help=_("a postal address, as written"))
    add.add_argument("--type", metavar="TYPE", help=_("a phone's type: mobile, home or work"))
    add.add_argument(
        "--consent",
        action="append",
        choices=("call", "sms", "email"),
        help=_("consent given now: call (Reg F prior consent), sms (a phone), email (an e-mail)"),
    )
    add.add_argument(
        "--consent-until",
        type=instant_value("--consent-until"),
        metavar="ISO",
        help=_("when consent to call ends (default: in 7 days)"),
    )
    add.add_argument("--how", metavar="TEXT", help=_("how consent was given"))
    add.add_argument(
        "--source",
        default="agent",
        metavar="TEXT",
        help=_("placement, debtor, third party, skip trace or agent (default)"),
    )
    add.add_argument(
        "--primary", action="store_true", help=_("make it the first number or address")
    )
    add.add_argument("--json", action="store_true", help=_("print the result as JSON"))

    about = _("mark a contact: valid, wrong, disconnected, dnc, unverified, returned (mail)")
    mark = contact.add("set", _cmd_set, help=about, description=about)
    mark.add_argument("case", metavar="CASE")
    mark.add_argument("value", metavar="NUMBER|ADDR", help=_("the number, e-mail or address"))
    mark.add_argument("--status", required=True, choices=STATUSES)
    mark.add_argument("--reason", metavar="TEXT")
    mark.add_argument("--how", metavar="TEXT", help=_("how a do-not-call request was made"))
    mark.add_argument("--json", action="store_true", help=_("print the result as JSON"))

    about = _("stop using a contact (kept in the history, never deleted)")
    retire = contact.add("retire", _cmd_retire, help=about, description=about)
    retire.add_argument("case", metavar="CASE")
    retire.add_argument("value", metavar="NUMBER|ADDR")
    retire.add_argument("--reason", metavar="TEXT")
    retire.add_argument("--json", action="store_true", help=_("print the result as JSON"))

    about = _("list the debtor's contacts with their status, consent and source")
    listing = contact.add("list", _cmd_list, help=about, description=about)
    listing.add_argument("case", metavar="CASE")
    listing.add_argument(
        "--reveal",
        action="store_true",
        help=_("numbers in full for a role that sees them masked (an audited action)"),
    )
    listing.add_argument("--json", action="store_true", help=_("print JSON"))

    about = _("add a third party: someone who knows the debtor (a relative, an employer...)")
    party = contact.add("add-party", _cmd_add_party, help=about, description=about)
    party.add_argument("case", metavar="CASE")
    party.add_argument("name", metavar="NAME")
    party.add_argument(
        "--relation",
        required=True,
        metavar="REL",
        help=_("one of: {relations}").format(relations=", ".join(RELATIONS)),
    )
    party.add_argument("--phone", metavar="NUMBER", help=_("their number, as typed"))
    party.add_argument("--note", metavar="TEXT")
    party.add_argument("--source", default="agent", metavar="TEXT")
    party.add_argument("--json", action="store_true", help=_("print the result as JSON"))

    about = _("a third party objected to being contacted: never again, their number do-not-call")
    objected = contact.add("objected", _cmd_party_request, help=about, description=about)
    objected.add_argument("case", metavar="CASE")
    objected.add_argument("name", metavar="NAME", help=_("the third party's name"))
    objected.add_argument("--how", metavar="TEXT", help=_("how the objection was made"))
    objected.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    objected.set_defaults(party_request="objected")

    about = _("a third party asked to be called again (one more contact is allowed)")
    again = contact.add("call-again", _cmd_party_request, help=about, description=about)
    again.add_argument("case", metavar="CASE")
    again.add_argument("name", metavar="NAME", help=_("the third party's name"))
    again.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    again.set_defaults(party_request="call-again", how=None)

    about = _("cases with no callable number or with returned mail, and what a tracer found")
    trace = commands.group(
        "skiptrace",
        help=about,
        description=about,
        dest="skiptrace_action",
        without_action=_("say what to do: skiptrace export or import"),
    )
    about = _("write the cases to trace to a CSV file (with empty columns for what is found)")
    export = trace.add("export", _cmd_export, help=about, description=about)
    export.add_argument("file", metavar="FILE.csv", type=Path)
    export.add_argument("--bom", action="store_true", help=_("start with a UTF-8 BOM (Excel)"))
    export.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    about = _("add the phones, addresses and e-mails found (source: skip trace)")
    load = trace.add("import", _cmd_import, help=about, description=about)
    load.add_argument("file", metavar="FILE.csv", type=Path)
    load.add_argument(
        "--encoding", metavar="NAME", help=_("the file's encoding (default: guessed)")
    )
    load.add_argument("--json", action="store_true", help=_("print the result as JSON"))


# --- contact ---------------------------------------------------------------------------------


def _saved_json(saved: Any) -> dict[str, Any]:
    return {
        "kind": saved.kind,
        "id": str(saved.contact_id),
        "value": saved.value,
        "status": saved.status,
        "changed": saved.changed,
        "case_id": str(saved.case_id),
        "case_version": saved.case_version,
        "callable": saved.queue.callable,
        "reason": saved.queue.reason,
        "callable_at": iso_utc(saved.queue.callable_at),
    }


def _report(ctx: Context, saved: Any, done: str, reference: str, zone: str) -> None:
    """One line: `done` (a catalog template naming {kind}, {value} and {case}) and where the
    case stands in the queue, in the run's language."""
    from collector_tui.labels import CONTACT_KINDS, CONTACT_STATUSES, word

    if ctx.args.json:
        ctx.json(_saved_json(saved))
        return
    names = {
        "kind": word(CONTACT_KINDS, saved.kind),
        "value": show(saved.value),
        "case": show(reference),
    }
    if saved.changed:
        line = _(done).format(**names, status=word(CONTACT_STATUSES, saved.status))
    else:
        line = _("{kind} {value} on {case} was already {status}").format(
            **names, status=word(CONTACT_STATUSES, saved.status)
        )
    queue = saved.queue
    if queue.callable:
        line += _("; callable now")
    else:
        line += _("; not callable: {reason}").format(reason=show(queue.reason or _("held")))
        if queue.callable_at is not None:
            line += _(" (from {at} {zone})").format(at=local(queue.callable_at, zone), zone=zone)
    ctx.print(line)


def _cmd_add(ctx: Context) -> int:
    from collector_tui.services.casework import cases
    from collector_tui.services.contacts import book

    args = ctx.args
    consent = tuple(args.consent or ())
    if args.type is not None and args.phone is None:
        raise UsageError(_("--type goes with --phone"))
    if args.consent_until is not None and "call" not in consent:
        raise UsageError(_("--consent-until goes with --consent call"))
    if args.email is not None and set(consent) - {"email"}:
        raise UsageError(_("an e-mail takes --consent email only"))
    if args.phone is None and args.email is None and (consent or args.how):
        raise UsageError(_("a postal address takes no --consent"))
    actor = ctx.actor()
    case = ctx.run(cases.resolve_case, reference=args.case)
    common: dict[str, Any] = {"case_id": case.case_id, "source": args.source}
    if args.phone is not None:
        saved = ctx.run(
            book.add_phone,
            **common,
            number=args.phone,
            phone_type=args.type,
            consent=consent,
            consent_until=args.consent_until,
            consent_how=args.how,
            primary=args.primary,
        )
    elif args.email is not None:
        saved = ctx.run(
            book.add_email,
            **common,
            address=args.email,
            opt_in="email" in consent,
            opt_in_how=args.how,
        )
    else:
        saved = ctx.run(book.add_address, **common, text=args.address, primary=args.primary)
    reference = f"{case.client}/{case.client_ref}"
    _report(ctx, saved, N_("added {kind} {value} on {case}"), reference, actor.time_zone)
    return 0


def _book() -> Any:
    # Imported when a command runs, not when the parser is built (start-up time).
    from collector_tui.services.contacts import book

    return book


def _change(ctx: Context, done: str, service: Callable[..., Any], **arguments: Any) -> int:
    """Find the case named on the command line, run one contacts service on it, say what
    changed and where the case stands in the queue."""
    from collector_tui.services.casework import cases

    actor = ctx.actor()
    case = ctx.run(cases.resolve_case, reference=ctx.args.case)
    saved = ctx.run(service, case_id=case.case_id, **arguments)
    _report(ctx, saved, done, f"{case.client}/{case.client_ref}", actor.time_zone)
    return 0


def _cmd_set(ctx: Context) -> int:
    args = ctx.args
    return _change(
        ctx,
        N_("marked {status}: {kind} {value} on {case}"),
        _book().set_contact_status,
        value=args.value,
        status=args.status,
        reason=args.reason,
        how=args.how,
    )


def _cmd_retire(ctx: Context) -> int:
    args = ctx.args
    return _change(
        ctx,
        N_("retired {kind} {value} on {case}"),
        _book().retire_contact_by_value,
        value=args.value,
        reason=args.reason,
    )


def _cmd_add_party(ctx: Context) -> int:
    args = ctx.args
    return _change(
        ctx,
        N_("added {kind} {value} on {case}"),
        _book().add_third_party,
        name=args.name,
        relation=args.relation,
        phone=args.phone,
        source=args.source,
        note=args.note,
    )


def _cmd_party_request(ctx: Context) -> int:
    args = ctx.args
    done = (
        N_("objection recorded for {kind} {value} on {case}")
        if args.party_request == "objected"
        else N_("call again: {kind} {value} on {case}")
    )
    return _change(
        ctx,
        done,
        _book().record_third_party_request,
        name=args.name,
        request=args.party_request,
        how=args.how,
    )


def _cmd_list(ctx: Context) -> int:
    from collector_tui.services.casework import cases
    from collector_tui.services.contacts import book

    args = ctx.args
    ctx.actor()
    case = ctx.run(cases.resolve_case, reference=args.case)
    service = book.reveal_contacts if args.reveal else book.list_contacts
    listed = ctx.run(service, case_id=case.case_id)
    reference = f"{case.client}/{case.client_ref}"
    if args.json:
        ctx.json(
            {
                "case_id": str(listed.case_id),
                "client": case.client,
                "client_ref": case.client_ref,
                "debtor": listed.debtor_name,
                "contacts": [
                    {
                        "kind": entry.kind,
                        "id": str(entry.id),
                        "value": entry.value,
                        "status": entry.status,
                        "consent": list(entry.consent),
                        "source": entry.source,
                        "time_zones": list(entry.time_zones),
                        "retired": entry.retired,
                        "detail": entry.detail,
                        "masked": entry.masked,
                    }
                    for entry in listed.entries
                ],
            }
        )
        return 0
    ctx.print(f"{show(reference)}  {show(listed.debtor_name)}")
    if not listed.entries:
        ctx.print(_("no contacts"))
    for entry in listed.entries:
        status = "retired" if entry.retired else entry.status
        consent = ",".join(entry.consent) or "-"
        ctx.print(
            "  ".join(
                (
                    pad(entry.kind.replace("_", " "), 11),
                    pad(show(entry.value), 34),
                    pad(status, 12),
                    pad(consent, 10),
                    pad(entry.source, 11),
                    show(entry.detail or ""),
                )
            ).rstrip()
        )
    return 0


# --- skiptrace -------------------------------------------------------------------------------


def _cmd_export(ctx: Context) -> int:
    from collector_tui.services.reporting import exports

    args = ctx.args
    ctx.actor()
    count = ctx.run(exports.export_skip_trace, path=args.file, bom=args.bom)
    if args.json:
        ctx.json({"exported": "skiptrace", "rows": count, "path": str(args.file)})
    else:
        ctx.print(
            _("wrote {count} cases to trace to {file}").format(
                count=count, file=show(str(args.file))
            )
        )
    return 0


def _cmd_import(ctx: Context) -> int:
    from collector_tui.services.imports.skip_trace_file import SkipTraceRejected, import_skip_trace

    args = ctx.args
    ctx.actor()
    try:
        report = ctx.run(import_skip_trace, path=args.file, encoding=args.encoding)
    except SkipTraceRejected as rejected:
        if args.json:
            ctx.json(
                {
                    "imported": False,
                    "rejected": [{"line": r.line, "reason": r.reason} for r in rejected.rejected],
                }
            )
        message = " ".join(show(str(rejected)).split())
        print(
            _("{prog}: error: {message}; nothing was written").format(prog=PROG, message=message),
            file=ctx.err,
        )
        for line in rejected.rejected[:REJECTS_SHOWN]:
            print(
                _("line {line}: {reason}").format(line=line.line, reason=show(line.reason)),
                file=ctx.err,
            )
        if len(rejected.rejected) > REJECTS_SHOWN:
            print(
                _("... and {count} more").format(count=len(rejected.rejected) - REJECTS_SHOWN),
                file=ctx.err,
            )
        return 1
    if args.json:
        ctx.json(
            {
                "imported": True,
                "rows": report.rows,
                "phones": report.phones,
                "addresses": report.addresses,
                "emails": report.emails,
                "duplicates": report.duplicates,
                "cases": report.cases,
            }
        )
        return 0
    ctx.print(
        f"{show(str(args.file))}: {report.rows} rows; added {report.phones} phones, "
        f"{report.addresses} addresses, {report.emails} e-mails to {report.cases} cases; "
        f"{report.duplicates} already on file (skipped)"
    )
    return 0
