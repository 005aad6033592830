"""Records checked the way an outside consumer would: the body, as it is, against the schema
file of its event and version, with a standard JSON Schema validator (the `jsonschema`
package, draft 2020-12, formats checked) and no trimming; the headers against what
messaging.wire promises."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
REQUIRED_HEADERS = (
    "ce_specversion",
    "ce_id",
    "ce_type",
    "ce_source",
    "ce_time",
    "ce_eventversion",
    "ce_traceid",
    "ce_dataschema",
    "content-type",
)


@cache
def validator(event_name: str, event_version: int) -> Draft202012Validator:
    path = SCHEMAS / event_name / f"v{event_version}.json"
    schema = json.loads(path.read_bytes())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def problems_of(value: bytes, headers: Mapping[str, str]) -> list[str]:
    """Why an outside consumer would refuse the record; empty when it would take it."""
    missing = [name for name in REQUIRED_HEADERS if not headers.get(name)]
    if missing:
        return [f"headers missing: {', '.join(missing)}"]
    name, version = headers["ce_type"], int(headers["ce_eventversion"])
    if headers["ce_dataschema"] != f"urn:teacher-hiring:event:{name}:v{version}":
        return [f"ce_dataschema {headers['ce_dataschema']} is not {name} v{version}'s"]
    body: Any = json.loads(value)
    return [
        f"{name} v{version} {'/'.join(map(str, error.absolute_path)) or 'body'}: {error.message}"
        for error in validator(name, version).iter_errors(body)
    ]
