"""`dropletbook-as` as an operator runs it: passwords never on the command line, every error
one line on stderr with exit status 2, the demo refused outside development, KEK rotation,
the database named and never created by a command that only uses it."""

import base64
import getpass
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import inspect
from sqlmodel import Session, select

from services.authorization_server import cli, repository
from services.authorization_server.cli.demo import public_url
from services.authorization_server.context import ServerContext
from services.authorization_server.db import create_tables, make_engine
from services.authorization_server.models import SigningKeyRecord
from tests.command_line import run_main
from tests.databases import TestDatabases
from tests.factories import STRONG_KEK, STRONG_SECRET, test_settings
from tests.harness.servers import ROOT, free_port

CLI = Path(sys.executable).parent / "dropletbook-as"  # the venv running the tests
PASSWORD = "correct horse battery"
K1, K2 = (base64.b64encode(bytes([n]) * 32).decode() for n in (1, 2))


@pytest.fixture
def database_url(databases: TestDatabases) -> str:
    """An existing, empty authorization server database (as `dropletbook-as migrate` makes)."""
    url = databases.new_url()
    engine = make_engine(url)
    try:
        create_tables(engine)
    finally:
        engine.dispose()
    return url


def environment(database_url: str, **extra: str) -> dict[str, str]:
    """A development environment on `database_url`; `extra` adds or overrides `AS_*`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AS_")}
    env |= {
        "AS_ENVIRONMENT": "development",
        "AS_DATABASE_URL": database_url,
        "AS_PASSWORD_HASH_TIME_COST": "1",
        "AS_PASSWORD_HASH_MEMORY_KIB": "64",
    }
    return {**env, **{f"AS_{name.upper()}": value for name, value in extra.items()}}


def production(database_url: str) -> dict[str, str]:
    """A valid production environment: strong secret, a KEK, a mail server, https URLs."""
    env = environment(
        database_url,
        secret_key=STRONG_SECRET,
        key_encryption_keys=f'{{"k1": "{STRONG_KEK}"}}',
        smtp_host="mail.example",
        issuer="https://as.example",
        resource_audience="https://api.example",
    )
    env.pop("AS_ENVIRONMENT")
    return env


def run(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`dropletbook-as ARGS` run in this process: what the command does."""
    return run_main(cli.main, list(args), env=env, stdin=stdin)


