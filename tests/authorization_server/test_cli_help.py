"""The three commands (`dropletbook-as`, `dropletbook-demo`, `dropletbook-migrate`): every
subcommand and option has help text, and the README's "Command line" section names them all."""

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest

from services import launcher, migrate
from services.authorization_server import cli
from tests.harness.servers import ROOT

README = ROOT / "README.md"


def _section(heading: str) -> str:
    text = README.read_text()
    start = text.index(heading)
    end = re.compile(r"^#{2,3} ", re.MULTILINE).search(text, start + len(heading))
    return text[start : end.start() if end else len(text)]


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(commands.choices)


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]


def _parsers() -> dict[str, argparse.ArgumentParser]:
    found = {f"dropletbook-as {n}": p for n, p in _subcommands(cli._parser()).items()}
    found["dropletbook-demo"] = launcher.parser()
    return found


@pytest.mark.parametrize("name", sorted(_parsers()))
def test_every_option_has_help_and_is_in_the_readme(name: str) -> None:
    parser = _parsers()[name]
    assert parser.description, name
    table = _section("### Command line (`dropletbook-as`)")
    rows = [line for line in table.splitlines() if line.startswith(f"| `{name}")]
    assert rows, f"no README row for {name}"
    shared = [line for line in table.splitlines() if "(every command)" in line]
    for action in _options(parser):
        assert action.help, (name, action.dest)
        for option in action.option_strings:
            assert any(option in row for row in rows + shared), f"{name} {option} not in README"


def test_every_dropletbook_as_command_is_in_the_readme() -> None:
    table = _section("### Command line (`dropletbook-as`)")
    for name in _subcommands(cli._parser()):
        assert f"| `dropletbook-as {name}" in table, name
    assert "`dropletbook-migrate" in table
    assert "`dropletbook-migrate [SERVICE ...]`" in table


def test_migrate_command_is_documented() -> None:
    section = _section("## Migrations")
    for service in migrate.SERVICES:
        assert f"`dropletbook-migrate {service}" in section or f"`{service}`" in section
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dropletbook-migrate"), "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "which databases" in done.stdout
