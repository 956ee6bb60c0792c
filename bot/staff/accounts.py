"""Staff accounts: add, list, change passwords, remove; who is staff on a channel; web login check."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.staff import audit
from bot.staff.identity import Staff as Staff  # re-exported: Staff lives below sessions
from bot.staff.models import StaffAccount
from bot.staff.passwords import MIN_LENGTH, check_password, dummy_check, hash_password
from bot.staff.sessions import end_all

ROLES = ("staff", "admin")
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")


class StaffError(ValueError):
    """A refused staff operation; the message is Chinese, for the person who asked. `field` names the form input
    the message is about (e.g. "reason"), so a page can show it next to that input; empty when none."""

    def __init__(self, message: str = "", field: str = "") -> None:
        super().__init__(message)
        self.field = field


def _check_password(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise StaffError(f"密码至少需要 {MIN_LENGTH} 个字符")


def add(
    session: Session, actor: str, username: str, password: str, role: str = "staff",
    display_name: str = "", telegram_id: str | None = None,
) -> StaffAccount:  # fmt: skip
    """Create an account (audited); refuses a bad username, role, short password or a duplicate."""
    if not USERNAME.match(username):
        raise StaffError("用户名只能包含字母、数字、下划线、点和连字符（2–64 个字符）")
    if role not in ROLES:
        raise StaffError("角色只能是 staff（工作人员）或 admin（管理员）")
    _check_password(password)
    if telegram_id is not None and not str(telegram_id).lstrip("-").isdigit():
        raise StaffError("Telegram 用户 ID 必须是数字")
    if session.scalar(select(StaffAccount).where(StaffAccount.username == username)) is not None:
        raise StaffError(f"用户名 {username} 已存在")
    if telegram_id and session.scalar(
        select(StaffAccount).where(StaffAccount.telegram_id == str(telegram_id))
    ):
        raise StaffError(f"Telegram 用户 {telegram_id} 已绑定其他工作人员账号")
    account = StaffAccount(
        username=username, display_name=display_name or username, role=role,
        password_hash=hash_password(password), telegram_id=str(telegram_id) if telegram_id else None,
    )  # fmt: skip
    session.add(account)
    session.flush()
    audit.record(session, actor, "staff_add", f"staff:{username}", None, public(account), channel="cli")
    return account


def public(account: StaffAccount) -> dict:
    """The account's fields without the password hash (for the audit log and listings)."""
    return {
        "username": account.username,
        "display_name": account.display_name,
        "role": account.role,
        "telegram_id": account.telegram_id,
        "active": account.active,
    }


def get(session: Session, username: str) -> StaffAccount:
    """The account with this username, or StaffError."""
    account = session.scalar(select(StaffAccount).where(StaffAccount.username == username))
    if account is None:
        raise StaffError(f"没有名为 {username} 的工作人员账号")
    return account


def list_all(session: Session) -> list[StaffAccount]:
    """Every account, active ones first."""
    return list(
        session.scalars(select(StaffAccount).order_by(StaffAccount.active.desc(), StaffAccount.username))
    )


def set_password(session: Session, actor: str, username: str, password: str) -> None:
    """Replace the password (audited; the hash itself never reaches the log); ends the web sessions."""
    _check_password(password)
    account = get(session, username)
    account.password_hash = hash_password(password)
    end_all(session, account.id)
    audit.record(session, actor, "staff_password", f"staff:{username}", None, {"password": "changed"}, "cli")


def remove(session: Session, actor: str, username: str) -> None:
    """Deactivate the account (kept for the audit trail) and end its sessions."""
    account = get(session, username)
    before = public(account)
    account.active = False
    end_all(session, account.id)
    audit.record(session, actor, "staff_remove", f"staff:{username}", before, public(account), "cli")


def normalise_username(username: str) -> str:
    """A typed username as it is looked up: NFKC (full-width letters and spaces folded) and stripped of whitespace
    (tabs, ideographic spaces…). The login check and the login throttle both key on this."""
    return unicodedata.normalize("NFKC", username).strip()[:64]


def authenticate(session: Session, username: str, password: str) -> StaffAccount | None:
    """The active account whose password matches, else None (same time either way)."""
    name = normalise_username(username)
    account = session.scalar(select(StaffAccount).where(StaffAccount.username == name))
    if account is None or not account.active:
        dummy_check(password)
        return None
    return account if check_password(password, account.password_hash) else None


def admin_ids(raw: str) -> frozenset[str]:
    """The bootstrap admins' Telegram ids from the LVZHI_ADMIN_TELEGRAM_IDS setting."""
    return frozenset(p.strip() for p in raw.replace(";", ",").split(",") if p.strip().lstrip("-").isdigit())


def staff_for(
    session: Session, channel: str, user_id: str, bootstrap: frozenset[str] = frozenset()
) -> Staff | None:
    """The staff member behind a chat user, or None (members and strangers)."""
    if channel != "telegram":
        return None  # the web chat is anonymous; web staff log in on /staff
    account = session.scalar(
        select(StaffAccount).where(StaffAccount.telegram_id == str(user_id), StaffAccount.active.is_(True))
    )
    if account is not None:
        return Staff(account.username, account.role, account.display_name, channel)
    if str(user_id) in bootstrap:
        return Staff(f"tg-admin-{user_id}", "admin", "管理员", channel)
    return None
