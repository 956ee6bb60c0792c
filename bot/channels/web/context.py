"""What every web handler reads from its application: the Services it carries and the cookie policy."""

from __future__ import annotations

from aiohttp import web

SERVICES = web.AppKey("services", object)


def services_of(request: web.Request):  # -> bot.services.Services
    """The Services carried by the application serving `request` (sub-applications see their parent's)."""
    return request.config_dict[SERVICES]


def secure_cookies(settings) -> bool:
    """LVZHI_COOKIE_SECURE, or by default whether LVZHI_PUBLIC_URL is an https address."""
    if settings.cookie_secure is not None:
        return bool(settings.cookie_secure)
    return str(settings.public_url or "").lower().startswith("https://")
