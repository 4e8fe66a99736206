"""Rules for audio clips: a recording made by the audio model ("a 10 second clip of rain
on a tin roof", "make a full-band recording of #3") and the edits that need no model
("trim it to 8 seconds", "fade out over 3 seconds", "loop it to 30 s", "louder",
"normalise it", "a bit faster", "mix it with the jig").

The edits fire only when the artwork meant is a clip: "faster" about a piece of music is
still the music's tempo. A recording is asked for with audio words (audio, recording,
sound effect, soundscape, a real band); "make it sound like a real band" is an edit of
the piece's feel, not a recording."""

from __future__ import annotations

import re

from museforge.assistant import language
from museforge.assistant.planning import PlanContext, PlannedCall
from museforge.assistant.rules import Rule, music

I = re.IGNORECASE  # noqa: E741

_AUDIO_WORDS = (r"audio(?:\s+(?:clip|track|version|recording|file))?|recordings?|sound\s+effects?|"
                r"sfx|sound\s+clips?|soundscapes?|ambien(?:ce|t\s+sounds?)|field\s+recording|"
                r"foley|full[\s-]band\s+(?:recording|version|track)|real\s+(?:band|instruments|"
                r"orchestra)\s+(?:recording|version)|produced\s+(?:track|version)|musicgen|"
                r"stable[\s-]*audio(?:[\s-]*open)?|ace[\s-]*step")
# An audio model named in the request, for that clip only ("..., with stable audio").
_MODELS = [(re.compile(r"[,\s]*\b(?:(?:with|using|on|in|via|use)\s+)?stable[\s-]*audio"
                       r"(?:[\s-]*open)?\b\s*:?", I), "stable-audio-open"),
           (re.compile(r"[,\s]*\b(?:(?:with|using|on|in|via|use)\s+)?ace[\s-]*step\b\s*:?", I),
            "ace-step"),
           (re.compile(r"[,\s]*\b(?:(?:with|using|on|in|via|use)\s+)?musicgen(?:[\s-]*(small|medium|"
                       r"melody))?\b\s*:?", I), "musicgen")]
_WITHOUT = re.compile(r"[,\s]*\b(?:without(?:\s+any)?|with\s+no|no)\s+([a-z][\w'-]*"
                      r"(?:\s+[a-z][\w'-]*)?)(?=\s*(?:[,.;]|$))", I)
_SECONDS = re.compile(r"\b(\d+(?:\.\d+)?)\s*(?:-\s*)?(?:s|secs?|seconds?)\b|\b(?:half\s+a|a)\s+"
                      r"minute\b|\b(\d+(?:\.\d+)?)\s*(?:-\s*)?(?:m|mins?|minutes?)\b", I)
_GENERATE = re.compile(
    r"\b(?:make|generate|create|give|produce|record|render|do|want|need|like|get|have)\b[^.;]*?"
    r"\b(?:" + _AUDIO_WORDS + r")\b|^(?:an?\s+)?(?:\d+[\s-]*(?:s|sec|second)s?\s+)?(?:" +
    _AUDIO_WORDS + r")\b|\bfull[\s-]band\b|\b(?:record|produce)\s+(?:it|#\s*\d+|the\s+\w+)\b|"
    r"\bstable[\s-]*audio\b|\bace[\s-]*step\b|\b\d+(?:\.\d+)?\s*(?:-\s*)?(?:s|secs?|seconds?)\s+"
    r"(?:sound|sounds|clip|noise)\s+of\b", I)
_AN_EDIT_OF_FEEL = re.compile(r"\b(?:make|have)\s+(?:it|#\s*\d+|the\s+\w+)\s+(?:sound|feel|play)",
                              I)


def _number(ref: str, context: PlanContext) -> str:
    """"it" as the number of the one artwork in focus (the turn's own focus may differ from
    the artwork this request named)."""
    if ref.lower() in ("it", "this", "that") and len(context.focus) == 1:
        return f"#{context.focus[0].number}"
    return ref


def _seconds(text: str) -> float | None:
    m = _SECONDS.search(text)
    if m is None:
        return None
    if m.group(1):
        return float(m.group(1))
    if m.group(2):
        return float(m.group(2)) * 60
    return 30.0 if "half" in m.group(0).lower() else 60.0


