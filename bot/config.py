"""TOML + environment → validated settings.

msgspec does the validation because every CLI command pays for it at start-up: importing
pydantic and building these models took 200–270 ms, msgspec imports in about 30 ms.
`msgspec.convert` checks types, bounds (`msgspec.Meta`) and choices (`Literal`) and refuses
unknown keys (`forbid_unknown_fields`); our own checks (schedule, time zone, channel refs, …)
run in `__post_init__`, so sections built in code are checked and normalized too.

msgspec stops at the first error of a conversion, so `parse_settings` converts each
top-level section and each `[[channels]]` / `[[feeds]]` entry on its own and joins all their
errors into one line, `"{source}: key.path: message; …"`: one bad section never hides
another, and we never start half-configured. Secrets come from the environment only.
"""

from __future__ import annotations

import copy
import os
import re
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from bot import defaults

ALGORITHMS = ("news", "lexrank", "lsa", "textrank", "luhn", "kl", "sumbasic", "edmundson", "reduction")
CRON_ALIASES = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")

FullText = Literal["auto", "always", "never"]
RepeatStories = Literal["never", "update"]


class ConfigError(Exception):
    """The configuration is unusable; the message names the key(s)."""


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {value!r} (use an IANA name such as Europe/Berlin)") from exc
    return value


def check_schedule(value: str) -> str:
    """`immediate`, or a standard 5-field cron expression that can actually fire."""
    value = " ".join(value.split())
    if value == "immediate":
        return value
    from croniter import croniter  # ~30 ms: only for a cron schedule

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
    if value == defaults.LANGUAGE:  # every start checks the default: skip importing the language tables
        return value
    from bot.pipeline.languages import check_language

    return check_language(value)


def check_database(value: str) -> str:
    """An SQLite file path, or a `postgresql://user@host:port/db` URL without its password:
    the password comes from NEWSDIGEST_DATABASE_URL or PGPASSWORD, never from a config file."""
    value = value.strip()
    if value.startswith(("postgresql://", "postgres://")):
        from yarl import URL

        try:
            url = URL(value)
        except ValueError:
            raise ValueError("not a valid postgresql:// URL") from None
        if url.password is not None or "password" in url.query:
            raise ValueError("a database password does not belong in the config file; "
                             "set PGPASSWORD or NEWSDIGEST_DATABASE_URL instead")
    return value


def _check_adapters(value: list[str]) -> list[str]:
    from importlib.metadata import entry_points

    installed = sorted(ep.name for ep in entry_points(group="newsdigest.adapters"))
    unknown = [name for name in value if name not in installed]
    if unknown:
        raise ValueError(f"unknown adapter {unknown[0]!r} (installed: {', '.join(installed)})")
    return value


def _channel_ref(value: str) -> str:
    from bot.models import ChannelRef

    return str(ChannelRef.parse(value))


def _channel_refs(value: list[str]) -> list[str]:
    return [_channel_ref(v) for v in value]


class _Invalid(ValueError):
    """What a section's own checks refused, as (key, message) pairs, so each error names its key."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{key}: {message}" for key, message in problems))
        self.problems = problems


class _Section(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A config table: an unknown key is an error, and loaded settings never change."""

    def _normalize(self, **checks: Callable[[Any], Any]) -> None:
        """Run each key's check (unset keys are skipped), keep the value it returns, and
        raise one error naming every key that failed."""
        problems = []
        for key, check in checks.items():
            value = getattr(self, key)
            if value is None:
                continue
            try:
                msgspec.structs.force_setattr(self, key, check(value))
            except ValueError as exc:
                problems.append((key, str(exc)))
        if problems:
            raise _Invalid(problems)

    def replace(self, **changes: Any) -> Self:
        """A copy with `changes`, unchecked (as pydantic's `model_copy` was): for overrides from
        the command line or the environment, whose database URL may carry the password that
        `check_database` refuses in a file."""
        changed = copy.copy(self)
        for key, value in changes.items():
            msgspec.structs.force_setattr(changed, key, value)
        return changed


