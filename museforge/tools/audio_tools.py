"""The audio tools: ``edit_audio`` (trim, fades, loop, gain/normalise, tempo without pitch,
a mix with a piece's synthesizer render or another clip; no model) and ``generate_audio``
(MusicGen or Stable Audio Open from local weights: text, a picture or piece to be inspired
by, a melody to follow with musicgen-melody, a negative prompt with Stable Audio). Attached
audio files come in through the safe loader (``import_audio``). Every audio version has
three files: ``wav`` (16-bit PCM, what the next edit reads, so edits lose nothing to a
codec), ``ogg`` (for players) and ``png`` (waveform and spectrogram); every one replays
from its recipe."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, field_validator

from museforge.models.audio.loader import AudioFileError, AudioLimits, Clip, load_audio
from museforge.storage.models import ArtworkInfo, FileIn, VersionInfo
from museforge.tools.base import (
    TITLE_CHARS,
    Args,
    Artifact,
    ArtworkRef,
    Cancelled,
    ToolContext,
    ToolError,
    ToolResult,
    file_title,
    nothing_changed,
    said_and,
    source_record,
    tool,
)

LONGEST_S = 600.0  # the longest clip an audio tool keeps (as the music tools)
LIMITS = AudioLimits(max_seconds=LONGEST_S)
MIX_RATE_MAX = 96000  # the synthesizer's highest rate; a faster clip gets a resampled render


@dataclass
class AudioSource:
    art: ArtworkInfo
    version: VersionInfo
    clip: Clip

    def describe(self) -> dict[str, Any]:
        return source_record(self.art, self.version, "wav")


def load_clip(ctx: ToolContext, ref: str) -> AudioSource:
    art, version = ctx.resolve(ref)
    if art.kind != "audio":
        raise ToolError(f"#{art.number} is {art.kind}, not audio")
    path = version.files.get("wav")
    if path is None:
        raise ToolError(f"#{art.number} v{version.number} has no WAV file")
    try:
        clip, _ = load_audio(path.read_bytes(), LIMITS)
    except AudioFileError as exc:
        raise ToolError(f"#{art.number} v{version.number}: {exc}") from exc
    return AudioSource(art, version, clip)


def _files(samples: np.ndarray, rate: int, title: str) -> dict[str, FileIn]:
    from museforge.models.audio.clipfiles import clip_files

    return {role: FileIn(f.data, f.mime) for role, f in clip_files(samples, rate, title).items()}


def describe_clip(samples: np.ndarray, rate: int) -> dict[str, Any]:
    from museforge.models.audio.edits import peak_db

    peak = peak_db(samples)
    return {"seconds": round(len(samples) / rate, 3), "sample_rate": rate,
            "channels": int(samples.shape[1]),
            "peak_db": None if peak == -np.inf else round(peak, 2)}


def store_new_audio(ctx: ToolContext, title: str, prompt: str, recipe: dict[str, Any],
                    samples: np.ndarray, rate: int) -> Artifact:
    recipe = {**describe_clip(samples, rate), **recipe}
    art, version = ctx.store.create_artwork(
        ctx.actor, ctx.session, "audio", title=title[:TITLE_CHARS], prompt=prompt,
        operation=recipe["tool"], recipe=recipe, files=_files(samples, rate, title),
        message_id=ctx.message_id)
    return Artifact.of(art, version)


def store_audio_version(ctx: ToolContext, source: AudioSource, recipe: dict[str, Any],
                        samples: np.ndarray, rate: int) -> Artifact:
    recipe = {**describe_clip(samples, rate), **recipe}
    version = ctx.store.add_version(
        ctx.actor, ctx.session, source.art.number, operation=recipe["tool"], recipe=recipe,
        files=_files(samples, rate, source.art.title), parent=source.version.number,
        message_id=ctx.message_id)
    return Artifact.of(ctx.store.artwork(ctx.actor, ctx.session, source.art.number), version)


def import_audio(ctx: ToolContext, path: Path, dry_run: bool = False) -> Artifact | None:
    """Bring a person's audio file (WAV, FLAC, OGG, MP3) in as a new artwork, through the
    safe loader only (format by its bytes, caps checked before decoding)."""
    data = path.read_bytes()
    try:
        clip, header = load_audio(data, LIMITS)
    except AudioFileError as exc:
        raise ToolError(str(exc)) from exc
    if dry_run:
        return None
    title = file_title(path, "recording")
    recipe = {"tool": "import", "args": {}, "sources": [], "format": header.format,
              "codec": header.codec, "original_sha256": hashlib.sha256(data).hexdigest()}
    return store_new_audio(ctx, title, "", recipe, clip.samples, clip.sample_rate)


# -- edit_audio ------------------------------------------------------------------------------


class EditAudioArgs(Args):
    artwork: ArtworkRef
    trim: list[float] | None = Field(
        default=None, min_length=2, max_length=2,
        description="[start, end] in seconds: keep only that stretch (end 0 = to the end).")
    fade_in: float | None = Field(default=None, ge=0, le=60, description="Seconds of fade-in.")
    fade_out: float | None = Field(default=None, ge=0, le=60,
                                   description="Seconds of fade-out.")
    loop_to: float | None = Field(default=None, gt=0, le=LONGEST_S,
                                  description="Repeat the clip until it lasts this many seconds.")
    gain: float | None = Field(default=None, ge=-40, le=20,
                               description="Louder by this many dB (negative: quieter).")
    normalise: bool = Field(default=False, description="Bring the peak to -1 dBFS.")
    tempo_scale: float | None = Field(default=None, ge=0.5, le=2.0,
                                      description="Faster (1.25) or slower (0.8), same pitch.")
    mix_with: ArtworkRef | None = Field(
        default=None, description="A piece (its synthesizer render) or another clip to lay "
                                  "over this one from its start.")
    mix_gain: float = Field(default=0.0, ge=-40, le=6,
                            description="Level of the mixed-in sound, in dB.")


ORDER = ("trim", "tempo_scale", "loop_to", "mix_with", "normalise", "gain", "fades")


def _idle(args: EditAudioArgs, source: AudioSource) -> list[str] | None:
    """What the asked-for edits are when none of them changes anything, else None."""
    idle = []
    seconds = source.clip.seconds
    if args.trim is not None:
        start, end = args.trim
        if start > 0 or (end and end < seconds - 1e-3):
            return None
        idle.append("a trim to the whole clip")
    if args.tempo_scale is not None:
        if args.tempo_scale != 1:
            return None
        idle.append("a tempo ×1")
    if args.gain is not None:
        if args.gain != 0:
            return None
        idle.append("a gain of 0 dB")
    for name in ("fade_in", "fade_out"):
        value = getattr(args, name)
        if value is not None:
            if value > 0:
                return None
            idle.append(f"a {name.replace('_', '-')} of 0 s")
    if args.loop_to is not None or args.mix_with is not None or args.normalise:
        return None
    return idle


def apply_edits(samples: np.ndarray, rate: int, args: dict[str, Any],
                mix: np.ndarray | None) -> tuple[np.ndarray, list[str], dict[str, Any]]:
    """``args`` applied in the fixed ``ORDER``; what was done, said, and notes for the
    recipe. ``mix`` is the other sound, already at ``rate``."""
    from museforge.models.audio import edits

    done, notes = [], {}
    out = samples
    try:
        if args.get("trim") is not None:
            start, end = args["trim"]
            out = edits.trim(out, rate, float(start), float(end) or None)
            done.append(f"trimmed to {float(start):g}–{len(out) / rate + float(start):.2f} s")
        if args.get("tempo_scale") not in (None, 1):
            out = edits.time_stretch(out, rate, float(args["tempo_scale"]))
            done.append(f"tempo ×{float(args['tempo_scale']):g} at the same pitch")
        if args.get("loop_to") is not None:
            out = edits.loop_to(out, rate, float(args["loop_to"]))
            done.append(f"looped to {float(args['loop_to']):g} s")
        if mix is not None:
            out, scaled = edits.mix(out, mix, float(args.get("mix_gain") or 0.0))
            notes["mix_scaled_db"] = round(scaled, 2)
            done.append("mixed" + (f" (the sum scaled by {scaled:.1f} dB so it does not clip)"
                                   if scaled else ""))
        if args.get("normalise"):
            out = edits.normalise(out)
            done.append("normalised to -1 dBFS")
        if args.get("gain") not in (None, 0):
            out = edits.gain(out, float(args["gain"]))
            done.append(f"{float(args['gain']):+g} dB")
            if edits.peak_db(out) > 0:
                notes["clipped"] = True
                done[-1] += " (its loudest parts clip; normalise instead keeps them)"
        if args.get("fade_in") or args.get("fade_out"):
            out = edits.fade(out, rate, float(args.get("fade_in") or 0),
                             float(args.get("fade_out") or 0))
            done.append(said_and([f"{float(args[k]):g} s fade-{k[5:]}"
                                  for k in ("fade_in", "fade_out") if args.get(k)]))
    except edits.AudioEditError as exc:
        raise ToolError(str(exc)) from exc
    if len(out) / rate > LONGEST_S + 1e-6:
        raise ToolError(f"the result would last {len(out) / rate:.0f} s; the longest clip I "
                        f"keep is {LONGEST_S:.0f} s")
    return np.clip(out, -1.0, 1.0).astype(np.float32), done, notes


def mix_sound(ctx: ToolContext, ref: str, rate: int, channels: int,
              renderer: str = "auto") -> tuple[np.ndarray, dict[str, Any]]:
    """The sound ``ref`` names at ``rate``: a piece's synthesizer render, or a clip."""
    from museforge.models.audio.edits import match_channels, resample

    art, version = ctx.resolve(ref)
    if art.kind == "audio":
        other = load_clip(ctx, ref)
        sound = resample(other.clip.samples, other.clip.sample_rate, rate)
        return match_channels(sound, channels), other.describe()
    if art.kind != "music":
        raise ToolError(f"#{art.number} is an image; I can mix in a piece of music or a clip")
    from museforge.models.audio.render import render_audio
    from museforge.tools.music_support import music_call, read_piece

    piece = read_piece(version)
    render_rate = min(rate, MIX_RATE_MAX)
    rendered = music_call(lambda: render_audio(piece, sample_rate=render_rate,
                                               renderer=renderer))
    sound = resample(rendered.samples[:, None], render_rate, rate)
    return match_channels(sound, channels), {**source_record(art, version, "mid"),
                                             "renderer": rendered.renderer}


