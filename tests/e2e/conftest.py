"""Fixtures of the end-to-end suite; the helpers live in platform_api.py."""

from e2e.platform_api import api, platform

__all__ = ["api", "platform"]