class BotSettings(_Section):
    database: str = defaults.DATABASE
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = defaults.LOG_LEVEL
    poll_interval: Annotated[float, msgspec.Meta(gt=0)] = defaults.POLL_INTERVAL
    disable_after_failures: Annotated[int, msgspec.Meta(ge=1)] = defaults.DISABLE_AFTER_FAILURES
    adapters: list[str] | None = None  # None: every platform whose secrets are set, else console

    # with many workers: how long claimed work (a feed poll, a digest build or post) stays a
    # worker's before another takes it over; renewed every third of it while the work runs
    lease_seconds: Annotated[float, msgspec.Meta(ge=3)] = defaults.LEASE_SECONDS
    # processes this worker parses and summarizes in: 0 is in-process threads, None one per CPU core
    worker_processes: Annotated[int, msgspec.Meta(ge=0)] | None = defaults.WORKER_PROCESSES

    def __post_init__(self) -> None:
        self._normalize(database=check_database, adapters=_check_adapters)


class FetchSettings(_Section):
    allow_private_addresses: bool = False
    user_agent: str = defaults.USER_AGENT
    connect_timeout: Annotated[float, msgspec.Meta(gt=0)] = defaults.CONNECT_TIMEOUT
    read_timeout: Annotated[float, msgspec.Meta(gt=0)] = defaults.READ_TIMEOUT
    deadline: Annotated[float, msgspec.Meta(gt=0)] = defaults.FETCH_DEADLINE
    max_feed_bytes: Annotated[int, msgspec.Meta(gt=0)] = defaults.MAX_FEED_BYTES
    max_page_bytes: Annotated[int, msgspec.Meta(gt=0)] = defaults.MAX_PAGE_BYTES
    max_redirects: Annotated[int, msgspec.Meta(ge=0, le=10)] = defaults.MAX_REDIRECTS
    per_host_concurrency: Annotated[int, msgspec.Meta(ge=1)] = defaults.PER_HOST_CONCURRENCY
    allowed_ports: list[int] | None = None  # None: the defaults; [] allows any port
    full_text: FullText = defaults.FULL_TEXT

    def ports(self) -> tuple[int, ...] | None:
        if self.allowed_ports is None:
            return defaults.ALLOWED_PORTS
        return tuple(self.allowed_ports) or None


class SummarySettings(_Section):
    algorithm: str = defaults.ALGORITHM
    sentences: Annotated[int, msgspec.Meta(ge=1, le=20)] = defaults.SENTENCES
    language: str = defaults.LANGUAGE

    def __post_init__(self) -> None:
        self._normalize(algorithm=check_algorithm, language=check_language_name)


class DigestSettings(_Section):
    max_items: Annotated[int, msgspec.Meta(ge=1, le=200)] = defaults.MAX_ITEMS
    backfill: Annotated[int, msgspec.Meta(ge=0, le=200)] = defaults.BACKFILL
    schedule: str = defaults.SCHEDULE
    timezone: str = defaults.TIMEZONE
    title: str = defaults.DIGEST_TITLE
    repeat_stories: RepeatStories = defaults.REPEAT_STORIES

    def __post_init__(self) -> None:
        self._normalize(schedule=check_schedule, timezone=check_timezone)


class FilterSettings(_Section):
    """`{ exclude = "sponsored" }`, `{ include = "solar power", field = "title" }`,
    `{ exclude = "^Opinion", regex = true }`."""

    include: str | None = None
    exclude: str | None = None
    regex: bool = False
    field: str = "any"

    def __post_init__(self) -> None:
        if (self.include is None) == (self.exclude is None):
            raise ValueError("a filter has exactly one of include or exclude")
        self.spec()  # a bad pattern or field fails now (FilterError is a ValueError)

    def spec(self):  # noqa: ANN201 - bot.filters.FilterSpec, imported lazily
        from bot.filters import make_spec

        if self.include is not None:
            return make_spec("include", self.include, regex=self.regex, field=self.field)
        return make_spec("exclude", self.exclude or "", regex=self.regex, field=self.field)


class ChannelSettings(_Section):
    """Per-channel overrides; unset values fall back to [digest] and [summary]."""

    ref: str
    name: str | None = None
    schedule: str | None = None
    timezone: str | None = None
    max_items: Annotated[int, msgspec.Meta(ge=1, le=200)] | None = None
    backfill: Annotated[int, msgspec.Meta(ge=0, le=200)] | None = None
    sentences: Annotated[int, msgspec.Meta(ge=1, le=20)] | None = None
    algorithm: str | None = None
    language: str | None = None
    repeat_stories: RepeatStories | None = None
    filters: list[FilterSettings] = []

    def __post_init__(self) -> None:
        self._normalize(ref=_channel_ref, schedule=check_schedule, timezone=check_timezone,
                        algorithm=check_algorithm, language=check_language_name)

    def overrides(self) -> dict[str, Any]:
        """The values this channel sets, without its ref: what the store keeps per channel."""
        return {k: v for k, v in msgspec.structs.asdict(self).items() if k != "ref" and v is not None}


