"""The CLI's one-shot commands (everything but `run`), each taking an opened App."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.app import App, UserError
from bot.cli import emit, parse_channel
from bot.config import Secrets

if TYPE_CHECKING:
    from bot.ingest import PollOutcome

# Every other import is inside the command that needs it: `feeds list` must not pay for
# the OPML parser, the digest composer or the adapters' entry points.


class Progress:
    """A progress bar on stderr (tqdm) for a long poll or OPML import: items done / total and
    running counts. Only on a terminal and never with --json, so pipes, logs and JSON
    consumers see exactly the documented output; a run shorter than DELAY shows nothing."""

    DELAY = 0.5  # seconds before the bar appears
    REFRESH = 0.1  # at most one redraw per this many seconds

    def __init__(self, label: str, unit: str, *, enabled: bool) -> None:
        self.label, self.unit, self.enabled = label, unit, enabled
        self.counts: dict[str, int] = {}
        self._bar = None

    @staticmethod
    def wanted(json_output: bool) -> bool:
        return not json_output and sys.stderr.isatty()

    def start(self, total: int, **counts: int) -> None:
        self.counts = dict(counts)
        if self.enabled and self._bar is None:
            from tqdm import tqdm  # only when a bar is drawn

            try:  # a terminal that reports no width (a bare pty) would get an empty bar
                width = os.get_terminal_size(sys.stderr.fileno()).columns
            except (AttributeError, OSError, ValueError):
                width = 0
            size: dict = {"dynamic_ncols": True} if width else {"ncols": 80}
            self._bar = tqdm(total=total, desc=self.label, unit=self.unit, file=sys.stderr, delay=self.DELAY,
                             mininterval=self.REFRESH, leave=False, postfix=self.counts or None, **size)

    def advance(self, **counts: int) -> None:
        for name, value in counts.items():
            self.counts[name] = self.counts.get(name, 0) + value
        if self._bar is not None:
            self._bar.set_postfix(self.counts, refresh=False)
            self._bar.update(1)

    def write(self, line: str) -> None:
        """A line on stderr that does not tear the bar."""
        if self._bar is not None:
            self._bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr)

    def close(self) -> None:
        bar, self._bar = self._bar, None
        if bar is not None:
            bar.close()

    def on_poll(self, total: int, outcome: PollOutcome | None) -> None:
        """App.ingest's progress callback."""
        if outcome is None:
            self.start(total, articles=0, errors=0)
        else:
            self.advance(articles=outcome.new, errors=1 if outcome.error else 0)


async def ingest_with_progress(app: App, json_output: bool) -> list[PollOutcome]:
    progress = Progress("polling", "feed", enabled=Progress.wanted(json_output))
    try:
        return await app.ingest(progress=progress.on_poll)
    finally:
        progress.close()


async def cmd_summarize(app: App, args: argparse.Namespace, secrets: Secrets) -> int:
    policy = app.default_policy()
    policy = replace(policy, sentences=args.sentences or policy.sentences,
                     algorithm=args.algorithm or policy.algorithm, language=args.language or policy.language)
    if args.sentences is not None and not 1 <= args.sentences <= 50:
        raise UserError("--sentences must be between 1 and 50")
    data = sys.stdin.buffer.read() if args.source == "-" else None
    result = await app.summarize_source(args.source, policy, allow_local=True, data=data)
    if args.json:
        emit(result.as_json())
    else:
        if result.title:
            print(result.title)
            print()
        for sentence in result.sentences:
            print(f"- {sentence}")
    return 0


async def cmd_feeds(app: App, args: argparse.Namespace, secrets: Secrets) -> int:
    sub = args.feeds_command
    if sub == "add":
        feed, added, _ = await app.add_feed(args.url, parse_channel(args.channel), allow_local=True)
        state = "added" if added else "already subscribed"
        print(f"{state}: #{feed.id} {feed.title or feed.url} → {args.channel}")
    elif sub == "list":
        health = await app.store.catalog.health()
        if args.json:
            teams = await app.store.installations.channel_workspaces()  # the workspace id, never a token
            errors = {str(c.ref): c.last_error for c in await app.store.catalog.all_channels()}
            emit([{"id": h.id, "url": h.url, "title": h.title, "channels": h.channels,
                   "channel_details": [{"ref": r, "team": teams.get(r), "delivery_error": errors.get(r)}
                                       for r in h.channels],
                   "last_polled": h.last_polled.isoformat() if h.last_polled else None,
                   "last_error": h.last_error, "disabled": h.disabled,
                   "disabled_reason": h.disabled, "failures": h.failures} for h in health])
        else:
            for h in health:
                print(h.describe() + f" → {', '.join(h.channels) or '(no channel)'}")
            if not health:
                print("no feeds yet: newsdigest feeds add URL_OR_PATH [--channel REF]")
    elif sub == "remove":
        feed = await app.remove_feed(args.feed)
        print(f"removed: #{feed.id} {feed.title or feed.url}")
    elif sub == "enable":
        feed = await app.store.catalog.find_feed(args.feed)
        if feed is None:
            raise UserError(f"no feed {args.feed!r}")
        await app.store.catalog.set_enabled(feed.id, app.clock.now())
        print(f"enabled: #{feed.id} {feed.title or feed.url}")
    elif sub == "import":
        from bot import opml

        progress = Progress("importing", "feed", enabled=Progress.wanted(False))
        try:
            return await opml.import_file(app, args.file, parse_channel(args.channel), progress=progress)
        finally:
            progress.close()
    elif sub == "export":
        from bot import opml

        sys.stdout.write(opml.export(await app.store.catalog.all_feeds()))
    return 0


