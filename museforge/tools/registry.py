"""The tools the planner sees, in one explicit list. Each later room (images, music)
adds its tools here, by name, in the order the model reads them."""

from __future__ import annotations

from typing import Any

from museforge.tools import audio, history, image_edits, images, music, notes, styles
from museforge.tools.base import Tool

TOOLS: tuple[Tool, ...] = (
    images.generate_image,
    images.edit_image,
    image_edits.adjust_image,
    image_edits.reframe_image,
    images.vary_image,
    images.upscale_image,
    images.inpaint_image,
    image_edits.add_text,
    images.blend_images,
    music.compose_music,
    music.edit_music,
    music.vary_music,
    music.continue_music,
    music.interpolate_music,
    notes.import_melody,
    notes.harmonise_music,
    notes.export_music,
    audio.generate_audio,
    audio.edit_audio,
    styles.learn_style,
    styles.list_styles,
    styles.forget_style,
    history.undo,
    history.redo,
    history.revert,
    history.list_artworks,
    history.show_versions,
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
