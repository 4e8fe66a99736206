"""Making things: /imagine, /compose and /edit. Each becomes the sentence a person
would type; the assistant decides what to run."""

from __future__ import annotations

from typing import Any, get_args

import discord
from discord import app_commands
from discord.ext import commands

from museforge.bots.discord import translate
from museforge.bots.discord.bot import MuseBot
from museforge.tools.image_tools import Style

STYLES = get_args(Style)
ASPECTS = ("1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "21:9")


def _choices(values: tuple[str, ...]) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=v, value=v) for v in values]


class Create(commands.Cog):
    def __init__(self, bot: MuseBot):
        self.bot = bot

    @app_commands.command(description="Paint a picture from a description")
    @app_commands.describe(
        prompt="What to paint, e.g. 'a fox in the snow at dusk'",
        style="A finish for the picture (default: your /settings style)",
        aspect="Width to height, e.g. 16:9 for wide, 9:16 for a phone screen",
        seed="A number that makes the result reproducible; leave out for a new one",
        count="How many pictures to paint at once (1-4)",
    )
    @app_commands.choices(style=_choices(STYLES), aspect=_choices(ASPECTS))
    async def imagine(self, interaction: discord.Interaction[Any],
                      prompt: app_commands.Range[str, 1, 900],
                      style: str | None = None, aspect: str | None = None,
                      seed: app_commands.Range[int, 0, 2**32 - 1] | None = None,
                      count: app_commands.Range[int, 1, 4] = 1) -> None:
        style = style or self.bot.prefs.user(interaction.user.id).style
        message = translate.imagine(prompt, style, aspect, seed, count)
        await self.bot.runner.slash(interaction, message, open_thread=prompt)

    @app_commands.command(description="Compose a piece of music from a description")
    @app_commands.describe(
        prompt="What to compose, e.g. 'a calm lullaby' or 'an upbeat folk dance'",
        key="The key, e.g. 'D minor' or 'Bb major'",
        tempo="Speed in beats per minute (30-240)",
        instrument="The instrument to play it, e.g. piano, strings, flute",
    )
    async def compose(self, interaction: discord.Interaction[Any],
                      prompt: app_commands.Range[str, 1, 900],
                      key: app_commands.Range[str, 1, 20] | None = None,
                      tempo: app_commands.Range[int, 30, 240] | None = None,
                      instrument: app_commands.Range[str, 1, 40] | None = None) -> None:
        message = translate.compose(prompt, key, tempo, instrument)
        await self.bot.runner.slash(interaction, message, open_thread=prompt)

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
