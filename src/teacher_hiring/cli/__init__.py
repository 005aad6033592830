"""The command line, `teacher-hiring`: one module per command or command group, put together
in `main`."""

from teacher_hiring.cli.main import app

__all__ = ["app"]
