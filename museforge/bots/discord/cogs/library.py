"""Looking back: /history, /versions and /undo (turns like any other), and /export, a
zip of the conversation with every file and a self-contained gallery page."""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from museforge.bots.discord import translate
from museforge.bots.discord.bot import MuseBot
from museforge.bots.discord.context import NO_PINGS, actor_for, scope_for
from museforge.bots.discord.targets import upload_limit
from museforge.storage.errors import StorageError
from museforge.storage.export import export_session, zip_export
from museforge.storage.models import Actor, SessionInfo
from museforge.storage.store import Store


def export_zip(store: Store, actor: Actor, session: SessionInfo, folder: Path) -> Path:
    """The session exported into ``folder`` and zipped; returns the zip (blocking)."""
    export_session(store.export_data(actor, session), folder / "export")
    slug = re.sub(r"[^\w-]+", "-", session.name, flags=re.ASCII).strip("-")[:40] or "session"
    return zip_export(folder / "export", folder / f"museforge-{slug}.zip")


class Library(commands.Cog):
    def __init__(self, bot: MuseBot):
        self.bot = bot

    @app_commands.command(description="List the artworks of this conversation")
    async def history(self, interaction: discord.Interaction[Any]) -> None:
        await self.bot.runner.slash(interaction, translate.HISTORY)

    @app_commands.command(description="Show every version of an artwork")
    @app_commands.describe(artwork="Which artwork: '#3' or 'the fox one'")
    async def versions(self, interaction: discord.Interaction[Any],
                       artwork: app_commands.Range[str, 1, 60]) -> None:
        await self.bot.runner.slash(interaction, translate.versions(artwork))

    @app_commands.command(description="Undo the last change to an artwork")
    @app_commands.describe(artwork="Which artwork: '#3' (default: the one you worked on last)")
    async def undo(self, interaction: discord.Interaction[Any],
                   artwork: app_commands.Range[str, 1, 60] | None = None) -> None:
        await self.bot.runner.slash(interaction, translate.undo(artwork))

    @app_commands.command(description="Download this conversation as a zip (files + gallery)")
    async def export(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        private = self.bot.prefs.user(interaction.user.id).private
        scope = scope_for(interaction.channel, interaction.user, interaction.guild_id,
                          private=private)
        store = self.bot.studio.store
        actor = await actor_for(store, interaction.user, interaction.guild_id)
        try:
            session = await asyncio.to_thread(store.find_session, actor, scope.key)
        except StorageError:
            await interaction.edit_original_response(content="Nothing to export here yet.")
            return
        folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="museforge-export-"))
        try:
            path = await asyncio.to_thread(export_zip, store, actor, session, folder)
            size, limit = path.stat().st_size, upload_limit(interaction.guild)
            if size > limit:
                await interaction.edit_original_response(content=(
                    f"The export is {size / 2**20:.1f} MB, over this server's "
                    f"{limit / 2**20:.0f} MB upload limit; on the host, `museforge export` "
                    "writes it to a folder."))
                return
            await interaction.edit_original_response(
                content=f"**{session.name}**: the conversation, every version of every "
                        "artwork, and index.html to browse them.",
                attachments=[discord.File(path, filename=path.name)], allowed_mentions=NO_PINGS)
        finally:
            await asyncio.to_thread(shutil.rmtree, folder, True)


async def setup(bot: MuseBot) -> None:
    await bot.add_cog(Library(bot))