def run_process(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The installed `dropletbook-as ARGS` as its own process: that the entry point works."""
    return subprocess.run(
        [str(CLI), *args],
        env=env,
        cwd=ROOT,
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_one_line_error(done: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("dropletbook-as: error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in done.stderr + done.stdout


def user_exists(database_url: str, email: str, password: str | None = None) -> bool:
    context = ServerContext.build(test_settings(database_url), make_engine(database_url))
    try:
        if not inspect(context.engine).has_table("user"):
            return False
        with Session(context.engine) as session:
            user = repository.get_user_by_email(session=session, email=email)
            if user is None:
                return False
            return password is None or context.passwords.verify(password, user.password_hash)
    finally:
        context.engine.dispose()


# --- create-user -------------------------------------------------------------------------


def test_password_on_the_command_line_is_refused(database_url: str) -> None:
    """It would show in `ps` and the shell history."""
    done = run(
        environment(database_url), "create-user", "--email", "a@example.com", "--password", PASSWORD
    )
    assert_one_line_error(done, "unrecognized arguments: --password")
    assert PASSWORD not in done.stderr
    assert not user_exists(database_url, "a@example.com")


def test_create_user_reads_the_password_from_stdin(database_url: str) -> None:
    done = run_process(
        environment(database_url),
        *("create-user", "--email", "Bob@Example.com", "--name", "Bob", "--password-stdin"),
        stdin=PASSWORD + "\n",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"database: {cli.database_name(database_url)}"
    assert done.stdout.splitlines()[1].startswith("created user bob@example.com (")
    assert PASSWORD not in done.stdout + done.stderr
    assert user_exists(database_url, "bob@example.com", PASSWORD)


@pytest.mark.parametrize(
    ("email", "stdin", "message"),
    [
        pytest.param("not-an-email", PASSWORD, "Enter a valid email address.", id="email"),
        pytest.param("c@example.com", "short", "at least 8 characters", id="short"),
        pytest.param("c@example.com", "", "no password on standard input", id="empty"),
    ],
)
def test_bad_input_is_one_line(database_url: str, email: str, stdin: str, message: str) -> None:
    done = run(
        environment(database_url),
        *("create-user", "--email", email, "--password-stdin"),
        stdin=stdin,
    )
    assert_one_line_error(done, message)


def test_an_existing_account_is_one_line(database_url: str) -> None:
    args = ("create-user", "--email", "d@example.com", "--password-stdin")
    assert run(environment(database_url), *args, stdin=PASSWORD).returncode == 0
    assert_one_line_error(run(environment(database_url), *args, stdin=PASSWORD), "already")


def test_no_terminal_to_prompt_on(database_url: str) -> None:
    done = run(environment(database_url), "create-user", "--email", "e@example.com")
    assert_one_line_error(done, "use --password-stdin")


def test_the_prompt_asks_twice(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in environment(database_url).items():
        if name.startswith("AS_"):
            monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt: next(answers))
    with pytest.raises(SystemExit) as exit_status:
        cli.main(["create-user", "--email", "f@example.com"])
    assert exit_status.value.code == 2
    assert capsys.readouterr().err == "dropletbook-as: error: the passwords do not match\n"
    assert not user_exists(database_url, "f@example.com")

    answers = iter([PASSWORD, PASSWORD])
    cli.main(["create-user", "--email", "f@example.com"])
    assert user_exists(database_url, "f@example.com", PASSWORD)


# --- settings and the production posture -------------------------------------------------


def test_production_with_default_secrets_is_one_line(database_url: str) -> None:
    env = environment(database_url)
    env.pop("AS_ENVIRONMENT")  # unset: production
    done = run(env, "rotate-key")
    assert_one_line_error(
        done, "AS_SECRET_KEY", "AS_KEY_ENCRYPTION_KEYS", "AS_ISSUER", "AS_SMTP_HOST"
    )  # every problem at once
    assert "change-me" not in done.stderr


def test_a_bad_setting_is_one_line(database_url: str) -> None:
    done = run(environment(database_url, access_token_ttl="soon"), "rotate-key")
    assert_one_line_error(done, "AS_ACCESS_TOKEN_TTL")


def test_an_unreachable_database_is_one_line() -> None:
    done = run(environment("postgresql://nobody@127.0.0.1:1/none"), "rotate-key")
    assert_one_line_error(done, "database error")


@pytest.mark.parametrize(
    ("posture", "command"),
    [
        pytest.param("unset", ["demo"], id="unset"),
        pytest.param("production", ["demo", "--seed-only"], id="production-ready"),
        pytest.param("staging", ["demo", "--seed-only"], id="staging"),
    ],
)
def test_demo_refuses_to_seed_outside_development(
    database_url: str, posture: str, command: list[str]
) -> None:
    env = production(database_url)  # even with every production secret set
    if posture == "unset":
        env = environment(database_url)
        env.pop("AS_ENVIRONMENT")
    elif posture == "staging":
        env["AS_ENVIRONMENT"] = "staging"
    done = run(env, *command)
    assert_one_line_error(done, "refusing to seed demo data", "AS_ENVIRONMENT=development")
    assert not user_exists(database_url, "demo@example.com")


# --- rotate-kek --------------------------------------------------------------------------


def test_rotate_kek_reencrypts_every_key(database_url: str) -> None:
    keys = f'{{"k1": "{K1}", "k2": "{K2}"}}'
    assert run(environment(database_url), "rotate-key").returncode == 0  # two keys in clear
    first = environment(database_url, key_encryption_keys=f'{{"k1": "{K1}"}}')
    assert run(first, "rotate-key").returncode == 0  # a third key, under k1

    both = environment(database_url, key_encryption_keys=keys, key_encryption_key_id="k2")
    done = run(both, "rotate-kek")
    assert done.returncode == 0, done.stderr
    # Three ES256 keys for access tokens, each with its RS256 companion for ID tokens.
    assert done.stdout.splitlines()[-1] == "6 signing key(s) encrypted under key encryption key k2"

    only_new = environment(database_url, key_encryption_keys=f'{{"k2": "{K2}"}}')
    assert run(only_new, "rotate-key").returncode == 0, "k1 was still needed"
    assert_one_line_error(run(first, "rotate-key"), "'k2'", "AS_KEY_ENCRYPTION_KEYS")


def test_rotate_kek_without_a_kek_is_one_line(database_url: str) -> None:
    assert_one_line_error(run(environment(database_url), "rotate-kek"), "AS_KEY_ENCRYPTION_KEYS")


# --- which database ------------------------------------------------------------------------

USING_COMMANDS = [
    pytest.param(["rotate-key"], None, id="rotate-key"),
    pytest.param(["rotate-kek"], None, id="rotate-kek"),
    pytest.param(["create-user", "--email", "g@example.com", "--password-stdin"], PASSWORD,
                 id="create-user"),
]  # fmt: skip


def _with_kek(env: dict[str, str]) -> dict[str, str]:
    return {**env, "AS_KEY_ENCRYPTION_KEYS": f'{{"k1": "{K1}"}}'}


@pytest.mark.parametrize(("command", "stdin"), USING_COMMANDS)
def test_a_missing_sqlite_file_is_refused_not_created(
    tmp_path: Path, command: list[str], stdin: str | None
) -> None:
    """A wrong working directory or a mistyped path must not start an empty database."""
    path = tmp_path / "data" / "authorization_server.db"
    url = f"sqlite:///{path}"
    done = run(_with_kek(environment(url)), *command, stdin=stdin)
    assert_one_line_error(done, f"no database at sqlite:///{path}", "--data-dir", "migrate")
    assert done.stdout == f"database: sqlite:///{path}\n"
    assert not path.exists()
    assert not path.parent.exists()


@pytest.mark.parametrize(("command", "stdin"), USING_COMMANDS)
def test_a_database_without_our_tables_is_refused(
    databases: TestDatabases, command: list[str], stdin: str | None
) -> None:
    """A PostgreSQL schema (or an empty SQLite file) without the server's tables."""
    url = databases.new_url()
    if databases.is_postgres:  # trust authentication ignores it; it must never be printed
        url = url.replace("postgresql://postgres@", "postgresql://postgres:pg-secret-pw@", 1)
    else:
        Path(url.removeprefix("sqlite:///")).touch()
    done = run(_with_kek(environment(url)), *command, stdin=stdin)
    assert_one_line_error(done, "has no authorization-server tables", "dropletbook-as migrate")
    assert done.stdout == f"database: {cli.database_name(url)}\n"
    assert "pg-secret-pw" not in done.stdout + done.stderr
    engine = make_engine(url)
    try:
        assert not inspect(engine).get_table_names(), "the command made tables"
    finally:
        engine.dispose()


def test_database_names_hide_the_password_and_resolve_relative_files() -> None:
    name = cli.database_name("postgresql://app:s3cret@db.example:5432/as?sslmode=require")
    assert name == "postgresql://app:***@db.example:5432/as?sslmode=require"
    assert cli.database_name("sqlite:///./data/as.db") == f"sqlite:///{Path.cwd() / 'data/as.db'}"


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:9000"),
        ("0.0.0.0", "http://127.0.0.1:9000"),  # noqa: S104 (a listen address)
        ("::", "http://127.0.0.1:9000"),
        ("::1", "http://[::1]:9000"),
        ("localhost", "http://localhost:9000"),
    ],
)
def test_demo_issuer_follows_host_and_port(host: str, url: str) -> None:
    assert public_url(host, 9000) == url


