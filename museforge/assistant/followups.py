"""Messages that only move the last request: "no, the music", "not that one, the piano",
"sorry, #6", "and the song too", "all of them", "wrong one - undo that and do it to #3".

People correct and extend what they just asked for by naming another artwork, not by
saying the request again. Such a message is the previous request, planned again with the
named artwork as "it"; a correction ("no", "not that one", "wrong one") first undoes the
edit the previous turn made on the artwork it wrongly touched, an extension ("too", "as
well", "all of them") keeps it. Creations are never undone (an undo cannot take a new
artwork away); the corrected request simply runs on the artwork meant."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from museforge.assistant import naming
from museforge.assistant.planning import ArtworkBrief, Plan, PlanContext, PlannedCall

I = re.IGNORECASE  # noqa: E741

# What says the last turn was about the wrong artwork.
_CORRECTION = re.compile(
    r"^(?:(?:oh\s+dear|oh|sorry|oops|whoops|no+|nope|nah|wait|ah|argh|hmm+|actually|ugh|"
    r"not\s+(?:that|this)(?:\s+one)?|wrong\s+(?:one|pair|picture|song|piece|artwork)|"
    r"that'?s\s+(?:the\s+)?wrong\s+one|i\s+(?:meant|mean|wanted|said)|meant|"
    r"undo\s+(?:that|it)(?:\s+(?:and|then))?|(?:and\s+)?(?:do|apply|try)\s+(?:it|that|this|"
    r"the\s+same)\s+(?:to|on|for)|instead\s+of\s+(?:that|it))[\s,!.;:-]*)+", I)
# What says it is more of the same on another artwork.
_ALSO_TAIL = re.compile(r"[\s,]*\b(?:too|as\s+well|also|aswell)\s*[.!]*$", I)
_ALSO_HEAD = re.compile(r"^(?:and|also|plus|same\s+(?:for|with|to|on)|(?:do|apply)\s+(?:it|that|"
                        r"the\s+same)\s+(?:to|on|for)|now)\s+", I)
_ALL = re.compile(r"^(?:(?:to|on|for)\s+)?(?:all|both|every\s+one|each\s+one|each|everything|"
                  r"all\s+(?:of\s+)?(?:them|those|these|the\s+\w+s|four|three|two|\d)|"
                  r"both\s+of\s+them|the\s+(?:whole\s+lot|lot))\s*[.!]*$", I)
_POLITE_TAIL = re.compile(r"[\s,]*\b(?:please|pls|plz|then|instead|thanks|thx|i\s+think|"
                          r"sorry)\s*[.!]*$", I)
_CREATES = ("generate_image", "compose_music", "vary_image", "vary_music", "blend_images",
            "interpolate_music")


def follow_up(message: str, context: PlanContext, polite: re.Pattern[str],
              replan: Callable[[str, PlanContext], Plan]) -> Plan | None:
    """The previous request on the artwork(s) this message names, or None when the
    message is not such a follow-up. ``replan`` plans a message in a context (the
    planner's own ``plan``)."""
    previous, index = _previous_request(context)
    if previous is None:
        return None
    text = message.strip()
    corrected = bool(_CORRECTION.match(text))
    text = _CORRECTION.sub("", text)
    also = bool(_ALSO_TAIL.search(text) or _ALSO_HEAD.match(polite.sub("", text).strip()))
    text = _ALSO_TAIL.sub("", text)
    text = polite.sub("", text).strip(" ,.!?:-")
    text = _ALSO_HEAD.sub("", text).strip(" ,.!?:-")
    for _ in range(2):
        text = _POLITE_TAIL.sub("", text).strip(" ,.!?:-")
    if corrected and text and (_OTHER_WAY.match(text) or _PLACE.match(text)):
        return _slot_correction(text, previous, index, context, replan)
    if not text or not (corrected or also or _ALL.match(text) or _bare_ref(text)):
        return None
    targets = _targets(text, context)
    if not targets:
        return None
    before = replace(context, history=context.history[:index])
    earlier = replan(previous, before)
    if not earlier.calls:  # "make the boat one happier" asked which: read it about one
        earlier = replan(_about(previous, targets[0], before),
                         replace(before, focus=targets[:1]))
    if not earlier.calls:
        return None
    kind = _kind_of(earlier.calls)
    undo: list[PlannedCall] = []
    ran = index + 1 < len(context.history) and not context.history[index + 1][1] \
        .rstrip().endswith("?")
    if corrected and not also and ran and all(c.name not in _CREATES for c in earlier.calls):
        touched = [b for b in context.focus if b.kind == kind or kind is None]
        undo = [PlannedCall("undo", {"artwork": f"#{b.number}"}) for b in touched
                if b.number not in {t.number for t in targets}]
    calls: list[PlannedCall] = []
    for target in targets:
        local = replace(before, focus=[target])
        plan = replan(_about(previous, target, before), local)
        for call in plan.calls:
            if isinstance(call.args.get("artwork"), str):
                call.args["artwork"] = f"#{target.number}"
            elif call.name in ("compose_music", "generate_image") and call.args.get(
                    "inspired_by"):
                call.args["inspired_by"] = f"#{target.number}"
        calls.extend(plan.calls)
    if any(_kind_of([c]) not in (None, t.kind) for c in calls for t in targets
           if c.args.get("artwork") == f"#{t.number}"):
        return None  # "upscale #9", then "#4 too" where #4 is music: said as usual
    if not calls or any(c.name in _CREATES and c.name not in ("vary_image", "vary_music")
                        for c in calls) and not corrected:
        return None  # "the fox too" after "paint a castle" is a new request, not this one
    return Plan(calls=undo + calls)


# "no, other way": the last change, the other way round.
_OTHER_WAY = re.compile(r"^(?:the\s+)?(?:other\s+way(?:\s+round|\s+around)?|opposite(?:\s+"
                        r"(?:way|direction))?|(?:the\s+)?reverse|backwards?|the\s+other\s+"
                        r"direction|wrong\s+(?:way|direction))$", I)
# "no, at the bottom": the last change, somewhere else.
_PLACE = re.compile(r"^(?:(?:put\s+it|have\s+it|move\s+it|i\s+wanted\s+it|it\s+should\s+be)\s+)?"
                    r"(?:at|in|on|to|along|across)\s+the\s+((?:top|bottom|upper|lower)(?:[\s-]+"
                    r"(?:left|right))?|left|right|middle|centre|center|corner|top\s+corner|"
                    r"bottom\s+corner)(?:\s+(?:of\s+(?:it|the\s+\w+)|side|edge|corner))?$", I)
_POSITIONS = {"top": "top", "upper": "top", "bottom": "bottom", "lower": "bottom",
              "middle": "center", "centre": "center", "center": "center", "left": "left",
              "right": "right"}
# Arguments that go the other way: (name, how).
def _over(v: float, top: float) -> float:
    return min(top, round(1 / v, 3))


_INVERSE = {"rotate": lambda v: -v, "transpose": lambda v: -v, "warmth": lambda v: -v,
            "hue_shift": lambda v: -v, "tempo_scale": lambda v: max(0.25, _over(v, 4.0)),
            "brightness": lambda v: _over(v, 3.0), "contrast": lambda v: _over(v, 3.0),
            "saturation": lambda v: _over(v, 3.0), "sharpness": lambda v: _over(v, 3.0),
            "flip": lambda v: {"horizontal": "vertical", "vertical": "horizontal"}.get(v, v)}


def _slot_correction(text: str, previous: str, index: int, context: PlanContext,
                     replan: Callable[[str, PlanContext], Plan]) -> Plan | None:
    """The previous request undone and made again the other way round ("no, other way"
    after "rotate it 90 degrees") or in another place ("no, at the bottom" after "put
    HAPPY BIRTHDAY in the middle")."""
    before = replace(context, history=context.history[:index])
    earlier = replan(previous, before)
    edits = [c for c in earlier.calls if c.name not in _CREATES and c.name not in
             ("undo", "redo", "revert", "show_versions", "list_artworks")]
    if not edits or len(edits) != len(earlier.calls):
        return None
    ran = index + 1 < len(context.history) and not context.history[index + 1][1] \
        .rstrip().endswith("?")
    calls: list[PlannedCall] = []
    place = _PLACE.match(text)
    for call in edits:
        args = dict(call.args)
        if place:
            words = place.group(1).lower().replace("-", " ").split()
            where = "-".join(_POSITIONS.get(w, w) for w in words if w != "corner") or "bottom"
            key = "position" if call.name == "add_text" else "region" \
                if call.name == "inpaint_image" else None
            if key is None:
                return None
            args[key] = where if key == "region" or "-" not in where else where
        else:
            turned = {k: _INVERSE[k](v) for k, v in args.items()
                      if k in _INVERSE and isinstance(v, int | float | str)
                      and not isinstance(v, bool) and v != 0}  # 0 has no other way
            if not turned:
                return None
            args.update(turned)
        calls.append(PlannedCall(call.name, args))
    undo = [PlannedCall("undo", {"artwork": c.args["artwork"]}) for c in edits
            if ran and isinstance(c.args.get("artwork"), str)]
    return Plan(calls=list({id(u): u for u in undo}.values()) + calls)


def _about(request: str, target: ArtworkBrief, context: PlanContext) -> str:
    """The request with the one artwork it names by subject replaced by the target ("make
    the boat one happier", then "and the song too": make #2 happier)."""
    named = naming.targets(request, context)
    if len(named) != 1:
        return request
    a, b = named[0].span
    if re.search(r"\d|#", request[a:b]):
        return request  # "#3" says which
    return f"{request[:a]}#{target.number}{request[b:]}"


def _previous_request(context: PlanContext) -> tuple[str | None, int]:
    """The person's message before this one, and where it is in the history (which
    ends before the message being planned); an answer to a question ("the picture"
    after "which one?") stands for the request that was asked about."""
    users = [i for i in range(len(context.history) - 1, -1, -1)
             if context.history[i][0] == "user"]
    if not users:
        return None, -1
    i = users[0]
    asked = i >= 1 and context.history[i - 1][0] == "assistant" and \
        context.history[i - 1][1].rstrip().endswith("?")
    answer = context.history[i][1].strip(" .!?")
    if asked and len(users) > 1 and (_bare_ref(answer) or re.fullmatch(
            r"(?:the\s+|that\s+|this\s+)?(?:picture|image|painting|photo|song|music|tune|piece|"
            r"melody|clip|recording)(?:\s+one)?", answer, I)):
        return context.history[users[1]][1], i  # the request; "ran" is read after the answer
    return context.history[i][1], i


def _bare_ref(text: str) -> bool:
    """"#3", "the third one", "the piano": only a name (after an edit, the same edit on
    it)."""
    return bool(re.match(r"^(?:#\s*\d+|(?:the\s+)?(?:first|second|third|fourth|last|other|"
                         r"1st|2nd|3rd|4th)(?:\s+one)?|number\s+\w+)$", text, I))


def _targets(text: str, context: PlanContext) -> list[ArtworkBrief]:
    known = {b.number: b for b in [*context.recent, *context.focus]}
    if _ALL.match(text):
        if len(context.focus) > 1:
            return list(context.focus)
        kind = context.focus[0].kind if context.focus else None
        return [b for b in context.recent if kind is None or b.kind == kind]
    found = naming.targets(text, context)
    if len(found) != 1 or found[0].span != (0, len(text)):
        if re.match(r"^(?:the\s+)?other(?:\s+one)?$", text, I) and len(context.focus) == 1:
            others = [b for b in context.recent if b.kind == context.focus[0].kind
                      and b.number != context.focus[0].number]
            return others[-1:]
        return []
    ref = found[0].ref
    if ref.startswith("#") and " v" not in ref:
        b = known.get(int(ref[1:]))
        return [b] if b else []
    if ref in ("the picture", "the image", "the painting", "the photo", "the drawing",
               "this picture", "that picture", "my picture"):
        pictures = [b for b in context.recent if b.kind == "image"]
        return pictures[-1:]
    if re.match(r"(?:the|this|that|my)\s+(?:song|music|piece|melody|tune|track)$", ref):
        pieces = [b for b in context.recent if b.kind == "music"]
        return pieces[-1:]
    hit = naming.subject_ref(text, context)
    if hit and hit[0].startswith("#"):
        b = known.get(int(hit[0][1:].split()[0]))
        return [b] if b else []
    return []


def _kind_of(calls: list[PlannedCall]) -> str | None:
    for call in calls:
        if call.name.endswith("_image") or call.name == "add_text":
            return "image"
        if call.name.endswith("_music"):
            return "music"
    return None