def _result_seconds(length: float, args: EditAudioArgs) -> float:
    """How long the edited clip will be, from the arguments alone (trim, then tempo, then
    loop: the order the edits run in)."""
    if args.trim is not None:
        start, end = args.trim
        length = max(0.0, (min(end, length) if end else length) - start)
    if args.tempo_scale not in (None, 1):
        length /= float(args.tempo_scale)  # type: ignore[arg-type]
    if args.loop_to is not None:
        length = float(args.loop_to)
    return length


@tool(EditAudioArgs, family="audio", kind="audio", makes="version",
      ref_kinds={"mix_with": None})
def edit_audio(ctx: ToolContext, args: EditAudioArgs) -> ToolResult:
    """Edit an audio clip without a model: trim to [start, end] seconds, fade in/out
    (seconds), loop to a length (seconds), change the gain (dB) or normalise the peak,
    change the tempo without changing the pitch (tempo_scale 0.5..2), or mix in a piece's
    synthesizer render or another clip (mix_with, at mix_gain dB). Applied in that order
    (fades last); the result is a new version."""
    source = load_clip(ctx, args.artwork)
    idle = _idle(args, source)
    if idle == []:
        raise ToolError("say what to change: trim, fade_in, fade_out, loop_to, gain, "
                        "normalise, tempo_scale or mix_with")
    if idle is not None:
        return nothing_changed(source.art, source.version, [], idle)
    if args.gain is not None and args.normalise:
        raise ToolError("give a gain or normalise, not both (normalise sets the loudness)")
    dumped = args.model_dump()
    clip = source.clip
    seconds = _result_seconds(len(clip.samples) / clip.sample_rate, args)
    if seconds > LONGEST_S:  # said before any of the work is done
        raise ToolError(f"the result would last {seconds:.0f} s; the longest clip I keep is "
                        f"{LONGEST_S:.0f} s (trim it first, or a smaller tempo change)")
    mixed, mix_record = None, None
    if args.mix_with:
        mixed, mix_record = mix_sound(ctx, args.mix_with, clip.sample_rate, clip.channels)
    ctx.report("editing audio", 0, 1)
    out, done, notes = apply_edits(clip.samples, clip.sample_rate, dumped, mixed)
    sources = [source.describe()] + ([mix_record] if mix_record else [])
    recipe = {"tool": "edit_audio", "args": dumped, "sources": sources, "order": list(ORDER),
              **notes}
    made = store_audio_version(ctx, source, recipe, out, clip.sample_rate)
    return ToolResult(f"Edited #{made.artwork} ({'; '.join(done)}): now v{made.version}, "
                      f"{len(out) / clip.sample_rate:.1f} s.", [made])