def test_data_dir_names_the_demo_database(tmp_path: Path) -> None:
    """`--data-dir` is the folder `dropletbook-demo --data-dir` keeps its SQLite files in; it
    wins over AS_DATABASE_URL."""
    data = tmp_path / "demo-data"
    file = data / "authorization_server.db"
    elsewhere = environment(f"sqlite:///{tmp_path / 'other.db'}")
    created = run(elsewhere, "migrate", "--data-dir", str(data))
    assert created.returncode == 0, created.stderr
    assert f"sqlite:///{file}" in created.stdout

    done = run(
        elsewhere,
        *("create-user", "--data-dir", str(data), "--email", "h@example.com", "--password-stdin"),
        stdin=PASSWORD,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"database: sqlite:///{file}"
    assert user_exists(f"sqlite:///{file}", "h@example.com", PASSWORD)
    assert not (tmp_path / "other.db").exists()


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """`dropletbook-as demo --port P` without AS_ISSUER; its output in a file."""
    port = free_port()
    env = environment(f"sqlite:///{tmp_path / 'unused.db'}")
    log = tmp_path / "demo.log"
    command = [str(CLI), "demo", "--port", str(port), "--data-dir", str(tmp_path / "data")]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield port, log
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_demo_publishes_the_port_it_serves(demo_server: tuple[int, Path]) -> None:
    port, log = demo_server
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            metadata = httpx.get(f"{base}/.well-known/oauth-authorization-server", timeout=2)
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
    assert metadata.json()["issuer"] == base
    assert metadata.json()["token_endpoint"] == f"{base}/v1/oauth/token"
    banner = log.read_text()
    assert f"database: sqlite:///{log.parent / 'data' / 'authorization_server.db'}" in banner
    assert f"authorization server: {base}\n" in banner
    assert f"log in:           {base}/login" in banner
    assert "8000" not in banner


def test_a_bug_is_one_line_and_debug_adds_its_traceback(database_url: str) -> None:
    """An unreadable signing key is no error the command expects: without `--debug` one line
    that says how to see more, with it the traceback first, then the same line."""
    assert run(environment(database_url), "rotate-key").returncode == 0
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            for record in session.exec(select(SigningKeyRecord)):
                record.private_key = "not a PEM"
                session.add(record)
            session.commit()
    finally:
        engine.dispose()

    done = run(environment(database_url), "rotate-key")
    assert_one_line_error(done, "(--debug shows the traceback)")

    debug = run(environment(database_url), "rotate-key", "--debug")
    assert debug.returncode == 2
    assert "Traceback (most recent call last):" in debug.stderr
    last = debug.stderr.splitlines()[-1]
    assert last == done.stderr.splitlines()[0].removesuffix(" (--debug shows the traceback)")


# --- help ----------------------------------------------------------------------------------


def test_every_command_and_option_has_help() -> None:
    parser = cli._parser()
    (commands,) = [a for a in parser._actions if a.dest == "==SUPPRESS==" and a.choices]
    assert isinstance(commands.choices, dict)
    assert set(commands.choices) == {"demo", "migrate", "rotate-key", "rotate-kek", "create-user"}
    for name, sub in commands.choices.items():
        assert sub.description, name
        for action in sub._actions:
            assert action.help, (name, action.dest)
    done = run(dict(os.environ), "create-user", "--help")
    assert done.returncode == 0, done.stderr
    assert "--password-stdin" in done.stdout
