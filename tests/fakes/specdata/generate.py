"""Regenerate the fakes' spec data from the full vendor specs (a maintainer tool, never run by tests).

The fakes only need a few facts from two large published documents, so we commit those facts
and keep the tests independent of anything outside the repository:

    python3 -m tests.fakes.specdata.generate --specs-dir DIR

DIR holds `discord-openapi.json` and `slack-web-openapi-v2.json`. Output is deterministic
(sorted keys, fixed indentation, trailing newline), so a rerun on the same specs changes nothing
and `--check` can tell whether the committed files are current.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DISCORD_SPEC = "discord-openapi.json"
SLACK_SPEC = "slack-web-openapi-v2.json"
DISCORD_OUT = HERE / "discord.json"
SLACK_OUT = HERE / "slack.json"

# Every (path, method) FakeDiscord routes under /api/v10 (test_specdata checks the router agrees).
DISCORD_ENDPOINTS: tuple[tuple[str, str], ...] = (
    ("/applications/{application_id}/commands", "put"),
    ("/applications/{application_id}/guilds/{guild_id}/commands", "put"),
    ("/channels/{channel_id}/messages", "post"),
    ("/gateway", "get"),
    ("/gateway/bot", "get"),
    ("/interactions/{interaction_id}/{interaction_token}/callback", "post"),
    ("/oauth2/applications/@me", "get"),
    ("/users/@me", "get"),
    ("/webhooks/{webhook_id}/{webhook_token}", "post"),
    ("/webhooks/{webhook_id}/{webhook_token}/messages/@original", "delete"),
    ("/webhooks/{webhook_id}/{webhook_token}/messages/@original", "patch"),
)

# Web API methods FakeSlack implements that the 2020 spec describes (apps.connections.open is
# newer than the spec and is described by hand in tests/fakes/slack/spec.py).
SLACK_METHODS: tuple[str, ...] = (
    "auth.revoke",
    "auth.test",
    "chat.postEphemeral",
    "chat.postMessage",
    "conversations.info",
    "oauth.v2.access",
    "usergroups.users.list",
    "users.info",
)


def dump(data: Any) -> str:
    """The one serialization both the generator and its check use."""
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def collect_refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.add(value)
            else:
                collect_refs(value, found)
    elif isinstance(node, list):
        for value in node:
            collect_refs(value, found)


def _pointer(doc: dict[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        raise ValueError(f"only local references are supported, got {ref}")
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _set_pointer(doc: dict[str, Any], ref: str, value: Any) -> None:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in ref[2:].split("/")]
    node = doc
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def discord_data(spec: dict[str, Any], digest: str) -> dict[str, Any]:
    """Request-body schemas of the served endpoints plus the components they reach, refs kept."""
    endpoints: dict[str, dict[str, Any]] = {}
    pending: set[str] = set()
    for path, method in DISCORD_ENDPOINTS:
        operation = spec["paths"][path][method]
        content = (operation.get("requestBody") or {}).get("content") or {}
        schema = (content.get("application/json") or {}).get("schema")
        if schema is not None:
            collect_refs(schema, pending)
        endpoints.setdefault(path, {})[method] = {"request_body": schema}
    bundled: dict[str, Any] = {}
    done: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in done:
            continue
        done.add(ref)
        target = _pointer(spec, ref)
        _set_pointer(bundled, ref, target)
        collect_refs(target, pending)
    return {
        "source": {"file": DISCORD_SPEC, "sha256": digest, "openapi": spec["openapi"],
                   "api_version": spec["info"].get("version")},
        "endpoints": endpoints,
        "components": bundled.get("components", {}),
    }


def slack_data(spec: dict[str, Any], digest: str) -> dict[str, Any]:
    """Argument names per served method, and the names of every method the spec knows."""
    methods: dict[str, dict[str, Any]] = {}
    for name in SLACK_METHODS:
        allowed: set[str] = set()
        required: set[str] = set()
        for operation in spec["paths"]["/" + name].values():
            for param in operation.get("parameters", []):
                arg = param.get("name")
                if not arg or arg == "token":  # the token travels in the Authorization header
                    continue
                allowed.add(arg)
                if param.get("required"):
                    required.add(arg)
        methods[name] = {"allowed": sorted(allowed), "required": sorted(required)}
    return {
        "source": {"file": SLACK_SPEC, "sha256": digest, "swagger": spec["swagger"],
                   "api_version": spec["info"].get("version")},
        "known_methods": sorted(route.lstrip("/") for route in spec["paths"]),
        "methods": methods,
    }


def _load(path: Path) -> tuple[dict[str, Any], str]:
    raw = path.read_bytes()
    return json.loads(raw), hashlib.sha256(raw).hexdigest()


def render(specs_dir: Path) -> dict[Path, str]:
    """Output file → its full text."""
    discord_spec, discord_sha = _load(specs_dir / DISCORD_SPEC)
    slack_spec, slack_sha = _load(specs_dir / SLACK_SPEC)
    return {DISCORD_OUT: dump(discord_data(discord_spec, discord_sha)),
            SLACK_OUT: dump(slack_data(slack_spec, slack_sha))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs-dir", type=Path, required=True, help="folder with the full vendor specs")
    parser.add_argument("--check", action="store_true", help="only report whether the committed files match")
    args = parser.parse_args(argv)
    stale = []
    for out, text in render(args.specs_dir).items():
        current = out.read_text(encoding="utf-8") if out.exists() else None
        if current == text:
            continue
        stale.append(out.name)
        if not args.check:
            out.write_text(text, encoding="utf-8", newline="\n")
    if args.check and stale:
        print("out of date: " + ", ".join(stale), file=sys.stderr)
        return 1
    print(("rewrote: " + ", ".join(stale)) if stale and not args.check else "up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