async def cmd_ingest(app: App, args: argparse.Namespace, secrets: Secrets) -> int:
    outcomes = await ingest_with_progress(app, args.json)
    errors = [{"feed": o.feed.url, "error": o.error} for o in outcomes if o.error]
    new = sum(o.new for o in outcomes)
    if args.json:
        emit({"feeds": len(outcomes), "new_articles": new, "errors": errors})
    else:
        print(f"polled {len(outcomes)} feed(s): {new} new article(s), {len(errors)} error(s)")
        for err in errors:
            print(f"  {err['feed']}: {err['error']}")
    return 0


async def cmd_digest(app: App, args: argparse.Namespace, secrets: Secrets) -> int:
    from bot.digest.compose import digest_to_json
    from bot.digesting import STORY_MODULES, SUMMARY_MODULES
    from bot.preload import preload_in_background

    ref = parse_channel(args.channel)
    # the digest's imports (numpy, the summarizer: ~0.2 s) overlap the poll's waiting on feeds
    preload_in_background(STORY_MODULES + SUMMARY_MODULES)
    await ingest_with_progress(app, args.json)
    app.workers.use_threads()  # a digest summarizes a few items: one summarizer import, not one per worker
    digests = await app.make_digests(ref, dry_run=args.dry_run)
    if args.json:  # one entry per channel, an empty one when it has nothing new
        made = {str(d.channel): digest_to_json(d) for d in digests}
        channels = [str(c.ref) for c in await app.store.catalog.all_channels() if ref is None or c.ref == ref]
        emit([{"channel": name,
               "items": [{**{k: i[k] for k in ("title", "url", "feed", "published", "summary", "story")},
                          "also": [{k: a[k] for k in ("feed", "title", "url")} for a in i["also"]]}
                         for i in made.get(name, {}).get("items", [])],
               "updates": [{k: u[k] for k in ("feed", "title", "url", "story")}
                           for u in made.get(name, {}).get("updates", [])],
               "more": made.get(name, {}).get("more", 0)} for name in channels])
    if args.dry_run:
        if not args.json:
            from bot.digest.text import render_digest_text

            for d in digests:
                print(render_digest_text(d))
            if not digests:
                print("nothing new")
        return 0
    return await post_pending(app, secrets, quiet=args.json)


async def cmd_filters(app: App, args: argparse.Namespace, secrets: Secrets) -> int:
    from bot.cli_filters import run_filters

    return await run_filters(app, args)


async def cmd_why(app: App, args: argparse.Namespace, secrets: Secrets) -> int:
    from bot.why import Explainer

    ref = parse_channel(args.channel)
    channel = None
    if ref is not None:
        channel = await app.store.catalog.channel(ref)
        if channel is None:
            raise UserError(f"--channel: no channel {ref} (add a feed to it first)")
    report = await Explainer(app.settings, app.store).explain(args.url, channel, app.clock.now())
    if args.json:
        emit(report.as_json())
    else:
        print(report.title or args.url)
        for answer in report.answers:
            print(f"  {answer.channel}: {answer.reason}")
        if not report.answers:
            print("  no channels yet")
    return 0


SECRET_FOR = {"discord": ("discord_token", "DISCORD_TOKEN"), "slack": ("slack_bot_token", "SLACK_BOT_TOKEN")}


async def post_pending(app: App, secrets: Secrets, *, quiet: bool) -> int:
    """Send every pending digest through the adapters its channels need; a platform with
    no token keeps its digests queued for `newsdigest run`."""
    from bot.commands import CommandHandlers
    from bot.outbox import Sender
    from bot.service import load_adapter

    platforms = {c.ref.platform for c in await app.store.catalog.all_channels()}
    adapters = {}
    for platform in sorted(platforms):
        secret = SECRET_FOR.get(platform)
        if secret and not getattr(secrets, secret[0]):
            print(f"newsdigest: {platform} digests stay queued: {secret[1]} is not set", file=sys.stderr)
            continue
        try:
            adapter = load_adapter(platform, app.settings, secrets, app.clock)
            if platform == "console" and quiet:
                adapter.stream = sys.stderr
            await adapter.start(CommandHandlers(app))
        except Exception as exc:  # noqa: BLE001 - reported; the other channels still get theirs
            print(f"newsdigest: {platform} digests stay queued: {exc}", file=sys.stderr)
            continue
        adapters[platform] = adapter
    try:
        await Sender(app.store, adapters, app.clock).send_due()
    finally:
        for adapter in adapters.values():
            await adapter.stop()
    # a failed run is a send that failed on a running adapter; queued platforms are reported above
    ids = {c.id for c in await app.store.catalog.all_channels() if c.ref.platform in adapters}
    failed = [p for p in await app.store.ledger.pending() if p.channel_id in ids]
    if failed:
        print(f"newsdigest: error: {len(failed)} digest(s) could not be posted yet; they stay queued",
              file=sys.stderr)
    return 1 if failed else 0
