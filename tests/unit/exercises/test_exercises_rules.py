"""The rules of exercise authoring and complication, with no I/O."""

from __future__ import annotations

from dataclasses import replace

import pytest

from teacher_hiring.exercises.domain.errors import (
    EditNotAllowed,
    InvalidValue,
    NoManagerToAssign,
    NothingChanged,
    VersionConflict,
)
from teacher_hiring.exercises.domain.model import (
    ComplicationAssignment,
    Exercise,
    Manager,
    choose_assignee,
    ensure_may_edit,
    may_see_answers,
    status_after_save,
    version_to_complicate,
)
from teacher_hiring.foundation.time import epoch_seconds, rfc3339


def sum_exercise(**fields: object) -> Exercise:
    defaults: dict[str, object] = {
        "id": "e1",
        "author_id": "anna",
        "title": "Sum",
        "statement": "What is 2 + 3?",
        "accepted_answers": ("5",),
        "check_mode": "normalized",
    }
    return Exercise(**{**defaults, **fields})  # type: ignore[arg-type]


def test_an_edit_makes_the_next_version_with_only_the_given_fields_changed() -> None:
    exercise = sum_exercise()
    revised = exercise.revised(statement="What is 17 + 25?", accepted_answers=("42",))
    assert revised.version == 2
    assert (revised.title, revised.check_mode) == ("Sum", "normalized")
    assert revised.accepted_answers == ("42",)


def test_an_edit_from_an_older_version_is_refused_with_the_current_one() -> None:
    exercise = sum_exercise(version=3)
    with pytest.raises(VersionConflict) as refused:
        exercise.revised(title="New", expected_version=2)
    assert refused.value.extra["current_version"] == 3
    assert exercise.revised(title="New", expected_version=3).version == 4


def test_an_edit_that_changes_nothing_is_refused_naming_the_fields() -> None:
    exercise = sum_exercise()
    with pytest.raises(NothingChanged, match=r"^title: nothing changed"):
        exercise.revised(title="Sum")
    with pytest.raises(NothingChanged, match="title, statement, accepted_answers, check_mode"):
        exercise.revised()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": ""}, "title"),
        ({"statement": "x" * 20_001}, "statement"),
        ({"accepted_answers": ()}, "accepted_answers"),
        ({"accepted_answers": ("",)}, "accepted_answers"),
        ({"accepted_answers": tuple(str(i) for i in range(21))}, "accepted_answers"),
        ({"version": 0}, "version"),
        ({"subject": ""}, "subject"),
        ({"subject": "Mathematics"}, "subject"),
        ({"subject": "x" * 51}, "subject"),
        ({"difficulty": 0}, "difficulty"),
        ({"difficulty": 6}, "difficulty"),
    ],
)
def test_exercise_content_out_of_bounds_is_refused_naming_the_field(
    fields: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidValue, match=f"^{field}:"):
        sum_exercise(**fields)


def test_an_exercise_has_the_default_subject_and_difficulty_until_an_edit_changes_them() -> None:
    exercise = sum_exercise()
    assert (exercise.subject, exercise.difficulty) == ("general", 3)
    revised = exercise.revised(subject="mathematics", difficulty=5)
    assert (revised.version, revised.subject, revised.difficulty) == (2, "mathematics", 5)
    with pytest.raises(NothingChanged, match=r"^subject: nothing changed"):
        revised.revised(subject="mathematics")


def test_a_manager_needs_a_first_name_and_an_email_address() -> None:
    with pytest.raises(InvalidValue, match=r"^first_name:"):
        Manager("m", "", "Petrova", "anna@school.example")
    with pytest.raises(InvalidValue, match=r"^first_name:"):
        Manager("m", "  ", "Petrova", "anna@school.example")
    with pytest.raises(InvalidValue, match=r"^email:"):
        Manager("m", "Anna", "", "anna at school")
    with pytest.raises(InvalidValue, match=r"^team:"):
        Manager("m", "Anna", "", "anna@school.example", team="")
    with pytest.raises(InvalidValue, match=r"^last_name: first and last name together"):
        Manager("m", "A" * 100, "P" * 100, "anna@school.example")
    manager = Manager("m", "Anna", "", "anna@school.example")
    assert manager.name == "Anna"
    assert manager.changed(email="anna@other.example").email == "anna@other.example"
    with pytest.raises(NothingChanged):
        manager.changed()


