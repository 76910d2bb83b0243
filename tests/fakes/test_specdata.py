"""The committed spec data is complete for what the fakes serve, and every schema in it compiles.

Whether the files still match the vendor specs is checked by the maintainer with
`python3 -m tests.fakes.specdata.generate --specs-dir DIR --check`; the specs are not in the repo.
"""

from __future__ import annotations

import json

from jsonschema import Draft202012Validator

from tests.fakes.discord import FakeDiscord
from tests.fakes.discord import spec as discord_spec
from tests.fakes.slack import FakeSlack
from tests.fakes.slack import spec as slack_spec
from tests.fakes.specdata import generate

API = "/api/v10"


def test_files_are_canonical_json() -> None:
    for path in (discord_spec.DATA_FILE, slack_spec.DATA_FILE):
        text = path.read_text(encoding="utf-8")
        assert text == generate.dump(json.loads(text)), f"{path.name} is not in generate.py's format"


def test_discord_data_shape_and_schemas_compile() -> None:
    data = discord_spec.load_spec()
    assert set(data) == {"source", "endpoints", "components"}
    assert data["source"]["file"] == generate.DISCORD_SPEC and len(data["source"]["sha256"]) == 64
    assert set(data["components"]) == {"schemas"}
    served = {(path, method) for path, methods in data["endpoints"].items() for method in methods}
    assert served == set(generate.DISCORD_ENDPOINTS)
    assert data["endpoints"]["/channels/{channel_id}/messages"]["post"]["request_body"] is not None
    for schema in data["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    refs: set[str] = set()
    generate.collect_refs(data, refs)
    assert refs, "the bundled schemas reference their components"
    resolver = discord_spec._registry().resolver()
    for ref in sorted(refs):
        assert ref.startswith("#/components/schemas/")
        resolver.lookup(discord_spec.SPEC_URN + ref)  # raises when a referenced component is missing
    for path, method in served:
        body = data["endpoints"][path][method]["request_body"]
        if body is None:
            assert discord_spec.body_validator(path, method) is None
            continue
        Draft202012Validator.check_schema(body)
        validator = discord_spec.body_validator(path, method)
        assert validator is not None
        assert not validator.is_valid("not a request body")


def test_every_route_of_the_fake_discord_has_an_entry() -> None:
    routed: set[tuple[str, str]] = set()
    for route in FakeDiscord().build_app().router.routes():
        path = route.resource.canonical if route.resource else ""
        if not path.startswith(API + "/") or route.method in ("HEAD", "*"):
            continue
        routed.add((path.removeprefix(API), route.method.lower()))
    assert ("/channels/{channel_id}/messages", "post") in routed
    assert routed <= set(generate.DISCORD_ENDPOINTS), routed - set(generate.DISCORD_ENDPOINTS)


def test_slack_data_shape() -> None:
    data = json.loads(slack_spec.DATA_FILE.read_text(encoding="utf-8"))
    assert set(data) == {"source", "known_methods", "methods"}
    assert data["source"]["file"] == generate.SLACK_SPEC and len(data["source"]["sha256"]) == 64
    assert data["known_methods"] == sorted(set(data["known_methods"]))
    assert set(data["methods"]) == set(generate.SLACK_METHODS)
    for name, table in data["methods"].items():
        assert name in data["known_methods"]
        assert set(table) == {"allowed", "required"}
        assert table["allowed"] == sorted(table["allowed"]) and table["required"] == sorted(table["required"])
        assert set(table["required"]) <= set(table["allowed"]), name
        assert "token" not in table["allowed"]
    assert "channel" in data["methods"]["chat.postMessage"]["required"]


def test_every_method_the_fake_slack_implements_has_an_argument_table() -> None:
    handlers = {name.removeprefix("_m_") for name in dir(FakeSlack) if name.startswith("_m_")}
    tables = {method.replace(".", "_") for method in slack_spec.load_methods()}
    assert "chat_postMessage" in handlers
    assert handlers <= tables, handlers - tables
