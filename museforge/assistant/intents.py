"""From an intent (what kind of action a request asks for) to tool calls: which artwork
the request is about, which kind it is, and so which tool; the rules' slot fillers do
the arguments.

An edit goes to a tool of the referenced artwork's kind ("make it sadder" on music is
the minor mode, on a picture a cooler, darker adjustment); words that only make sense
for one kind ("a bit faster", "crop it") go to the latest artwork of that kind when "it"
is the other; a new artwork that should fit an existing one of the other kind ("a cover
for this song", "what would this painting sound like") is linked to it (``inspired_by``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from museforge.assistant import language, naming
from museforge.assistant.linking import compose_music, generate_image
from museforge.assistant.naming import (
    IMAGE_ONLY,
    MUSIC_ONLY,
    Target,
    kind_named,
    referent,
)
from museforge.assistant.planning import PlanContext, PlannedCall
from museforge.assistant.rules import history, images, music
from museforge.assistant.slots import (
    COMPLAINTS,
    MOOD_IMAGE,
    MOOD_MUSIC,
    MUSIC_COMPLAINTS,
    _mood_args,
    adjustments,
    inpaint,
)

I = re.IGNORECASE  # noqa: E741
Build = Callable[[str, PlanContext], list[PlannedCall]]


def _with_ref(calls: list[PlannedCall], field: str, ref: str | None) -> list[PlannedCall]:
    if ref is None:
        return calls
    for call in calls:
        value = call.args.get(field)
        if value is None or str(value).lower() in ("it", "that", "this", "the one"):
            call.args[field] = ref
    return calls


# -- edits -----------------------------------------------------------------------------

def edit(text: str, ctx: PlanContext) -> list[PlannedCall]:
    ref, kind = referent(text, ctx)
    music_cue = bool(MUSIC_ONLY.search(text)) or music._instrument_in(text) is not None
    image_cue = bool(IMAGE_ONLY.search(text))
    if kind is None:
        kind = "music" if music_cue and not image_cue else "image"
    if kind == "image" and music_cue and not image_cue and ref is None:
        kind, ref = "music", "latest music"  # an error when there is none: said, not guessed
    elif kind == "music" and image_cue and not music_cue and ref is None:
        kind, ref = "image", "latest image"
    return edit_music(text, ref) if kind == "music" else edit_image(text, ref)


def edit_music(text: str, ref: str | None) -> list[PlannedCall]:
    fixes = _mood_args(text, MUSIC_COMPLAINTS)
    if fixes:
        return _with_ref([PlannedCall("edit_music", {"artwork": "it", **fixes})], "artwork", ref)
    calls = music._edit(text, PlanContext())
    if not calls:
        args = _mood_args(text, MOOD_MUSIC)
        if args:
            calls = [PlannedCall("edit_music", {"artwork": "it", **args})]
    return _with_ref(calls, "artwork", ref)


def edit_image(text: str, ref: str | None) -> list[PlannedCall]:
    if re.search(r"\b(?:sky|background|foreground|ground|backdrop)\b", text, I):
        painted = inpaint(text, PlanContext())
        if painted:
            return _with_ref(painted, "artwork", ref)
    fixes = adjustments(text)
    calm = text
    for pattern, _ in COMPLAINTS:  # "too gloomy, cheer it up": the complaint is no mood
        calm = re.sub(r"\b(?:" + pattern + r")", " ", calm, flags=I)
    for k, v in _mood_args(calm, MOOD_IMAGE).items():
        fixes.setdefault(k, v)
    if fixes:
        return _with_ref([PlannedCall("adjust_image", {"artwork": "it", **fixes})],
                         "artwork", ref)
    args = _mood_args(text, MOOD_IMAGE)
    calls = images._adjust(text, PlanContext())
    if args and calls:
        for k, v in args.items():
            calls[0].args.setdefault(k, v)
    elif args:
        calls = [PlannedCall("adjust_image", {"artwork": "it", **args})]
    if not calls:
        calls = images._reframe(text, PlanContext()) if images._REFRAME.search(text) else []
    if not calls:
        calls = images._edit(text, PlanContext())
    return _with_ref(calls, "artwork", ref)


# -- the rest, per intent ------------------------------------------------------------------

def vary(text: str, ctx: PlanContext) -> list[PlannedCall]:
    ref, kind = referent(re.sub(r"\b(?:variations?|variants?|alternatives?|options?)\b", " ",
                                text, flags=I), ctx)
    if kind == "music":
        calls = music._vary(text, PlanContext(focus=[*ctx.focus], recent=[*ctx.recent]))
        if not calls:
            amount = 0.6 if language.STRONG_CHANGE.search(text) else 0.3
            calls = [PlannedCall("vary_music", {"artwork": "it", "amount": amount})]
            count = music.variation_count(text.lower())
            if count > 1:
                calls[0].args["count"] = min(count, 4)
        return _with_ref(calls, "artwork", ref)
    calls = images._vary(text, ctx)
    if calls:
        low = text.lower()
        count = music.variation_count(low)
        if count > 1:
            calls[0].args["count"] = count
        if language.STRONG_CHANGE.search(low):
            calls[0].args["strength"] = "strong"
    return _with_ref(calls, "artwork", ref)


def blend(text: str, ctx: PlanContext) -> list[PlannedCall]:
    calls = music._interpolate(text, ctx)
    return calls or images._blend(text, ctx)


def continue_music(text: str, ctx: PlanContext) -> list[PlannedCall]:
    if re.search(r"\b(?:only|just\s+the\s+first|trim|cut|shorten|chop|keep\s+(?:only|just)|exactly|"
                 r"\d+\s+bars?\s+long)\b", text, I):
        return edit(text, ctx)  # "keep only 8 bars" shortens it
    ref, kind = referent(text, ctx)
    calls = music._continue(text, PlanContext())
    if kind == "image" and ref is None:
        ref = "latest music"
    return _with_ref(calls, "artwork", ref)


def for_image(build: Build) -> Build:
    """An image-only action: on "it" when "it" is a picture, else the latest picture."""
    def run(text: str, ctx: PlanContext) -> list[PlannedCall]:
        ref, kind = referent(text, ctx)
        if kind == "music" and ref is None:
            ref = "latest image"
        return _with_ref(build(text, ctx), "artwork", ref)

    return run


def _reframe(text: str, ctx: PlanContext) -> list[PlannedCall]:
    """A new frame: the reframe rule's, or a shape said alone ("widescreen", "16:9
    obviously", "portrait size")."""
    calls = images._reframe(text, ctx)
    if calls:
        return calls
    aspect, _ = images._aspect_of(text)
    return [PlannedCall("reframe_image", {"artwork": "it", "aspect": aspect})] if aspect else []


