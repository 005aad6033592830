"""Storage and the outside world: tables, repository, read views, the exercises client."""
