"""The operator console: a server-rendered web page for the people behind the bot (issue 15).

Mounted at ``/console`` when ``[console] enabled`` (sandbox mode turns it on). No JavaScript: every action is
a plain HTML form with a CSRF token, and the Content-Security-Policy allows no script at all. Pages render
only stored values, which the gateway redacted before storing them, with Jinja's autoescape on.
"""

from __future__ import annotations

from aiohttp import web

from gateway.settings import Settings

PREFIX = "/console"


def setup_console(app: web.Application, settings: Settings) -> None:
    """Mount the console under ``/console`` if the configuration enables it."""
    if not settings.console.enabled:
        return
    from gateway.console.views import build_console_app

    app.add_subapp(PREFIX, build_console_app(settings))
