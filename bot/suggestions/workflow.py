"""The status workflow of each suggestion type (DOMAIN.md): which moves are legal."""

from __future__ import annotations

INITIAL = "submitted"

# type -> status -> statuses it may move to
TRANSITIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "proposal": {
        "submitted": ("reviewing",),
        "reviewing": ("accepted", "rejected"),
        "accepted": ("assigned",),
        "assigned": ("handling",),
        "handling": ("answered",),
        "answered": ("rated", "closed"),
        "rated": ("closed",),
    },
    "opinion": {
        "submitted": ("reviewing",),
        "reviewing": ("adopted", "not_adopted"),
    },
    "micro": {
        "submitted": ("reviewing",),
        "reviewing": ("answered", "not_adopted"),
        "answered": ("closed",),
    },
    "campaign": {
        "submitted": ("collected", "not_adopted"),
    },
}

# moves that need a reason (不予立案 must say why)
REASON_REQUIRED = {"rejected", "not_adopted"}


def allowed_moves(type_key: str, status: str) -> tuple[str, ...]:
    """The statuses an item of this type may move to from its current status."""
    return TRANSITIONS.get(type_key, {}).get(status, ())


def all_statuses(type_key: str) -> set[str]:
    """Every status an item of this type can be in."""
    moves = TRANSITIONS.get(type_key, {})
    return {INITIAL, *moves, *(s for targets in moves.values() for s in targets)}