# -- generate_audio --------------------------------------------------------------------------


class GenerateAudioArgs(Args):
    prompt: str = Field(default="", max_length=500,
                        description="What it should sound like: genre, instruments, mood.")
    negative_prompt: str = Field(default="", max_length=500,
                                 description="What it should not sound like (Stable Audio).")
    seconds: float = Field(default=10.0, ge=1, le=30, description="How long, 1 to 30 s.")
    steps: int | None = Field(default=None, ge=1, le=250,
                              description="Diffusion steps (Stable Audio: default 100; "
                                          "ACE-Step: 8).")
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1,
                             description="The same seed makes the same clip.")
    inspired_by: ArtworkRef | None = Field(
        default=None, description="A picture or a piece whose mood, key, tempo and "
                                  "instrument join the prompt.")
    melody_from: ArtworkRef | None = Field(
        default=None, description="A piece (its synthesizer render) or a clip whose melody "
                                  "the recording follows (musicgen-melody).")
    model: str | None = Field(
        default=None, max_length=40,
        description="An audio model the person named, instead of the configured one: "
                    "musicgen-small, musicgen-medium, musicgen-melody, stable-audio-open, "
                    "ace-step.")

    @field_validator("model")
    @classmethod
    def _a_preset(cls, value: str | None) -> str | None:
        from museforge.models.audio.generation import AUDIO_PRESETS

        if value is not None and value not in AUDIO_PRESETS:
            raise ValueError(f"model must be one of {', '.join(AUDIO_PRESETS)}, not {value!r}")
        return value


