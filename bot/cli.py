"""`newsdigest [--config FILE] [--db FILE] COMMAND`: one clear line on stderr for an
expected error, exit 2 for bad usage or config, 1 for a failed run."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence

from bot.app import App, UserError
from bot.config import ALGORITHMS, ConfigError, Secrets, Settings, load_settings
from bot.logs import redact, setup_logging
from bot.models import ChannelRef
from bot.net import FetchError
from bot.sources.common import PageExtractError
from bot.store import StoreError
from bot.workers import Workers

# Start-up is import time: each command imports only what it uses (`python -X importtime -m bot
# feeds list` shows the bill; tests/core/test_startup.py checks what stays out). The parsers,
# trafilatura, the summarizer, numpy and the platform libraries load on first use.

log = logging.getLogger("newsdigest")
PROCESS_POOL_FROM_FEEDS = 20


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, no usage dump
        raise UsageError(message)


def build_parser() -> Parser:
    p = Parser(prog="newsdigest", description="News digests for Discord, Slack and the console.")
    p.add_argument("--config", help="TOML config (default: ./newsdigest.toml, else the embedded default)")
    p.add_argument("--db", help="SQLite file or postgresql:// URL (overrides NEWSDIGEST_DATABASE_URL and "
                   "[bot] database)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    sub.add_parser("run", help="poll, schedule and post digests until stopped")
    s = sub.add_parser("summarize", help="summarize a URL, a file or - (stdin)")
    s.add_argument("source")
    s.add_argument("--sentences", type=int)
    s.add_argument("--algorithm", choices=ALGORITHMS)
    s.add_argument("--language")
    s.add_argument("--json", action="store_true")
    feeds = sub.add_parser("feeds", help="manage feeds").add_subparsers(dest="feeds_command", required=True,
                                                                         parser_class=Parser)
    a = feeds.add_parser("add", help="subscribe a channel to a feed URL or a local file/folder")
    a.add_argument("url")
    a.add_argument("--channel", default="console")
    ls = feeds.add_parser("list", help="feeds with their health")
    ls.add_argument("--json", action="store_true")
    rm = feeds.add_parser("remove", help="remove a feed (by id or URL)")
    rm.add_argument("feed")
    en = feeds.add_parser("enable", help="re-enable a disabled feed")
    en.add_argument("feed")
    im = feeds.add_parser("import", help="import feeds from an OPML file")
    im.add_argument("file")
    im.add_argument("--channel", default="console")
    feeds.add_parser("export", help="print every feed as OPML")
    i = sub.add_parser("ingest", help="poll every feed once now")
    i.add_argument("--json", action="store_true")
    d = sub.add_parser("digest", help="ingest, then build and post each channel's digest now")
    d.add_argument("--channel")
    d.add_argument("--dry-run", action="store_true")
    d.add_argument("--json", action="store_true")
    fl = sub.add_parser("filters", help="include / exclude filters of a channel (or of one of its feeds)")
    fl_sub = fl.add_subparsers(dest="filters_command", required=True, parser_class=Parser)
    fa = fl_sub.add_parser("add", help="add a filter: --include/--exclude TEXT, or --*-regex PATTERN (RE2)")
    fa.add_argument("--channel", default="console")
    fa.add_argument("--feed", help="only for this subscribed feed (id or URL)")
    kind = fa.add_mutually_exclusive_group()
    for flag in ("include", "exclude", "include-regex", "exclude-regex"):
        kind.add_argument(f"--{flag}", metavar="PATTERN")
    fa.add_argument("words", nargs="*", metavar="ACTION PATTERN",
                    help="the chat form instead of a flag: include|exclude|include-regex|exclude-regex [field:]PATTERN")
    fa.add_argument("--field", default="any", help="any, title, text, categories or author")
    fa.add_argument("--json", action="store_true")
    fr = fl_sub.add_parser("remove", help="remove a filter by its id (from `filters list`)")
    fr.add_argument("filter_id", type=int)
    fr.add_argument("--channel", default="console")
    fr.add_argument("--feed", help=argparse.SUPPRESS)
    fs = fl_sub.add_parser("list", help="the channel's filters")
    fs.add_argument("--channel", default="console")
    fs.add_argument("--feed", help="only this feed's filters")
    fs.add_argument("--json", action="store_true")
    from bot.cli_db import add_parser as add_db_parser

    add_db_parser(sub, Parser)
    w = sub.add_parser("why", help="why an article was or was not posted, from the delivery ledger")
    w.add_argument("url")
    w.add_argument("--channel")
    w.add_argument("--json", action="store_true")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        settings = load_settings(args.config)
        if args.db:
            settings = settings.replace(bot=settings.bot.replace(database=args.db))
        if getattr(args, "channel", None) is not None:
            parse_channel(args.channel)  # a malformed ref fails before anything is opened
    except (UsageError, UserError) as exc:
        return fail(str(exc), 2)
    except ConfigError as exc:
        return fail(str(exc), 2)
    secrets = Secrets.from_env()
    if not args.db and secrets.database_url and args.command != "db":  # may carry the PostgreSQL password
        settings = settings.replace(bot=settings.bot.replace(database=secrets.database_url))
    level = settings.bot.log_level
    if args.command != "run" and level in ("DEBUG", "INFO"):
        level = "ERROR"  # one-shot commands report through their output; -v shows the log
    setup_logging("DEBUG" if args.verbose else level, secrets.values())
    workers = workers_for(args.command, settings.bot.worker_processes)
    try:
        return asyncio.run(dispatch(args, settings, secrets, workers))
    except KeyboardInterrupt:
        return 130
    except (UserError, ValueError) as exc:
        return fail(str(exc), getattr(exc, "exit_code", 2))
    except (ConfigError, StoreError) as exc:
        return fail(str(exc), 2)
    except (FetchError, PageExtractError) as exc:
        return fail(str(exc), 1)
    finally:
        workers.close()  # forked workers must never outlive the command, whatever failed


def entry() -> None:
    """The console script. Everything is closed explicitly before this returns, so the
    process leaves without interpreter-exit hooks: CPython's process-pool and fork-server
    exit handlers can race and print a stray 'Bad file descriptor' after our last line."""
    code = main()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def fail(message: str, code: int) -> int:
    print(f"newsdigest: error: {redact(message)}", file=sys.stderr)  # may name a URL with a token
    return code


def emit(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def workers_for(command: str, processes: int | None = None) -> Workers:
    """Threads, except for a poll: `ingest` and `digest` fork their parse workers here,
    before the event loop and the store start threads (see Workers.prefork).
    `processes` is `[bot] worker_processes` (None: one per core, 0: threads only)."""
    if command not in ("ingest", "digest") or processes == 0:
        return Workers(0)
    workers = Workers(processes)
    if not workers.prefork():
        workers.processes = 0  # decided once the feeds are counted
    return workers


async def dispatch(args: argparse.Namespace, settings: Settings, secrets: Secrets,
                   workers: Workers | None = None) -> int:
    if args.command == "run":
        return await run(settings, secrets)
    if args.command == "db":
        from bot.cli_db import cmd_db

        return await cmd_db(args, settings)
    from bot import cli_commands

    app = App(settings, workers=workers or Workers(0))
    try:
        if args.command == "summarize":  # needs no store and no feed configuration
            return await cli_commands.cmd_summarize(app, args, secrets)
        await app.open()
        if args.command in ("ingest", "digest"):
            feeds = len(await app.store.catalog.all_feeds())
            if feeds < PROCESS_POOL_FROM_FEEDS:  # a few feeds parse as fast in this process
                app.workers.use_threads()
            elif app.workers.processes <= 0 and settings.bot.worker_processes != 0:
                # not forked above: the fork server starts them, on the first changed feed
                app.workers.processes = settings.bot.worker_processes or os.cpu_count() or 1
        handler = getattr(cli_commands, f"cmd_{args.command}")
        return await handler(app, args, secrets)
    finally:
        await app.close()


async def run(settings: Settings, secrets: Secrets) -> int:
    from bot.service import Service

    service = Service(settings, secrets)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, service.request_stop)
    try:
        await service.run_forever()
    except (ConfigError, StoreError) as exc:
        return fail(str(exc), 2)
    except Exception as exc:  # a start-up failure (bad token, unreachable API): one line, exit 1
        log.debug("run failed", exc_info=True)
        return fail(str(exc) or exc.__class__.__name__, 1)
    return 0


def parse_channel(text: str | None, option: str = "--channel") -> ChannelRef | None:
    if text is None:
        return None
    try:
        return ChannelRef.parse(text)
    except ValueError as exc:
        raise UserError(f"{option}: {exc}") from None


__all__ = ["emit", "entry", "main", "parse_channel"]
