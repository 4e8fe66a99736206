"""The Discord bot (``museforge discord``, or beside the web chat with ``serve
--discord``): a ``commands.Bot`` whose cogs translate mentions, DMs, slash commands and
button presses into turns on the Studio's shared job queue.

``run(settings)`` is the command's entry point; ``start(studio)`` runs the bot on a
Studio that another front-end shares. The token comes from ``MUSEFORGE_DISCORD_TOKEN``
only; a missing or rejected token is one clear line, not a traceback."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any, NoReturn

import discord
from discord import app_commands
from discord.ext import commands

from museforge.bots.discord.context import NO_PINGS
from museforge.bots.discord.prefs import PREFS_FILE, Prefs
from museforge.bots.discord.runner import Runner
from museforge.bots.discord.views import PERSISTENT_ITEMS
from museforge.bots.service import Studio
from museforge.config import Settings

log = logging.getLogger(__name__)

EXTENSIONS = (
    "museforge.bots.discord.cogs.chat",
    "museforge.bots.discord.cogs.create",
    "museforge.bots.discord.cogs.library",
    "museforge.bots.discord.cogs.settings",
)
PORTAL = "https://discord.com/developers/applications"
# What the bot does in a channel: read it, open a thread, post and attach files there.
PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, send_messages_in_threads=True,
    create_public_threads=True, attach_files=True, read_message_history=True)


def invite_url(application_id: int) -> str:
    """The link that adds the bot to a server, with its slash commands (scopes ``bot``
    and ``applications.commands``) and the permissions above."""
    return discord.utils.oauth_url(application_id, permissions=PERMISSIONS,
                                   scopes=("bot", "applications.commands"))


class BotSetupError(RuntimeError):
    """The bot cannot start; the message is one line that says what to do."""


def intents() -> discord.Intents:
    """Guild messages and DMs, plus message content (a privileged intent: switch it on
    in the Developer Portal) so that people can talk in the bot's threads without
    mentioning it every time."""
    wanted = discord.Intents.default()
    wanted.message_content = True
    return wanted


class MuseTree(app_commands.CommandTree):
    async def on_error(self, interaction: discord.Interaction[Any],
                       error: app_commands.AppCommandError) -> None:
        if isinstance(error, app_commands.MissingPermissions):
            text = ("Only members with the " + ", ".join(
                p.replace("_", " ").title() for p in error.missing_permissions) +
                " permission can change this.")
        elif isinstance(error, app_commands.CheckFailure):
            text = str(error) or "You can't use this command here."
        else:
            log.error("slash command failed", exc_info=error)
            text = f"Sorry, that failed: {getattr(error, 'original', error)}"
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)
        else:
            await interaction.response.send_message(text, ephemeral=True,
                                                    allowed_mentions=NO_PINGS)


class MuseBot(commands.Bot):
    """One bot on one Studio. ``progress_interval`` is the least time between two edits
    of a status line (Discord rate-limits edits); ``sync_commands`` publishes the slash
    commands at start-up."""

    def __init__(self, studio: Studio, *, prefs: Prefs | None = None,
                 sync_commands: bool = True, progress_interval: float = 1.0):
        super().__init__(command_prefix=commands.when_mentioned, intents=intents(),
                         allowed_mentions=NO_PINGS, help_command=None, tree_cls=MuseTree)
        self.studio = studio
        self.prefs = prefs or Prefs(studio.settings.home / PREFS_FILE)
        self.runner = Runner(self, progress_interval=progress_interval)
        self.sync_commands = sync_commands

    async def setup_hook(self) -> None:
        # Buttons of earlier runs answer again: their classes parse the custom ids.
        self.add_dynamic_items(*PERSISTENT_ITEMS)
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        if self.sync_commands:
            await self.tree.sync()

    async def on_message(self, message: discord.Message, /) -> None:
        """No prefix commands: the chat cog listens to messages."""

    async def on_ready(self) -> None:
        log.info("museforge is on Discord as %s in %d servers; invite it with %s", self.user,
                 len(self.guilds), invite_url(self.application_id or 0))


def token_of(settings: Settings) -> str:
    secret = settings.discord_token
    token = secret.get_secret_value().strip() if secret is not None else ""
    if not token:
        raise BotSetupError(
            f"MUSEFORGE_DISCORD_TOKEN is not set: create a bot at {PORTAL} (Bot → Reset "
            "Token) and export MUSEFORGE_DISCORD_TOKEN=<token>")
    return token


async def start(studio: Studio, *, token: str | None = None, **options: Any) -> None:
    """Run the bot on ``studio`` until it is closed (or the task is cancelled). Raises
    ``BotSetupError`` when the token is missing or rejected, or an intent is off."""
    token = token or token_of(studio.settings)
    async with MuseBot(studio, **options) as bot:
        try:
            await bot.start(token)
        except discord.LoginFailure as exc:
            raise BotSetupError(
                "Discord rejected MUSEFORGE_DISCORD_TOKEN (improper token): copy the bot "
                f"token again from {PORTAL} (Bot → Reset Token)") from exc
        except discord.PrivilegedIntentsRequired as exc:
            raise BotSetupError(
                f"the Message Content intent is off: switch it on at {PORTAL} (Bot → "
                "Privileged Gateway Intents → Message Content Intent)") from exc


def run(settings: Settings) -> None:
    """``museforge discord``: run the bot until Ctrl-C. A setup problem is one line on
    stderr and exit status 1."""
    try:
        token = token_of(settings)
    except BotSetupError as exc:
        _fail(exc)
    discord.utils.setup_logging(level=logging.INFO, root=False)
    studio = Studio.open(settings)
    try:
        asyncio.run(start(studio, token=token))
    except BotSetupError as exc:
        _fail(exc)
    except KeyboardInterrupt:
        pass
    finally:
        studio.close()


def _fail(exc: BotSetupError) -> NoReturn:
    print(f"museforge discord: {exc}", file=sys.stderr)
    raise SystemExit(1)
