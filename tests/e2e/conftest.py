"""Fixtures of the end-to-end suite; the helpers live in platform_api.py."""

from e2e.platform_api import api, kafka_bootstrap, platform, platform_env
from integration.postgres_server import postgres_admin, postgres_server

__all__ = [
    "api",
    "kafka_bootstrap",
    "platform",
    "platform_env",
    "postgres_admin",
    "postgres_server",
]
