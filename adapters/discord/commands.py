"""Slash commands: translate an interaction into a CommandPort call and render the Reply.

Every command answers or defers well inside Discord's 3 s window. Commands that fetch or
summarize (/digest, /summarize, /subscribe) defer before calling the core; the others run the
core call as a task and defer only if it has not finished after QUICK_SECONDS. The answer
then follows within the 15-minute token window. Errors reach the user as one ephemeral line;
details go to the log.
"""

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable

import discord
from discord import app_commands

from adapters.discord import limits
from adapters.discord.render import DiscordMessage, render_feeds, render_summary, render_text
from bot.models import ChannelRef
from bot.ports import CommandContext, CommandPort, Reply

log = logging.getLogger(__name__)

QUICK_SECONDS = 1.5  # answer directly if the core is this fast, else defer
AUTOCOMPLETE_SECONDS = 2.0
ANSWER_WITHIN = limits.FOLLOWUP_WINDOW - 60.0

NOT_IN_GUILD = "This command only works in a server channel, not in DMs."
NEEDS_MANAGE = ("You need the Manage Channels permission in this server "
                "to change this channel's feeds or schedule.")
FAILED = "Sorry, /{name} failed on our side; the error was logged."
TOO_SLOW = "Sorry, /{name} took too long and was abandoned."


def context(interaction: discord.Interaction) -> CommandContext:
    """Who asked and where; `can_manage` = Manage Channels in this guild's channel."""
    in_guild = interaction.guild_id is not None
    return CommandContext(
        channel=ChannelRef("discord", str(interaction.channel_id)),
        user_id=str(interaction.user.id),
        can_manage=bool(in_guild and interaction.permissions.manage_channels),
        channel_name=getattr(interaction.channel, "name", None),
        user_name=interaction.user.name,
    )


def refusal(interaction: discord.Interaction) -> str | None:
    """Why this user may not change the channel, or None when they may."""
    if interaction.guild_id is None:
        return NOT_IN_GUILD
    if not interaction.permissions.manage_channels:
        return NEEDS_MANAGE
    return None


_FEED_LINE = re.compile(r"^#\d+ ")


def render_reply(reply: Reply) -> DiscordMessage:
    """The Reply as one message; summaries and feed lists become embeds."""
    if not reply.ok:
        return render_text(reply.text)
    if reply.summary:
        return render_summary(reply.summary)  # its text repeats the sentences
    if reply.feeds:
        # the per-feed lines of the text become fields; anything else (a delivery problem) stays
        extra = "\n".join(line for line in reply.text.splitlines() if not _FEED_LINE.match(line))
        return render_feeds(reply.feeds, extra)
    return render_text(reply.text)


async def _respond(interaction: discord.Interaction, message: DiscordMessage, *, ephemeral: bool,
                   deferred: bool | None) -> None:
    """Send the answer: as the initial response, or after a deferral (`deferred` = its privacy)."""
    kwargs = message.send_kwargs()
    if deferred is None:
        await interaction.response.send_message(ephemeral=ephemeral, **kwargs)
    elif deferred == ephemeral:
        await interaction.edit_original_response(**kwargs)
    else:  # the placeholder's visibility is wrong for this answer: replace it
        await interaction.delete_original_response()
        await interaction.followup.send(ephemeral=ephemeral, wait=True, **kwargs)


async def answer(interaction: discord.Interaction, name: str, call: Callable[[], Awaitable[Reply]], *,
                 defer_first: bool = False, defer_public: bool = False) -> None:
    """Run `call`, keeping the 3 s deadline; failures become one ephemeral line.

    `defer_public`: when deferring, show the "thinking" placeholder to the channel (for
    commands whose answer is normally public, such as /summarize)."""
    deferred: bool | None = None  # None: not deferred; else whether the deferral is private
    task: asyncio.Future[Reply] | None = None
    try:
        if defer_first:  # defer before the core runs, so even a busy event loop cannot miss 3 s
            await interaction.response.defer(ephemeral=not defer_public, thinking=True)
            deferred = not defer_public
        task = asyncio.ensure_future(call())
        if deferred is None:
            await asyncio.wait({task}, timeout=QUICK_SECONDS)
            if not task.done():
                await interaction.response.defer(ephemeral=not defer_public, thinking=True)
                deferred = not defer_public
        try:
            reply = await asyncio.wait_for(task, ANSWER_WITHIN)
        except TimeoutError:
            reply = Reply(ok=False, text=TOO_SLOW.format(name=name))
        except Exception:
            log.exception("discord: /%s failed in the core", name)
            reply = Reply(ok=False, text=FAILED.format(name=name))
        ephemeral = reply.ephemeral or not reply.ok
        await _respond(interaction, render_reply(reply), ephemeral=ephemeral, deferred=deferred)
    except discord.HTTPException as exc:
        log.warning("discord: could not answer /%s: %s %s", name, exc.status, exc.text)
    finally:
        if task is not None and not task.done():
            task.cancel()


async def refuse(interaction: discord.Interaction, text: str) -> None:
    await interaction.response.send_message(text, ephemeral=True,
                                            allowed_mentions=discord.AllowedMentions.none())