def audio_generator(ctx: ToolContext, melody: bool = False, model: str | None = None) -> Any:
    """The audio model: the preset the person named (``model``), else the one handed in
    by the caller (``ctx.services.audio``, or ``audio_melody`` to follow a melody), else the
    backend its local weights call for (MusicGen, or Stable Audio Open / ACE-Step for a
    diffusers pipeline folder): ``settings.audio_model`` (a preset, hub id or folder;
    default musicgen-small), or musicgen-melody when a melody is to be followed. No
    weights: one sentence, no substitute."""
    from museforge.models.audio.generation import DEFAULT_MODEL, AudioModelError, open_generator

    if model is not None:  # named for this call only: the configured model stays
        try:
            named = open_generator(model, device=ctx.settings.device)
        except AudioModelError as exc:
            raise ToolError(str(exc)) from exc
        if melody and not getattr(named, "melody", False):
            raise ToolError(f"{named.label} does not follow a melody; musicgen-melody does.")
        return named
    handed = ctx.services.audio_melody if melody else ctx.services.audio
    if handed is None and melody:
        plain = ctx.services.audio
        handed = plain if getattr(plain, "melody", False) else None
    if handed is not None:
        return handed
    name = (ctx.settings.audio_model or "").strip() or DEFAULT_MODEL
    if melody and name == DEFAULT_MODEL:
        name = "musicgen-melody"
    try:
        backend = open_generator(name, device=ctx.settings.device)
    except AudioModelError as exc:
        raise ToolError(str(exc)) from exc
    if melody and not getattr(backend, "melody", False):
        raise ToolError(f"{backend.label} does not follow a melody: set MUSEFORGE_AUDIO_MODEL "
                        "to musicgen-melody (`museforge models pull musicgen-melody`).")
    if melody:
        ctx.services.audio_melody = backend
    else:
        ctx.services.audio = backend
    return backend


