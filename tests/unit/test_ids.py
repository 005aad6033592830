"""New ids are random version-4 UUIDs in canonical text; trace ids are 32 lowercase hex digits."""

from __future__ import annotations

import re
import uuid

from teacher_hiring.foundation.ids import new_id, new_trace_id


def test_a_new_id_is_a_random_uuid_in_its_canonical_text() -> None:
    ids = [new_id() for _ in range(2000)]
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
    assert len(set(ids)) == len(ids)


def test_a_trace_id_is_32_lowercase_hex_digits_of_a_random_uuid() -> None:
    traces = [new_trace_id() for _ in range(2000)]
    for text in traces:
        assert re.fullmatch(r"[0-9a-f]{32}", text)
        assert uuid.UUID(hex=text).version == 4
    assert len(set(traces)) == len(traces)
