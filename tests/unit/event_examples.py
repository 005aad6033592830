"""One realistic, valid example of every event, for any test that needs an event to send.

The examples tell one story: manager Anna wrote "Sum of two numbers", candidate Ivan solved it
as its 3rd completion, a later candidate solved it as its 11th, and Anna complicated it.
test_schema_registry checks that every (name, version) in the registry has an example here;
test_upcasters raises each one to the newest version of its event.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

MANAGER_ID = "4a3c2f0e-7d1b-4c55-9a8e-1f2b3c4d5e6f"
EXERCISE_ID = "9f8e7d6c-5b4a-4321-8fed-cba987654321"
CANDIDATE_ID = "c0ffee00-1234-4abc-8def-000000000001"
SUBMISSION_ID = "5b000000-0000-4000-8000-000000000003"
ASSIGNMENT_ID = "a5519000-0000-4000-8000-000000000001"
AT = "2025-03-14T09:26:53.589793Z"

_EXERCISE_V1: dict[str, Any] = {
    "exercise_id": EXERCISE_ID,
    "title": "Sum of two numbers",
    "statement": "What is 2 + 3? Answer with a number.",
    "accepted_answers": ["5", "five"],
    "check_mode": "normalized",
    "author_id": MANAGER_ID,
    "version": 1,
    "status": "active",
    "updated_at": AT,
}

EXAMPLE_PAYLOADS: dict[tuple[str, int], dict[str, Any]] = {
    ("ManagerCreated", 0): {
        "manager_id": MANAGER_ID,
        "name": "Anna Petrova",
        "email": "anna.petrova@school.example",
    },
    ("ManagerUpdated", 0): {
        "manager_id": MANAGER_ID,
        "name": "Anna Petrova-Smirnova",
        "email": "anna.petrova@school.example",
    },
    ("ManagerCreated", 1): {
        "manager_id": MANAGER_ID,
        "first_name": "Anna",
        "last_name": "Petrova",
        "team": "mathematics",
        "email": "anna.petrova@school.example",
    },
    ("ManagerUpdated", 1): {
        "manager_id": MANAGER_ID,
        "first_name": "Anna",
        "last_name": "Petrova-Smirnova",
        "team": None,
        "email": "anna.petrova@school.example",
    },
    ("ExerciseCreated", 0): _EXERCISE_V1,
    ("ExerciseUpdated", 0): {
        **_EXERCISE_V1,
        "statement": "What is 17 + 25? Answer with a number.",
        "accepted_answers": ["42"],
        "version": 2,
        "edited_by": MANAGER_ID,
    },
    ("ExerciseCreated", 1): {**_EXERCISE_V1, "subject": "mathematics", "difficulty": 1},
    ("ExerciseUpdated", 1): {
        **_EXERCISE_V1,
        "statement": "What is 17 + 25? Answer with a number.",
        "accepted_answers": ["42"],
        "subject": "mathematics",
        "difficulty": 2,
        "version": 2,
        "edited_by": MANAGER_ID,
    },
    ("CandidateCreated", 0): {
        "candidate_id": CANDIDATE_ID,
        "candidate_name": "Ivan Sidorov",
        "created_at": AT,
        "status": "candidate",
        "exercises_to_solve": [{"exercise_id": EXERCISE_ID}],
    },
    ("CandidateErased", 0): {
        "candidate_id": "c0ffee00-1234-4abc-8def-000000000001",
        "erased_at": "2025-03-15T10:00:00Z",
    },
    ("CandidateUpdated", 0): {
        "candidate_id": CANDIDATE_ID,
        "candidate_name": "Ivan Sidorov",
        "status": "teacher",
        "updated_at": AT,
        "exercises_to_solve": [],
        "exercises_solved": [{"exercise_id": EXERCISE_ID}],
    },
    ("ExerciseCompletedMoreThenTenTimes", 0): {
        "exercise_id": EXERCISE_ID,
        "title": "Sum of two numbers",
        "author_id": MANAGER_ID,
        "candidate_id": CANDIDATE_ID,
    },
    ("ExerciseCompletedMoreThenTenTimes", 1): {
        "exercise_id": EXERCISE_ID,
        "exercise_version": 1,
        "title": "Sum of two numbers",
        "author_id": MANAGER_ID,
        "candidate_id": CANDIDATE_ID,
    },
    ("ExerciseCompletedMoreThenTenTimes", 2): {
        "exercise_id": EXERCISE_ID,
        "exercise_version": 1,
        "title": "Sum of two numbers",
        "author_id": MANAGER_ID,
        "candidate_id": CANDIDATE_ID,
        "completed_by": [
            {"candidate_id": CANDIDATE_ID, "registered_by": MANAGER_ID, "origin": None},
            {
                "candidate_id": "5d7a1c34-2f6b-4f5e-9a70-0b1c2d3e4f50",
                "registered_by": None,
                "origin": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
            },
        ],
    },
    ("TaskRatingChanged", 0): {
        "exercise_id": EXERCISE_ID,
        "exercise_version": 1,
        "rating": 40,
        "rating_version": 2,
        "attempted_candidates": 5,
        "failed_first_attempts": 2,
        "changed_at": AT,
    },
    ("BonusAdded", 0): {
        "manager_id": MANAGER_ID,
        "amount_cents": 1400,
        "submission_id": SUBMISSION_ID,
        "candidate_id": CANDIDATE_ID,
        "exercise_id": EXERCISE_ID,
        "exercise_version": 1,
        "completion_number": 3,
        "rating": 40,
        "rating_version": 2,
        "occurred_at": AT,
    },
    ("FineAdded", 0): {
        "manager_id": MANAGER_ID,
        "amount_cents": 500,
        "submission_id": SUBMISSION_ID,
        "candidate_id": CANDIDATE_ID,
        "exercise_id": EXERCISE_ID,
        "exercise_version": 1,
        "completion_number": 11,
        "reason": "exercise solved more than 10 times before it was complicated",
        "occurred_at": AT,
    },
    ("PaymentCommited", 0): {
        "manager_id": MANAGER_ID,
        "amount_cents": 3000,
        "assignment_id": ASSIGNMENT_ID,
        "exercise_id": EXERCISE_ID,
        "exercise_version": 2,
        "occurred_at": AT,
    },
}

PRODUCERS: dict[str, str] = {
    "ManagerCreated": "exercises",
    "ManagerUpdated": "exercises",
    "ExerciseCreated": "exercises",
    "ExerciseUpdated": "exercises",
    "PaymentCommited": "exercises",
    "CandidateCreated": "hiring",
    "CandidateUpdated": "hiring",
    "CandidateErased": "hiring",
    "ExerciseCompletedMoreThenTenTimes": "hiring",
    "TaskRatingChanged": "hiring",
    "BonusAdded": "hiring",
    "FineAdded": "hiring",
}


def example_payload(name: str, version: int = 0) -> dict[str, Any]:
    """A fresh copy, so a test that breaks a field cannot break the next test."""
    return copy.deepcopy(EXAMPLE_PAYLOADS[(name, version)])


def example_envelope(name: str, version: int = 0) -> dict[str, Any]:
    """A complete, valid event as it travels on the wire, with a new event id each call."""
    return {
        "event_id": str(uuid.uuid4()),
        "event_version": version,
        "event_name": name,
        "produced_at": AT,
        "producer": PRODUCERS[name],
        "trace_id": uuid.uuid4().hex,
        "payload": example_payload(name, version),
    }