def _inspiration(ctx: ToolContext, ref: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Words a picture or a piece adds to the prompt, their reasons, and its source."""
    from museforge.tools import crossmodal

    art, version = ctx.resolve(ref)
    if art.kind == "image":
        from museforge.tools.image_support import load_source

        source = load_source(ctx, ref)
        plan = crossmodal.music_from_image(source.image, art.prompt)
        words = f"{plan.mood}, {plan.key}, {plan.tempo} bpm, {plan.instrument}"
        return words, plan.recipe(), source.describe()
    if art.kind == "music":
        r = version.recipe
        parts = [str(r[k]) for k in ("mood", "key") if r.get(k)]
        parts += [f"{float(r['tempo']):g} bpm"] if r.get("tempo") else []
        parts += [str(r["instrument"])] if r.get("instrument") else []
        return ", ".join(parts), {"from": f"#{art.number} v{version.number}"}, \
            source_record(art, version, "mid")
    return str(version.recipe.get("prompt_used") or art.prompt), {"from": art.ref}, \
        source_record(art, version, "wav")


def melody_of(ctx: ToolContext, ref: str, rate: int, seconds: float,
              renderer: str = "auto") -> tuple[np.ndarray, dict[str, Any]]:
    """The first ``seconds`` of the sound ``ref`` names, mono at ``rate`` (what a melody
    model follows), and its source record (the piece and version it came from)."""
    sound, record = mix_sound(ctx, ref, rate, 1, renderer)
    return sound[:int(round(seconds * rate)), 0], record


def _generate(ctx: ToolContext, args: dict[str, Any], prompt: str,
              melody: tuple[np.ndarray, int] | None, backend: Any) -> Any:
    from museforge.models.audio.generation import (
        AudioGenerationCancelled,
        AudioModelError,
        AudioRequest,
        AudioRun,
    )

    request = AudioRequest(prompt, float(args["seconds"]), int(args["seed"]),
                           negative_prompt=str(args.get("negative_prompt") or ""),
                           steps=args.get("steps"),
                           melody=None if melody is None else melody[0],
                           melody_rate=None if melody is None else melody[1])
    run = AudioRun(progress=lambda i, n: ctx.report("generating audio", i, n),
                   cancel=ctx.cancel)
    try:
        return backend.generate(request, run)
    except AudioGenerationCancelled as exc:
        raise Cancelled() from exc
    except AudioModelError as exc:
        raise ToolError(str(exc)) from exc


@tool(GenerateAudioArgs, family="audio", kind="audio", makes="artwork",
      ref_kinds={"inspired_by": None, "melody_from": None})
def generate_audio(ctx: ToolContext, args: GenerateAudioArgs) -> ToolResult:
    """Generate an audio clip (real sound, not notes) with the local audio model (MusicGen;
    Stable Audio Open, good at sound effects and textures; or ACE-Step, songs) from a prompt
    (genre, instruments, mood, sounds), 1 to 30 seconds, seeded. negative_prompt: Stable
    Audio only; steps: Stable Audio and ACE-Step; model: only when the person names one
    ("with stable audio" is model="stable-audio-open"). inspired_by: a picture or piece whose
    mood, key, tempo and instrument join the prompt. melody_from: a piece or clip whose
    melody the recording follows, e.g. "make a full-band recording of #3" is
    melody_from="#3" (musicgen-melody). The result is a new audio artwork #N."""
    from museforge.tools.image_support import new_seed

    if not (args.prompt or args.inspired_by or args.melody_from):
        raise ToolError("say what the audio should sound like (a prompt), or give a picture "
                        "or piece to start from")
    backend = audio_generator(ctx, melody=bool(args.melody_from), model=args.model)
    dumped = args.model_dump()
    if dumped["seed"] is None:
        dumped["seed"] = new_seed()
    words = [args.prompt] if args.prompt else []
    sources: list[dict[str, Any]] = []
    why: dict[str, Any] = {}
    if args.inspired_by:
        added, why, record = _inspiration(ctx, args.inspired_by)
        words.append(added)
        sources.append(record)
    melody = None
    if args.melody_from:
        rate = int(getattr(backend, "melody_rate", 32000))
        samples, record = melody_of(ctx, args.melody_from, rate, args.seconds)
        melody = (samples, rate)
        sources.append({**record, "role": "melody"})
        if not args.prompt and not args.inspired_by:
            piece_words, _, _ = _inspiration(ctx, args.melody_from)
            words.append(f"a full-band recording, {piece_words}".rstrip(", "))
    prompt = ", ".join(w for w in words if w)
    result = _generate(ctx, dumped, prompt, melody, backend)
    recipe = {"tool": "generate_audio", "args": dumped, "seed": dumped["seed"],
              "prompt_used": prompt, "sources": sources, "inspiration": why,
              "backend": result.recipe}
    title = args.prompt or prompt or "audio"
    made = store_new_audio(ctx, title, prompt, recipe, result.samples, result.sample_rate)
    label = getattr(backend, "label", backend.name)
    follows = f", following the melody of {args.melody_from}" if args.melody_from else ""
    notes = "".join(f" ({n})" for n in result.recipe.get("notes", []))
    return ToolResult(f"Generated {made.ref}: {args.seconds:g} s with {label}{follows}, "
                      f"seed {dumped['seed']}.{notes}", [made])


# -- replay ----------------------------------------------------------------------------------


def remake_audio(ctx: ToolContext, recipe: dict[str, Any]) -> tuple[np.ndarray, int]:
    """The samples a stored audio version's recipe makes (what ``museforge replay`` runs)."""
    sources = recipe.get("sources", [])
    if recipe.get("tool") == "edit_audio":
        base = load_clip(ctx, _ref(sources[0]))
        clip = base.clip
        mixed = None
        if len(sources) > 1:
            mixed, _ = mix_sound(ctx, _ref(sources[1]), clip.sample_rate, clip.channels,
                                 sources[1].get("renderer", "auto"))
        out, _, _ = apply_edits(clip.samples, clip.sample_rate, recipe["args"], mixed)
        return out, clip.sample_rate
    if recipe.get("tool") == "generate_audio":
        from museforge.models.audio.generation import AudioModelError, generator_from_recipe

        made_by = recipe.get("backend", {})
        try:
            backend = generator_from_recipe(made_by)
        except AudioModelError as exc:
            raise ToolError(str(exc)) from exc
        melody = None
        for source in sources:
            if source.get("role") == "melody":
                rate = int(getattr(backend, "melody_rate", 32000))
                samples, _ = melody_of(ctx, _ref(source), rate, float(recipe["args"]["seconds"]),
                                       source.get("renderer", "auto"))
                melody = (samples, rate)
        result = _generate(ctx, recipe["args"], str(recipe.get("prompt_used", "")), melody,
                           backend)
        return result.samples, result.sample_rate
    raise ToolError(f"an audio version made by {recipe.get('tool')!r} cannot be re-made")


def _ref(source: dict[str, Any]) -> str:
    return f"#{source['artwork']} v{source['version']}"


def replay_audio(ctx: ToolContext, version: VersionInfo) -> tuple[bool, str]:
    """Whether the recipe re-makes the stored WAV sample for sample, and how it differs."""
    from museforge.models.audio.clipfiles import encode_wav

    samples, rate = remake_audio(ctx, version.recipe)
    stored = version.files["wav"].read_bytes()
    if encode_wav(samples, rate) == stored:
        return True, f"the WAV matches sample for sample ({len(samples)} frames at {rate} Hz)"
    clip, _ = load_audio(stored, LIMITS)
    if clip.samples.shape != samples.shape:
        return False, (f"the length differs: stored {clip.frames} frames, re-made "
                       f"{len(samples)}")
    diff = float(np.max(np.abs(clip.samples - np.clip(samples, -1, 1))))
    return False, f"samples differ by up to {diff:.4f} of full scale"


__all__ = ["edit_audio", "generate_audio", "import_audio", "replay_audio"]
