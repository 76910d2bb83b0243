"""Workspace installations (one deployment, many chat workspaces) and whose channel is whose.

An installation's secrets (bot tokens) are stored only as a Fernet token made with the key from
NEWSDIGEST_SECRET_KEY, so a copied database file or backup does not leak them; the columns in
the clear are the ones needed to route and to report (workspace id, bot user, scopes, dates).
Uninstalling keeps the row without its secret, so the reason stays visible and a reinstall
resumes the same channels. The platform library stays in the adapter: this module only sees
opaque JSON objects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.store.db import Database, iso, parse_iso

KEY_HINT = ('make one with: python3 -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"')
HELD_REASON = "held while the workspace was uninstalled; the reinstall posted only the newest digest"


class SecretKeyError(ValueError):
    """The encryption key is missing, malformed, or not the one the data was sealed with."""


class SecretBox:
    """Seals JSON objects with Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`)."""

    def __init__(self, key: str | None) -> None:
        if not key:
            raise SecretKeyError(f"NEWSDIGEST_SECRET_KEY is not set ({KEY_HINT})")
        from cryptography.fernet import Fernet  # here: only the Slack install flow needs it

        try:
            self._fernet = Fernet(key.encode() if isinstance(key, str) else key)
        except (ValueError, TypeError):
            raise SecretKeyError("NEWSDIGEST_SECRET_KEY is not a Fernet key (32 url-safe "
                                 f"base64-encoded bytes; {KEY_HINT})") from None

    def seal(self, data: dict[str, Any]) -> bytes:
        return self._fernet.encrypt(json.dumps(data, sort_keys=True).encode())

    def open(self, blob: bytes) -> dict[str, Any]:
        from cryptography.fernet import InvalidToken

        try:
            return json.loads(self._fernet.decrypt(blob))
        except InvalidToken:
            raise SecretKeyError("a stored installation cannot be decrypted: NEWSDIGEST_SECRET_KEY "
                                 "differs from the key it was saved with") from None


@dataclass(slots=True)
class InstallationRow:
    platform: str
    workspace: str  # the team (workspace) id, or the enterprise id for an org-wide install
    enterprise: str  # "" outside Enterprise Grid
    bot_user_id: str | None
    scopes: str | None
    sealed: bytes | None  # None once uninstalled or revoked
    installed: datetime | None
    revoked: datetime | None
    revoked_reason: str | None

    @property
    def active(self) -> bool:
        return self.sealed is not None


def _row(row: Any) -> InstallationRow:
    return InstallationRow(
        platform=row["platform"], workspace=row["workspace"], enterprise=row["enterprise"],
        bot_user_id=row["bot_user_id"], scopes=row["scopes"],
        sealed=bytes(row["sealed"]) if row["sealed"] is not None else None,
        installed=parse_iso(row["installed"]), revoked=parse_iso(row["revoked"]),
        revoked_reason=row["revoked_reason"])


_CHANNELS_OF = ("SELECT c.id FROM channels c JOIN channel_workspaces w ON w.channel_ref = c.ref "
                "WHERE w.platform = ? AND w.workspace = ? AND w.enterprise = ?")


class Installations:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- installations -------------------------------------------------------------------

    async def save(self, platform: str, workspace: str, enterprise: str, *, sealed: bytes,
                   bot_user_id: str | None, scopes: str | None, now: datetime) -> bool:
        """Store (or replace) an installation; True when it revives an uninstalled one."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                    "SELECT revoked FROM installations WHERE platform = ? AND workspace = ? AND enterprise = ?",
                    (platform, workspace, enterprise)) as cur:
                before = await cur.fetchone()
            await conn.execute(
                "INSERT INTO installations (platform, workspace, enterprise, bot_user_id, scopes, sealed, installed) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (platform, workspace, enterprise) DO UPDATE SET "
                "bot_user_id = excluded.bot_user_id, scopes = excluded.scopes, sealed = excluded.sealed, "
                "installed = excluded.installed, revoked = NULL, revoked_reason = NULL",
                (platform, workspace, enterprise, bot_user_id, scopes, sealed, iso(now)))
            return before is not None and before[0] is not None

    async def get(self, platform: str, workspace: str, enterprise: str = "") -> InstallationRow | None:
        row = await self.db.fetchone(
            "SELECT * FROM installations WHERE platform = ? AND workspace = ? AND enterprise = ?",
            (platform, workspace, enterprise))
        return _row(row) if row else None

    async def active(self, platform: str) -> list[InstallationRow]:
        rows = await self.db.fetchall(
            "SELECT * FROM installations WHERE platform = ? AND sealed IS NOT NULL ORDER BY workspace",
            (platform,))
        return [_row(r) for r in rows]

    async def revoke(self, platform: str, workspace: str, enterprise: str, reason: str, now: datetime) -> int:
        """Forget the secrets, keep the row and the subscriptions; every channel of the workspace
        shows the reason at once. Returns how many channels are affected."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE installations SET sealed = NULL, revoked = ?, revoked_reason = ? "
                "WHERE platform = ? AND workspace = ? AND enterprise = ?",
                (iso(now), reason, platform, workspace, enterprise))
            cur = await conn.execute(f"UPDATE channels SET last_error = ? WHERE id IN ({_CHANNELS_OF})",  # noqa: S608
                                     (reason, platform, workspace, enterprise))
            return cur.rowcount or 0

    async def resume(self, platform: str, workspace: str, enterprise: str, now: datetime) -> int:
        """After a reinstall: per channel only the newest waiting digest goes out, now; older
        waiting digests are set aside (their articles count as skipped, like a backfill).
        Returns how many digests were set aside."""
        params = (platform, workspace, enterprise)
        async with self.db.transaction() as conn:
            async with conn.execute(
                f"SELECT d.id FROM digests d WHERE d.state = 'pending' AND d.kind = 'digest' "  # noqa: S608
                f"AND d.channel_id IN ({_CHANNELS_OF}) "
                "AND NOT EXISTS (SELECT 1 FROM digest_messages m WHERE m.digest_id = d.id) "
                "AND d.id < (SELECT MAX(n.id) FROM digests n WHERE n.channel_id = d.channel_id "
                "            AND n.state = 'pending' AND n.kind = 'digest')", params) as cur:
                held = [int(r[0]) for r in await cur.fetchall()]
            for digest_id in held:
                await conn.execute("UPDATE digests SET state = 'skipped', last_error = ? WHERE id = ?",
                                   (HELD_REASON, digest_id))
                await conn.execute("UPDATE deliveries SET state = 'skipped', reason = ? "
                                   "WHERE digest_id = ? AND state IN ('pending', 'rolled')", (HELD_REASON, digest_id))
            await conn.execute(f"UPDATE digests SET next_attempt = ? WHERE state = 'pending' "  # noqa: S608
                               f"AND channel_id IN ({_CHANNELS_OF})", (iso(now), *params))
            await conn.execute(f"UPDATE channels SET last_error = NULL WHERE id IN ({_CHANNELS_OF})",  # noqa: S608
                               params)
            return len(held)

    # ---- channel → workspace ---------------------------------------------------------------

    async def bind_channel(self, channel_ref: str, platform: str, workspace: str, enterprise: str,
                           now: datetime) -> None:
        """Remember which workspace a channel was used from (its digests go out with that token)."""
        current = await self.channel_workspace(channel_ref)
        if current == (workspace, enterprise):
            return
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO channel_workspaces (channel_ref, platform, workspace, enterprise, updated) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel_ref) DO UPDATE SET platform = excluded.platform, "
                "workspace = excluded.workspace, enterprise = excluded.enterprise, updated = excluded.updated",
                (channel_ref, platform, workspace, enterprise, iso(now)))

    async def channel_workspace(self, channel_ref: str) -> tuple[str, str] | None:
        row = await self.db.fetchone(
            "SELECT workspace, enterprise FROM channel_workspaces WHERE channel_ref = ?", (channel_ref,))
        return (row[0], row[1]) if row else None

    async def channel_workspaces(self) -> dict[str, str]:
        """Channel ref → workspace id, for reports such as `feeds list --json`."""
        rows = await self.db.fetchall("SELECT channel_ref, workspace FROM channel_workspaces")
        return {r[0]: r[1] for r in rows}

    # ---- one-time OAuth states ---------------------------------------------------------------

    async def issue_state(self, state: str, now: datetime, max_age: float) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM oauth_states WHERE created < ?",
                               (iso(now - timedelta(seconds=max_age)),))
            await conn.execute("INSERT INTO oauth_states (state, created) VALUES (?, ?)", (state, iso(now)))

    async def consume_state(self, state: str, now: datetime, max_age: float) -> bool:
        """True once for a state we issued less than `max_age` seconds ago; it is gone afterwards."""
        async with self.db.transaction() as conn:
            async with conn.execute("SELECT created FROM oauth_states WHERE state = ?", (state,)) as cur:
                row = await cur.fetchone()
            if row is None:
                return False
            await conn.execute("DELETE FROM oauth_states WHERE state = ?", (state,))
        created = parse_iso(row[0])
        return created is not None and (now - created).total_seconds() <= max_age
