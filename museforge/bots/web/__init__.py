"""The web chat front-end (``museforge serve``): a FastAPI app and its page."""

from __future__ import annotations

from museforge.bots.web.app import create_app

__all__ = ["create_app"]