def test_a_manager_is_shown_by_first_and_last_name_and_the_team_can_be_removed() -> None:
    manager = Manager("m", "Anna", "Petrova", "anna@school.example", team="mathematics")
    assert manager.name == "Anna Petrova"
    assert manager.changed(last_name="Smirnova").name == "Anna Smirnova"
    assert manager.changed(team=None).team is None
    assert manager.changed(first_name="Ann").team == "mathematics"


def test_a_leak_of_the_current_version_is_complicated() -> None:
    assert version_to_complicate(sum_exercise(version=2), leaked_version=2) == 2


def test_a_leak_of_a_version_a_later_save_replaced_leaves_nothing_to_complicate() -> None:
    assert version_to_complicate(sum_exercise(version=3), leaked_version=2) is None
    assert version_to_complicate(sum_exercise(version=3), leaked_version=1) is None


def test_a_leak_of_a_version_never_saved_here_is_refused_naming_exercise_version() -> None:
    with pytest.raises(InvalidValue) as refused:
        version_to_complicate(sum_exercise(version=2), leaked_version=3)
    assert refused.value.extra["field"] == "exercise_version"


def test_the_author_complicates_their_own_leaked_exercise() -> None:
    assert choose_assignee("author", "anna", {"anna": 5, "boris": 0}) == "anna"


def test_an_unknown_author_falls_back_to_the_least_loaded_manager() -> None:
    assert choose_assignee("author", "gone", {"anna": 2, "boris": 1, "vera": 1}) == "boris"


def test_the_least_loaded_policy_ignores_the_author_and_breaks_ties_by_id() -> None:
    assert choose_assignee("least_loaded", "anna", {"vera": 0, "anna": 1, "boris": 0}) == "boris"


def test_with_no_manager_at_all_nobody_can_be_assigned() -> None:
    with pytest.raises(NoManagerToAssign):
        choose_assignee("least_loaded", "anna", {})


def test_only_the_assignees_save_closes_an_open_assignment() -> None:
    assignment = ComplicationAssignment("a1", "e1", 1, assignee_id="anna")
    assert assignment.closed_by_save_of("anna")
    assert not assignment.closed_by_save_of("boris")
    assert not replace(assignment, status="closed").closed_by_save_of("anna")


def test_an_exercise_needs_complication_while_any_assignment_stays_open() -> None:
    assert status_after_save(open_assignments_left=1) == "needs_complication"
    assert status_after_save(open_assignments_left=0) == "active"


def test_times_round_trip_through_rfc3339_with_z() -> None:
    text = rfc3339(1_741_944_413.589793)
    assert text == "2025-03-14T09:26:53.589793Z"
    assert epoch_seconds(text) == pytest.approx(1_741_944_413.589793)
    assert epoch_seconds("2025-03-14T09:26:53+00:00") == epoch_seconds("2025-03-14T09:26:53Z")


def test_only_the_author_or_the_holder_of_an_open_assignment_may_edit() -> None:
    exercise = sum_exercise()
    boris_open = ComplicationAssignment("a1", "e1", 1, "boris")
    boris_closed = replace(boris_open, status="closed", closed_with_version=2)

    ensure_may_edit(exercise, "anna", [])
    ensure_may_edit(exercise, "boris", [boris_open])
    with pytest.raises(EditNotAllowed, match=r"^editor_id: manager boris may not edit"):
        ensure_may_edit(exercise, "boris", [boris_closed])
    with pytest.raises(EditNotAllowed):
        ensure_may_edit(exercise, "vera", [boris_open])


def test_a_manager_sees_the_answers_of_what_they_may_edit_only() -> None:
    assert may_see_answers("anna", "anna", holds_open_assignment=False)
    assert may_see_answers("anna", "boris", holds_open_assignment=True)
    assert not may_see_answers("anna", "boris", holds_open_assignment=False)
