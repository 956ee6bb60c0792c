"""Mounting the /staff web area: the sub-app with login, logout, static files and every area's routes.

This module sits above `pages` (the shared layout, login and guard) and the area modules (items, tools, campaigns,
activities, followups, docs, questions), which import `pages` only; so the dependency is one-way. A new area adds
ONE `add_routes(staff_app)` line in `add_staff_pages`.
"""

from __future__ import annotations

from aiohttp import web

from bot.channels.web.context import SERVICES
from bot.channels.web.staff import activities, campaigns, docs, followups, items, questions, tools
from bot.channels.web.staff.pages import LOGIN_LIMIT, STATIC, login, login_form, logout
from bot.staff.login_throttle import LoginThrottle


async def _to_index(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther("/staff/")


def add_staff_pages(app: web.Application) -> web.Application:
    """Mount the staff pages under /staff/ on the web server `app` (which carries the services under SERVICES).

    Returns the sub-app, for more staff routes. The login throttle's figures come from the settings
    (login_free_failures, login_account_max_s, login_max_delay_s)."""
    staff_app = web.Application()
    settings = app[SERVICES].settings
    staff_app[LOGIN_LIMIT] = LoginThrottle(
        settings.login_free_failures, settings.login_account_max_s, settings.login_max_delay_s
    )
    staff_app.router.add_get("/login", login_form)
    staff_app.router.add_post("/login", login)
    staff_app.router.add_post("/logout", logout)
    staff_app.router.add_static("/static/", STATIC)
    items.add_routes(staff_app)
    tools.add_routes(staff_app)
    campaigns.add_routes(staff_app)
    activities.add_routes(staff_app)
    followups.add_routes(staff_app)  # /staff/followups: questions to follow up (issue 10)
    docs.add_routes(staff_app)
    questions.add_routes(staff_app)
    app.router.add_get("/staff", _to_index)
    app.add_subapp("/staff/", staff_app)
    return staff_app
