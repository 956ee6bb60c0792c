"""Database models, migrations and the Database handle."""

from bot.storage.db import Database

__all__ = ["Database"]
