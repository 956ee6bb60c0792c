"""Who is acting on the staff side: the `Staff` value (username, role, display name, channel).

A leaf module (no other staff module imported) so that both accounts and sessions can use it: accounts depends on
sessions (a password change or removal ends the web sessions), sessions never on accounts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Staff:
    """Who is acting: a staff username with a role (bootstrap admins have no account row)."""

    username: str
    role: str
    display_name: str = ""
    channel: str = ""

    @property
    def is_admin(self) -> bool:
        """Admins manage accounts."""
        return self.role == "admin"
