"""Making things: /imagine, /compose and /edit. Each becomes the sentence a person
would type; the assistant decides what to run. The style options offer, as the person
types, the built-in finishes and the styles they taught (learn_style), theirs alone."""

from __future__ import annotations

import asyncio
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from museforge.bots.discord import translate
from museforge.bots.discord.bot import MuseBot
from museforge.bots.discord.context import actor_for

STYLES = translate.IMAGE_STYLES
ASPECTS = ("1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "21:9")
MAX_CHOICES = 25  # Discord shows at most 25 suggestions


def _choices(values: tuple[str, ...]) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=v, value=v) for v in values]


def style_choices(builtin: tuple[str, ...], learnt: list[str], typed: str
                  ) -> list[app_commands.Choice[str]]:
    """The person's own styles first ("Rust (your style)"), then the built-in ones, those
    whose name holds what they typed. A learnt style named like a built-in one is left
    out: that name means the built-in finish."""
    typed = typed.strip().lower()
    mine = [app_commands.Choice(name=f"{n} (your style)", value=n) for n in learnt
            if n not in builtin and typed in n.lower()]
    theirs = [app_commands.Choice(name=v, value=v) for v in builtin if typed in v.lower()]
    return (mine + theirs)[:MAX_CHOICES]


class Create(commands.Cog):
    def __init__(self, bot: MuseBot):
        self.bot = bot

    async def _learnt(self, interaction: discord.Interaction[Any], kind: str) -> list[str]:
        store = self.bot.studio.store
        actor = await actor_for(store, interaction.user, interaction.guild_id)
        styles = await asyncio.to_thread(store.list_styles, actor, kind)
        return [s.name for s in styles]

    @app_commands.command(description="Paint a picture from a description")
    @app_commands.describe(
        prompt="What to paint, e.g. 'a fox in the snow at dusk'",
        style="A finish, or one of your own styles (default: your /settings style)",
        aspect="Width to height, e.g. 16:9 for wide, 9:16 for a phone screen",
        seed="A number that makes the result reproducible; leave out for a new one",
        count="How many pictures to paint at once (1-4)",
    )
    @app_commands.choices(aspect=_choices(ASPECTS))
    async def imagine(self, interaction: discord.Interaction[Any],
                      prompt: app_commands.Range[str, 1, 900],
                      style: app_commands.Range[str, 1, 40] | None = None,
                      aspect: str | None = None,
                      seed: app_commands.Range[int, 0, 2**32 - 1] | None = None,
                      count: app_commands.Range[int, 1, 4] = 1) -> None:
        style = style or self.bot.prefs.user(interaction.user.id).style
        message = translate.imagine(prompt, style, aspect, seed, count)
        await self.bot.runner.slash(interaction, message, open_thread=prompt)

    @imagine.autocomplete("style")
    async def _imagine_style(self, interaction: discord.Interaction[Any], current: str
                             ) -> list[app_commands.Choice[str]]:
        return style_choices(STYLES, await self._learnt(interaction, "image"), current)

    @app_commands.command(description="Compose a piece of music from a description")
    @app_commands.describe(
        prompt="What to compose, e.g. 'a calm lullaby' or 'an upbeat folk dance'",
        key="The key, e.g. 'D minor' or 'Bb major'",
        tempo="Speed in beats per minute (30-240)",
        instrument="The instrument to play it, e.g. piano, strings, flute",
        style="One of your own music styles (teach one: attach MIDI files and ask me to "
              "learn their feel)",
    )
    async def compose(self, interaction: discord.Interaction[Any],
                      prompt: app_commands.Range[str, 1, 900],
                      key: app_commands.Range[str, 1, 20] | None = None,
                      tempo: app_commands.Range[int, 30, 240] | None = None,
                      instrument: app_commands.Range[str, 1, 40] | None = None,
                      style: app_commands.Range[str, 1, 40] | None = None) -> None:
        message = translate.compose(prompt, key, tempo, instrument, style)
        await self.bot.runner.slash(interaction, message, open_thread=prompt)

    @compose.autocomplete("style")
    async def _compose_style(self, interaction: discord.Interaction[Any], current: str
                             ) -> list[app_commands.Choice[str]]:
        return style_choices((), await self._learnt(interaction, "music"), current)

    @app_commands.command(description="Change a picture, a piece of music or a clip in words")
    @app_commands.describe(
        instruction="The change, e.g. 'make it snowy', 'warmer and brighter' or 'fade out'",
        artwork="Which artwork: '#3', '#3 v2' or 'the fox one' (default: the latest)",
        file="An image, a MIDI file, a score (.abc, .musicxml, .mxl) or a recording (.wav, "
             ".flac, .ogg, .mp3) to start from",
    )
    async def edit(self, interaction: discord.Interaction[Any],
                   instruction: app_commands.Range[str, 1, 500],
                   artwork: app_commands.Range[str, 1, 60] | None = None,
                   file: discord.Attachment | None = None) -> None:
        message = translate.edit(instruction, None if file else artwork)
        await self.bot.runner.slash(interaction, message, attachments=[file] if file else [])


async def setup(bot: MuseBot) -> None:
    await bot.add_cog(Create(bot))
