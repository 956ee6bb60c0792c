"""The `lvzhi` command: each feature module registers its own sub-commands.

Start-up matters (`lvzhi ask` answers from a new process), so only the module that owns the command being run is
imported: COMMANDS maps each top-level command to that module. `lvzhi --help`, no command or an unknown one imports
every module, so the help lists everything from the modules' own registrations.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# Top-level command -> the module whose register(subparsers) adds it (in the order `lvzhi --help` lists them).
COMMANDS: dict[str, str] = {
    "members": "bot.members.cli",
    "suggestions": "bot.suggestions.cli",
    "export": "bot.suggestions.cli",
    "serve": "bot.channels.cli",
    "kb": "bot.knowledge.cli",
    "ingest": "bot.knowledge.cli",
    "vectors": "bot.knowledge.cli",
    "ask": "bot.answering.cli",
    "eval": "bot.answering.cli",
    "records": "bot.records.cli",
    "llm": "bot.answering.llm_cli",
    "campaigns": "bot.campaigns.cli",
    "staff": "bot.staff.cli",
    "activities": "bot.activities.cli",
}
# Modules that expose register(subparsers); each owns its sub-commands.
COMMAND_MODULES = list(dict.fromkeys(COMMANDS.values()))


def command_of(argv: list[str]) -> str | None:
    """The top-level command named in argv (the first argument that is not an option), or None."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser: with a known `command`, only the module that owns it is imported and registered;
    otherwise every registered sub-command (for the help and for the message about an unknown command)."""
    parser = argparse.ArgumentParser(prog="lvzhi", description="履职助手 Lvzhi")
    parser.add_argument("-v", "--verbose", action="store_true", help="输出调试日志")
    subparsers = parser.add_subparsers(dest="command", required=True)
    modules = [COMMANDS[command]] if command in COMMANDS else COMMAND_MODULES
    for name in modules:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(command_of(argv))
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return run_command(args.func, args)


def run_command(func, args: argparse.Namespace) -> int:
    """`func(args)` as a command's exit status; a setting that cannot be read (pydantic's ValidationError from
    Settings) is explained in Chinese on stderr, one line per setting, and gives status 2 instead of a traceback."""
    from pydantic import ValidationError

    from bot.settings import settings_problems

    try:
        return int(func(args) or 0)
    except ValidationError as exc:
        if exc.title != "Settings":
            raise
        for line in settings_problems(exc):
            print(line, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