class FeedSettings(_Section):
    url: str  # an http(s) URL, or a local file or folder
    channels: list[str] = msgspec.field(default_factory=lambda: ["console"])
    title: str | None = None
    full_text: FullText | None = None
    filters: list[FilterSettings] = []  # for this feed in each of its channels

    def __post_init__(self) -> None:
        self._normalize(channels=_channel_refs)


class DiscordSettings(_Section):
    api_base_url: str = defaults.DISCORD_API_BASE_URL
    gateway_url: str = defaults.DISCORD_GATEWAY_URL
    guild_ids: list[int] = []
    # gateway sharding: None is one shard (as for a small bot); shard_ids: the shards this worker holds
    shard_count: Annotated[int, msgspec.Meta(ge=1)] | None = None
    shard_ids: list[Annotated[int, msgspec.Meta(ge=0)]] | None = None
    rest_per_second: Annotated[float, msgspec.Meta(gt=0, le=50)] = defaults.DISCORD_REST_PER_SECOND

    def __post_init__(self) -> None:
        if self.shard_ids is not None:
            if self.shard_count is None:
                raise ValueError("shard_ids needs shard_count")
            bad = [i for i in self.shard_ids if i >= self.shard_count]
            if bad or len(set(self.shard_ids)) != len(self.shard_ids):  # [] holds no shard: REST only
                raise ValueError(f"shard_ids must be distinct numbers below shard_count ({self.shard_count})")


class SlackSettings(_Section):
    api_base_url: str = defaults.SLACK_API_BASE_URL
    http_host: str = defaults.SLACK_HTTP_HOST
    http_port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = defaults.SLACK_HTTP_PORT
    mode: Literal["auto", "socket", "http", "oauth"] = "auto"
    admins: list[str] = []  # user ids (U…) or user group ids (S…)
    commands: dict[str, str] = {}  # e.g. {digest = "/news"}
    messages_per_second: Annotated[float, msgspec.Meta(gt=0)] = 1.0
    # many workspaces (the OAuth install flow); the client secret comes from the environment
    client_id: str | None = None
    install_path: str = defaults.SLACK_INSTALL_PATH
    redirect_uri_path: str = defaults.SLACK_REDIRECT_URI_PATH
    authorize_url: str = defaults.SLACK_AUTHORIZE_URL


class Settings(_Section):
    bot: BotSettings = msgspec.field(default_factory=BotSettings)
    fetch: FetchSettings = msgspec.field(default_factory=FetchSettings)
    summary: SummarySettings = msgspec.field(default_factory=SummarySettings)
    digest: DigestSettings = msgspec.field(default_factory=DigestSettings)
    channels: list[ChannelSettings] = []
    feeds: list[FeedSettings] = []
    discord: DiscordSettings = msgspec.field(default_factory=DiscordSettings)
    slack: SlackSettings = msgspec.field(default_factory=SlackSettings)
    # not a key (a ClassVar is no struct field, so a config file cannot set it): True only
    # for the settings `embedded_default()` returns
    embedded_default: ClassVar[bool] = False


class _EmbeddedSettings(Settings):
    """The settings used without any config file."""

    embedded_default: ClassVar[bool] = True


class Secrets(msgspec.Struct, kw_only=True):
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


# ---- errors: msgspec's "Expected `int` >= 1 - at `$.digest.max_items`" → "digest.max_items: must be …"

_STEP = re.compile(r"\.(\w+)|\[(\d+|\.\.\.)\]")  # `.key`, `[0]`, and `[...]` for a dict's key
_EXPECTED = {"int": "an integer", "float": "a number", "str": "a string", "bool": "true or false",
             "array": "a list", "object": "a table"}
_GOT = {**_EXPECTED, "float": "a decimal number", "bool": "a boolean", "datetime": "a date-time",
        "date": "a date", "time": "a time"}


def _kind(expected: str) -> str:
    """`int | null` → "an integer": TOML has no null, a key left out is unset."""
    return " or ".join(_EXPECTED.get(t, t) for t in expected.split(" | ") if t != "null")


