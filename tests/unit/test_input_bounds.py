"""The bounds at the door, at their edges: what is just allowed and what is just refused."""

from __future__ import annotations

from typing import Any

from teacher_hiring.runtime.input_bounds import (
    INT64_MAX,
    MAX_DEPTH,
    MAX_HEADER_VALUE_BYTES,
    MAX_HEADERS_BYTES,
    form_issue,
    json_issue,
    scope_refusal,
)


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_json_nested_to_the_bound_passes_and_one_level_more_is_refused() -> None:
    assert json_issue(nested(MAX_DEPTH)) is None
    refused = json_issue(nested(MAX_DEPTH + 1))
    assert refused is not None and refused["loc"] == ["body"]
    assert refused["msg"] == f"body: nested deeper than {MAX_DEPTH} levels"


def test_json_nested_past_the_parsers_own_limit_is_refused_the_same_way() -> None:
    refused = json_issue(nested(100_000))
    assert refused is not None and refused["type"] == "json_too_deep"


def test_the_largest_64_bit_integer_passes_and_the_next_is_refused_naming_its_field() -> None:
    assert json_issue(b'{"n": %d}' % INT64_MAX) is None
    refused = json_issue(b'{"items": [{"n": %d}]}' % (INT64_MAX + 1))
    assert refused is not None
    assert refused["loc"] == ["body", "items", 0, "n"]
    assert refused["msg"] == "body.items.0.n: a number beyond 64 bits"
    assert json_issue(b'{"n": 1e400}') is not None  # infinity as a double


def test_nul_characters_are_refused_in_values_and_keys() -> None:
    value = json_issue(b'{"name": "a\\u0000"}')
    assert value is not None and value["loc"] == ["body", "name"]
    key = json_issue(b'{"a\\u0000": 1}')
    assert key is not None and key["msg"] == "body: a key holds a NUL character"


def test_a_lone_surrogate_is_refused_but_a_pair_passes() -> None:
    assert json_issue(b'{"s": "\\ud83d\\ude00"}') is None
    assert json_issue(b'{"s": "\\ud800"}') is not None


def test_text_that_is_not_json_is_left_to_the_routes_parser() -> None:
    assert json_issue(b"{not json") is None
    assert json_issue(b'{"s": "\xff"}') is None  # FastAPI answers it as before, naming body


def test_a_form_with_a_nul_names_its_field() -> None:
    assert form_issue(b"name=Ivan&email=a%40b") is None
    refused = form_issue(b"name=Iv%00an")
    assert refused is not None and refused["loc"] == ["body", "name"]


def scope(headers: list[tuple[bytes, bytes]], path: str = "/x", query: bytes = b"") -> Any:
    return {"type": "http", "headers": headers, "path": path, "query_string": query}


def test_headers_at_their_bounds_pass_and_past_them_are_431_naming_them() -> None:
    at_bound = [(b"x-a", b"a" * MAX_HEADER_VALUE_BYTES)]
    assert scope_refusal(scope(at_bound)) is None
    one_more = [(b"x-a", b"a" * (MAX_HEADER_VALUE_BYTES + 1))]
    assert scope_refusal(scope(one_more)) == (
        431,
        f"header x-a: longer than {MAX_HEADER_VALUE_BYTES} bytes",
    )
    many = [(b"x-%d" % n, b"a" * 4096) for n in range(MAX_HEADERS_BYTES // 4096 + 1)]
    refusal = scope_refusal(scope(many))
    assert refusal is not None and refusal[0] == 431


def test_nul_in_the_path_or_a_query_parameter_is_422_naming_it() -> None:
    assert scope_refusal(scope([], query=b"a=1&b=%2500")) is None  # an escaped percent sign
    refusal = scope_refusal(scope([], query=b"a=1&b=x%00"))
    assert refusal is not None and refusal[0] == 422
    assert refusal[1][0]["loc"] == ["query", "b"]  # type: ignore[index]
    path = scope_refusal(scope([], path="/candidates/a\x00"))
    assert path is not None and path[1][0]["msg"] == "path: holds a NUL character"  # type: ignore[index]