BUILDERS: dict[str, Build] = {
    "generate_image": generate_image,
    "compose_music": compose_music,
    "edit": edit,
    "vary": vary,
    "blend": blend,
    "continue_music": continue_music,
    "upscale_image": for_image(images._upscale),
    "reframe_image": for_image(_reframe),
    "inpaint_image": for_image(lambda t, c: images._inpaint(t, c) or inpaint(t, c)),
    "add_text": for_image(images._add_text),
    "undo": history._repeat("undo"),
    "redo": history._repeat("redo"),
    "revert": history._revert,
    "list_artworks": history._list,
    "show_versions": history._versions,
}

# Intents whose calls are always rebuilt here, whatever rule recognised them: the kind of
# artwork decides the tool.
REBUILT = ("edit", "vary", "continue_music", "upscale_image", "reframe_image")


def blend_targets(text: str, found: list[Target], ctx: PlanContext) -> list[PlannedCall]:
    """"blend the fox and the whale", "morph the piano one into the jig"."""
    refs = [t for t in found if t.ref.startswith("#")]
    low = text.lower()
    numbered = {t.ref for t in refs}
    for word in re.findall(r"[a-z][\w'-]{2,}", low):  # "the fox, whale and lighthouse"
        hit = naming._by_subject(word, ctx)
        if hit and hit[0].startswith("#") and hit[0] not in numbered:
            at = low.find(word)
            refs.append(Target(hit[0], hit[1], (at, at + len(word))))
            numbered.add(hit[0])
    refs.sort(key=lambda t: t.span[0])
    if len(refs) == 1 and re.search(r"\b(?:it|this|that)\b", low) and len(ctx.focus) == 1:
        it = Target(f"#{ctx.focus[0].number}", ctx.focus[0].kind, (-1, -1))
        first_it = re.search(r"\b(?:it|this|that)\b", low)
        refs = [it, refs[0]] if first_it and first_it.start() < refs[0].span[0] else [refs[0], it]
    if len(refs) < 2:
        bare = re.findall(r"\b(\d{1,2})\b", re.sub(r"\b\d+\s*(?:steps?|%)", " ", low))
        known = {b.number: b.kind for b in ctx.recent}
        if len(bare) >= 2 and all(int(n) in known for n in bare):
            refs = [Target(f"#{n}", known[int(n)], (0, 0)) for n in bare]
    if len(refs) < 2 and re.search(r"\ball\b|\bevery\b|\bthem\b|\bthese\b|\bthose\b|\bboth\b|"
                                   r"\bthe\s+(?:two|last\s+two)\b", low):
        # "them", "the two": what was just made together, else the last of the kind meant
        kind = "music" if kind_named(low) == "music" or naming.focus_kind(ctx) == "music" \
            and kind_named(low) != "image" else "image"
        pool = [b for b in ctx.focus] if len(ctx.focus) > 1 else \
            [b for b in ctx.recent if b.kind == kind]
        two = re.search(r"\b(?:both|two)\b", low)
        refs = [Target(f"#{b.number}", b.kind, (0, 0)) for b in pool][-2 if two else -4:]
    tunes = [t for t in refs if t.kind == "music"]
    if (len({t.kind for t in refs}) > 1 or len(tunes) == len(refs) == 1) and (
            kind_named(low) == "music" or re.search(r"\b(?:morph|interpolate|crossfade)\b", low)):
        # "morph the dungeon loop into the boss theme": the pieces, not a picture whose
        # title shares a word
        if len(tunes) == 1 and re.search(r"\b(?:the\s+)?(?:new|latest|last|other)\s+one\b|\bit\b",
                                         low):
            latest = next((b for b in reversed(ctx.recent) if b.kind == "music"
                           and f"#{b.number}" != tunes[0].ref), None)
            if latest is not None:
                tunes.append(Target(f"#{latest.number}", "music", (len(low), len(low))))
        refs = tunes if len(tunes) >= 2 else refs
    if len(refs) < 2:
        return []
    kinds = {t.kind for t in refs}
    if kinds == {"music"}:
        calls = music._interpolate(" ".join(t.ref for t in refs[:2]) + " " + text,
                                   PlanContext(recent=[*ctx.recent]))
        if calls:
            calls[0].args["artwork_a"], calls[0].args["artwork_b"] = refs[0].ref, refs[1].ref
            return calls
        return [PlannedCall("interpolate_music", {"artwork_a": refs[0].ref,
                                                  "artwork_b": refs[1].ref})]
    calls = images._blend(text, ctx)
    args = calls[0].args if calls else {}
    return [PlannedCall("blend_images", {**args, "artworks": [t.ref for t in refs[:4]]})]


# What each intent is, in a question ("Do you want me to edit it or make a new one?").
DESCRIBE = {
    "generate_image": "paint a new picture", "compose_music": "compose new music",
    "edit": "change it", "vary": "make variations of it", "blend": "blend artworks",
    "continue_music": "continue the music", "upscale_image": "upscale it",
    "reframe_image": "crop, rotate or reframe it", "inpaint_image": "repaint part of it",
    "add_text": "write text on it", "undo": "undo the last change", "redo": "redo a change",
    "revert": "go back to an earlier version", "list_artworks": "list your artworks",
    "show_versions": "show its versions",
}
