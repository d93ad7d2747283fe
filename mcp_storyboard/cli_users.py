"""``mcp-storyboard users ...`` and ``mcp-storyboard tokens ...``: accounts and API tokens from the command line.

Passwords never come from the command line (argv is visible to every local user in the process list and lands
in shell history): they are asked for twice on a terminal, or read from the first line of stdin with
``--password-stdin``. A new token is printed once, alone on stdout (``TOKEN=$(mcp-storyboard tokens create ...)``);
what it is goes to stderr. Failures print one line and exit 2, as every other command does.

This module imports little at the top: ``cli.py`` builds its parser on every start, ``serve`` included.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TextIO

from mcp_storyboard.errors import ValidationError

if TYPE_CHECKING:
    from mcp_storyboard.config import Settings
    from mcp_storyboard.services.projects import ProjectService
    from mcp_storyboard.services.users import UserService, UserView

Ask = Callable[[str], str]
COMMANDS = ("users", "tokens")


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser],
                 add_db_flags: Callable[[argparse.ArgumentParser], None]) -> None:
    """Declare ``users`` and ``tokens`` with their actions on the CLI's sub-parsers."""
    users = sub.add_parser("users", help="user accounts (for the HTTP transport)")
    actions = users.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create an enabled account", allow_abbrev=False)
    create.add_argument("username")
    create.add_argument("--email", required=True)
    create.add_argument("--admin", action="store_true", help="grant admin rights")
    create.add_argument("--no-password", action="store_true", help="an account that signs in with API tokens only")
    actions.add_parser("list", help="every account, by username")
    for name, text in (("disable", "disable an account (its tokens are refused)"), ("enable", "enable an account"),
                       ("set-password", "set a new password"), ("make-admin", "grant admin rights (--revoke: take "
                                                                               "them away)")):
        action = actions.add_parser(name, help=text, allow_abbrev=False)
        action.add_argument("username")
        if name == "make-admin":
            action.add_argument("--revoke", action="store_true", help="revoke admin rights instead")
    give = actions.add_parser("give-projects", allow_abbrev=False,
                              help="make a user the owner of projects (over HTTP a user reaches only its own)")
    give.add_argument("username")
    chosen = give.add_mutually_exclusive_group(required=True)
    chosen.add_argument("project_ids", nargs="*", default=[], metavar="PROJECT_ID")
    chosen.add_argument("--unowned", action="store_true",
                        help="every project without an owner (made over stdio or before users existed)")
    for action in actions.choices.values():
        add_db_flags(action)
        if action.prog.split()[-1] in ("create", "set-password"):
            action.add_argument("--password-stdin", action="store_true",
                                help="read the password from the first line of stdin instead of asking")

    tokens = sub.add_parser("tokens", help="API tokens for the HTTP transport")
    token_actions = tokens.add_subparsers(dest="action", required=True, metavar="ACTION")
    issue = token_actions.add_parser("create", help="issue a token for a user; it is printed once, on stdout")
    issue.add_argument("username")
    issue.add_argument("--name", required=True, help="what the token is for (laptop, ci, ...)")
    expiry = issue.add_mutually_exclusive_group()
    expiry.add_argument("--expires-in-days", type=float, help="the token stops working after this many days")
    expiry.add_argument("--expires-at", help="the token stops working at this ISO 8601 time (UTC if no offset)")
    listing = token_actions.add_parser("list", help="tokens by owner, newest first (never their secrets)")
    listing.add_argument("--user", help="only this user's tokens")
    listing.add_argument("--all", action="store_true", help="include revoked tokens")
    revoke = token_actions.add_parser("revoke", help="revoke a token by its id or prefix")
    revoke.add_argument("token", help="the token's id or its 12-character prefix (from tokens list)")
    for action in token_actions.choices.values():
        add_db_flags(action)


async def run_command(args: argparse.Namespace, settings: Settings) -> int:
    """Open the configured database (migrations and indexes first, as every command does) and run one action."""
    from mcp_storyboard.services.container import open_services

    async with open_services(settings) as services:
        return await run(args, services.users, stdin=sys.stdin, stdout=sys.stdout, stderr=sys.stderr,
                         projects=services.projects)


async def run(args: argparse.Namespace, users: UserService, *, stdin: TextIO, stdout: TextIO, stderr: TextIO,
              ask: Ask = getpass.getpass, projects: ProjectService | None = None) -> int:
    """One ``users``/``tokens`` action over ``users`` (and ``projects`` for ``give-projects``); what the command
    prints goes to ``stdout``/``stderr``.

    Raises:
        StoryboardError: the action is refused (the CLI prints it on one line and exits 2).
    """
    import pydantic

    try:
        if args.command == "users":
            if args.action == "give-projects":
                assert projects is not None, "give-projects needs the project service"
                return await _give_projects(args, users, projects, stdout)
            return await _users(args, users, stdin, stdout, ask)
        return await _tokens(args, users, stdout, stderr)
    except pydantic.ValidationError as exc:  # a bad username or e-mail address, named
        first = exc.errors(include_url=False, include_input=False)[0]
        raise ValidationError(".".join(str(p) for p in first["loc"]) or "argument", first["msg"]) from None


