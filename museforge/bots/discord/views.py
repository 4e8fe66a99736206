"""Buttons under results, as persistent items: everything a press needs is in its
``custom_id`` (action, artwork, version, session key), so a button keeps working after
a restart once ``MuseBot.setup_hook`` registers these classes again.

Custom id scheme (at most 100 characters)::

    mf:<action>:<artwork>.<version>:<session key without "discord:">
    mf:up:3.2:guild:<guild id>:thread:<thread id>      upscale #3 v2 in that thread
    mf:vs:1.1:dm:<user id>:<channel id>                  subtle variation, a private session
    mf:cancel:<job id>                                   cancel a request still in progress

The action codes, labels and the sentence each press sends are the shared table
``museforge.bots.actions`` (the web page shows the same buttons).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import discord

from museforge.bots import actions
from museforge.tools.base import Artifact

ACTION_TEMPLATE = (r"mf:(?P<action>" + "|".join(actions.BY_CODE)
                   + r"):(?P<art>\d{1,7})\.(?P<ver>\d{1,7})"
                   r":(?P<key>(?:guild|dm):[0-9a-z:]{1,70})")
CANCEL_TEMPLATE = r"mf:cancel:(?P<job>\d{1,12})"

_STYLE = {"rr": discord.ButtonStyle.primary, "un": discord.ButtonStyle.danger}


def _code(name: str) -> str:
    code = actions.BY_NAME[name].code
    if code is None:
        raise ValueError(f"the '{name}' action has no Discord button")
    return code


def action_id(action: str, artwork: int, version: int, key: str) -> str:
    return f"mf:{action}:{artwork}.{version}:{key}"


class ActionButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=ACTION_TEMPLATE):
    """One press = one turn in the button's session, by whoever pressed it."""

    def __init__(self, action: str, artwork: int, version: int, key: str, *,
                 label: str | None = None, row: int | None = None):
        self.action, self.artwork, self.version, self.key = action, artwork, version, key
        super().__init__(
            discord.ui.Button(label=label or actions.BY_CODE[action].label,
                              style=_STYLE.get(action, discord.ButtonStyle.secondary),
                              custom_id=action_id(action, artwork, version, key)),
            row=row,
        )

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: Any) -> ActionButton:
        label = getattr(item, "label", None)
        return cls(match["action"], int(match["art"]), int(match["ver"]), match["key"],
                   label=label)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        runner = interaction.client.runner
        await runner.press(interaction, self.action, self.artwork, self.version, self.key)


class CancelButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CANCEL_TEMPLATE):
    """Stops a request that is waiting or running; only its requester may."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        super().__init__(discord.ui.Button(label="Cancel", style=discord.ButtonStyle.secondary,
                                           custom_id=f"mf:cancel:{job_id}"))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: Any) -> CancelButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.client.runner.cancel(interaction, self.job_id)


PERSISTENT_ITEMS = (ActionButton, CancelButton)


def cancel_view(job_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(CancelButton(job_id))
    return view


def result_view(kind: str, artifacts: Sequence[Artifact], key: str) -> discord.ui.View | None:
    """The buttons under one result message: ``batch`` (U1..U4, V1..V4, reroll),
    ``image`` (upscale, subtle/strong vary, reroll, undo), ``music`` (vary,
    faster/slower, transpose ±, continue, undo, export as ABC or MusicXML) or ``audio``
    (fade in/out, louder/quieter, loop to 30 s, undo)."""
    if not artifacts:
        return None
    view = discord.ui.View(timeout=None)
    if kind == "batch":
        for row, (prefix, name) in enumerate(actions.BATCH_EACH):
            for i, a in enumerate(artifacts, 1):
                view.add_item(ActionButton(_code(name), a.artwork, a.version, key,
                                           label=f"{prefix}{i}", row=row))
        first = artifacts[0]
        for name in actions.BATCH_ONCE:
            view.add_item(ActionButton(_code(name), first.artwork, first.version, key,
                                       row=len(actions.BATCH_EACH)))
        return view
    a = artifacts[0]
    names = actions.BUTTONS.get(kind, actions.BUTTONS["image"])
    for i, name in enumerate(names):
        view.add_item(ActionButton(_code(name), a.artwork, a.version, key, row=i // 5))
    return view
