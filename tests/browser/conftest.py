"""Fixtures of the browser tests; the rig lives in browser_support.py."""

from browser.browser_support import browser, page, site

__all__ = ["browser", "page", "site"]
