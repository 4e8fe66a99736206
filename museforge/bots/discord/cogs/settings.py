"""/settings me: a member's defaults (model preset, style, private replies).
/settings server: the server's model and limits, for members with Manage Server
(checked with ``app_commands.checks.has_permissions``)."""

from __future__ import annotations

import asyncio
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from museforge.bots.discord.bot import MuseBot
from museforge.bots.discord.cogs.create import STYLES, _choices
from museforge.bots.discord.context import NO_PINGS
from museforge.bots.discord.prefs import MAX_JOBS, MAX_UPLOAD_MB, GuildPrefs, UserPrefs
from museforge.models.image.presets import PRESETS  # names only: imports no torch

DEFAULT = "default"
PRESET_CHOICES = [app_commands.Choice(name="the server's default", value=DEFAULT),
                  *_choices(tuple(PRESETS))]
STYLE_CHOICES = [app_commands.Choice(name="none", value=DEFAULT), *_choices(STYLES)]


def describe_user(p: UserPrefs) -> str:
    return (f"Your defaults — model preset: **{p.preset or DEFAULT}**, style: "
            f"**{p.style or 'none'}**, private replies: **{'on' if p.private else 'off'}**.")


def describe_guild(p: GuildPrefs) -> str:
    return (f"Server settings — model: **{p.model or 'the host default'}**, members may pick "
            f"their own preset: **{'yes' if p.allow_presets else 'no'}**, requests in "
            f"progress per member: **{p.max_jobs}**, attachment limit: "
            f"**{p.max_upload_mb} MB**.")


class Settings(commands.GroupCog, group_name="settings",
               group_description="Your museforge defaults, and the server's (admins)"):
    def __init__(self, bot: MuseBot):
        self.bot = bot
        super().__init__()

    @app_commands.command(name="me", description="Your defaults: model preset, style, "
                                                 "private replies (no options: show them)")
    @app_commands.describe(
        preset="The image model to ask for, where the server allows members to choose",
        style="The finish /imagine uses when you don't name one",
        private="Replies to your slash commands only you can see (a private conversation)",
    )
    @app_commands.choices(preset=PRESET_CHOICES, style=STYLE_CHOICES)
    async def me(self, interaction: discord.Interaction[Any], preset: str | None = None,
                 style: str | None = None, private: bool | None = None) -> None:
        changes: dict[str, Any] = {}
        if preset is not None:
            changes["preset"] = None if preset == DEFAULT else preset
        if style is not None:
            changes["style"] = None if style == DEFAULT else style
        if private is not None:
            changes["private"] = private
        prefs = self.bot.prefs
        if changes:
            mine = await asyncio.to_thread(prefs.set_user, interaction.user.id, **changes)
        else:
            mine = prefs.user(interaction.user.id)
        text = describe_user(mine)
        server = prefs.guild(interaction.guild_id)
        if mine.preset and interaction.guild_id is not None and not server.allow_presets:
            text += " (This server uses one model for everyone, so your preset waits.)"
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="server", description="Server settings for admins: model, "
                                                     "limits (no options: show them)")
    @app_commands.describe(
        model="The image model everyone here uses unless they pick their own",
        allow_presets="Whether members may pick their own model preset with /settings me",
        max_jobs="How many requests one member may have in progress at once (1-3)",
        max_upload_mb="The largest file people may attach, in MB (1-25)",
    )
    @app_commands.choices(model=PRESET_CHOICES)
    @app_commands.checks.has_permissions(manage_guild=True)
    async def server(self, interaction: discord.Interaction[Any], model: str | None = None,
                     allow_presets: bool | None = None,
                     max_jobs: app_commands.Range[int, 1, MAX_JOBS] | None = None,
                     max_upload_mb: app_commands.Range[int, 1, MAX_UPLOAD_MB] | None = None,
                     ) -> None:
        if interaction.guild_id is None:
            await interaction.response.send_message("Server settings are set in a server.",
                                                    ephemeral=True)
            return
        changes: dict[str, Any] = {}
        if model is not None:
            changes["model"] = None if model == DEFAULT else model
        for name, value in (("allow_presets", allow_presets), ("max_jobs", max_jobs),
                            ("max_upload_mb", max_upload_mb)):
            if value is not None:
                changes[name] = value
        prefs = self.bot.prefs
        if changes:
            current = await asyncio.to_thread(prefs.set_guild, interaction.guild_id, **changes)
        else:
            current = prefs.guild(interaction.guild_id)
        await interaction.response.send_message(describe_guild(current), ephemeral=True)


async def setup(bot: MuseBot) -> None:
    await bot.add_cog(Settings(bot))
