"""`python -m teacher_hiring.cli ...`: how `run` and the tests start services and the proxy."""

from teacher_hiring.cli.main import app

app()
