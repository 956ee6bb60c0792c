"""The `lvzhi` command: each feature module registers its own sub-commands."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# Modules that expose register(subparsers); each owns its sub-commands.
COMMAND_MODULES = [
    "bot.members.cli",
    "bot.suggestions.cli",
    "bot.channels.cli",
    "bot.knowledge.cli",
    "bot.answering.cli",
    "bot.records.cli",
    "bot.answering.llm_cli",
    "bot.campaigns.cli",
    "bot.staff.cli",
    "bot.activities.cli",
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered sub-command."""
    parser = argparse.ArgumentParser(prog="lvzhi", description="履职助手 Lvzhi")
    parser.add_argument("-v", "--verbose", action="store_true", help="输出调试日志")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