def install_filters(tree: app_commands.CommandTree, port: Callable[[], CommandPort]) -> None:
    """/filter add|remove|list: the chat form of `newsdigest filters`."""
    group = app_commands.Group(name="filter", description="Include or exclude items by words or RE2 patterns",
                               guild_only=True)

    @group.command(name="add", description="Add a filter (needs Manage Channels)")
    @app_commands.describe(action="Keep only matching items, or drop them", pattern="Words, a phrase, or a pattern",
                           regex="The pattern is an RE2 regular expression", field="Where to look",
                           feed="Only for this feed of the channel (its number from /feeds)")
    @app_commands.choices(
        action=[app_commands.Choice(name=a, value=a) for a in ("include", "exclude")],
        field=[app_commands.Choice(name=f, value=f) for f in ("any", "title", "text", "categories", "author")])
    async def add(interaction: discord.Interaction, action: str, pattern: str, regex: bool = False,
                  field: str = "any", feed: str | None = None) -> None:
        if why := refusal(interaction):
            return await refuse(interaction, why)
        ctx = context(interaction)
        scope = [f"feed:{feed.strip()}"] if feed and feed.strip() else []
        words = ["add", *scope, action + ("-regex" if regex else ""),
                 (f"{field}:" if field != "any" else "") + pattern]
        await answer(interaction, "filter", lambda: port().filter(ctx, words), defer_public=True)

    @group.command(name="remove", description="Remove a filter by its number (needs Manage Channels)")
    @app_commands.describe(number="The filter's number, from /filter list")
    async def remove(interaction: discord.Interaction, number: int) -> None:
        if why := refusal(interaction):
            return await refuse(interaction, why)
        ctx = context(interaction)
        await answer(interaction, "filter", lambda: port().filter(ctx, ["remove", str(number)]), defer_public=True)

    @group.command(name="list", description="This channel's filters")
    async def show(interaction: discord.Interaction) -> None:
        ctx = context(interaction)
        await answer(interaction, "filter", lambda: port().filter(ctx, ["list"]))

    tree.add_command(group)


def install(tree: app_commands.CommandTree, port: Callable[[], CommandPort]) -> None:
    """Add the commands to `tree`; `port()` returns the core's handlers at call time."""

    @tree.command(name="digest", description="Post this channel's news digest now (or preview it privately)")
    @app_commands.describe(preview="Only show me what the next digest would hold; post and record nothing")
    async def digest(interaction: discord.Interaction, preview: bool = False) -> None:
        ctx = context(interaction)
        if preview:
            await answer(interaction, "digest", lambda: port().digest_preview(ctx), defer_first=True)
        else:
            await answer(interaction, "digest", lambda: port().digest(ctx), defer_first=True)

    @tree.command(name="why", description="Why an article was or was not posted here")
    @app_commands.describe(url="The article's address")
    async def why(interaction: discord.Interaction, url: str) -> None:
        ctx = context(interaction)
        await answer(interaction, "why", lambda: port().why(ctx, url))

    install_filters(tree, port)

    @tree.command(name="summarize", description="Summarize a web page")
    @app_commands.describe(url="The article's address (http or https)")
    async def summarize(interaction: discord.Interaction, url: str) -> None:
        ctx = context(interaction)
        await answer(interaction, "summarize", lambda: port().summarize(ctx, url), defer_first=True,
                     defer_public=True)

    @tree.command(name="subscribe", description="Follow a feed in this channel (needs Manage Channels)")
    @app_commands.describe(url="The feed's address (RSS or Atom)")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_channels=True)
    async def subscribe(interaction: discord.Interaction, url: str) -> None:
        if why := refusal(interaction):
            return await refuse(interaction, why)
        ctx = context(interaction)
        await answer(interaction, "subscribe", lambda: port().subscribe(ctx, url), defer_first=True,
                     defer_public=True)

    @tree.command(name="unsubscribe", description="Stop following a feed here (needs Manage Channels)")
    @app_commands.describe(feed="The feed (id or address)")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_channels=True)
    async def unsubscribe(interaction: discord.Interaction, feed: str) -> None:
        if why := refusal(interaction):
            return await refuse(interaction, why)
        ctx = context(interaction)
        await answer(interaction, "unsubscribe", lambda: port().unsubscribe(ctx, feed),
                     defer_public=True)

    @unsubscribe.autocomplete("feed")
    async def feed_autocomplete(interaction: discord.Interaction,
                                current: str) -> list[app_commands.Choice[str]]:
        ctx = context(interaction)
        try:
            pairs = await asyncio.wait_for(port().feed_choices(ctx, current), AUTOCOMPLETE_SECONDS)
        except Exception:
            log.warning("discord: feed autocomplete failed", exc_info=True)
            return []
        choices = []
        for name, value in pairs:
            if value and len(value) <= limits.CHOICE_VALUE:
                label = " ".join((name or value).split())[: limits.CHOICE_NAME] or value
                choices.append(app_commands.Choice(name=label, value=value))
        return choices[: limits.CHOICES]

    @tree.command(name="feeds", description="This channel's feeds and their health")
    async def feeds(interaction: discord.Interaction) -> None:
        ctx = context(interaction)
        await answer(interaction, "feeds", lambda: port().feeds(ctx))

    @tree.command(name="schedule", description="When digests are posted here (needs Manage Channels)")
    @app_commands.describe(when="'immediate' or a cron expression such as '0 8 * * *'",
                           timezone="IANA time zone, e.g. Europe/Berlin (default: the configured one)")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_channels=True)
    async def schedule(interaction: discord.Interaction, when: str, timezone: str | None = None) -> None:
        if why := refusal(interaction):
            return await refuse(interaction, why)
        ctx = context(interaction)
        await answer(interaction, "schedule", lambda: port().schedule(ctx, when, timezone),
                     defer_public=True)
