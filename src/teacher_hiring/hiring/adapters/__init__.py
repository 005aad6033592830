"""Storage of the hiring service: tables, repository, read views, migrations."""
