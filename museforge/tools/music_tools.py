"""Music tools: compose_music, edit_music, vary_music, continue_music, interpolate_music;
a person's own melody in (import_melody), harmonised (harmonise_music) and written back
out as notation (export_music) live in tools/note_tools.py.
Composition and the latent operations use our melody model; edits are deterministic.
Every version is stored as MIDI + OGG + piano roll with a recipe that re-makes it; an edit
that would change nothing ("make it minor" on a minor piece) stores none and says so."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from museforge.models.music import edit as ops
from museforge.models.music.base import MelodyModel, PhraseModel
from museforge.models.music.piece import Piece
from museforge.tools.base import (
    Args,
    Artifact,
    ArtworkRef,
    ToolContext,
    ToolError,
    ToolResult,
    nothing_changed,
    tool,
)
from museforge.tools.image_support import new_seed
from museforge.tools.music_support import (
    MusicSource,
    _melody,  # noqa: F401 - note_tools takes it from here
    check_length,
    continue_piece,
    interpolate_pieces,
    load_music,
    melody_model,
    melody_windows,
    model_bar,
    music_call,
    phrase_model,
    piece_bars,
    store_music_version,
    store_new_music,
    vary_piece,
)
from museforge.tools.phrase_support import (
    continue_in_phrases,
    interpolate_in_phrases,
    phrase_said,
    phrases_for,
    recipe_of,
    vary_in_phrases,
)
from museforge.tools.style_tools import in_learnt, style_melody_model

Meter = Literal["2/4", "3/4", "4/4", "6/8"]
PartName = Literal["melody", "chords", "bass", "drums"]
StyleName = Literal["lullaby", "waltz", "march", "jig", "reel", "hornpipe", "ambient", "rock",
                    "ballad", "jazz", "folk"]
Grid = Literal["1/4", "1/8", "1/16", "1/32"]
GRID_BEATS = {"1/4": 1.0, "1/8": 0.5, "1/16": 0.25, "1/32": 0.125}
SEED = Field(default=None, ge=0, le=2**32 - 1,
             description="Seed for reproducible results; omit for a new random one.")


def _key(value: str | None) -> str | None:
    """The key spelled the usual way; an unknown key is refused (MusicError is a
    ValueError, so pydantic reports it as this argument's error)."""
    from museforge.models.music.theory import parse_key

    return None if value is None else str(parse_key(value))


def _instrument(value: str | None) -> str | None:
    """The General MIDI name; an unknown one is refused with the closest name."""
    from museforge.models.music.theory import instrument_program, program_name

    return None if value is None else program_name(instrument_program(value))


class _KeyAndInstrument(Args):
    key: str | None = Field(default=None, max_length=20,
                            description="A key like 'D minor' or 'Bb major'.")
    instrument: str | None = Field(default=None, max_length=60,
                                   description="A General MIDI instrument name.")

    @field_validator("key")
    @classmethod
    def _valid_key(cls, value: str | None) -> str | None:
        return _key(value)

    @field_validator("instrument")
    @classmethod
    def _valid_instrument(cls, value: str | None) -> str | None:
        return _instrument(value)


class ComposeArgs(_KeyAndInstrument):
    prompt: str = Field(min_length=1, max_length=500,
                        description="What the piece should be like, in words.")
    mood: str | None = Field(default=None, max_length=40,
                             description="calm, happy, sad, epic, mysterious, energetic...")
    tempo: float | None = Field(default=None, ge=20, le=300, description="Beats per minute.")
    bars: int = Field(default=8, ge=2, le=64, description="Length in bars (2-64).")
    time_signature: Meter | None = Field(default=None, description="2/4, 3/4, 4/4 or 6/8.")
    parts: list[PartName] | None = Field(default=None, max_length=4,
                                         description="Which parts: melody, chords, bass, drums.")
    style: StyleName | None = Field(default=None, description="A style of piece.")
    learnt_style: str | None = Field(
        default=None, min_length=1, max_length=40,
        description="A style the person taught with learn_style (list_styles names them).")
    seed: int | None = SEED
    inspired_by: ArtworkRef | None = Field(
        default=None, description="An artwork (picture or music) whose mood to follow.")
    start_with: str | None = Field(
        default=None, min_length=1, max_length=20_000,
        description="Notes the piece must begin with, exactly as given: 'C E G', "
                    "'C4 E4 G4 C5', 'D8 F#8 A4' (8 = eighth), '60 64 67', 'do mi sol', or "
                    "an ABC tune. The piece keeps their key and meter.")


class EditMusicArgs(_KeyAndInstrument):
    artwork: ArtworkRef
    transpose: int | None = Field(default=None, ge=-24, le=24,
                                  description="Semitones up (positive) or down.")
    mode: Literal["major", "minor"] | None = Field(
        default=None, description="Change mode by scale degree (not a transposition).")
    tempo: float | None = Field(default=None, ge=20, le=300, description="New tempo in bpm.")
    tempo_scale: float | None = Field(default=None, ge=0.25, le=4.0,
                                      description="Tempo factor: 1.1 = 10% faster.")
    part: str = Field(default="melody", max_length=30,
                      description="Which part `instrument` is for (default the melody).")
    bars: int | None = Field(default=None, ge=1, le=256, description="Trim or loop to N bars.")
    humanize: float | None = Field(default=None, ge=0.0, le=1.0,
                                   description="Timing/velocity looseness 0..1 (seeded).")
    quantize: Grid | None = Field(default=None, description="Snap notes to a grid: 1/16...")
    seed: int | None = SEED

    @model_validator(mode="after")
    def _something(self) -> EditMusicArgs:
        if all(getattr(self, f) is None for f in ("transpose", "key", "mode", "tempo",
                                                   "tempo_scale", "instrument", "bars",
                                                   "humanize", "quantize")):
            raise ValueError("say what to change (transpose, key, mode, tempo, tempo_scale, "
                             "instrument, bars, humanize or quantize)")
        if self.tempo is not None and self.tempo_scale is not None:
            raise ValueError("give tempo or tempo_scale, not both")
        return self


class VaryMusicArgs(Args):
    artwork: ArtworkRef
    amount: float = Field(default=0.3, ge=0.0, le=1.0,
                          description="How far from the original, 0..1.")
    count: int = Field(default=1, ge=1, le=4, description="How many variations (1-4).")
    seed: int | None = SEED
    learnt_style: str | None = Field(
        default=None, min_length=1, max_length=40,
        description="A style the person taught with learn_style (list_styles names them).")


class ContinueArgs(Args):
    artwork: ArtworkRef
    bars: int = Field(default=4, ge=2, le=32, description="How many bars to add (2-32).")
    time_signature: Meter | None = Field(
        default=None, description="Carry on in another meter: 3/4 and 6/8, or 2/4 and 4/4, "
                                  "re-barring the piece first.")
    seed: int | None = SEED
    learnt_style: str | None = Field(
        default=None, min_length=1, max_length=40,
        description="A style the person taught with learn_style (list_styles names them).")


class InterpolateArgs(Args):
    artwork_a: ArtworkRef
    artwork_b: ArtworkRef
    steps: int = Field(default=4, ge=1, le=12, description="Steps between them (1-12).")


# -- compose ---------------------------------------------------------------------------------


@tool(ComposeArgs, family="music", kind="music", makes="artwork",
      ref_kinds={"inspired_by": None})
def compose_music(ctx: ToolContext, args: ComposeArgs) -> ToolResult:
    """Compose a new piece from a description: a melody from our model with chords, bass
    and drums around it. Optional: mood, key ('D minor'), tempo (bpm), bars, instrument (a
    General MIDI name), time_signature, parts, style (lullaby, waltz, march, jig, reel,
    hornpipe, ambient, rock, ballad, jazz, folk), learnt_style (one the person taught with
    learn_style). The piece becomes a new artwork #N with MIDI, audio and a piano roll."""
    dumped = args.model_dump()
    seed = args.seed if args.seed is not None else new_seed()
    dumped["seed"] = seed
    inspiration = None
    if args.inspired_by:
        dumped, inspiration = _inspired(ctx, args.inspired_by, dumped)
    echo = ""
    if args.start_with:
        from museforge.tools.note_tools import given_start

        dumped, echo = given_start(dumped)
    check_compose_length(dumped)
    model, learnt = style_melody_model(ctx, args.learnt_style)
    result = _compose(dumped, model, None if learnt else phrase_model(ctx, model))
    recipe = {"tool": "compose_music", "args": dumped, "seed": seed, "sources": [],
              **result.recipe, "inspiration": inspiration, **_learnt(learnt)}
    made = store_new_music(ctx, args.prompt, args.prompt, recipe, result.piece)
    r = result.recipe
    started = f" It starts with your notes. {echo}." if echo else ""
    return ToolResult(f"Composed {made.ref} “{_short(args.prompt)}”"
                      f"{in_learnt([learnt['name']] if learnt else [])}: {r['bars']} bars of "
                      f"{r['mood']} {r['instrument']} in {r['key']}, {r['tempo']:g} bpm, "
                      f"{'/'.join(str(x) for x in r['time_signature'])}{_idiom(r)}.{started}",
                      [made])


def _idiom(recipe: dict[str, Any]) -> str:
    """How the reply names the style and what it plays (", a jig: running eighths, six to
    the bar"; ", jazz: swung, ..."), nothing without a style."""
    from museforge.models.music.composer import IDIOMS

    style = recipe.get("style")
    if style not in IDIOMS:
        return ""
    noun = style if style in ("jazz", "rock", "folk", "ambient") else f"a {style}"
    return f", {noun}: {IDIOMS[style]}"


def _request(args: dict[str, Any]) -> Any:
    from museforge.models.music.composer import ComposeRequest

    ts = tuple(int(x) for x in args["time_signature"].split("/")) \
        if args.get("time_signature") else None
    start = None
    if args.get("start_with"):
        from museforge.tools.note_tools import start_notes

        start = start_notes(args)
    return ComposeRequest(prompt=args["prompt"], mood=args.get("mood"), key=args.get("key"),
                          tempo=args.get("tempo"), bars=args.get("bars", 8),
                          instrument=args.get("instrument"), time_signature=ts,  # type: ignore[arg-type]
                          parts=args.get("parts"), style=args.get("style"),
                          seed=args.get("seed") or 0, start_with=start)


def _compose(args: dict[str, Any], model: MelodyModel, phrases: PhraseModel | None = None,
             ) -> Any:
    from museforge.models.music.composer import compose

    req = _request(args)
    return music_call(lambda: compose(req, model, phrases))


def compose_plan(args: dict[str, Any]) -> Any:
    """What the composer will make of ``args`` (bars, tempo, meter: its own choices where
    the person left them open), without writing a note."""
    from museforge.models.music.composer import plan

    req = _request(args)
    return music_call(lambda: plan(req))


def check_compose_length(args: dict[str, Any]) -> Any:
    """The composer's plan for ``args``, refused at once when the piece would be too long
    ("64 bars at 20 bpm last 12:48"), at the tempo the composer would choose when none
    is given."""
    p = compose_plan(args)
    check_length(p.seconds, f"{p.bars} bars at {p.tempo:g} bpm last",
                 "fewer bars or a faster tempo")
    return p


def _inspired(ctx: ToolContext, ref: str, args: dict[str, Any]
              ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fill what the person left open from another artwork (tools/crossmodal.py)."""
    from museforge.tools import crossmodal
    from museforge.tools.image_support import load_source

    art, version = ctx.resolve(ref)
    if art.kind == "image":
        plan = crossmodal.music_from_image(load_source(ctx, ref).image, art.prompt)
        chosen = {"mood": plan.mood, "key": plan.key, "tempo": plan.tempo,
                  "instrument": plan.instrument}
        why = plan.recipe()
    else:
        r = version.recipe
        chosen = {k: r.get(k) for k in ("mood", "key", "tempo", "instrument") if r.get(k)}
        why = {"why": {k: f"as in #{art.number}" for k in chosen}}
    filled = {k: v for k, v in chosen.items() if args.get(k) is None}
    if args.get("mood") or args.get("style"):
        filled.pop("tempo", None)  # the pace the person asked for wins over the picture's
        filled.pop("mood", None)
    return {**args, **filled}, {"from": f"#{art.number} v{version.number}", "filled": filled,
                                **why}


# -- edits ----------------------------------------------------------------------------------


@tool(EditMusicArgs, family="music", kind="music", makes="version")
def edit_music(ctx: ToolContext, args: EditMusicArgs) -> ToolResult:
    """Edit a piece exactly: transpose (semitones), move to another key, switch mode
    (major/minor by scale degree), set tempo (bpm) or scale it (tempo_scale 1.1 = 10%
    faster), change the instrument of a part (default the melody), trim or loop to N bars,
    humanize (0..1) or quantize (1/16...). The result is a new version."""
    source = load_music(ctx, args.artwork)
    check_edit_length(source, args)
    same = music_call(lambda: _edit_unchanged(source.piece, args))
    if same is not None:
        return nothing_changed(source.art, source.version, *same)
    dumped = args.model_dump()
    if args.humanize is not None and args.seed is None:
        dumped["seed"] = new_seed()
    piece = music_call(lambda: apply_edit(source.piece, dumped))
    recipe = {"tool": "edit_music", "args": dumped, "sources": [source.describe()],
              "mood": source.version.recipe.get("mood")}
    made = store_music_version(ctx, source.art.number, source.version.number, recipe, piece)
    return ToolResult(f"Edited #{made.artwork} ({_changes(args)}): now v{made.version}.",
                      [made])


def check_edit_length(source: MusicSource, args: EditMusicArgs) -> float:
    """The seconds the edited piece will last, refused at once when too long (a slower
    tempo, a loop to more bars). A tempo outside 20..300 bpm is left to the edit's own
    refusal, which says so."""
    piece = source.piece
    tempo = args.tempo or piece.tempo * (args.tempo_scale or 1.0)
    beats = args.bars * piece.beats_per_bar if args.bars else piece.end_beat
    seconds = beats * 60.0 / tempo
    if ops.TEMPO_RANGE[0] <= tempo <= ops.TEMPO_RANGE[1]:
        looped = f" looped to {args.bars} bars" if args.bars and args.bars > piece.bars else ""
        paced = f" at {tempo:g} bpm" if args.tempo or args.tempo_scale else ""
        check_length(seconds, f"#{source.art.number}{looped}{paced} would last",
                     "a faster tempo or fewer bars")
    return seconds


def _edit_unchanged(piece: Piece, args: EditMusicArgs) -> tuple[list[str], list[str]] | None:
    """When every change asked for is one the piece already has (its key, mode, tempo,
    instrument, length, grid) or one that moves nothing (transpose 0, tempo ×1, humanize
    0), what the piece already is and which arguments move nothing; else None. Each is
    checked against the piece as it is, which is right because none of them changes it."""
    from museforge.models.music.theory import instrument_program, parse_key, parse_mode

    already: list[str] = []
    idle: list[str] = []
    key = parse_key(piece.key)
    if args.key is not None or args.mode is not None:
        if args.key is not None and parse_key(args.key) != key:
            return None  # another key, or the same one spelt another way (its name changes)
        if args.mode is not None and parse_mode(args.mode) != key.mode:
            return None
        already.append(f"in {key}")
    if args.transpose is not None:
        if args.transpose:
            return None
        idle.append("transposing by 0 semitones")
    if args.tempo is not None:
        if round(args.tempo, 2) != round(piece.tempo, 2):
            return None
        already.append(f"at {piece.tempo:g} bpm")
    if args.tempo_scale is not None:
        if args.tempo_scale != 1:
            return None
        idle.append("a tempo ×1")
    if args.instrument is not None:
        said = _same_instrument(piece, instrument_program(args.instrument), args.part)
        if said is None:
            return None
        already.append(said)
    if args.bars is not None:
        if args.bars != piece.bars:
            return None
        already.append(f"{piece.bars} bars long")
    if args.quantize is not None:
        snapped = ops.quantize(piece, GRID_BEATS[args.quantize])
        if [p.notes for p in snapped.parts] != [p.notes for p in piece.parts]:
            return None
        already.append(f"on the {args.quantize} grid")
    if args.humanize is not None:
        if args.humanize:
            return None
        idle.append("humanizing by 0")
    return already, idle


def _same_instrument(piece: Piece, program: int, part: str) -> str | None:
    """How to say that ``part`` already plays ``program`` ("on Violin"), or None when it
    does not (or is not there to play it: the edit says why)."""
    from museforge.models.music.theory import program_name

    if part == "all":
        chosen = [p for p in piece.parts if not p.is_drum]
    else:
        chosen = [p for p in piece.parts if p.name == part]
    if not chosen or any(p.is_drum or p.program != program for p in chosen):
        return None
    name = program_name(program)
    return {"melody": f"on {name}", "all": f"all on {name}"}.get(part, f"on {name} ({part})")


def apply_edit(piece: Piece, a: dict[str, Any]) -> Piece:
    """The edit in models/music/edit.py's fixed order (the same arguments, the same notes)."""
    return ops.apply_edits(
        piece, transpose=a.get("transpose"), key=a.get("key"), mode=a.get("mode"),
        tempo=a.get("tempo"), tempo_scale=a.get("tempo_scale"), instrument=a.get("instrument"),
        part=a.get("part") or "melody", bars=a.get("bars"), humanize=a.get("humanize"),
        quantize=GRID_BEATS[a["quantize"]] if a.get("quantize") else None,
        seed=int(a.get("seed") or 0))


def _changes(args: EditMusicArgs) -> str:
    said = []
    if args.key:
        said.append(f"to {args.key}")
    if args.mode:
        said.append(f"to {args.mode}")
    if args.transpose:
        said.append(f"transposed {args.transpose:+d}")
    if args.tempo:
        said.append(f"{args.tempo:g} bpm")
    if args.tempo_scale:
        said.append(f"tempo ×{args.tempo_scale:g}")
    if args.instrument:
        said.append(f"{args.part} on {args.instrument}")
    if args.bars:
        said.append(f"{args.bars} bars")
    if args.quantize:
        said.append(f"quantized to {args.quantize}")
    if args.humanize:
        said.append(f"humanized {args.humanize:g}")
    return ", ".join(said)


# -- the model's latent space: variations, continuation, interpolation ------------------------


@tool(VaryMusicArgs, family="music", kind="music", makes="artwork")
def vary_music(ctx: ToolContext, args: VaryMusicArgs) -> ToolResult:
    """Make variations of a piece's melody with our model (a nudge in its latent space,
    `amount` 0..1), keeping the chords, bass and drums. Each variation becomes a new
    artwork #N, linked to the piece it came from."""
    source = load_music(ctx, args.artwork)
    check_vary_length(source)
    model, learnt = style_melody_model(ctx, args.learnt_style)
    phrases = phrases_for(None if learnt else phrase_model(ctx, model), source.piece)
    seed = args.seed if args.seed is not None else new_seed()
    made: list[Artifact] = []
    how = ""
    for i in range(args.count):
        piece, phrased = music_call(lambda i=i: _vary(source.piece, model, phrases,  # type: ignore[misc]
                                                      args.amount, seed + 1000 * i))
        recipe = {"tool": "vary_music", "args": args.model_dump(), "seed": seed + 1000 * i,
                  "index": i, "sources": [source.describe()],
                  "mood": source.version.recipe.get("mood"), **_model_of(model),
                  **phrased, **_learnt(learnt)}
        title = f"variation of #{source.art.number}: {source.art.title}"
        made.append(store_new_music(ctx, title, source.art.prompt, recipe, piece))
        how = phrase_said(phrased["phrases"], "vary_music") if phrased else ""
    refs = ", ".join(a.ref for a in made)
    return ToolResult(f"Made {len(made)} variation{'s' if len(made) > 1 else ''} of "
                      f"#{source.art.number}{how}: {refs}.", made)


def _vary(piece: Piece, model: MelodyModel, phrases: PhraseModel | None, amount: float,
          seed: int) -> tuple[Piece, dict[str, Any]]:
    """A variation phrase by phrase where ``phrases`` is given, else window by window;
    and what the recipe records of the phrase model's part."""
    if phrases is None:
        return vary_piece(piece, model, amount, seed), {}
    varied, info = vary_in_phrases(piece, phrases, amount, seed)
    return varied, recipe_of(phrases, info)


def _continue(piece: Piece, model: MelodyModel, phrases: PhraseModel | None, bars: int,
              seed: int, meter: tuple[int, int] | None) -> tuple[Piece, dict[str, Any]]:
    if phrases is None:
        return continue_piece(piece, model, bars, seed, meter), {}
    longer, info = continue_in_phrases(piece, phrases, bars, seed, meter)
    return longer, recipe_of(phrases, info)


def _interpolate(a: Piece, b: Piece, model: MelodyModel, phrases: PhraseModel | None,
                 steps: int) -> tuple[list[Piece], dict[str, Any]]:
    if phrases is None:
        return interpolate_pieces(a, b, model, steps), {}
    pieces, info = interpolate_in_phrases(a, b, phrases, steps)
    return pieces, recipe_of(phrases, info)


def check_vary_length(source: MusicSource) -> None:
    """A variation keeps the piece's length, rounded up to its 2-bar phrases (where the
    model may end a phrase on its last beat); refused at once when that is too long."""
    piece = source.piece
    span = 2 * model_bar(piece)
    beats = max(piece.end_beat, len(melody_windows(piece)) * span)
    check_length(beats * 60.0 / piece.tempo,
                 f"a variation of #{source.art.number} (its melody in whole 2-bar phrases) "
                 "may last", "trim it to fewer bars first")


def check_continue_length(source: MusicSource, bars: int,
                          meter: tuple[int, int] | None = None) -> None:
    piece = source.piece
    if meter is not None and meter != tuple(piece.time_signature):
        from museforge.models.music.meter import rebar

        piece = music_call(lambda: rebar(source.piece, meter))
    total = piece.bars + bars
    check_length(total * piece.beats_per_bar * 60.0 / piece.tempo,
                 f"#{source.art.number} ({piece.bars} bars at {piece.tempo:g} bpm) with "
                 f"{bars} more bars would last", "add fewer bars, or speed it up first")


@tool(ContinueArgs, family="music", kind="music", makes="version")
def continue_music(ctx: ToolContext, args: ContinueArgs) -> ToolResult:
    """Extend a piece by N bars: our model continues the melody phrase by phrase from
    where it ends, and the accompaniment carries on. The result is a new version."""
    source = load_music(ctx, args.artwork)
    from museforge.models.music.meter import rebar

    meter = _meter(args.time_signature)
    told = _rebarred(source, meter, "before carrying on")
    check_continue_length(source, args.bars, meter)
    seed = args.seed if args.seed is not None else new_seed()
    model, learnt = style_melody_model(ctx, args.learnt_style)
    target = source.piece if meter is None else music_call(lambda: rebar(source.piece, meter))
    phrases = phrases_for(None if learnt else phrase_model(ctx, model), target)
    piece, phrased = music_call(lambda: _continue(source.piece, model, phrases, args.bars,
                                                  seed, meter))
    recipe = {"tool": "continue_music", "args": args.model_dump(), "seed": seed,
              "sources": [source.describe()], "mood": source.version.recipe.get("mood"),
              **_model_of(model), **phrased, **_learnt(learnt)}
    made = store_music_version(ctx, source.art.number, source.version.number, recipe, piece)
    how = phrase_said(phrased["phrases"], "continue_music") if phrased else ""
    return ToolResult(f"{told}Continued #{made.artwork} by {args.bars} bars ({piece.bars} in "
                      f"all){how}: now v{made.version}.", [made])


def _meter(text: str | None) -> tuple[int, int] | None:
    return None if text is None else (int(text.split("/")[0]), int(text.split("/")[1]))


def _rebarred(source: MusicSource, meter: tuple[int, int] | None, why: str) -> str:
    """What re-barring ``source`` in ``meter`` will be said as ("#2 was in 6/8; I re-barred
    it in 3/4 before morphing. "), nothing when it is in that meter already; refused at
    once when the two meters are not ones that re-bar note for note."""
    from museforge.models.music.meter import can_rebar, meter_name

    ts = tuple(source.piece.time_signature)
    if meter is None or ts == meter:
        return ""
    if not can_rebar(ts, meter):  # type: ignore[arg-type]
        raise ToolError(f"#{source.art.number} is in {meter_name(ts)} and I can re-bar "  # type: ignore[arg-type]
                        "only between 3/4 and 6/8 and between 2/4 and 4/4 (other meters "
                        f"would rewrite its rhythm), so not into {meter_name(meter)}")
    return (f"#{source.art.number} was in {meter_name(ts)}; I re-barred it in "  # type: ignore[arg-type]
            f"{meter_name(meter)} {why}. ")


def check_interpolate_length(a: MusicSource, b: MusicSource) -> None:
    """Each step is the first piece's accompaniment fitted to the 2-bar phrases both
    pieces have; refused at once when that is too long."""
    from museforge.models.music.meter import rebar

    other = music_call(lambda: rebar(b.piece, a.piece.time_signature))
    bars = piece_bars(a.piece, 2 * min(len(melody_windows(a.piece)), len(melody_windows(other))))
    check_length(bars * a.piece.beats_per_bar * 60.0 / a.piece.tempo,
                 f"each step from #{a.art.number} into #{b.art.number} ({bars} bars at "
                 f"{a.piece.tempo:g} bpm) would last", "trim the pieces to fewer bars first")


@tool(InterpolateArgs, family="music", kind="music", makes="artwork",
      ref_kinds={"artwork_a": "music", "artwork_b": "music"})
def interpolate_music(ctx: ToolContext, args: InterpolateArgs) -> ToolResult:
    """Morph one piece's melody into another's through our model's latent space (slerp):
    a new artwork whose versions are the steps from the first piece to the second, over
    the first piece's accompaniment."""
    a, b = load_music(ctx, args.artwork_a), load_music(ctx, args.artwork_b)
    if a.art.number == b.art.number and a.version.number == b.version.number:
        raise ToolError("interpolating needs two different pieces")
    from museforge.models.music.meter import rebar

    told = _rebarred(b, tuple(a.piece.time_signature), "before morphing")  # type: ignore[arg-type]
    check_interpolate_length(a, b)
    model = melody_model(ctx)
    phrases = phrases_for(phrase_model(ctx, model), a.piece,
                          music_call(lambda: rebar(b.piece, a.piece.time_signature)))
    pieces, phrased = music_call(lambda: _interpolate(a.piece, b.piece, model, phrases,
                                                      args.steps))
    title = f"#{a.art.number} → #{b.art.number}"
    made: Artifact | None = None
    for i, piece in enumerate(pieces):
        recipe = {"tool": "interpolate_music", "args": args.model_dump(), "index": i,
                  "sources": [a.describe(), b.describe()], "mood": a.version.recipe.get("mood"),
                  **_model_of(model), **phrased}
        if made is None:
            made = store_new_music(ctx, title, f"{a.art.prompt} to {b.art.prompt}", recipe,
                                   piece)
        else:
            made = store_music_version(ctx, made.artwork, None, recipe, piece)
    assert made is not None
    how = phrase_said(phrased["phrases"], "interpolate_music") if phrased else ""
    return ToolResult(f"{told}Interpolated #{a.art.number} into #{b.art.number} in "
                      f"{len(pieces)} steps{how}: {made.ref} v1–v{made.version}.", [made])


# -- replay ----------------------------------------------------------------------------------


def remake_music(recipe: dict[str, Any], sources: list[MusicSource],
                 model: MelodyModel, phrases: PhraseModel | None = None) -> Piece:
    name, args = recipe["tool"], recipe["args"]
    if name == "compose_music":
        # at the tempo it was made at: the composer's choice of pace from the prompt's words
        # may change between versions of museforge, the recorded tempo does not
        args = {**args, "tempo": args.get("tempo") or recipe.get("tempo")}
        return _compose(args, model, phrases).piece  # type: ignore[no-any-return]
    if name == "edit_music":
        return apply_edit(sources[0].piece, args)
    # the phrase model where the recipe says it worked (``phrases`` is then the one that
    # did: replay checks its revision), else the 2-bar windows
    phrased = phrases if recipe.get("phrase_model") else None
    if name == "vary_music":
        return _vary(sources[0].piece, model, phrased, float(args["amount"]),
                     int(recipe["seed"]))[0]
    if name == "continue_music":
        return _continue(sources[0].piece, model, phrased, int(args["bars"]),
                         int(recipe["seed"]), _meter(args.get("time_signature")))[0]
    if name == "interpolate_music":
        steps = _interpolate(sources[0].piece, sources[1].piece, model, phrased,
                             int(args["steps"]))[0]
        return steps[int(recipe.get("index", 0))]
    if name in ("import_melody", "harmonise_music"):
        from museforge.tools.note_tools import remake

        return remake(recipe, sources)
    raise ToolError(f"cannot replay '{name}'")


def _model_of(model: MelodyModel) -> dict[str, Any]:
    return {"model": model.name, "model_revision": model.revision}


def _learnt(style: dict[str, Any] | None) -> dict[str, Any]:
    """How a recipe names the learnt style that made it (nothing without one)."""
    return {"learnt_style": style} if style else {}


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