def _generate_audio(text: str, context: PlanContext) -> list[PlannedCall]:
    if _AN_EDIT_OF_FEEL.search(text) and not re.search(r"\brecording\b", text, I):
        return []  # "make it sound like a real band": the piece's feel
    args: dict[str, object] = {}
    ref = language.natural_ref(text)
    following = re.search(r"\b(?:of|from|for|following)\s+(it|this|that|#\s*\d+(?:\s*v\s*\d+)?|"
                          r"the\s+(?:tune|song|melody|piece|music|jig|reel|waltz)\b)", text, I)
    named = ref or (following.group(1) if following else None)
    if named or re.search(r"\b(?:record|produce)\s+(?:it|#\s*\d+|the\s+\w+)\b", text, I):
        target = named or "it"
        kind = music.kind_of(target, context)
        if kind == "music" or (kind is None and re.search(r"\b(?:tune|song|melody|piece|music|"
                                                          r"jig|reel|waltz)\b", text, I)):
            args["melody_from"] = _number(target, context)  # it follows the piece's melody
        elif kind == "image":
            args["inspired_by"] = _number(target, context)
    seconds = _seconds(text)
    if seconds is not None:
        args["seconds"] = max(1.0, min(30.0, seconds))
    for pattern, preset in _MODELS:  # "..., with stable audio": that model for this clip
        m = pattern.search(text)
        if m:
            size = m.group(1) if preset == "musicgen" else None
            args["model"] = f"musicgen-{(size or 'small').lower()}" if preset == "musicgen" \
                else preset
            text = text[: m.start()] + " " + text[m.end():]
            break
    steps = re.search(r"\b(\d{1,4})\s+steps\b", text, I)
    if steps:
        args["steps"] = max(1, min(250, int(steps.group(1))))
        text = text[: steps.start()] + " " + text[steps.end():]
    left_out = [m.group(1) for m in _WITHOUT.finditer(text)]
    if left_out:  # "a busy street, without car horns": what the clip leaves out
        args["negative_prompt"] = ", ".join(left_out)[:500]
        text = _WITHOUT.sub(" ", text)
    seed = re.search(r"\bseed\s*(\d{1,10})\b", text, I)
    if seed and int(seed.group(1)) < 2**32:  # a larger one is said back by the tool
        args["seed"] = int(seed.group(1))
    prompt = re.sub(r"\b(?:please|pls|can\s+you|could\s+you|i\s+(?:want|need|would\s+like|'d\s+"
                    r"like))\b|\b(?:make|generate|create|give|produce|record|render)\s+(?:me\s+|"
                    r"us\s+)?|\b(?:an?\s+)?\d+(?:\.\d+)?\s*(?:-\s*)?(?:s|secs?|seconds?|mins?|"
                    r"minutes?)\b(?:\s+long)?|\bseed\s*\d+\b", " ", text, flags=I)
    prompt = re.sub(r"\b(?:of|from|for|following)\s+(?:it|this|that|#\s*\d+(?:\s*v\s*\d+)?)\b",
                    " ", prompt, flags=I)
    prompt = re.sub(r"^\s*(?:an?\s+|some\s+)?(?:audio(?:\s+(?:clip|track|recording|file))?|"
                    r"recording|sound\s+clip|clip|sound)\s+(?:of|with)\s+|^\s*(?:it|this|that)\s+(?:with|"
                    r"on|as)\s+", "", prompt, flags=I)
    prompt = " ".join(prompt.strip(" ,.;:!?").split())
    return [PlannedCall("generate_audio", {"prompt": (prompt or "music")[:500], **args})]


_EDIT = re.compile(
    r"\b(?:trim|cut|shorten|crop|fade(?:\s+(?:it\s+)?(?:in|out))?|loop|louder|quieter|softer|"
    r"gain|volume|boost|normali[sz]e|level|mix|layer|overlay|speed|slow|faster|slower|quicker|"
    r"tempo|only\s+the\s+first|just\s+the\s+first|keep\s+(?:only\s+)?the\s+first|"
    r"the\s+first\s+\d+|the\s+last\s+\d+|turn\s+(?:it\s+)?(?:up|down)|\d+\s*db)\b", I)


