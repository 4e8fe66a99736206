"""The tools the planner sees, in one explicit list. Each later room (images, music)
adds its tools here, by name, in the order the model reads them."""

from __future__ import annotations

from typing import Any

from museforge.tools import (
    audio_tools,
    history_tools,
    image_edit_tools,
    image_tools,
    music_tools,
    note_tools,
    style_tools,
)
from museforge.tools.base import Tool

TOOLS: tuple[Tool, ...] = (
    image_tools.generate_image,
    image_tools.edit_image,
    image_edit_tools.adjust_image,
    image_edit_tools.reframe_image,
    image_tools.vary_image,
    image_tools.upscale_image,
    image_tools.inpaint_image,
    image_edit_tools.add_text,
    image_tools.blend_images,
    music_tools.compose_music,
    music_tools.edit_music,
    music_tools.vary_music,
    music_tools.continue_music,
    music_tools.interpolate_music,
    note_tools.import_melody,
    note_tools.harmonise_music,
    note_tools.export_music,
    audio_tools.generate_audio,
    audio_tools.edit_audio,
    style_tools.learn_style,
    style_tools.list_styles,
    style_tools.forget_style,
    history_tools.undo,
    history_tools.redo,
    history_tools.revert,
    history_tools.list_artworks,
    history_tools.show_versions,
)

_BY_NAME = {t.name: t for t in TOOLS}


class UnknownTool(KeyError):
    pass


def get_tool(name: str) -> Tool:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownTool(f"there is no tool named '{name}'") from None


def tool_names() -> list[str]:
    return [t.name for t in TOOLS]


def json_schema(name: str) -> dict[str, Any]:
    """The argument schema of a tool, as a model or the offline planner fills it."""
    return get_tool(name).args.model_json_schema()
