"""`newsdigest filters add|remove|list --channel REF [--feed FEED]`."""

from __future__ import annotations

import argparse

from bot.app import App, UserError
from bot.cli import emit, parse_channel
from bot.filter_admin import add_filter, as_json, describe, list_filters, remove_filter
from bot.filters import FilterError, make_spec


async def run_filters(app: App, args: argparse.Namespace) -> int:
    ref = parse_channel(args.channel)
    assert ref is not None
    sub = args.filters_command
    if sub == "add":
        for flag in ("include", "exclude", "include_regex", "exclude_regex"):
            pattern = getattr(args, flag)
            if pattern is not None:
                action, regex = flag.split("_")[0], flag.endswith("regex")
                break
        try:
            spec = make_spec(action, pattern, regex=regex, field=args.field)
        except FilterError as exc:
            raise UserError(str(exc)) from None
        row, added = await add_filter(app, ref, spec, args.feed, origin="cli")
        if args.json:
            emit({**as_json(row), "added": added})
        else:
            print(f"{'added' if added else 'already there'}: {describe(row)} → {ref}")
    elif sub == "remove":
        row = await remove_filter(app, ref, args.filter_id)
        print(f"removed: {describe(row)} from {ref}")
    elif sub == "list":
        rows = await list_filters(app, ref, args.feed)
        if args.json:
            emit([as_json(r) for r in rows])
        else:
            for row in rows:
                print(describe(row))
            if not rows:
                print(f"no filters in {ref}")
    return 0
