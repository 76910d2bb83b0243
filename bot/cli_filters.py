"""`newsdigest filters add|remove|list --channel REF [--feed FEED]`."""

from __future__ import annotations

import argparse

from bot.app import App, UserError
from bot.cli import emit, parse_channel
from bot.filter_admin import add_filter, as_json, describe, list_filters, remove_filter
from bot.filters import FilterError, FilterSpec, make_spec, parse_filter_words


async def run_filters(app: App, args: argparse.Namespace) -> int:
    ref = parse_channel(args.channel)
    assert ref is not None
    sub = args.filters_command
    if sub == "add":
        try:
            spec = _spec(args)
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


def _spec(args: argparse.Namespace) -> FilterSpec:
    """`--exclude sponsored [--field title]`, or the chat form `exclude title:sponsored`."""
    for flag in ("include", "exclude", "include_regex", "exclude_regex"):
        pattern = getattr(args, flag)
        if pattern is not None:
            if args.words:
                raise FilterError(f"give the pattern once: --{flag.replace('_', '-')} or words, not both")
            return make_spec(flag.split("_")[0], pattern, regex=flag.endswith("regex"), field=args.field)
    if not args.words:
        raise FilterError("filters add needs --include, --exclude, --include-regex or --exclude-regex PATTERN")
    spec = parse_filter_words(args.words)
    if args.field != "any" and spec.field == "any":
        spec = make_spec(spec.action, spec.pattern, regex=spec.kind == "regex", field=args.field)
    return spec
