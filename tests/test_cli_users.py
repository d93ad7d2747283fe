"""``mcp-storyboard users ...`` and ``tokens ...``: passwords from stdin or a prompt (never argv), the token printed
once on stdout, one-line errors with exit code 2; in-process on every backend, then as a program on the embedded
database."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mcp_storyboard import cli_users
from mcp_storyboard.cli import build_parser
from mcp_storyboard.db.connection import Database
from mcp_storyboard.errors import DuplicateKeyConflict, InvalidStateError, NotFoundError, ValidationError
from mcp_storyboard.services.container import Services
from mcp_storyboard.services.users import PasswordHasher

PASSWORD = "correct horse battery staple"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def services(db: Database) -> Services:
    services = Services.over(db)
    services.users.hasher = PasswordHasher(4, weak_for_tests=True)
    return services


async def cli(services: Services, *argv: str, stdin: io.StringIO | None = None,
              answers: list[str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    pending = list(answers or [])
    code = await cli_users.run(build_parser().parse_args(list(argv)), services.users, stdin=stdin or io.StringIO(),
                               stdout=out, stderr=err, ask=lambda prompt: pending.pop(0), projects=services.projects)
    return code, out.getvalue(), err.getvalue()


async def test_users_are_created_from_stdin_listed_disabled_enabled_and_promoted(services: Services) -> None:
    code, out, _ = await cli(services, "users", "create", "Alice", "--email", "Alice@Example.com", "--password-stdin",
                             stdin=io.StringIO(PASSWORD + "\r\nignored second line\n"))
    assert code == 0 and out.startswith("created user alice <alice@example.com> (id ")
    assert await services.users.verify_password("alice", PASSWORD) is not None  # the line ending is not part of it
    await cli(services, "users", "create", "root", "--email", "root@example.com", "--admin", "--no-password")
    listing = (await cli(services, "users", "list"))[1].splitlines()
    assert listing[0].split() == ["USERNAME", "EMAIL", "ADMIN", "ACTIVE", "CREATED", "ID"]
    assert [line.split()[:4] for line in listing[1:3]] == [["alice", "alice@example.com", "no", "yes"],
                                                             ["root", "root@example.com", "yes", "yes"]]
    assert listing[-1] == "2 user(s)" and "$2b$" not in "\n".join(listing)
    assert (await cli(services, "users", "disable", "ALICE"))[1] == "alice disabled\n"
    assert (await cli(services, "users", "disable", "alice"))[1] == "alice was already disabled\n"
    assert await services.users.verify_password("alice", PASSWORD) is None
    assert (await cli(services, "users", "enable", "alice"))[1] == "alice enabled\n"
    assert (await cli(services, "users", "make-admin", "alice"))[1] == "alice is now an admin\n"
    assert (await cli(services, "users", "make-admin", "alice"))[1] == "alice already is an admin\n"
    assert (await cli(services, "users", "make-admin", "root", "--revoke"))[1] == "root is no longer an admin\n"
    with pytest.raises(InvalidStateError, match="last enabled admin"):
        await cli(services, "users", "disable", "alice")


async def test_a_password_is_asked_twice_on_a_terminal_and_never_taken_from_argv(services: Services) -> None:
    await cli(services, "users", "create", "bob", "--email", "bob@example.com", stdin=Terminal(),
              answers=[PASSWORD, PASSWORD])
    assert await services.users.verify_password("bob", PASSWORD) is not None
    with pytest.raises(ValidationError, match="password: the two entries differ"):
        await cli(services, "users", "set-password", "bob", stdin=Terminal(), answers=["one long password", "another"])
    with pytest.raises(ValidationError, match="password: there is no terminal.*--password-stdin"):
        await cli(services, "users", "set-password", "bob", stdin=io.StringIO(PASSWORD + "\n"))
    with pytest.raises(ValidationError, match="password: stdin held no password"):
        await cli(services, "users", "set-password", "bob", "--password-stdin", stdin=io.StringIO(""))
    code, out, _ = await cli(services, "users", "set-password", "bob", "--password-stdin",
                             stdin=io.StringIO("a new long passphrase\n"))
    assert code == 0 and out == "password of bob changed\n"
    assert await services.users.verify_password("bob", "a new long passphrase") is not None
    for argv in (["users", "create", "eve", "--email", "e@example.com", "--password", PASSWORD],
                 ["users", "set-password", "bob", "--password=" + PASSWORD]):
        with pytest.raises(SystemExit) as exited:
            build_parser().parse_args(argv)
        assert exited.value.code == 2


async def test_refusals_name_the_field_and_write_nothing(services: Services) -> None:
    with pytest.raises(ValidationError, match="password: is 73 bytes long in UTF-8; bcrypt uses at most 72 bytes"):
        await cli(services, "users", "create", "carl", "--email", "c@example.com", "--password-stdin",
                  stdin=io.StringIO("a" * 73 + "\n"))
    with pytest.raises(ValidationError, match="username: a username is 3-50 characters"):
        await cli(services, "users", "create", "x", "--email", "c@example.com", "--no-password")
    with pytest.raises(ValidationError, match="email: "):
        await cli(services, "users", "create", "carl", "--email", "nope", "--no-password")
    assert await services.users.repo.count() == 0
    await cli(services, "users", "create", "carl", "--email", "c@example.com", "--no-password")
    with pytest.raises(DuplicateKeyConflict, match="users.username 'carl' is already taken"):
        await cli(services, "users", "create", "CARL", "--email", "d@example.com", "--no-password")
    with pytest.raises(NotFoundError, match="user 'dave' does not exist"):
        await cli(services, "users", "enable", "dave")


async def test_a_token_is_printed_once_alone_on_stdout_then_listed_without_it_and_revoked(services: Services) -> None:
    await cli(services, "users", "create", "dana", "--email", "dana@example.com", "--no-password")
    code, out, err = await cli(services, "tokens", "create", "dana", "--name", "laptop", "--expires-in-days", "30")
    token = out.strip()
    assert code == 0 and out == token + "\n" and token.startswith("sbk_")
    assert "shown only now" in err and token not in err
    verified = await services.users.tokens.verify(token)
    assert verified is not None and verified.user.username == "dana"
    expires = verified.record.expires_at
    assert expires is not None and abs(expires - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=5)
    listing = (await cli(services, "tokens", "list"))[1]
    prefix = verified.record.prefix
    assert token not in listing and token.split("_", 2)[2] not in listing
    assert listing.splitlines()[1].split()[:3] == [prefix, "dana", "laptop"] and listing.splitlines()[1].endswith("live")
    assert (await cli(services, "tokens", "revoke", prefix))[1] == f"revoked token {prefix} 'laptop'\n"
    assert await services.users.tokens.verify(token) is None
    assert (await cli(services, "tokens", "list"))[1].endswith("0 token(s)\n")
    assert (await cli(services, "tokens", "list", "--all", "--user", "dana"))[1].splitlines()[1].endswith("revoked")
    assert "was already revoked" in (await cli(services, "tokens", "revoke", verified.record.id))[1]


async def test_token_expiry_options_are_checked(services: Services) -> None:
    await cli(services, "users", "create", "fay", "--email", "fay@example.com", "--no-password")
    out = (await cli(services, "tokens", "create", "fay", "--name", "ci", "--expires-at", "2999-01-31"))[1]
    verified = await services.users.tokens.verify(out.strip())
    assert verified is not None and verified.record.expires_at == datetime(2999, 1, 31, tzinfo=UTC)
    for option, value, message in (("--expires-at", "tomorrow", "--expires-at: 'tomorrow' is not an ISO 8601 time"),
                                   ("--expires-at", "2001-01-01", "expires_at: .* is not in the future"),
                                   ("--expires-in-days", "0", "--expires-in-days: must be a positive number")):
        with pytest.raises(ValidationError, match=message):
            await cli(services, "tokens", "create", "fay", "--name", "x", option, value)
    assert len((await services.users.tokens.list_page()).items) == 1


def run_cli(*args: str, data_dir: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MONGODB_URI", "MONGO_URL", "DB_NAME")}
    return subprocess.run([sys.executable, "-m", "mcp_storyboard", *args, "--data-dir", str(data_dir)], input=stdin,
                          capture_output=True, text=True, env=env, timeout=180)


@pytest.mark.slow
def test_the_commands_run_as_a_program_on_the_embedded_database(tmp_path: Path) -> None:
    created = run_cli("users", "create", "Gail", "--email", "gail@example.com", "--admin", "--password-stdin",
                      data_dir=tmp_path, stdin=PASSWORD + "\n")
    assert created.returncode == 0 and created.stdout.startswith("created admin gail"), created.stderr
    again = run_cli("users", "create", "gail", "--email", "other@example.com", "--password-stdin", data_dir=tmp_path,
                    stdin=PASSWORD + "\n")
    assert again.returncode == 2 and again.stderr.strip().splitlines() == [
        "mcp-storyboard: users.username 'gail' is already taken. Choose another username"]
    issued = run_cli("tokens", "create", "gail", "--name", "ci", data_dir=tmp_path)
    token = issued.stdout.strip()
    assert issued.returncode == 0 and token.startswith("sbk_") and token not in issued.stderr
    listed = run_cli("tokens", "list", data_dir=tmp_path)
    assert listed.returncode == 0 and token not in listed.stdout and " gail " in listed.stdout
    revoked = run_cli("tokens", "revoke", token.split("_")[1], data_dir=tmp_path)
    assert revoked.returncode == 0 and revoked.stdout.startswith("revoked token"), revoked.stderr
    missing = run_cli("tokens", "revoke", "000000000000", data_dir=tmp_path)
    assert missing.returncode == 2 and "API token '000000000000' does not exist" in missing.stderr
    assert "Traceback" not in again.stderr + missing.stderr


async def test_give_projects_hands_named_or_unowned_projects_to_a_user(services: Services) -> None:
    await cli(services, "users", "create", "ana", "--email", "ana@example.com", "--no-password")
    first, second = (await services.projects.create("One")), (await services.projects.create("Two"))
    owned = await services.projects.create("Bob's", owner_id="someone-else")
    assert (await cli(services, "users", "give-projects", "ana", first.id))[1] == "ana now owns 1 more project(s)\n"
    assert (await cli(services, "users", "give-projects", "ana", "--unowned"))[1] == "ana now owns 1 more project(s)\n"
    ana = await services.users.by_username("ana")
    assert {(await services.projects.get(p.id)).owner_id for p in (first, second)} == {ana.id}
    assert (await services.projects.get(owned.id)).owner_id == "someone-else"
    with pytest.raises(NotFoundError, match="project 'nope'"):
        await cli(services, "users", "give-projects", "ana", first.id, "nope")
    with pytest.raises(SystemExit):  # argparse: "one of the arguments PROJECT_ID --unowned is required"
        build_parser().parse_args(["users", "give-projects", "ana"])
