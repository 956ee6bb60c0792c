"""`lvzhi`'s command table: a command imports only the module that owns it, and the table matches the modules."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import COMMAND_MODULES, COMMANDS, build_parser, command_of

ROOT = Path(__file__).resolve().parents[1]


def registered_by(module: str) -> list[str]:
    """The top-level commands a module's register() adds, in order."""
    subparsers = argparse.ArgumentParser().add_subparsers(dest="command")
    importlib.import_module(module).register(subparsers)
    return list(subparsers.choices)


@pytest.mark.parametrize("module", COMMAND_MODULES)
def test_the_table_names_every_command_of_each_module(module: str) -> None:
    assert registered_by(module) == [name for name, owner in COMMANDS.items() if owner == module]


def test_command_of_skips_options() -> None:
    assert command_of(["-v", "ask", "--json", "问题"]) == "ask"
    assert command_of(["--help"]) is None and command_of([]) is None


def test_a_known_command_registers_its_own_module_only() -> None:
    parser = build_parser("ask")
    choices = parser._subparsers._group_actions[0].choices  # the sub-commands this parser knows
    assert sorted(choices) == ["ask", "eval"]
    assert sorted(build_parser(None)._subparsers._group_actions[0].choices) == sorted(COMMANDS)
    assert sorted(build_parser("nosuch")._subparsers._group_actions[0].choices) == sorted(COMMANDS)


def _modules_after(argv: list[str]) -> set[str]:
    """The modules imported by a new process that parses `lvzhi ARGV` (without running the command)."""
    code = (
        "import sys; from bot.cli import build_parser, command_of; "
        f"build_parser(command_of({argv!r})).parse_args({argv!r}); print('\\n'.join(sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_ask_imports_no_other_area_and_no_heavy_library() -> None:
    loaded = _modules_after(["ask", "问题"])
    assert "bot.answering.cli" in loaded
    for other in ("bot.records.cli", "bot.campaigns.cli", "bot.channels.cli", "bot.staff.cli", "aiohttp"):
        assert other not in loaded


def test_help_lists_every_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    for name in COMMANDS:
        assert name in out
