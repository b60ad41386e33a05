"""The Reconciliation Service API 0.2 JSON schemas (tests/fixtures/reconciliation-api-0.2, copied unchanged from
reconciliation-api/specs at commit 8d66bdba2e351a890a1126f2a8f139c9afd47553), ready to validate answers with:
``validate(doc, "suggest-entities-response")`` raises jsonschema's ValidationError when ``doc`` breaks it."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, RefResolver

SCHEMA_DIR = Path(__file__).parent / "fixtures" / "reconciliation-api-0.2"
SPECS_COMMIT = "8d66bdba2e351a890a1126f2a8f139c9afd47553"


@cache
def _schemas() -> dict[str, dict[str, Any]]:
    return {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(SCHEMA_DIR.glob("*.json"))}


@cache
def validator(name: str) -> Draft7Validator:
    """A validator for the schema ``name`` (its file name without .json); ``"$ref": "type.json"`` resolves
    against the schema's ``$id`` to the copied type.json (every schema is in the resolver's store)."""
    schemas = _schemas()
    schema = schemas[name]
    store = {doc["$id"]: doc for doc in schemas.values()}
    return Draft7Validator(schema, resolver=RefResolver(base_uri=schema["$id"], referrer=schema, store=store))


def validate(doc: Any, name: str) -> Any:
    """``doc`` when it is valid against schema ``name``; jsonschema.ValidationError otherwise."""
    validator(name).validate(doc)
    return doc
