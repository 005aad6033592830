"""Migration 0003 of each service on a database with data in it (US-160, US-170): names are
split as the upcaster splits them, exercises get the defaults, and it can be undone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from teacher_hiring.bonus.bootstrap import MIGRATIONS as BONUS
from teacher_hiring.exercises.bootstrap import MIGRATIONS as EXERCISES
from teacher_hiring.hiring.bootstrap import MIGRATIONS as HIRING
from teacher_hiring.runtime.db import dispose, make_engine

pytestmark = pytest.mark.integration

NAMES = {"m1": "Anna Maria Petrova", "m2": "Madonna"}
SPLIT = {"m1": ("Anna", "Maria Petrova"), "m2": ("Madonna", "")}


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(database_url)
    yield engine
    dispose(engine)


def migrate(engine: sa.Engine, migrations: Path, revision: str, *, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(migrations))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(config, revision)


def rows(engine: sa.Engine, query: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(query))]


def test_exercises_splits_its_managers_and_gives_old_exercises_the_defaults(
    engine: sa.Engine,
) -> None:
    migrate(engine, EXERCISES, "0002")
    with engine.begin() as conn:
        for manager_id, name in NAMES.items():
            conn.execute(
                sa.text("INSERT INTO managers VALUES (:id, :name, 'm@s.example', 1.0, 1.0)"),
                {"id": manager_id, "name": name},
            )
        conn.execute(
            sa.text(
                "INSERT INTO exercises VALUES "
                "('e1', 'Sum', 'S', '[\"5\"]', 'exact', 'm1', 1, 'active', 1.0, 1.0)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO exercise_versions VALUES "
                "('e1', 1, 'Sum', 'S', '[\"5\"]', 'exact', 'm1', 1.0)"
            )
        )
    migrate(engine, EXERCISES, "head")

    found = rows(engine, "SELECT id, first_name, last_name, team FROM managers ORDER BY id")
    assert found == [(k, *SPLIT[k], None) for k in sorted(NAMES)]
    assert rows(engine, "SELECT subject, difficulty FROM exercises") == [("general", 3)]
    assert rows(engine, "SELECT subject, difficulty FROM exercise_versions") == [("general", 3)]

    migrate(engine, EXERCISES, "0002", down=True)
    assert rows(engine, "SELECT id, name FROM managers ORDER BY id") == sorted(NAMES.items())


@pytest.mark.parametrize(
    ("migrations", "key", "insert"),
    [
        (HIRING, "id", "INSERT INTO managers VALUES (:id, :name, 'm@s.example', 1.0)"),
        (BONUS, "manager_id", "INSERT INTO managers VALUES (:id, :name, 'm@s.example', 'now')"),
    ],
    ids=["hiring", "bonus"],
)
def test_the_manager_replicas_split_the_names_they_hold(
    engine: sa.Engine, migrations: Path, key: str, insert: str
) -> None:
    migrate(engine, migrations, "0002")
    with engine.begin() as conn:
        for manager_id, name in NAMES.items():
            conn.execute(sa.text(insert), {"id": manager_id, "name": name})
    migrate(engine, migrations, "head")

    query = f"SELECT {key}, first_name, last_name, team FROM managers ORDER BY {key}"
    assert rows(engine, query) == [(k, *SPLIT[k], None) for k in sorted(NAMES)]

    migrate(engine, migrations, "0002", down=True)
    assert rows(engine, f"SELECT {key}, name FROM managers ORDER BY {key}") == sorted(NAMES.items())


def test_hiring_gives_old_exercises_the_defaults_and_old_candidates_no_subject(
    engine: sa.Engine,
) -> None:
    migrate(engine, HIRING, "0002")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO exercises (id, title, statement, accepted_answers, check_mode, "
                "author_id, version, status, updated_at, replicated_at) VALUES "
                "('e1', 'Sum', 'S', '[\"5\"]', 'exact', 'm1', 1, 'active', 'now', 1.0)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO candidates VALUES ('c1', 'Ivan', 'i@m.example', 'candidate', 1, 1)"
            )
        )
    migrate(engine, HIRING, "head")
    assert rows(engine, "SELECT subject, difficulty FROM exercises") == [("general", 3)]
    assert rows(engine, "SELECT subject FROM candidates") == [(None,)]


def test_hiring_keeps_earlier_duplicate_emails_and_refuses_new_ones(engine: sa.Engine) -> None:
    """Duplicates from before 0006 stay (their money and submissions with them); the earliest
    holds the plain key, the later ones a marked one, and the index refuses a new duplicate."""
    migrate(engine, HIRING, "0005")
    with engine.begin() as conn:
        for candidate_id, email, at in [
            ("c2", " Ivan@Mail.example", 2),
            ("c1", "ivan@mail.example", 1),
            ("c3", "olga@mail.example", 3),
        ]:
            conn.execute(
                sa.text(
                    "INSERT INTO candidates (id, name, email, status, created_at, updated_at) "
                    "VALUES (:id, 'N', :email, 'candidate', :at, :at)"
                ),
                {"id": candidate_id, "email": email, "at": at},
            )
    migrate(engine, HIRING, "head")

    assert rows(engine, "SELECT id, email_key FROM candidates ORDER BY id") == [
        ("c1", "ivan@mail.example"),
        ("c2", "ivan@mail.example#duplicate-c2"),
        ("c3", "olga@mail.example"),
    ]
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO candidates (id, name, email, email_key, status, created_at, "
                "updated_at) VALUES ('c4', 'N', 'IVAN@mail.example', 'ivan@mail.example', "
                "'candidate', 4, 4)"
            )
        )
    migrate(engine, HIRING, "0005", down=True)
    assert rows(engine, "SELECT count(*) FROM candidates") == [(3,)]


def test_hiring_keys_candidates_by_mailbox_keeping_earlier_aliases(engine: sa.Engine) -> None:
    """From 0010 `ivan+2@` is `ivan@`'s mailbox: an alias registered before stays (money,
    submissions), marked a duplicate; the earliest of the mailbox holds the plain key."""
    migrate(engine, HIRING, "0009")
    with engine.begin() as conn:
        for candidate_id, email, at in [
            ("c1", "ivan+2@mail.example", 1),
            ("c2", "Ivan@mail.example", 2),
            ("c3", "o.lga@gmail.com", 3),
            ("c4", "olga@googlemail.com", 4),
            ("c5", "petr@mail.example", 5),
        ]:
            conn.execute(
                sa.text(
                    "INSERT INTO candidates (id, name, email, email_key, status, created_at, "
                    "updated_at) VALUES (:id, 'N', :email, :key, 'candidate', :at, :at)"
                ),
                {"id": candidate_id, "email": email, "key": email.lower(), "at": at},
            )
    migrate(engine, HIRING, "head")

    assert rows(engine, "SELECT id, email, email_key FROM candidates ORDER BY id") == [
        ("c1", "ivan+2@mail.example", "ivan@mail.example"),
        ("c2", "Ivan@mail.example", "ivan@mail.example#duplicate-c2"),
        ("c3", "o.lga@gmail.com", "olga@gmail.com"),
        ("c4", "olga@googlemail.com", "olga@gmail.com#duplicate-c4"),
        ("c5", "petr@mail.example", "petr@mail.example"),
    ]
    migrate(engine, HIRING, "0009", down=True)
    assert rows(engine, "SELECT id, email_key FROM candidates ORDER BY id") == [
        ("c1", "ivan+2@mail.example"),
        ("c2", "ivan@mail.example"),
        ("c3", "o.lga@gmail.com"),
        ("c4", "olga@googlemail.com"),
        ("c5", "petr@mail.example"),
    ]


def test_hiring_gives_earlier_candidates_no_registrar_nor_origin_and_can_undo_it(
    engine: sa.Engine,
) -> None:
    """0011: candidates registered before have no evidence (their completions count as nobody's
    own, docs/security.md); undone, the columns go and the candidates stay."""
    migrate(engine, HIRING, "0010")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO candidates (id, name, email, email_key, status, created_at, "
                "updated_at) VALUES ('c1', 'N', 'i@m.example', 'i@m.example', 'candidate', 1, 1)"
            )
        )
    migrate(engine, HIRING, "head")
    assert rows(engine, "SELECT registered_by, origin FROM candidates") == [(None, None)]
    migrate(engine, HIRING, "0010", down=True)
    assert rows(engine, "SELECT id FROM candidates") == [("c1",)]
    with engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("candidates")}
    assert not {"registered_by", "origin"} & columns


def test_exercises_keeps_earlier_assignments_without_evidence_and_can_undo_it(
    engine: sa.Engine,
) -> None:
    """0007: an assignment opened before has no evidence (its payment is made as before)."""
    migrate(engine, EXERCISES, "0006")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO managers (id, first_name, last_name, email, created_at, updated_at) "
                "VALUES ('m1', 'Anna', 'P', 'a@s.example', 1, 1)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO exercises (id, title, statement, accepted_answers, check_mode, "
                "author_id, version, status, created_at, updated_at) VALUES "
                "('e1', 'Sum', 'S', '[\"5\"]', 'exact', 'm1', 1, 'needs_complication', 1, 1)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO complication_assignments (id, exercise_id, exercise_version, "
                "assignee_id, status, opened_at) VALUES ('a1', 'e1', 1, 'm1', 'open', 1)"
            )
        )
    migrate(engine, EXERCISES, "head")
    assert rows(engine, "SELECT completed_by FROM complication_assignments") == [(None,)]
    assert rows(engine, "SELECT count(*) FROM payment_reviews") == [(0,)]
    migrate(engine, EXERCISES, "0006", down=True)
    assert rows(engine, "SELECT id FROM complication_assignments") == [("a1",)]
    with engine.connect() as conn:
        assert not {"payment_reviews", "manager_origins"} & set(sa.inspect(conn).get_table_names())
