"""Embedding the registry's draft 2020-12 schemas where only draft-07 is understood (AsyncAPI 3).

A schema made only of keywords that mean the same in draft-07 and draft 2020-12 validates the
same documents under either, so it can be declared draft-07 by changing nothing but `$schema`.
The keywords below are those; anything else (`$ref`, whose siblings draft-07 ignores, `$defs`,
`prefixItems`, `unevaluatedProperties`, `dependentRequired`, `minContains`, an unknown keyword)
keeps the schema in 2020-12. `format` counts as the same: in both drafts whether a validator
asserts it is the validator's choice, and a draft-07 one ignores a format it does not know
(`uuid`, `duration`).
"""

from __future__ import annotations

from typing import Any

DRAFT_07 = "http://json-schema.org/draft-07/schema#"
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
DRAFT_07_FORMAT = "application/schema+json;version=draft-07"
DRAFT_2020_12_FORMAT = "application/schema+json;version=2020-12"

# Keywords whose value is data (or an annotation), with the same meaning in both drafts.
_PLAIN = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "$comment",
        "readOnly",
        "writeOnly",
        "type",
        "enum",
        "const",
        "multipleOf",
        "maximum",
        "exclusiveMaximum",
        "minimum",
        "exclusiveMinimum",
        "maxLength",
        "minLength",
        "pattern",
        "maxItems",
        "minItems",
        "uniqueItems",
        "maxProperties",
        "minProperties",
        "required",
        "format",
        "contentEncoding",
        "contentMediaType",
    }
)
# Keywords whose value is one schema, a map of schemas, or a list of schemas.
_ONE = frozenset(
    {"items", "additionalProperties", "contains", "propertyNames", "not", "if", "then", "else"}
)
_MAP = frozenset({"properties", "patternProperties"})
_LIST = frozenset({"allOf", "anyOf", "oneOf"})


def draft07_differences(schema: Any, path: str = "#") -> list[str]:
    """Where the schema would mean something else as draft-07 (empty: nowhere).

    `$schema` itself is not looked at: it is what an embedding changes.
    """
    if isinstance(schema, bool):
        return []
    if not isinstance(schema, dict):
        return [f"{path}: not a schema"]
    found: list[str] = []
    for keyword, value in schema.items():
        where = f"{path}/{keyword}"
        if keyword in _PLAIN or (keyword == "$schema" and path == "#"):
            continue
        if keyword == "$id" and isinstance(value, str) and "#" not in value:
            continue
        if keyword in _ONE:
            found += draft07_differences(value, where)
        elif keyword in _MAP and isinstance(value, dict):
            for name, sub in value.items():
                found += draft07_differences(sub, f"{where}/{name}")
        elif keyword in _LIST and isinstance(value, list):
            for index, sub in enumerate(value):
                found += draft07_differences(sub, f"{where}/{index}")
        else:
            found.append(f"{where}: not the same in draft-07")
    return found


def embed(schema: dict[str, Any]) -> dict[str, Any]:
    """An AsyncAPI 3 Multi Format Schema Object holding the schema, as draft-07 if it can be.

    A `$schema` at the root is set to the dialect the format names; a schema without one
    stays without.
    """
    if draft07_differences(schema):
        dialect, schema_format = DRAFT_2020_12, DRAFT_2020_12_FORMAT
    else:
        dialect, schema_format = DRAFT_07, DRAFT_07_FORMAT
    embedded = dict(schema)
    if "$schema" in embedded:
        embedded["$schema"] = dialect
    return {"schemaFormat": schema_format, "schema": embedded}
