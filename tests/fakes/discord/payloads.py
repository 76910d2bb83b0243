"""JSON objects the fake Discord returns, with every key discord.py 2.7 reads with `[]`."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

_ids = itertools.count(1_300_000_000_000_000_000)


def snowflake() -> str:
    return str(next(_ids))


def timestamp() -> str:
    return datetime.now(UTC).isoformat()


def user(user_id: str, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {"id": user_id, "username": name, "global_name": name, "discriminator": "0", "avatar": None,
            "bot": bot, "public_flags": 0, "flags": 0}


def member(user_obj: dict[str, Any], *, permissions: int | None = None) -> dict[str, Any]:
    data = {"user": user_obj, "roles": [], "flags": 0, "joined_at": "2025-01-01T00:00:00+00:00",
            "nick": None, "deaf": False, "mute": False, "pending": False}
    if permissions is not None:
        data["permissions"] = str(permissions)
    return data


def text_channel(channel_id: str, guild_id: str, name: str, position: int = 0) -> dict[str, Any]:
    return {"id": channel_id, "type": 0, "guild_id": guild_id, "name": name, "position": position,
            "permission_overwrites": [], "nsfw": False, "topic": None, "last_message_id": None,
            "rate_limit_per_user": 0, "parent_id": None, "flags": 0}


def guild(guild_id: str, name: str, channels: list[dict[str, Any]],
          bot_member: dict[str, Any]) -> dict[str, Any]:
    everyone = {"id": guild_id, "name": "@everyone", "color": 0, "hoist": False, "position": 0,
                "permissions": "0", "managed": False, "mentionable": False, "flags": 0}
    return {"id": guild_id, "name": name, "unavailable": False, "member_count": 2, "large": False,
            "owner_id": "1", "roles": [everyone], "channels": channels, "members": [bot_member],
            "threads": [], "emojis": [], "stickers": [], "stage_instances": [],
            "guild_scheduled_events": [], "soundboard_sounds": [], "voice_states": [], "presences": [],
            "features": [], "icon": None, "splash": None, "discovery_splash": None, "banner": None,
            "description": None, "afk_channel_id": None, "afk_timeout": 300, "verification_level": 0,
            "default_message_notifications": 0, "explicit_content_filter": 0, "mfa_level": 0,
            "system_channel_id": None, "system_channel_flags": 0, "rules_channel_id": None,
            "vanity_url_code": None, "premium_tier": 0, "preferred_locale": "en-US",
            "public_updates_channel_id": None, "nsfw_level": 0, "premium_progress_bar_enabled": False,
            "joined_at": "2025-01-01T00:00:00+00:00"}


def application(app_id: str, owner: dict[str, Any]) -> dict[str, Any]:
    return {"id": app_id, "name": "newsdigest-test", "description": "", "icon": None, "bot_public": True,
            "bot_require_code_grant": False, "owner": owner, "verify_key": "00" * 32, "flags": 0,
            "team": None, "summary": ""}


def message(message_id: str, channel_id: str, author: dict[str, Any], body: dict[str, Any], *,
            flags: int = 0, webhook_id: str | None = None) -> dict[str, Any]:
    data = {"id": message_id, "channel_id": channel_id, "author": author,
            "content": body.get("content") or "",
            "embeds": body.get("embeds") or [], "timestamp": timestamp(), "edited_timestamp": None,
            "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [],
            "attachments": [], "pinned": False, "type": 0, "flags": flags, "components": []}
    if body.get("nonce") is not None:
        data["nonce"] = body["nonce"]
    if webhook_id:
        data["webhook_id"] = webhook_id
    return data


def command(app_id: str, body: dict[str, Any], guild_id: str | None) -> dict[str, Any]:
    data = {"id": snowflake(), "application_id": app_id, "version": snowflake(), "type": body.get("type", 1),
            "name": body["name"], "description": body.get("description", ""),
            "options": body.get("options") or [], "default_member_permissions":
            body.get("default_member_permissions"), "dm_permission": body.get("dm_permission", True),
            "nsfw": body.get("nsfw", False)}
    if guild_id:
        data["guild_id"] = guild_id
    for key in ("contexts", "integration_types", "name_localizations", "description_localizations"):
        if key in body:
            data[key] = body[key]
    return data
