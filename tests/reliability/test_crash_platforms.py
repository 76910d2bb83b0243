"""Crash safety of `newsdigest run` on Discord and Slack: SIGKILL (the whole process group) at
random moments of start-up, ingest, summarizing and delivery, restart, and compare the ledger
with what the fake platform received.

Half of the kills are timed by the fake itself: right after it stored the k-th message of a
run, either before its answer leaves (the bot never learns the post happened) or a few
milliseconds later (the bot may be marking the part or sending the next one). That is the
window the nonce exists for.

Guarantees checked:
- Discord: every digest part the ledger confirmed is exactly one message on the fake, and every
  message on the fake is one confirmed part (the resend after a crash carries the same nonce with
  enforce_nonce, so Discord answers with the first message); each article shown exactly once.
- Slack (Socket Mode): chat.postMessage has no idempotency key, so a part in flight when the
  process dies is posted again by the next run: at most one extra message per kill, each article
  shown at least once and at most twice (the documented at-most-once-more window).
- Both: every served article is stored once and delivered (shown, or counted in a digest's
  "…and N more"), no digest is left pending, `PRAGMA integrity_check` is ok, the fake recorded
  no protocol violation, and the last run drains on SIGTERM with exit 0.

`CRASH_SEED=<n>` replays a run; the seed is in every failure message.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from adapters.discord.render import render_digest as discord_render
from adapters.slack.render import render_digest as slack_render
from bot.digest.compose import digest_from_json
from tests.fakes.discord import FakeDiscord
from tests.fakes.slack import FakeSlack
from tests.reliability.items import feed_xml, title_for

REPO = Path(__file__).resolve().parents[2]
FEEDS = 3
PER_ROUND = 11  # new items per feed and round: 33 a round, more than MAX_ITEMS
MAX_ITEMS = 30  # a full digest: 3 Discord messages, 2 Slack ones, plus "…and N more"
MAX_ROUNDS = 9
# one kill each, in an order the seed shuffles: two timed by the fake (inside the request, and a
# few milliseconds after it), two at a random moment after start-up
MODES = ("post-now", "post-lag", "random", "random")
POST_KILL_WAIT = 10.0  # a "post" kill waits this long for its message, then kills anyway
CATCH_UP = 35.0
SLACK_CHANNEL = "C0CRASH0001"
ITEM = re.compile(r"\bItem(\d+)\b")
MORE = re.compile(r"…and (\d+) more")


# ---- fakes that can pull the plug from inside the request ----------------------------------------


class KillingDiscord(FakeDiscord):
    """Calls `on_post` once a message is stored, before the HTTP answer is written."""

    on_post: Callable[[], None] | None = None

    async def _post_message(self, request: web.Request) -> web.Response:
        before = sum(len(m) for m in self.messages.values())
        response = await super()._post_message(request)
        if self.on_post is not None and sum(len(m) for m in self.messages.values()) > before:
            self.on_post()
        return response


class KillingSlack(FakeSlack):
    on_post: Callable[[], None] | None = None

    async def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        before = len(self.posts)
        answer = await super()._m_chat_postMessage(args)
        if self.on_post is not None and len(self.posts) > before:
            self.on_post()
        return answer


# ---- the bot as a subprocess ----------------------------------------------------------------------


class Bot:
    """`newsdigest run` in its own process group; each run's stderr in its own file."""

    def __init__(self, tmp: Path, config: Path, secrets: dict[str, str]) -> None:
        self.tmp, self.config, self.db = tmp, config, tmp / "crash.db"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_"))}
        self.env.update(secrets, PYTHONPATH=str(REPO))
        self.proc: subprocess.Popen | None = None
        self.runs: list[Path] = []
        self.killed = False

    def start(self) -> None:
        err = self.tmp / f"run{len(self.runs)}.err"
        self.runs.append(err)
        self.killed = False
        with err.open("wb") as e:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "--config", str(self.config), "--db", str(self.db), "run"],
                cwd=self.tmp, stdout=subprocess.DEVNULL, stderr=e, env=self.env, start_new_session=True)

    def kill(self) -> None:
        """A crash, not a shutdown: SIGKILL to service, forkserver and workers at once."""
        if self.proc is not None and not self.killed and self.proc.poll() is None:
            self.killed = True
            os.killpg(self.proc.pid, signal.SIGKILL)

    def log(self) -> str:
        return self.runs[-1].read_text(errors="replace") if self.runs else ""

    async def wait_exit(self, timeout: float) -> int | None:
        """Wait without blocking the loop the fake platform runs on."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return self.proc.poll()

    async def terminate(self) -> int | None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        code = await self.wait_exit(20)
        if code is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        return code


# ---- feeds, ledger ---------------------------------------------------------------------------------


@dataclass
class Feeds:
    server: Any
    served: dict[int, list[int]] = field(default_factory=dict)
    rounds: int = 0

    def add_round(self) -> None:
        """PER_ROUND new items on every feed; older ones stay, so nothing falls off while down."""
        start = 1 + self.rounds * PER_ROUND
        self.rounds += 1
        for feed in range(FEEDS):
            numbers = list(range(start + feed * 1000, start + feed * 1000 + PER_ROUND))
            self.served[feed] = self.served.get(feed, []) + numbers
            self.server.set(f"/f{feed}", body=feed_xml(feed, self.served[feed]))

    def maybe_add_round(self, rng: random.Random) -> None:
        if self.rounds < MAX_ROUNDS and rng.random() < 0.4:
            self.add_round()

    def expected(self) -> set[int]:
        return {n for numbers in self.served.values() for n in numbers}


def ledger(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db, timeout=10)
    conn.row_factory = sqlite3.Row
    return conn


def progress(db: Path) -> tuple[int, int, int]:
    """(articles, delivered: sent or rolled in a sent digest, digests not yet sent)."""
    if not db.exists():
        return 0, 0, 0
    try:
        with ledger(db) as conn:
            total = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
            done = conn.execute("SELECT COUNT(*) FROM deliveries d JOIN digests g ON g.id = d.digest_id "
                                "WHERE d.state IN ('sent', 'rolled') AND g.state = 'sent'").fetchone()[0]
            open_ = conn.execute("SELECT COUNT(*) FROM digests WHERE state != 'sent'").fetchone()[0]
    except sqlite3.OperationalError:  # not migrated yet, or busy
        return 0, 0, -1
    return total, done, open_


def item_number(title: str) -> int:
    match = ITEM.search(title)
    assert match, title
    return int(match.group(1))


# ---- one platform's view ---------------------------------------------------------------------------


@dataclass
class Platform:
    """What the driver needs from a fake: its messages as (id, item numbers, "and N more")."""

    name: str
    fake: Any
    messages: Callable[[], list[tuple[str, list[int], list[int]]]]
    render: Callable[[Any], list[Any]]
    secrets: dict[str, str]
    config: str


def discord_platform(fake: KillingDiscord, feeds: Feeds) -> Platform:
    channel = fake.channel_ids[0]

    def messages() -> list[tuple[str, list[int], list[int]]]:
        return [(p.message["id"], [item_number(e["title"]) for e in p.body.get("embeds") or []],
                 [int(m) for m in MORE.findall(p.body.get("content") or "")]) for p in fake.posted(channel)]

    section = (f'[discord]\napi_base_url = "{fake.base_url}"\ngateway_url = "{fake.gateway_url}"\n'
               f"guild_ids = [{int(fake.guild_id)}]\n")
    return Platform("discord", fake, messages, discord_render, {"DISCORD_TOKEN": fake.token},
                    config_text(feeds, f"discord:{channel}", "discord", section))


def slack_platform(fake: KillingSlack, feeds: Feeds) -> Platform:
    def messages() -> list[tuple[str, list[int], list[int]]]:
        out = []
        for p in fake.posts_in(SLACK_CHANNEL):
            shown = p.display()  # the blocks; the fallback text repeats the same titles
            out.append((p.ts, sorted({int(n) for n in ITEM.findall(shown)}), [int(m) for m in MORE.findall(shown)]))
        return out

    section = f'[slack]\napi_base_url = "{fake.base_url}"\nmessages_per_second = 50.0\n'
    return Platform("slack", fake, messages, slack_render,
                    {"SLACK_BOT_TOKEN": fake.bot_token, "SLACK_APP_TOKEN": fake.app_token},
                    config_text(feeds, f"slack:{SLACK_CHANNEL}", "slack", section))


def config_text(feeds: Feeds, ref: str, adapter: str, section: str) -> str:
    subs = "".join(f'[[feeds]]\nurl = "{feeds.server.url(f"/f{i}")}"\nchannels = ["{ref}"]\n' for i in range(FEEDS))
    return (f'[bot]\npoll_interval = 0.3\nadapters = ["{adapter}"]\n'
            '[fetch]\nallow_private_addresses = true\nallowed_ports = []\nfull_text = "never"\n'
            '[summary]\nalgorithm = "luhn"\nsentences = 1\n'
            f'[digest]\nmax_items = {MAX_ITEMS}\nbackfill = 200\nschedule = "immediate"\ntimezone = "UTC"\n'
            f'{section}[[channels]]\nref = "{ref}"\n{subs}')


# ---- the driver -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    bot: Bot
    seed: int
    kills: list[str]
    caught_up: bool
    exit_code: int | None
    seconds: float

    @property
    def hit_in_request(self) -> bool:
        return any(k.endswith("in-request") for k in self.kills)

    @property
    def context(self) -> str:
        return f"seed={self.seed} (CRASH_SEED={self.seed} replays it); kills: {self.kills}"


async def until_started(bot: Bot, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "adapter started" in bot.log():
            return True
        if bot.proc is not None and bot.proc.poll() is not None:
            return False
        await asyncio.sleep(0.05)
    return False


async def crash_and_recover(tmp: Path, platform: Platform, feeds: Feeds) -> Outcome:
    began = time.monotonic()
    seed = int(os.environ.get("CRASH_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    config = tmp / "crash.toml"
    config.write_text(platform.config, encoding="utf-8")
    bot = Bot(tmp, config, platform.secrets)
    modes = list(MODES)
    rng.shuffle(modes)
    kills: list[str] = []
    for mode in modes:
        feeds.add_round()  # what arrived while it was down (or before the first start)
        bot.start()
        if not await until_started(bot):
            raise AssertionError(f"seed={seed}: run {len(bot.runs)} did not start\n{bot.log()[-3000:]}")
        if mode == "random":  # anywhere in polling, parsing, summarizing, recording, posting
            delay = rng.uniform(0.0, 2.5)
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline:
                await asyncio.sleep(min(0.3, max(0.0, deadline - time.monotonic())))
                feeds.maybe_add_round(rng)
            bot.kill()
            kills.append(f"random@{delay:.2f}s")
        else:  # timed by the fake: after the k-th message of this run is stored
            target = rng.randint(1, 2)
            lag = 0.0 if mode == "post-now" else rng.uniform(0.002, 0.05)
            seen = 0

            def on_post(target: int = target, lag: float = lag) -> None:
                nonlocal seen
                seen += 1
                if seen == target:
                    platform.fake.on_post = None
                    if lag:
                        asyncio.get_running_loop().call_later(lag, bot.kill)
                    else:
                        bot.kill()  # before the answer: the bot never hears it was posted

            platform.fake.on_post = on_post
            deadline = time.monotonic() + POST_KILL_WAIT
            while not bot.killed and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            platform.fake.on_post = None
            how = "in-request" if not lag else f"+{lag * 1000:.0f}ms"
            kills.append(f"post#{target}{how}" + ("" if bot.killed else "(timeout)"))
            bot.kill()
        assert await bot.wait_exit(10) is not None, f"seed={seed}: SIGKILL did not end the run"
    # a last, clean run catches up, goes quiet and drains on SIGTERM
    feeds.add_round()
    bot.start()
    want = len(feeds.expected())
    caught_up = False
    deadline = time.monotonic() + CATCH_UP
    while time.monotonic() < deadline and bot.proc is not None and bot.proc.poll() is None:
        if progress(bot.db) == (want, want, 0):
            count = len(platform.messages())
            await asyncio.sleep(0.5)  # quiet: nothing more arrives on the platform
            if len(platform.messages()) == count and progress(bot.db) == (want, want, 0):
                caught_up = True
                break
        await asyncio.sleep(0.1)
    code = await bot.terminate() if bot.proc is not None and bot.proc.poll() is None else bot.proc.poll()
    return Outcome(bot, seed, kills, caught_up, code, time.monotonic() - began)


# ---- the checks shared by both platforms -----------------------------------------------------------


@dataclass
class LedgerView:
    shown: set[int]  # item numbers with a delivery in state sent
    rolled: set[int]
    parts: dict[str, tuple[int, int]]  # platform message id → (digest, part)
    expected_parts: int
    mores: Counter[int]  # "and N more" of the sent digests


def check_ledger(outcome: Outcome, platform: Platform, feeds: Feeds) -> LedgerView:
    ctx = outcome.context
    final_log = outcome.bot.log()
    assert outcome.caught_up, f"{ctx}: {progress(outcome.bot.db)} of {len(feeds.expected())}\n{final_log[-3000:]}"
    assert outcome.exit_code == 0 and "Traceback" not in final_log, f"{ctx}\n{final_log[-3000:]}"
    expected = feeds.expected()
    with ledger(outcome.bot.db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok", ctx
        titles = [r[0] for r in conn.execute("SELECT title FROM articles")]
        assert sorted(titles) == sorted(title_for(n) for n in expected), f"{ctx}: articles lost or stored twice"
        rows = conn.execute("SELECT a.title, d.state FROM deliveries d JOIN articles a ON a.id = d.article_id")
        states: dict[str, set[int]] = {}
        for title, state in rows:
            states.setdefault(state, set()).add(item_number(title))
        assert set(states) <= {"sent", "rolled"}, f"{ctx}: delivery states {set(states)}"
        shown, rolled = states.get("sent", set()), states.get("rolled", set())
        assert shown | rolled == expected and not shown & rolled, f"{ctx}: not every article delivered"
        assert conn.execute("SELECT COUNT(*) FROM digests WHERE state != 'sent'").fetchone()[0] == 0, ctx
        parts: dict[str, tuple[int, int]] = {}
        expected_parts = 0
        mores: Counter[int] = Counter()
        for digest_id, payload in conn.execute("SELECT id, payload FROM digests WHERE kind = 'digest'"):
            data = json.loads(payload)
            expected_parts += len(platform.render(digest_from_json(data, digest_id)))
            if data["more"]:
                mores[data["more"]] += 1
        for digest_id, part, message_id in conn.execute("SELECT digest_id, part, message_id FROM digest_messages"):
            assert message_id not in parts, f"{ctx}: message {message_id} confirmed for two parts"
            parts[message_id] = (digest_id, part)
    assert len(parts) == expected_parts, f"{ctx}: {len(parts)} parts confirmed, {expected_parts} rendered"
    assert not platform.fake.violations, f"{ctx}: {platform.fake.violations[:5]}"
    return LedgerView(shown, rolled, parts, expected_parts, mores)


def report(outcome: Outcome, view: LedgerView, extra: str) -> None:
    """Shown with -s: where the kills landed, and the figures."""
    print(f"\n{outcome.context}; {len(view.shown)} shown, {len(view.rolled)} rolled, "
          f"{view.expected_parts} parts; {extra}; {outcome.seconds:.1f} s")
    for err in outcome.bot.runs[:-1]:
        lines = err.read_text(errors="replace").strip().splitlines()
        print("    last log line before the kill:", lines[-1][24:130] if lines else "(nothing)")


# ---- the tests -------------------------------------------------------------------------------------


async def test_discord_sigkill_loses_nothing_and_posts_each_article_once(tmp_path: Path, feed_server) -> None:
    fake = KillingDiscord()
    await fake.start()
    try:
        feeds = Feeds(feed_server)
        platform = discord_platform(fake, feeds)
        outcome = await crash_and_recover(tmp_path, platform, feeds)
        view = check_ledger(outcome, platform, feeds)
        messages = platform.messages()
    finally:
        await fake.stop()
    ctx = outcome.context
    assert fake.unhandled == [], f"{ctx}: {fake.unhandled}"
    bodies = [p.body for p in fake.posted(fake.channel_ids[0])]
    assert all(b.get("nonce") and b.get("enforce_nonce") is True for b in bodies), f"{ctx}: a post without nonce"
    ids = [m[0] for m in messages]
    # one message per confirmed part and one confirmed part per message: the nonce caught every resend
    assert sorted(ids) == sorted(view.parts), f"{ctx}: {len(ids)} messages, {len(view.parts)} parts confirmed"
    shown = Counter(n for _id, numbers, _m in messages for n in numbers)
    twice = {n: c for n, c in shown.items() if c > 1}
    assert not twice, f"{ctx}: posted more than once: {twice}"
    assert set(shown) == view.shown, f"{ctx}: missing {sorted(view.shown - set(shown))[:10]}"
    assert Counter(m for *_x, more in messages for m in more) == view.mores, ctx
    resent = sum(1 for r in fake.calls("messages") if r.status == 200) - len(messages)
    if outcome.hit_in_request:  # a part posted but never confirmed was sent again, and deduped
        assert resent >= 1, f"{ctx}: the in-request kill was not followed by a resend"
    report(outcome, view, f"{len(messages)} messages, {resent} resend(s) answered from the nonce")


async def test_slack_sigkill_loses_nothing_and_posts_at_most_once_more(tmp_path: Path, feed_server) -> None:
    fake = KillingSlack()
    fake.add_channel(SLACK_CHANNEL, "crash")
    await fake.start()
    try:
        feeds = Feeds(feed_server)
        platform = slack_platform(fake, feeds)
        outcome = await crash_and_recover(tmp_path, platform, feeds)
        view = check_ledger(outcome, platform, feeds)
        messages = platform.messages()
    finally:
        await fake.stop()
    ctx = outcome.context
    ids = [m[0] for m in messages]
    assert set(view.parts) <= set(ids), f"{ctx}: a confirmed ts is not on Slack"
    extra = len(ids) - len(view.parts)
    # chat.postMessage has no idempotency key: only the part in flight at a kill can be posted again
    assert 0 <= extra <= len(outcome.kills), f"{ctx}: {extra} extra messages for {len(outcome.kills)} kills"
    if outcome.hit_in_request:  # the part the bot never heard about was posted again
        assert extra >= 1, f"{ctx}: the in-request kill was not followed by a resend"
    shown = Counter(n for _id, numbers, _m in messages for n in numbers)
    assert set(shown) == view.shown, f"{ctx}: missing {sorted(view.shown - set(shown))[:10]}"
    # each kill between "posted" and "marked" may repeat the part in flight once; two kills can
    # land in that window for the same part (seen under CI load), but never more than the kills
    repeated = {n: c for n, c in shown.items() if c - 1 > len(outcome.kills)}
    assert not repeated, f"{ctx}: posted more often than once plus once per kill: {repeated}"
    printed_mores = Counter(m for *_x, more in messages for m in more)
    assert all(printed_mores[m] >= c for m, c in view.mores.items()), f"{ctx}: {printed_mores} vs {view.mores}"
    report(outcome, view, f"{len(messages)} messages, {extra} posted again after a kill "
                          f"({sum(1 for c in shown.values() if c == 2)} articles twice)")
