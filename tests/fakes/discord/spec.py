"""Request-body validation against Discord's published OpenAPI spec (platforms.md §3).

The schemas come from tests/fakes/specdata/discord.json, a committed subset of the spec (the
served endpoints and the components they reference) made by specdata/generate.py. Each body is
validated through a `$ref` into that document, so its `#/components/...` references resolve.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_URN = "urn:discord-openapi-subset"
DATA_FILE = Path(__file__).resolve().parents[1] / "specdata" / "discord.json"


@cache
def load_spec() -> dict[str, Any]:
    """The committed subset: {"source", "endpoints": {path: {method: {"request_body"}}}, "components"}."""
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


def _is_snowflake(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value >= 0
    return isinstance(value, str) and value.isdigit() and len(value) <= 20


@cache
def _checker() -> FormatChecker:
    checker = FormatChecker()
    checker.checks("snowflake")(_is_snowflake)
    return checker


@cache
def _registry() -> Registry:
    resource = Resource.from_contents(load_spec(), default_specification=DRAFT202012)
    return Registry().with_resource(SPEC_URN, resource)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


@cache
def body_validator(spec_path: str, method: str) -> Draft202012Validator | None:
    """A validator for the JSON request body of (path, method); None if the spec has none."""
    endpoint = load_spec()["endpoints"][spec_path][method]
    if endpoint["request_body"] is None:
        return None
    pointer = "/".join(["#", "endpoints", _escape(spec_path), method, "request_body"])
    return Draft202012Validator({"$ref": SPEC_URN + pointer}, registry=_registry(),
                                format_checker=_checker())


def validate_body(spec_path: str, method: str, body: Any) -> list[str]:
    """Every violation as `location: message` (empty when the body is valid)."""
    validator = body_validator(spec_path, method)
    if validator is None:
        return [] if body is None else [f"{method.upper()} {spec_path} takes no body"]
    errors = []
    for error in validator.iter_errors(body):
        where = "/".join(str(p) for p in error.absolute_path) or "(body)"
        rule = json.dumps(error.validator_value)[:80]
        errors.append(f"{where}: violates {error.validator} {rule}")
    return errors


def validate_path_params(params: dict[str, str]) -> list[str]:
    """Snowflake path parameters (ids) must be digits; tokens are free-form."""
    return [f"path {k}={v!r} is not a snowflake" for k, v in params.items()
            if k.endswith("_id") and not _is_snowflake(v)]
