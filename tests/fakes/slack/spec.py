"""Argument checks for Web API calls, read from Slack's published OpenAPI (Swagger 2.0) file.

The spec is stale (2020) and models every argument as a form field, while slack_sdk sends JSON
for some methods, so we only compare argument *names*: unknown names and missing required ones
(`token` excepted: it travels in the Authorization header). Methods newer than the spec are
described by hand in EXTRA_METHODS.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SPEC_FILE = "slack-web-openapi-v2.json"

# Methods the bot calls that the 2020 spec does not know: name → (allowed, required).
EXTRA_METHODS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "apps.connections.open": (frozenset(), frozenset()),
}


# slack_sdk adds `team_id` to every call of a per-request client (bolt builds one per event for
# org-wide installs); the live API accepts it, the 2020 spec does not list it.
GLOBAL_ARGS = frozenset({"token", "team_id"})


def specs_dir() -> Path:
    override = os.environ.get("NEWSDIGEST_SPECS_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3].parent / "shared" / "specs"


@dataclass(frozen=True)
class MethodArgs:
    allowed: frozenset[str]
    required: frozenset[str]


@lru_cache(maxsize=1)
def load_methods() -> dict[str, MethodArgs]:
    """Method name → its argument table, from the spec plus EXTRA_METHODS."""
    path = specs_dir() / SPEC_FILE
    spec = json.loads(path.read_text(encoding="utf-8"))
    methods: dict[str, MethodArgs] = {}
    for route, operations in spec["paths"].items():
        allowed: set[str] = set()
        required: set[str] = set()
        for operation in operations.values():
            for param in operation.get("parameters", []):
                name = param.get("name")
                if not name or name == "token":
                    continue
                allowed.add(name)
                if param.get("required"):
                    required.add(name)
        methods[route.lstrip("/")] = MethodArgs(frozenset(allowed), frozenset(required))
    for name, (allowed_extra, required_extra) in EXTRA_METHODS.items():
        methods[name] = MethodArgs(allowed_extra, required_extra)
    return methods


def check_arguments(method: str, args: dict[str, object]) -> list[str]:
    """Problems with one call's arguments (empty when it matches the spec)."""
    table = load_methods().get(method)
    if table is None:
        return [f"{method}: not a Slack Web API method"]
    names = set(args) - GLOBAL_ARGS
    problems = [f"{method}: unknown argument {name!r}" for name in sorted(names - table.allowed)]
    problems += [f"{method}: missing required argument {name!r}" for name in sorted(table.required - names)]
    return problems