async def _users(args: argparse.Namespace, users: UserService, stdin: TextIO, out: TextIO, ask: Ask) -> int:
    action = args.action
    if action == "create":
        password = None if args.no_password else read_password(args, stdin, ask)
        user = await users.create(args.username, args.email, password, is_admin=args.admin)
        role = "admin" if user.is_admin else "user"
        out.write(f"created {role} {user.username} <{user.email}> (id {user.id})"
                  f"{'; no password: it signs in with API tokens only' if password is None else ''}\n")
        return 0
    if action == "list":
        return _list_users(await _all_users(users), out)
    user = await users.by_username(args.username)
    if action == "set-password":
        await users.set_password(user.id, read_password(args, stdin, ask))
        out.write(f"password of {user.username} changed\n")
        return 0
    if action in ("disable", "enable"):
        _, changed = await users.set_active(user.id, action == "enable")
        state = "enabled" if action == "enable" else "disabled"
        out.write(f"{user.username} {state}\n" if changed else f"{user.username} was already {state}\n")
        return 0
    grant = not args.revoke
    _, changed = await users.set_admin(user.id, grant)
    verb = "is now an admin" if grant else "is no longer an admin"
    out.write(f"{user.username} {verb}\n" if changed else f"{user.username} already {verb.replace('is now', 'is')}\n")
    return 0


async def _give_projects(args: argparse.Namespace, users: UserService, projects: ProjectService, out: TextIO) -> int:
    user = await users.by_username(args.username)
    changed = await projects.give_to(user.id, None if args.unowned else args.project_ids)
    out.write(f"{user.username} now owns {changed} more project(s)\n")
    return 0


async def _tokens(args: argparse.Namespace, users: UserService, out: TextIO, err: TextIO) -> int:
    if args.action == "create":
        user = await users.by_username(args.username)
        issued = await users.tokens.create(user.id, args.name, expires_at=expiry_of(args))
        record = issued.record
        expires = record.expires_at.isoformat(timespec="seconds") if record.expires_at else "never"
        err.write(f"created token '{record.name}' for {user.username} (id {record.id}, prefix {record.prefix}, "
                  f"expires {expires}); it is shown only now: store it safely\n")
        out.write(issued.token + "\n")
        return 0
    if args.action == "revoke":
        token, newly = await users.tokens.revoke(args.token)
        when = token.revoked_at.isoformat(timespec="seconds") if token.revoked_at else "?"
        out.write(f"revoked token {token.prefix} '{token.name}'\n" if newly
                  else f"token {token.prefix} '{token.name}' was already revoked at {when}\n")
        return 0
    owner = await users.by_username(args.user) if args.user else None
    names = {u.id: u.username for u in await _all_users(users)}
    rows, cursor = [], None
    while True:
        page = await users.tokens.list_page(user_id=owner.id if owner else None, live_only=not args.all,
                                            limit=100, cursor=cursor)
        rows += page.items
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    out.write(f"{'PREFIX':<13} {'USER':<20} {'NAME':<20} {'CREATED':<20} {'EXPIRES':<20} {'LAST USED':<20} STATUS\n")
    now = users.tokens.clock()
    for t in rows:
        status = "revoked" if t.revoked_at else "expired" if t.expires_at and t.expires_at <= now else "live"
        out.write(f"{t.prefix:<13} {names.get(t.user_id, t.user_id):<20} {t.name:<20} {_when(t.created_at):<20} "
                  f"{_when(t.expires_at):<20} {_when(t.last_used_at):<20} {status}\n")
    out.write(f"{len(rows)} token(s)\n")
    return 0


def read_password(args: argparse.Namespace, stdin: TextIO, ask: Ask) -> str:
    """The password from stdin's first line (``--password-stdin``) or asked twice on a terminal.

    Raises:
        ValidationError: (named ``password``) nothing on stdin, no terminal to ask on, or the two entries differ.
    """
    if args.password_stdin:
        line = stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        password = password[:-1] if password.endswith("\r") else password
        if not password:
            raise ValidationError("password", "stdin held no password", hint="write it as the first line of stdin")
        return password
    if not stdin.isatty():
        raise ValidationError("password", "there is no terminal to ask for it on",
                              hint="pipe it in with --password-stdin (never on the command line)")
    first = ask("Password: ")
    if ask("Repeat the password: ") != first:
        raise ValidationError("password", "the two entries differ", hint="run the command again")
    return first


def expiry_of(args: argparse.Namespace) -> datetime | None:
    """``--expires-in-days`` or ``--expires-at`` as a UTC time; None when neither is given.

    Raises:
        ValidationError: a time that does not parse, or a non-positive number of days.
    """
    if args.expires_in_days is not None:
        if args.expires_in_days <= 0:
            raise ValidationError("--expires-in-days", "must be a positive number of days")
        return datetime.now(UTC) + timedelta(days=args.expires_in_days)
    if args.expires_at is None:
        return None
    try:
        when = datetime.fromisoformat(args.expires_at)
    except ValueError:
        raise ValidationError("--expires-at", f"'{args.expires_at}' is not an ISO 8601 time",
                              hint="e.g. 2027-01-31 or 2027-01-31T18:00:00+01:00") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


async def _all_users(users: UserService) -> list[UserView]:
    from mcp_storyboard.services.users import UserView

    found, cursor = [], None
    while True:
        page = await users.list_page(limit=100, cursor=cursor)
        found += [UserView.of(u) for u in page.items]
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


def _list_users(found: list[UserView], out: TextIO) -> int:
    out.write(f"{'USERNAME':<20} {'EMAIL':<32} {'ADMIN':<6} {'ACTIVE':<7} {'CREATED':<20} ID\n")
    for u in found:
        out.write(f"{u.username:<20} {u.email:<32} {'yes' if u.is_admin else 'no':<6} "
                  f"{'yes' if u.is_active else 'no':<7} {_when(u.created_at):<20} {u.id}\n")
    out.write(f"{len(found)} user(s)\n")
    return 0


def _when(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")
