"""Password hashing with hashlib.scrypt and a per-user random salt (constant-time check)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

N, R, P = 2**14, 8, 1
MIN_LENGTH = 8


def hash_password(password: str) -> str:
    """'scrypt$N$r$p$salt$hash' for the password."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${N}${R}${P}${b64(salt).decode()}${b64(digest).decode()}"


def check_password(password: str, stored: str) -> bool:
    """Whether the password matches the stored hash (False for an empty or unknown hash)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    salt_b, want = base64.b64decode(salt), base64.b64decode(digest)
    got = hashlib.scrypt(password.encode(), salt=salt_b, n=int(n), r=int(r), p=int(p), dklen=len(want))
    return hmac.compare_digest(got, want)


def dummy_check(password: str) -> None:
    """Spend the time of a real check (an unknown username answers no faster than a wrong password)."""
    hashlib.scrypt(password.encode(), salt=b"0" * 16, n=N, r=R, p=P, dklen=32)
