"""The CLI's one-shot commands (everything but `run`), each taking an opened App."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from bot import opml
from bot.app import App, UserError
from bot.cli import emit, parse_channel
from bot.commands import CommandHandlers
from bot.config import Secrets
from bot.digest.compose import digest_to_json
from bot.digest.text import render_digest_text
from bot.outbox import Sender
from bot.service import load_adapter


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
            emit([{"id": h.id, "url": h.url, "title": h.title, "channels": h.channels,
                   "last_polled": h.last_polled.isoformat() if h.last_polled else None,
                   "last_error": h.last_error, "disabled": h.disabled,
                   "disabled_reason": h.disabled, "failures": h.failures} for h in health])
        else:
            from bot.commands import describe_health

            for h in health:
                print(describe_health(h) + f" → {', '.join(h.channels) or '(no channel)'}")
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
        return await opml.import_file(app, args.file, parse_channel(args.channel))
    elif sub == "export":
        sys.stdout.write(opml.export(await app.store.catalog.all_feeds()))
    return 0


async def cmd_ingest(app: App, args: argparse.Namespace, secrets: Secrets) -> int:
    outcomes = await app.ingest()
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
    ref = parse_channel(args.channel)
    await app.ingest()
    digests = await app.make_digests(ref, dry_run=args.dry_run)
    if args.json:  # one entry per channel, an empty one when it has nothing new
        made = {str(d.channel): digest_to_json(d) for d in digests}
        channels = [str(c.ref) for c in await app.store.catalog.all_channels() if ref is None or c.ref == ref]
        emit([{"channel": name,
               "items": [{k: i[k] for k in ("title", "url", "feed", "published", "summary")}
                         for i in made.get(name, {}).get("items", [])],
               "more": made.get(name, {}).get("more", 0)} for name in channels])
    if args.dry_run:
        if not args.json:
            for d in digests:
                print(render_digest_text(d))
            if not digests:
                print("nothing new")
        return 0
    return await post_pending(app, secrets, quiet=args.json)


SECRET_FOR = {"discord": ("discord_token", "DISCORD_TOKEN"), "slack": ("slack_bot_token", "SLACK_BOT_TOKEN")}


async def post_pending(app: App, secrets: Secrets, *, quiet: bool) -> int:
    """Send every pending digest through the adapters its channels need; a platform with
    no token keeps its digests queued for `newsdigest run`."""
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