def _choices(root: type, steps: list[str]) -> str:
    """The values a Literal key allows (msgspec's "Invalid enum value" omits them)."""
    from msgspec import inspect

    node = inspect.type_info(root)
    for step in steps:
        for option in getattr(node, "types", (node,)):  # T | None: look into T
            if isinstance(option, inspect.StructType):
                node = next(f.type for f in option.fields if f.name == step)
                break
            if isinstance(option, inspect.ListType | inspect.DictType):
                node = option.item_type if isinstance(option, inspect.ListType) else option.value_type
                break
    literals = [t for t in getattr(node, "types", (node,)) if isinstance(t, inspect.LiteralType)]
    return ", ".join(repr(v) for t in literals for v in t.values)


def _reword(message: str, root: type, steps: list[str]) -> tuple[list[str], str]:
    """msgspec's wording as ours: (key path, message)."""
    if m := re.fullmatch(r"Object contains unknown field `(\w+)`", message):
        return [*steps, m[1]], "unknown key"
    if m := re.fullmatch(r"Object missing required field `(\w+)`", message):
        return [*steps, m[1]], "required key is missing"
    if m := re.fullmatch(r"Expected `(.+?)`, got `(.+?)`", message):
        return steps, f"must be {_kind(m[1])}, not {_GOT.get(m[2], m[2])}"
    if m := re.fullmatch(r"Expected `(.+?)` ([<>]=?) (\S+)", message):
        bound = {">=": "≥", "<=": "≤"}.get(m[2], m[2])
        return steps, f"must be {_kind(m[1])} {bound} {m[3].removesuffix('.0')}"
    if m := re.fullmatch(r"Invalid enum value (.+)", message):
        return steps, f"must be one of {_choices(root, steps)}, not {m[1]}"
    return steps, message


def _describe(exc: msgspec.ValidationError, root: type, prefix: list[str]) -> list[str]:
    """One conversion's error as "key.path: message" parts (several when our own checks found several)."""
    message, at, path = str(exc).rpartition(" - at `$")
    if not at:
        message, path = path, ""
    steps = [name or index for name, index in _STEP.findall(path)]
    cause = exc.__cause__
    if isinstance(cause, _Invalid):  # our per-key checks, verbatim
        found = [([*steps, key], text) for key, text in cause.problems]
    elif isinstance(cause, ValueError):  # a whole-section check (a filter, Discord shards)
        found = [(steps, str(cause))]
    else:
        found = [_reword(message, root, steps)]
    return [f"{'.'.join(s for s in prefix + key if s != '...')}: {text}" for key, text in found]


def parse_settings(data: dict, source: str = "config") -> Settings:
    """Validate a TOML document, each section (and list entry) on its own so all their errors show."""
    sections: dict[str, Any] = {}
    problems: list[str] = []

    def convert(value: Any, kind: type, prefix: list[str]) -> Any:
        try:
            # lax, as the config always was: "123" for an id or 5.0 for a count still load
            # (Discord ids are often quoted); a value that is no number or flag is still refused
            return msgspec.convert(value, kind, strict=False)
        except msgspec.ValidationError as exc:
            problems.extend(_describe(exc, kind, prefix))
            return None

    kinds = {f.name: f.type for f in msgspec.structs.fields(Settings)}
    for key, value in data.items():
        kind = kinds.get(key)
        if kind is None:
            problems.append(f"{key}: unknown key")
        elif get_origin(kind) is list and isinstance(value, list):  # [[channels]], [[feeds]]
            (item,) = get_args(kind)
            sections[key] = [convert(v, item, [key, str(i)]) for i, v in enumerate(value)]
        else:
            sections[key] = convert(value, kind, [key])
    if problems:
        raise ConfigError(f"{source}: " + "; ".join(problems))
    return Settings(**sections)


def seeds_folder() -> Path:
    """The sample articles: ./seeds in a checkout, the `bot.seeds` package data when installed."""
    installed = Path(__file__).resolve().parent / defaults.SEEDS_DIR
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent / defaults.SEEDS_DIR


def embedded_default() -> Settings:
    """No config at all: console channel, the seeds folder, a local SQLite file."""
    seeds = seeds_folder()
    return _EmbeddedSettings(
        channels=[ChannelSettings(ref="console")],
        feeds=[FeedSettings(url=str(seeds), channels=["console"], title="Sample news")],
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
