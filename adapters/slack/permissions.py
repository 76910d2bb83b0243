"""Who may change a channel's subscriptions and schedule on Slack.

Slack has no per-command permission setting an admin can restrict (anyone who sees a slash
command can run it), so the bot decides: workspace admins and owners (users.info), plus the
user ids and user group ids listed in `[slack] admins`. Answers are cached for a few minutes
(real time: this is about Slack's rate limits, not business time).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.client import api_error

log = logging.getLogger(__name__)

CACHE_SECONDS = 300.0


def split_admins(entries: Iterable[str]) -> tuple[frozenset[str], frozenset[str]]:
    """`[slack] admins` → (user ids, user group ids); anything else is a config error."""
    users, groups = set(), set()
    for raw in entries:
        entry = raw.strip()
        if entry[:1] in ("U", "W") and entry[1:].isalnum():
            users.add(entry)
        elif entry[:1] == "S" and entry[1:].isalnum():
            groups.add(entry)
        else:
            raise ValueError(
                f"[slack] admins: {raw!r} is neither a user id (U…/W…) nor a user group id (S…)"
            )
    return frozenset(users), frozenset(groups)


class AdminPolicy:
    """`await policy.can_manage(user_id)`; Slack API failures count as "no" and are logged."""

    def __init__(self, client: AsyncWebClient, admins: Iterable[str], cache_seconds: float = CACHE_SECONDS):
        self._client = client
        self._users, self._groups = split_admins(admins)
        self._ttl = cache_seconds
        self._user_cache: dict[str, tuple[float, bool]] = {}
        self._group_cache: dict[str, tuple[float, frozenset[str]]] = {}

    async def can_manage(self, user_id: str, client: AsyncWebClient | None = None) -> bool:
        """`client` carries the caller's workspace token (many workspaces); default: ours."""
        client = client or self._client
        if user_id in self._users:
            return True
        if await self._is_workspace_admin(user_id, client):
            return True
        for group in sorted(self._groups):
            if user_id in await self._group_members(group, client):
                return True
        return False

    async def _is_workspace_admin(self, user_id: str, client: AsyncWebClient) -> bool:
        cached = self._user_cache.get(user_id)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        try:
            resp = await client.users_info(user=user_id)
        except SlackApiError as exc:
            log.warning("slack: users.info for %s failed (%s); treating as not an admin",
                        user_id, api_error(exc))
            return False
        user = resp.get("user") or {}
        admin = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
        admin = admin and not user.get("deleted") and not user.get("is_restricted")
        self._user_cache[user_id] = (time.monotonic() + self._ttl, admin)
        return admin

    async def _group_members(self, group: str, client: AsyncWebClient) -> frozenset[str]:
        cached = self._group_cache.get(group)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        try:
            resp = await client.usergroups_users_list(usergroup=group)
        except SlackApiError as exc:
            log.warning("slack: usergroups.users.list for %s failed (%s)", group, api_error(exc))
            return frozenset()
        members = frozenset(resp.get("users") or [])
        self._group_cache[group] = (time.monotonic() + self._ttl, members)
        return members