def _edit_audio(text: str, context: PlanContext) -> list[PlannedCall]:
    mix = re.search(r"\b(?:mix|layer|overlay|blend|combine)\b[^.;]*?\b(?:with|over|under|and|"
                    r"onto)\s+(#\s*\d+(?:\s*v\s*\d+)?|the\s+[\w-]+(?:\s+[\w-]+)?)", text, I)
    head = text[: mix.start(1)] if mix else text  # "mix it with the jig": "it" is the clip
    from museforge.assistant import naming

    bare = re.sub(r"\b(?:the\s+(?:first|last)\s+)?\d+(?:\.\d+)?\s*(?:s|secs?|seconds?)\b", " ",
                  head, flags=I)  # "the first 4 seconds" is a stretch, not artwork #1
    named = [t for t in naming.targets(bare, context) if t.ref.startswith("#")]
    target = named[0].ref if named else language.natural_ref(bare) or "it"
    if music.kind_of(target, context) != "audio":
        return []  # the tempo of a piece, the crop of a picture: their own rules
    low = text.lower()
    args: dict[str, object] = {"artwork": _number(target, context)}
    span = re.search(r"\bfrom\s+(\d+(?:\.\d+)?)\s*(?:s|secs?|seconds?)?\s+to\s+(\d+(?:\.\d+)?)",
                     low)
    first = re.search(r"\b(?:trim|cut|shorten|crop|keep|only|just)\b[^.;]*?\b(?:to|the\s+first)\s+"
                      r"(\d+(?:\.\d+)?)\s*(?:s|secs?|seconds?)\b", low)
    drop = re.search(r"\b(?:cut|remove|drop|lose|skip)\s+(?:off\s+)?the\s+first\s+(\d+(?:\.\d+)?)"
                     r"\s*(?:s|secs?|seconds?)\b", low)
    if span:
        args["trim"] = [float(span.group(1)), float(span.group(2))]
    elif drop:
        args["trim"] = [float(drop.group(1)), 0.0]
    elif first:
        args["trim"] = [0.0, float(first.group(1))]
    for which in ("in", "out"):
        fade = re.search(r"\bfade(?:\s+it)?\s+" + which + r"\b(?:[^.;,]*?\b(?:over|for|of)\s+"
                         r"(\d+(?:\.\d+)?)\s*(?:s|secs?|seconds?))?", low) or re.search(
            r"\b(\d+(?:\.\d+)?)\s*(?:s|secs?|seconds?)\s+fade[\s-]?" + which + r"\b", low)
        if fade:
            args[f"fade_{which}"] = min(60.0, float(fade.group(1))) if fade.group(1) else 2.0
    loop = re.search(r"\bloop\w*\b[^.;]*?\b(?:to|for|until)\s+(?:about\s+)?(\d+(?:\.\d+)?)\s*"
                     r"(s|secs?|seconds?|m|mins?|minutes?)\b", low)
    if loop:
        factor = 60.0 if loop.group(2).startswith("m") else 1.0
        args["loop_to"] = min(600.0, float(loop.group(1)) * factor)
    db = re.search(r"([+-]?\d+(?:\.\d+)?)\s*db\b", low)
    if db:
        value = float(db.group(1))
        value = -abs(value) if re.search(r"\b(?:quieter|softer|down|lower|reduce)\b", low) \
            else value
        args["gain"] = max(-40.0, min(20.0, value))  # the tool's range
    elif re.search(r"\b(?:louder|boost|turn\s+(?:it\s+)?up|more\s+volume)\b", low):
        args["gain"] = 6.0 if re.search(r"\b(?:much|a\s+lot|way)\b", low) else 3.0
    elif re.search(r"\b(?:quieter|softer|turn\s+(?:it\s+)?down|less\s+volume|lower\s+the\s+"
                   r"volume)\b", low):
        args["gain"] = -6.0 if re.search(r"\b(?:much|a\s+lot|way)\b", low) else -3.0
    if re.search(r"\bnormali[sz]e|\blevel\s+(?:it|the\s+\w+)\s+out\b", low):
        args["normalise"] = True
    scale = music.tempo_scale_in(low, 0.5 if re.search(r"\b(?:a\s+(?:tiny\s+)?bit|slightly|"
                                                       r"a\s+little|a\s+touch)\b", low) else 1.0)
    if scale:
        args["tempo_scale"] = max(0.5, min(2.0, scale))
    if mix:
        other = [t for t in naming.targets(mix.group(1), context) if t.ref.startswith("#")]
        args["mix_with"] = other[0].ref if other else language.natural_ref(mix.group(1)) \
            or mix.group(1)
    if len(args) == 1:
        return []
    return [PlannedCall("edit_audio", args)]


_STARTS = re.compile(r"^(?:please\s+)?(?:trim|fade|loop|normali[sz]e|record)\b", I)

RULES = [
    Rule("edit_audio", _EDIT, _edit_audio, priority=12, starts=_STARTS),
    Rule("generate_audio", _GENERATE, _generate_audio, priority=10, starts=_STARTS),
]
