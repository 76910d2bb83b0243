"""TOML + environment → validated settings.

pydantic does the validation (`extra="forbid"` turns an unknown key into an error); we
only collect every problem into one readable line per key, and never start half-configured.
Secrets come from the environment only.
"""

from __future__ import annotations

import os
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot import defaults

ALGORITHMS = ("news", "lexrank", "lsa", "textrank", "luhn", "kl", "sumbasic", "edmundson", "reduction")


class ConfigError(Exception):
    """The configuration is unusable; the message names the key(s)."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {value!r} (use an IANA name such as Europe/Berlin)") from exc
    return value


CRON_ALIASES = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")


def check_schedule(value: str) -> str:
    """`immediate`, or a standard 5-field cron expression that can actually fire."""
    value = " ".join(value.split())
    if value == "immediate":
        return value
    hint = f"bad schedule {value!r}: use 'immediate' or a 5-field cron expression like '0 8 * * *'"
    if value not in CRON_ALIASES and (len(value.split()) != 5 or not croniter.is_valid(value)):
        raise ValueError(hint)
    try:  # valid syntax that never fires (30 February) would stall the scheduler
        croniter(value, datetime(2026, 1, 1, tzinfo=UTC)).get_next(datetime)
    except Exception:  # croniter raises several types for impossible dates
        raise ValueError(f"{hint} (this one never fires)") from None
    return value


def check_algorithm(value: str) -> str:
    value = value.strip().lower()
    if value not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {value!r} (choose from {', '.join(ALGORITHMS)})")
    return value


def check_language_name(value: str) -> str:
    from bot.pipeline.languages import check_language  # imports sumy: only when a language is set

    return check_language(value)


def check_database(value: str) -> str:
    """An SQLite file path, or a `postgresql://user@host:port/db` URL without its password:
    the password comes from NEWSDIGEST_DATABASE_URL or PGPASSWORD, never from a config file."""
    from yarl import URL

    value = value.strip()
    if value.startswith(("postgresql://", "postgres://")):
        try:
            url = URL(value)
        except ValueError:
            raise ValueError("not a valid postgresql:// URL") from None
        if url.password is not None or "password" in url.query:
            raise ValueError("a database password does not belong in the config file; "
                             "set PGPASSWORD or NEWSDIGEST_DATABASE_URL instead")
    return value


class BotSettings(_Section):
    database: str = defaults.DATABASE
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = defaults.LOG_LEVEL
    poll_interval: Annotated[float, Field(gt=0)] = defaults.POLL_INTERVAL
    disable_after_failures: Annotated[int, Field(ge=1)] = defaults.DISABLE_AFTER_FAILURES
    adapters: list[str] | None = None  # None: every platform whose secrets are set, else console

    # with many workers: how long claimed work (a feed poll, a digest build or post) stays a
    # worker's before another takes it over; renewed every third of it while the work runs
    lease_seconds: Annotated[float, Field(ge=3)] = defaults.LEASE_SECONDS

    _database = field_validator("database")(check_database)

    @field_validator("adapters")
    @classmethod
    def _adapters(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return value
        from importlib.metadata import entry_points

        installed = sorted(ep.name for ep in entry_points(group="newsdigest.adapters"))
        unknown = [name for name in value if name not in installed]
        if unknown:
            raise ValueError(f"unknown adapter {unknown[0]!r} (installed: {', '.join(installed)})")
        return value


class FetchSettings(_Section):
    allow_private_addresses: bool = False
    user_agent: str = defaults.USER_AGENT
    connect_timeout: Annotated[float, Field(gt=0)] = defaults.CONNECT_TIMEOUT
    read_timeout: Annotated[float, Field(gt=0)] = defaults.READ_TIMEOUT
    deadline: Annotated[float, Field(gt=0)] = defaults.FETCH_DEADLINE
    max_feed_bytes: Annotated[int, Field(gt=0)] = defaults.MAX_FEED_BYTES
    max_page_bytes: Annotated[int, Field(gt=0)] = defaults.MAX_PAGE_BYTES
    max_redirects: Annotated[int, Field(ge=0, le=10)] = defaults.MAX_REDIRECTS
    per_host_concurrency: Annotated[int, Field(ge=1)] = defaults.PER_HOST_CONCURRENCY
    allowed_ports: list[int] | None = None  # None: the defaults; [] allows any port
    full_text: Literal["auto", "always", "never"] = defaults.FULL_TEXT

    def ports(self) -> tuple[int, ...] | None:
        if self.allowed_ports is None:
            return defaults.ALLOWED_PORTS
        return tuple(self.allowed_ports) or None


class SummarySettings(_Section):
    algorithm: str = defaults.ALGORITHM
    sentences: Annotated[int, Field(ge=1, le=20)] = defaults.SENTENCES
    language: str = defaults.LANGUAGE

    _algorithm = field_validator("algorithm")(check_algorithm)
    _language = field_validator("language")(check_language_name)


class DigestSettings(_Section):
    max_items: Annotated[int, Field(ge=1, le=200)] = defaults.MAX_ITEMS
    backfill: Annotated[int, Field(ge=0, le=200)] = defaults.BACKFILL
    schedule: str = defaults.SCHEDULE
    timezone: str = defaults.TIMEZONE
    title: str = defaults.DIGEST_TITLE
    repeat_stories: RepeatStories = defaults.REPEAT_STORIES

    _schedule = field_validator("schedule")(check_schedule)
    _timezone = field_validator("timezone")(check_timezone)


class FilterSettings(_Section):
    """`{ exclude = "sponsored" }`, `{ include = "solar power", field = "title" }`,
    `{ exclude = "^Opinion", regex = true }`."""

    include: str | None = None
    exclude: str | None = None
    regex: bool = False
    field: str = "any"

    @model_validator(mode="after")
    def _check(self) -> FilterSettings:
        from bot.filters import make_spec

        if (self.include is None) == (self.exclude is None):
            raise ValueError("a filter has exactly one of include or exclude")
        action, pattern = ("include", self.include) if self.include is not None else ("exclude", self.exclude)
        make_spec(action, pattern or "", regex=self.regex, field=self.field)
        return self

    def spec(self):  # noqa: ANN201 - bot.filters.FilterSpec, imported lazily
        from bot.filters import make_spec

        if self.include is not None:
            return make_spec("include", self.include, regex=self.regex, field=self.field)
        return make_spec("exclude", self.exclude or "", regex=self.regex, field=self.field)


RepeatStories = Literal["never", "update"]


class ChannelSettings(_Section):
    """Per-channel overrides; unset values fall back to [digest] and [summary]."""

    ref: str
    name: str | None = None
    schedule: str | None = None
    timezone: str | None = None
    max_items: Annotated[int, Field(ge=1, le=200)] | None = None
    backfill: Annotated[int, Field(ge=0, le=200)] | None = None
    sentences: Annotated[int, Field(ge=1, le=20)] | None = None
    algorithm: str | None = None
    language: str | None = None
    repeat_stories: RepeatStories | None = None
    filters: list[FilterSettings] = Field(default_factory=list)

    @field_validator("ref")
    @classmethod
    def _ref(cls, value: str) -> str:
        from bot.models import ChannelRef

        return str(ChannelRef.parse(value))

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        return None if value is None else check_schedule(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)

    @field_validator("algorithm")
    @classmethod
    def _algorithm(cls, value: str | None) -> str | None:
        return None if value is None else check_algorithm(value)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        return None if value is None else check_language_name(value)


class FeedSettings(_Section):
    url: str  # an http(s) URL, or a local file or folder
    channels: list[str] = Field(default_factory=lambda: ["console"])
    title: str | None = None
    full_text: Literal["auto", "always", "never"] | None = None
    filters: list[FilterSettings] = Field(default_factory=list)  # for this feed in each of its channels

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: list[str]) -> list[str]:
        from bot.models import ChannelRef

        return [str(ChannelRef.parse(v)) for v in value]


class DiscordSettings(_Section):
    api_base_url: str = defaults.DISCORD_API_BASE_URL
    gateway_url: str = defaults.DISCORD_GATEWAY_URL
    guild_ids: list[int] = Field(default_factory=list)
    # gateway sharding: None is one shard (as for a small bot); shard_ids: the shards this worker holds
    shard_count: Annotated[int, Field(ge=1)] | None = None
    shard_ids: list[Annotated[int, Field(ge=0)]] | None = None
    rest_per_second: Annotated[float, Field(gt=0, le=50)] = defaults.DISCORD_REST_PER_SECOND

    @model_validator(mode="after")
    def _shards(self) -> DiscordSettings:
        if self.shard_ids is not None:
            if self.shard_count is None:
                raise ValueError("shard_ids needs shard_count")
            bad = [i for i in self.shard_ids if i >= self.shard_count]
            if bad or len(set(self.shard_ids)) != len(self.shard_ids):  # [] holds no shard: REST only
                raise ValueError(f"shard_ids must be distinct numbers below shard_count ({self.shard_count})")
        return self


class SlackSettings(_Section):
    api_base_url: str = defaults.SLACK_API_BASE_URL
    http_host: str = defaults.SLACK_HTTP_HOST
    http_port: Annotated[int, Field(ge=0, le=65535)] = defaults.SLACK_HTTP_PORT
    mode: Literal["auto", "socket", "http", "oauth"] = "auto"
    admins: list[str] = Field(default_factory=list)  # user ids (U…) or user group ids (S…)
    commands: dict[str, str] = Field(default_factory=dict)  # e.g. {digest = "/news"}
    messages_per_second: Annotated[float, Field(gt=0)] = 1.0
    # many workspaces (the OAuth install flow); the client secret comes from the environment
    client_id: str | None = None
    install_path: str = defaults.SLACK_INSTALL_PATH
    redirect_uri_path: str = defaults.SLACK_REDIRECT_URI_PATH
    authorize_url: str = defaults.SLACK_AUTHORIZE_URL


class Settings(_Section):
    bot: BotSettings = BotSettings()
    fetch: FetchSettings = FetchSettings()
    summary: SummarySettings = SummarySettings()
    digest: DigestSettings = DigestSettings()
    channels: list[ChannelSettings] = Field(default_factory=list)
    feeds: list[FeedSettings] = Field(default_factory=list)
    discord: DiscordSettings = DiscordSettings()
    slack: SlackSettings = SlackSettings()
    embedded_default: bool = Field(default=False, exclude=True)


class Secrets(BaseModel):
    """Read from the environment only; never logged."""

    discord_token: str | None = None
    slack_bot_token: str | None = None
    slack_app_token: str | None = None
    slack_signing_secret: str | None = None
    slack_client_secret: str | None = None
    secret_key: str | None = None  # NEWSDIGEST_SECRET_KEY: a Fernet key for tokens at rest
    database_url: str | None = None  # NEWSDIGEST_DATABASE_URL: may carry the PostgreSQL password
    database_password: str | None = None  # PGPASSWORD (read by asyncpg itself); kept only to redact it

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Secrets:
        env = dict(os.environ if env is None else env)
        return cls(
            discord_token=env.get("DISCORD_TOKEN") or None,
            slack_bot_token=env.get("SLACK_BOT_TOKEN") or None,
            slack_app_token=env.get("SLACK_APP_TOKEN") or None,
            slack_signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
            slack_client_secret=env.get("SLACK_CLIENT_SECRET") or None,
            secret_key=env.get("NEWSDIGEST_SECRET_KEY") or None,
            database_url=env.get("NEWSDIGEST_DATABASE_URL") or None,
            database_password=env.get("PGPASSWORD") or None,
        )

    def values(self) -> list[str]:
        return [v for v in (self.discord_token, self.slack_bot_token, self.slack_app_token,
                            self.slack_signing_secret, self.slack_client_secret, self.secret_key,
                            self.database_password, _password_of(self.database_url)) if v]


def _password_of(url: str | None) -> str | None:
    from yarl import URL

    if not url:
        return None
    try:
        return URL(url).password
    except ValueError:
        return None


def _format_errors(source: str, exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        msg = msg.removeprefix("Value error, ")
        parts.append(f"{key}: {msg}")
    return f"{source}: " + "; ".join(parts)


def parse_settings(data: dict, source: str = "config") -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(source, exc)) from None


def seeds_folder() -> Path:
    """The sample articles: ./seeds in a checkout, the `bot.seeds` package data when installed."""
    installed = Path(__file__).resolve().parent / defaults.SEEDS_DIR
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent / defaults.SEEDS_DIR


def embedded_default() -> Settings:
    """No config at all: console channel, the seeds folder, a local SQLite file."""
    seeds = seeds_folder()
    return Settings(
        channels=[ChannelSettings(ref="console")],
        feeds=[FeedSettings(url=str(seeds), channels=["console"], title="Sample news")],
        embedded_default=True,
    )


def load_settings(path: str | None) -> Settings:
    """`--config FILE`, else ./newsdigest.toml if present, else the embedded default."""
    if path is None:
        candidate = Path("newsdigest.toml")
        if not candidate.is_file():
            return embedded_default()
        path = str(candidate)
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror or exc})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: config is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return parse_settings(data, path)
