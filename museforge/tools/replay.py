"""Re-make a stored version from its recipe and say whether the pixels match
(``museforge replay``). The recipe names the tool, its arguments, the seed, the source
versions (by artwork, version and sha256) and the backend that made it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from museforge.models.image.base import ImageBackend
from museforge.tools.base import ToolContext, ToolError

PILLOW_TOOLS = ("adjust_image", "add_text", "reframe_image")


@dataclass(frozen=True)
class ReplayReport:
    ref: str
    identical: bool
    detail: str


def replay(ctx: ToolContext, ref: str) -> ReplayReport:
    art, version = ctx.resolve(ref)
    recipe = version.recipe
    label = f"#{art.number} v{version.number}"
    tool_name = recipe.get("tool")
    if not tool_name:
        raise ToolError(f"{label} has no recipe to replay (it was {version.operation})")
    if tool_name == "import":
        raise ToolError(f"{label} was brought in from a file; there is nothing to re-make")
    if art.kind == "audio":
        from museforge.tools.audio_tools import replay_audio

        return ReplayReport(label, *replay_audio(ctx, version))
    if art.kind == "music":
        return _replay_music(ctx, label, recipe, version.files["mid"].read_bytes())
    sources = [_source_pixels(ctx, s) for s in recipe.get("sources", [])]
    backend = backend_for(recipe.get("backend") or {})
    if tool_name in PILLOW_TOOLS:
        from museforge.tools.image_edit_tools import remake_edit

        remade = remake_edit(backend, recipe, sources[0])
    else:
        from museforge.tools.image_tools import remake
        from museforge.tools.style_tools import recipe_picture_styles

        if backend is None:
            raise ToolError(f"{label}: the recipe does not name its image backend")
        remade = remake(backend, recipe, sources, recipe_picture_styles(ctx, recipe))
    with Image.open(version.files["png"]) as stored_image:
        stored = np.asarray(stored_image.convert("RGB"))
    new = np.asarray(remade.convert("RGB"))
    if stored.shape != new.shape:
        return ReplayReport(label, False, f"size differs: stored {stored.shape[1]}×"
                            f"{stored.shape[0]}, re-made {new.shape[1]}×{new.shape[0]}")
    diff = np.abs(stored.astype(np.int16) - new.astype(np.int16))
    if not diff.any():
        return ReplayReport(label, True, f"all {new.shape[1]}×{new.shape[0]} pixels match")
    share = float((diff.max(axis=2) > 0).mean()) * 100
    return ReplayReport(label, False, f"pixels differ: {share:.2f}% of pixels, largest "
                        f"difference {int(diff.max())}/255")


def _replay_music(ctx: ToolContext, label: str, recipe: dict[str, Any],
                  stored: bytes) -> ReplayReport:
    from museforge.models.music.midi import to_midi_bytes
    from museforge.tools.music_support import load_music, music_call, phrase_model
    from museforge.tools.music_tools import remake_music
    from museforge.tools.style_tools import recipe_melody_model

    model = recipe_melody_model(ctx, recipe)  # a learnt style's model, when one made it
    made_by = recipe.get("model_revision")
    if made_by and made_by != model.revision:
        raise ToolError(f"{label} was made by melody model {made_by}; this one is "
                        f"{model.revision}")
    phrases = phrase_model(ctx, model) if recipe.get("phrase_model") else None
    phrased_by = recipe.get("phrase_model_revision")
    if phrased_by and (phrases is None or phrased_by != phrases.revision):
        raise ToolError(f"{label} was made by phrase model {phrased_by}; this one is "
                        f"{phrases.revision if phrases else 'not here'}")
    sources = [load_music(ctx, f"#{s['artwork']} v{s['version']}")
               for s in recipe.get("sources", [])]
    remade = music_call(lambda: to_midi_bytes(remake_music(recipe, sources, model, phrases)))
    if remade == stored:
        return ReplayReport(label, True, f"the MIDI matches byte for byte ({len(stored)} bytes)")
    return ReplayReport(label, False, f"the MIDI differs ({len(stored)} bytes stored, "
                        f"{len(remade)} re-made)")


def _source_pixels(ctx: ToolContext, source: dict[str, Any]) -> Image.Image:
    _, version = ctx.resolve(f"#{source['artwork']} v{source['version']}")
    with Image.open(version.files["png"]) as im:
        return im.convert("RGB")


def backend_for(recipe: dict[str, Any]) -> ImageBackend | None:
    name = recipe.get("backend")
    if name in (None, "pillow"):
        return None
    if name == "procedural":
        from museforge.models.image.procedural import VERSION, VERSIONS, ProceduralPainter

        made_by = recipe.get("painter_version", VERSION)
        if made_by not in VERSIONS:
            raise ToolError(f"made by procedural painter v{made_by}; this is v{VERSION}, "
                            "which paints differently")
        return ProceduralPainter(version=made_by)  # older recipes paint as they were made
    if name == "diffusers":
        from museforge.models.image.diffusers_backend import DiffusersBackend

        model = recipe.get("local_path") or recipe.get("model")
        return DiffusersBackend(str(model), device=recipe.get("device"),
                                dtype=recipe.get("dtype"),
                                safety_checker=bool(recipe.get("safety_checker", True)))
    raise ToolError(f"results of the '{name}' backend cannot be re-made exactly")
