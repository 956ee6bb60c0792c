"""Ingest documents into the Lvzhi knowledge base: python ingest.py PATH... [--index DIR] [--prune] [--no-progress]."""

import sys

from bot.knowledge.cli import main

if __name__ == "__main__":
    sys.exit(main())
