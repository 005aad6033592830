"""How many HTTP requests a service receives, by route: what calling it costs (Problem-060).

Routes are counted by their template (`/exercises/{exercise_id}`), never by the path sent, so
the number of series stays that of the API; a path that matches no route counts once as
`unmatched`.
"""

from __future__ import annotations

from prometheus_client import Counter
from starlette.types import Scope

HTTP_REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests received, by method and route template",
    ["service", "method", "route"],
)


def count_request(service: str, scope: Scope) -> None:
    route = getattr(scope.get("route"), "path", None) or "unmatched"
    HTTP_REQUESTS.labels(service, scope.get("method", ""), route).inc()
