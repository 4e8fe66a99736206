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
from dataclasses import dataclass

from museforge.assistant import language
from museforge.assistant.planning import PlanContext, PlannedCall
from museforge.assistant.rules import history, images, music

I = re.IGNORECASE  # noqa: E741
Build = Callable[[str, PlanContext], list[PlannedCall]]

IMAGE_NOUN = r"(?:picture|pic|image|painting|drawing|photo|illustration|artwork|poster|cover|art)"
MUSIC_NOUN = (r"(?:song|tune|music|melody|piece|track|jig|reel|waltz|lullaby|ballad|march|"
              r"hornpipe|air|theme|soundtrack|composition)")
# Words that only make sense for one kind of artwork.
MUSIC_ONLY = re.compile(
    r"\b(?:faster|slower|slow|speed|tempo|bpm|pace|transpose|semitones?|octaves?|key|pitch|"
    r"robotic|humani[sz]e|dorian|mixolydian|lydian|phrygian|groove|swing|quantize|staccato|"
    r"instrument|bars?|humani[sz]e|quanti[sz]e|rhythm|timing|swing|notes?|chords?|bass|"
    r"melody|tune|song|music|piece|track|major|minor|played|play|louder|quieter)\b", I)
IMAGE_ONLY = re.compile(
    r"\b(?:crop|rotate|flip|mirror|zoom|upscale|brightness|contrast|saturat\w*|colou?rs?|"
    r"colou?rful|vivid|sharpen|sharper|blur\w*|sepia|grayscale|greyscale|black\s+and\s+white|"
    r"pixels?|resolution|picture|image|painting|photo|warmer|cooler|hue|tint|"
    r"exposure|filter|vignette|caption|text|sky|background|foreground)\b", I)

MOOD_MUSIC: list[tuple[str, dict[str, object]]] = [
    (r"sad(?:der)?|gloom(?:y|ier)|dark(?:er)?|moodier|melanchol\w*|minor|mournful|somber|"
     r"sombre|spooky|spookier|eerie|ominous", {"mode": "minor"}),
    (r"happ(?:y|ier)|cheer(?:y|ier|ful)|joyful|brighter|sunnier|uplifting|major|jolly|jollier",
     {"mode": "major"}),
    (r"calm(?:er)?|relax(?:ed|ing)|chill(?:er)?|mellow(?:er)?|gentler|softer|peaceful|"
     r"dreamier|sleepier|laid[\s-]back|lazier", {"tempo_scale": 0.85}),
    (r"energetic|livelier|lively|punchier|exciting|more\s+energy|upbeat|driving|intense|"
     r"bouncier|groovier|danceable", {"tempo_scale": 1.15}),
]
MOOD_IMAGE: list[tuple[str, dict[str, object]]] = [
    (r"sad(?:der)?|gloom(?:y|ier)|moodier|melanchol\w*|somber|sombre|bleak(?:er)?|"
     r"depressing|ominous|spookier|eerie|creepier", {"warmth": -0.3, "brightness": 0.85}),
    (r"happ(?:y|ier)|cheer(?:y|ier|ful)?|joyful|sunnier|uplifting|jolly|jollier|livelier",
     {"warmth": 0.3, "brightness": 1.15}),
    (r"calm(?:er)?|peaceful|serene|gentler|dreamier", {"saturation": 0.8,
                                                              "blur": 1.0}),
]


_MUSIC_WORDS = re.compile(
    r"\b(?:music|musical|song|songs|tune|tunes|melody|melodies|jig|jigs|reel|reels|waltz|"
    r"lullaby|ballad|hornpipe|air|polka|minuet|nocturne|fanfare|anthem|jingle|march|"
    r"soundtrack|symphony|sonata|concerto|etude|étude|prelude|fugue|chorale|hymn|shanty|"
    r"lament|serenade|overture|riff|groove|bpm|tempo|chords?|bassline|arpeggio|"
    r"staccato|legato|pizzicato|crescendo|major|minor|dorian|mixolydian|lydian|phrygian|"
    r"bars|measures|[2346]/[248]|three[\s-]four|six[\s-]eight|waltz\s+time|"
    r"jazz|ambient|techno|dance\s+track|lo-?fi|hip[\s-]?hop|funk|"
    r"reggae|bossa|tango|samba|salsa|ragtime|orchestral|duet|trio|quartet)\b|"
    r"\b(?:rock|folk|blues|classical|dance|march|air|solo|beat)\s+(?:song|tune|track|piece|music|"
    r"number|melody)\b", I)


def music_words(text: str) -> bool:
    """Music vocabulary (forms, styles, theory, instruments) decides the modality of a
    request that names no artwork, over the picture default."""
    if _MUSIC_WORDS.search(text):
        return True
    return music._instrument_in(text) is not None and not re.search(IMAGE_NOUN, text, I)


def kind_named(text: str) -> str | None:
    """The kind a request names outright ("the song", "this picture")."""
    if re.search(r"\b(?:the|this|that|my|your)\s+(?:\w+\s+)?" + MUSIC_NOUN + r"s?\b", text, I):
        return "music"
    if re.search(r"\b(?:the|this|that|my|your)\s+(?:\w+\s+)?" + IMAGE_NOUN + r"s?\b", text, I):
        return "image"
    return None


_DET = r"(?:the|that|this|my|your)"
_ORD = {**language.ORDINALS, "last": -1, "latest": -1}
_REF_NOUN = (r"(?:one|picture|pic|image|painting|drawing|photo|song|tune|music|piece|melody|"
             r"track)")
STOP_SUBJECT = {"picture", "image", "painting", "photo", "song", "tune", "music", "piece",
                "melody", "track", "drawing", "one", "ones", "made", "rest", "same", "end",
                "way", "top", "bottom", "left", "right", "sky", "background", "colors",
                "colours", "tempo", "a", "an", "the", "in", "at", "on", "of", "and", "with"}


@dataclass(frozen=True)
class Target:
    ref: str  # "#3", "#3 v2", "it", "latest music", or a phrase for the resolver
    kind: str | None
    span: tuple[int, int]  # where it was said, to take it out of the request


def targets(text: str, ctx: PlanContext) -> list[Target]:
    """Every artwork a request names, in order: "#3", "v2 of the whale", "the second
    one", "number 3", "the fox", "the one with the castle", "the piano one"."""
    known = {b.number: b for b in [*ctx.recent, *ctx.focus]}
    found: list[Target] = []

    def add(ref: str, kind: str | None, m: re.Match[str] | _Span) -> None:
        if not any(t.span[0] <= m.start() < t.span[1] or m.start() <= t.span[0] < m.end()
                   for t in found):
            found.append(Target(ref, kind, (m.start(), m.end())))

    for m in language.REF_RE.finditer(text):
        ref = f"#{m.group(1)}" + (f" v{m.group(2)}" if m.group(2) else "")
        b = known.get(int(m.group(1)))
        add(ref, b.kind if b else None, m)
    for m in re.finditer(r"\b(?:number|no\.?|nr\.?)\s*(\d+)\b", text, I):
        b = known.get(int(m.group(1)))
        add(f"#{m.group(1)}", b.kind if b else None, m)
    pool = _pool(ctx)
    ords = "|".join(sorted(_ORD, key=len, reverse=True))
    for m in re.finditer(r"\b(?:the|and|&)\s+(" + ords + r")(?:\s+(" + _REF_NOUN + r")s?)?\b"
                         r"(?!\s+(?:change|edit|step|version|two|three|\d))", text, I):
        n = _ORD[m.group(1).lower()]
        if m.group(1).lower() in ("last", "latest") and not m.group(2):
            continue  # "the last" alone: "undo the last" is about steps
        kind = _kind_of_noun(m.group(2))
        numbers = [x for x in pool if kind is None or known[x].kind == kind] if kind else pool
        if numbers and -len(numbers) <= n <= len(numbers) and n != 0:
            number = numbers[n - 1] if n > 0 else numbers[-1]
            add(f"#{number}", known[number].kind, m)
    for m in re.finditer(r"\b" + _DET + r"\s+(?:(?:one|" + _REF_NOUN + r")\s+(?:with|of|"
                         r"about|showing|featuring|at|in)\s+(?:the\s+|a\s+|an\s+)?)?", text, I):
        words = []
        for w in list(re.finditer(r"[a-z][\w'-]*|[,;.!?]", text[m.end():m.end() + 60], I))[:4]:
            if w.group(0).lower() in _JOINS or not w.group(0)[0].isalpha():
                break
            words.append(w)
        hit = _by_subject(" ".join(w.group(0) for w in words), ctx)
        if not hit:
            continue
        named = [w for w in words if _in_titles(w.group(0), ctx)]
        lead = [w.group(0).lower() for w in words if w.start() < named[0].start()]
        if any(w not in _LEAD_OK and w not in history._NOT_A_NAME for w in lead):
            continue  # "the hue of the castle": the castle is named further on
        end = m.end() + named[-1].end()
        tail = re.match(r"\s+" + _REF_NOUN + r"s?\b", text[end:], I)
        end += tail.end() if tail else 0
        add(*hit, _Span(m.start(), end))
    m = re.match(r"^([a-z][\w'-]+)\b", text.strip(), I)
    if m and not found:
        hit = _by_subject(m.group(1), ctx)
        if hit:
            add(*hit, m)
    for m in re.finditer(r"\b(?:the|this|that|my)\s+(picture|image|painting|photo|drawing|song|music|"
                         r"piece|melody|tune|track)\b(?!\s+(?:box|boxes|stand|video|hall|room|sheet|"
                         r"lesson|teacher|school|festival|frame|book))", text, I):
        add(" ".join(m.group(0).lower().split()), _kind_of_noun(m.group(1)), m)
    for i, t in enumerate(found):  # "v2 of the whale"
        before = text[: t.span[0]]
        v = re.search(r"\b(?:v|version\s*)(\d+)\s+of\s+$", before, I)
        if v and t.ref.startswith("#") and " v" not in t.ref:
            found[i] = Target(f"{t.ref} v{v.group(1)}", t.kind, (v.start(), t.span[1]))
    return sorted(found, key=lambda t: t.span[0])


_LEAD_OK = {"one", "ones", "picture", "pic", "image", "painting", "drawing", "photo", "song",
            "tune", "music", "piece", "melody", "track", "with", "of", "about", "showing",
            "featuring", "at", "in", "the", "a", "an", "little", "big", "old", "new", "nice"}
_JOINS = {"and", "or", "into", "to", "with", "vs", "versus", "then", "but", "is", "looks",
          "sounds", "a", "an", "on", "by", "from"}


@dataclass(frozen=True)
class _Span:
    a: int
    b: int

    def start(self) -> int:
        return self.a

    def end(self) -> int:
        return self.b


def _in_titles(word: str, ctx: PlanContext) -> bool:
    w = word.lower()
    if w in STOP_SUBJECT or w in history._NOT_A_NAME:
        return False
    return any(w in t or w.rstrip("s") in t for t in
               (set(re.findall(r"[\w'-]+", b.title.lower())) for b in ctx.recent))


def _pool(ctx: PlanContext) -> list[int]:
    if len(ctx.focus) > 1:
        return [b.number for b in ctx.focus]
    return sorted(b.number for b in ctx.recent)


def _kind_of_noun(noun: str | None) -> str | None:
    if not noun:
        return None
    if re.fullmatch(IMAGE_NOUN, noun, I):
        return "image"
    if re.fullmatch(MUSIC_NOUN, noun, I):
        return "music"
    return None


def _by_subject(phrase: str, ctx: PlanContext) -> tuple[str, str | None] | None:
    """The one recent artwork whose title has the words of ``phrase`` (the words that are
    in no title are not a name: "fox warmer" is the fox); ambiguous -> the phrase, for
    the resolver to ask about."""
    words = [w for w in re.findall(r"[a-z][\w'-]*", phrase.lower())
             if w not in STOP_SUBJECT and w not in history._NOT_A_NAME]
    if not words:
        return None
    titled = [(b, set(re.findall(r"[\w'-]+", b.title.lower()))) for b in ctx.recent]
    words = [w for w in words if any(w in t or w.rstrip("s") in t for _, t in titled)]
    if not words:
        return None
    best: list[tuple[int, int, object]] = []
    for b, t in titled:
        hits = sum(1 for w in words if w in t or w.rstrip("s") in t)
        if hits:
            extra = len(t - set(words) - STOP_SUBJECT) + (
                5 if re.search(r"\b(?:blend|mix|variation|morph)\b", b.title, I) else 0)
            best.append((-hits, extra, b))
    best.sort(key=lambda x: (x[0], x[1]))
    top = [x for x in best if x[:2] == best[0][:2]]
    if len({x[2].number for x in top}) == 1:  # type: ignore[attr-defined]
        b = top[0][2]
        return f"#{b.number}", b.kind  # type: ignore[attr-defined]
    return None if len(top) == 0 else (f"the {' '.join(words)} one", None)


def subject_ref(text: str, ctx: PlanContext) -> tuple[str, str | None] | None:
    found = [t for t in targets(text, ctx) if not t.ref.startswith("#")
             or re.search(r"[a-z]", text[t.span[0]:t.span[1]], I)]
    return (found[0].ref, found[0].kind) if found else None


def referent(text: str, ctx: PlanContext) -> tuple[str | None, str | None]:
    """(the artwork ``text`` is about, or None for "it"; its kind as far as known)."""
    found = targets(text, ctx)
    if found:
        return found[0].ref, found[0].kind
    kind = kind_named(text)
    if kind:
        return None, kind
    return None, focus_kind(ctx)


def focus_kind(ctx: PlanContext) -> str | None:
    kinds = {b.kind for b in ctx.focus}
    if len(kinds) == 1:
        return kinds.pop()
    if not ctx.focus and ctx.recent:
        return ctx.recent[-1].kind
    return None


def has_kind(ctx: PlanContext, kind: str) -> bool:
    return any(b.kind == kind for b in ctx.recent)


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
    music_cue = bool(MUSIC_ONLY.search(text))
    image_cue = bool(IMAGE_ONLY.search(text))
    if kind is None:
        kind = "music" if music_cue and not image_cue else "image"
    if kind == "image" and music_cue and not image_cue and ref is None:
        kind, ref = "music", "latest music"  # an error when there is none: said, not guessed
    elif kind == "music" and image_cue and not music_cue and ref is None:
        kind, ref = "image", "latest image"
    return edit_music(text, ref) if kind == "music" else edit_image(text, ref)


def edit_music(text: str, ref: str | None) -> list[PlannedCall]:
    calls = music._edit(text, PlanContext())
    if not calls:
        args = _mood_args(text, MOOD_MUSIC)
        if args:
            calls = [PlannedCall("edit_music", {"artwork": "it", **args})]
    return _with_ref(calls, "artwork", ref)


# Complaints say what is wrong, so the edit goes the other way: "it's too dark" brightens.
COMPLAINTS: list[tuple[str, dict[str, object]]] = [
    (r"too\s+(?:dark|dim|murky|gloomy|shadowy)|(?:not|isn't|isnt)\s+bright\s+enough|"
     r"(?:it'?s|it\s+is|looks|seems|is)\s+(?:a\s+(?:bit|little)\s+|rather\s+|quite\s+|kind\s+of\s+|"
     r"kinda\s+|so\s+|very\s+|really\s+)(?:dark|dim|murky)\b|"
     r"under[\s-]?exposed|can't\s+see\s+(?:anything|much)", {"brightness": 1.25}),
    (r"too\s+(?:bright|light|washed\s+with\s+light|glaring)|over[\s-]?exposed|blown\s+out|"
     r"(?:not|isn't|isnt)\s+dark\s+enough", {"brightness": 0.8}),
    (r"too\s+(?:warm|orange|yellow|red|hot)|(?:not|isn't|isnt)\s+(?:cool|cold)\s+enough",
     {"warmth": -0.3}),
    (r"too\s+(?:cold|cool|blue|icy)|(?:not|isn't|isnt)\s+warm\s+enough", {"warmth": 0.3}),
    (r"too\s+(?:saturated|colou?rful|vivid|garish|intense|loud|bright\s+colou?rs?|neon)|"
     r"over[\s-]?saturated", {"saturation": 0.7}),
    (r"washed[\s-]out|too\s+(?:dull|muted|grey|gray|pale|flat\s+colou?rs?|faded)|lifeless|"
     r"drab|colou?rs?\s+(?:are|look)\s+(?:dull|flat|muted)|needs?\s+(?:more\s+)?(?:colou?r|pop)|"
     r"(?:not|isn't|isnt)\s+(?:colou?rful|vivid)\s+enough", {"saturation": 1.35}),
    (r"too\s+(?:blurry|soft|fuzzy)|(?:is|looks)\s+(?:blurry|fuzzy|out\s+of\s+focus)|"
     r"(?:not|isn't|isnt)\s+sharp\s+enough", {"sharpness": 1.7}),
    (r"too\s+(?:sharp|crisp|harsh|grainy|noisy)", {"blur": 1.0}),
    (r"too\s+flat|(?:looks|is)\s+flat|(?:not|isn't|isnt)\s+enough\s+contrast|"
     r"too\s+little\s+contrast", {"contrast": 1.3}),
    (r"too\s+(?:contrasty|contrast|much\s+contrast)|contrast\s+is\s+(?:way\s+)?too\s+(?:strong|high|"
     r"much)", {"contrast": 0.8}),
]


def complaint_args(text: str) -> dict[str, object]:
    return _mood_args(text, COMPLAINTS)


_PROPS = [(r"brightness|bright|light(?:ness)?|exposure", "brightness"),
          (r"contrast", "contrast"),
          (r"saturation|saturated|colou?rs?|colou?rfulness|vibrance|vibrancy", "saturation"),
          (r"sharpness|sharp|detail|crispness", "sharpness"),
          (r"warmth|warm", "warmth")]
_UP = (r"up|increase|increased|raise|boost|crank(?:ed)?(?:\s+up)?|more|higher|bump(?:ed)?(?:\s+up)?|"
       r"add|push|turn\s+up|amp(?:ed)?\s+up|pump(?:ed)?\s+up|enhance|stronger")
_DOWN = (r"down|decrease|decreased|reduce|reduced|lower|lowered|less|tone(?:d)?\s+down|soften|"
         r"cut|drop|dial(?:led)?\s+(?:back|down)|turn\s+down|weaker|too\s+strong|too\s+much")


def property_args(text: str) -> dict[str, object]:
    """"crank up the contrast", "contrast up a bit", "less bright", "reduce the saturation by
    20%", "half the brightness", "twice as bright", "tone the colours down"."""
    low = text.lower()
    args: dict[str, object] = {}
    pct = re.search(r"(\d+(?:\.\d+)?)\s*(?:%|percent|per\s+cent)", low)
    for words, name in _PROPS:
        prop = re.search(r"\b(?:" + words + r")\b", low)
        if not prop:
            continue
        near = low[max(0, prop.start() - 40):prop.end() + 40]
        if re.search(r"\b(?:half|halve)\b", near):
            args[name] = 0.5
            continue
        if re.search(r"\b(?:twice|double)\b", near):
            args[name] = 2.0
            continue
        up = re.search(r"\b(?:" + _UP + r")\b", near)
        down = re.search(r"\b(?:" + _DOWN + r")\b", near)
        if not up and not down:
            continue
        sign = -1 if down and (not up or down.start() < up.start() or "too" in down.group(0)) \
            else 1
        amount = float(pct.group(1)) / 100 if pct else (
            0.15 if re.search(r"\b(?:bit|little|touch|tad|slightly|notch)\b", near) else
            0.5 if re.search(r"\b(?:lot|much|way|really|loads|heaps|crank)", near) else 0.3)
        if name == "warmth":
            args[name] = round(sign * min(1.0, amount), 2)
        else:
            args[name] = round(max(0.05, 1 + sign * amount), 3)
    return args


_FILTERS = [
    (r"black\s*(?:&|and|n)\s*white|b\s*&\s*w|\bb/w\b|gr[ae]y\s*scale|monochrome|colou?rless|"
     r"no\s+colou?rs?|noir", "grayscale"),
    (r"sepia|old[\s-]+(?:timey|photo|fashioned)|antique|vintage\s+photo", "sepia"),
    (r"invert(?:ed)?|negative|flip\s+the\s+colou?rs|reverse\s+the\s+colou?rs", "invert"),
    (r"posteri[sz]e\w*|poster\s+effect", "posterize"),
    (r"vignett\w*|darken\s+the\s+(?:corners|edges)|dark\s+(?:corners|edges)", "vignette"),
    (r"emboss(?:ed)?", "emboss"),
]


def filter_args(text: str) -> dict[str, object]:
    for pattern, name in _FILTERS:
        if re.search(r"\b(?:" + pattern + r")", text, I):
            return {"filter": name}
    m = re.search(r"\bhue\b.*?(-?\d+)\s*(?:°|degrees?)?|(?:colou?r\s+wheel|colou?rs?\s+round|"
                  r"hue)\D{0,40}?(-?\d+)\s*(?:°|degrees?)|(-?\d+)\s*(?:°|degrees?)\s+(?:hue|round\s+"
                  r"the\s+colou?r\s+wheel)", text, I)
    if m:
        return {"hue_shift": float(m.group(1) or m.group(2) or m.group(3))}
    if re.search(r"\b(?:hue|colou?r\s+wheel)\b", text, I):
        return {"hue_shift": 30.0}
    return {}


def edit_image(text: str, ref: str | None) -> list[PlannedCall]:
    if re.search(r"\b(?:sky|background|foreground|ground|backdrop)\b", text, I):
        painted = inpaint(text, PlanContext())
        if painted:
            return _with_ref(painted, "artwork", ref)
    fixes = {**filter_args(text), **property_args(text), **complaint_args(text)}
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


_REGIONS = (r"top\s+left|top\s+right|bottom\s+left|bottom\s+right|left\s+half|right\s+half|"
            r"top\s+half|bottom\s+half|background|backdrop|foreground|sky|ground|center|centre|"
            r"middle|top|bottom|left|right")


def inpaint(text: str, ctx: PlanContext) -> list[PlannedCall]:
    """"swap the sky for a rainbow", "make the background a jungle", "give it a desert
    background", "background -> a wheat field", "put a boat in the middle"."""
    m = re.search(r"\b(" + _REGIONS + r")\b", text, I)
    if not m:
        return []
    region = m.group(1).lower().replace("centre", "center").replace("middle", "center") \
        .replace("backdrop", "background")
    after = re.sub(r"^\s+(?:of|in|on)\s+(?:it|this|that|#\d+|the\s+\w+(?:\s+(?:picture|image|"
                   r"painting|pic|one))?)\b", "", text[m.end():], flags=I)
    before = text[: m.start()]
    prompt = None
    for pattern in (r"^(?:\s+(?:in|of|on)\s+(?:it|#\d+|the\s+\w+(?:\s+\w+)?))?\s*(?:with|for|to|into|"
                    r"->|=>|:|should\s+be|be(?:\s+full\s+of)?|as|is)\s+(?:a\s+|an\s+|some\s+)?(.+)$",
                    r"^(?:\s+(?:in|of|on)\s+(?:it|#\d+|the\s+\w+(?:\s+\w+)?))?\s+(?!with\b)"
                    r"(?:a\s+|an\s+)?(.+)$"):
        pm = re.search(pattern, after, I) if after.strip() else None
        if pm and region not in ("top", "bottom", "left", "right", "center") or (
                pm and re.match(r"\s*(?:with|to|into|->|:)", after)):
            prompt = pm.group(1) if pm else None
            break
    if prompt is None:
        bm = re.search(r"\b(?:put|add|place|paint|draw|give\s+(?:it|#\d+|the\s+\w+))\s+(.+?)\s*"
                       r"(?:(?:in|into|on|at|to|along|across)\s+the\s*)?$", before, I)
        if bm:
            prompt = bm.group(1)
    if not prompt:
        return []
    prompt = re.sub(r"\s+(?:instead|please|pls|thanks)\b.*$", "", prompt, flags=I)
    prompt = " ".join(re.sub(r"^(?:a|an|the|some)\s+", "", prompt.strip(" .,!?"), flags=I)
                      .split())
    if not prompt or re.fullmatch(r"(?:it|#\d+)", prompt):
        return []
    return [PlannedCall("inpaint_image", {"artwork": "it", "region": region, "prompt": prompt})]


def _mood_args(text: str, table: list[tuple[str, dict[str, object]]]) -> dict[str, object]:
    args: dict[str, object] = {}
    for pattern, values in table:
        if re.search(r"\b(?:" + pattern + r")\b", text, I):
            for k, v in values.items():
                args.setdefault(k, v)
    return args


# -- the rest, per intent ------------------------------------------------------------------

def vary(text: str, ctx: PlanContext) -> list[PlannedCall]:
    ref, kind = referent(re.sub(r"\b(?:variations?|variants?|alternatives?|options?)\b", " ",
                                text, flags=I), ctx)
    if kind == "music":
        calls = music._vary(text, PlanContext(focus=[*ctx.focus], recent=[*ctx.recent]))
        if not calls:
            amount = 0.6 if re.search(r"\b(strong|wild|big|bold|a\s+lot|very\s+different|"
                                      r"radical|wilder|crazier)\b", text, I) else 0.3
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
        if re.search(r"\b(?:wild\w*|crazi\w*|a\s+lot|loads|heavily|really\s+different|very\s+"
                     r"different|completely|radical\w*|drastic\w*|bold\w*|strong\w*|much\s+more)\b",
                     low):
            calls[0].args["strength"] = "strong"
    return _with_ref(calls, "artwork", ref)


def blend(text: str, ctx: PlanContext) -> list[PlannedCall]:
    calls = music._interpolate(text, ctx)
    return calls or images._blend(text, ctx)


def continue_music(text: str, ctx: PlanContext) -> list[PlannedCall]:
    if re.search(r"\b(?:only|just\s+the\s+first|trim|cut|shorten|chop|keep\s+(?:only|just))\b",
                 text, I):
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


def for_history(build: Build) -> Build:
    return build


# -- new artworks, and what inspires them -----------------------------------------------

_LINK = (r"(?:(?:that|which|to)\s+(?:fits?|match(?:es)?|goes?\s+with|suits?|accompan(?:y|ies)|"
         r"complements?|captures?|evokes?|reflects?)|to\s+go\s+(?:with|along\s+with)|"
         r"inspired\s+by|based\s+on|in\s+the\s+mood\s+of|from|for|of|like|after|"
         r"matching|fitting|about)")
_THING = (r"(?:it|this|that|#\s*\d+(?:\s*v\s*\d+)?|(?:the|this|that|my|your)\s+(?:\w+\s+){0,2}?"
          r"(?:" + MUSIC_NOUN + "|" + IMAGE_NOUN + r"|one(?:\s+with\s+(?:the\s+)?[\w-]+)?)s?|"
          r"the\s+[a-z][\w'-]+)")
_SOUND_LIKE = re.compile(r"\b(?:what|how)\s+(?:would|does|might|could)\s+(.+?)\s+sound(?:\s+like)?\b",
                         I)
_LOOK_LIKE = re.compile(r"\b(?:what|how)\s+(?:would|does|might|could)\s+(.+?)\s+look(?:\s+like)?\b",
                        I)


def inspired(text: str, ctx: PlanContext, new_kind: str) -> tuple[str | None, str]:
    """The artwork of the other kind a new one should fit ("a cover for this song": the
    song), and the text without that phrase."""
    other = "music" if new_kind == "image" else "image"
    like = (_SOUND_LIKE if new_kind == "music" else _LOOK_LIKE).search(text)
    if like:
        ref = _other_ref(like.group(1), ctx, other)
        if ref:
            return ref, text[: like.start()] + " " + text[like.end():]
    for m in re.finditer(r"\b" + _LINK + r"\s+(" + _THING + r")(?=\W|$)", text, I):
        ref = _other_ref(m.group(1), ctx, other)
        if ref:
            return ref, text[: m.start()] + " " + text[m.end():]
    return None, text


def _other_ref(phrase: str, ctx: PlanContext, other: str) -> str | None:
    phrase = " ".join(phrase.split())
    refs = language.explicit_refs(phrase)
    known = {b.number: b.kind for b in [*ctx.recent, *ctx.focus]}
    if refs:
        return refs[0] if known.get(int(refs[0][1:].split()[0])) in (other, None) else None
    named = subject_ref(phrase, ctx)
    if named:
        return named[0] if named[1] == other else None
    kind = kind_named(phrase)
    if kind is not None:
        if kind != other or not has_kind(ctx, other):
            return None
        return "it" if focus_kind(ctx) == other else f"latest {other}"
    if phrase.lower() in ("it", "this", "that") and focus_kind(ctx) == other:
        return phrase.lower()
    return None


_MAKE_IMAGE = re.compile(
    r"\b(?:covers?|cover\s+art|album\s+(?:art|cover)|artwork|art|pictures?|pics?|images?|"
    r"illustrations?|illustrate|paintings?|paint|draw|drawing|posters?|visual|visuals|ideas|"
    r"visuali[sz]e|visuali[sz]ation|wallpaper|look(?:s)?\s+like|look\b|picture\s+(?:it|this|that))"
    r"\b", I)
_MAKE_MUSIC = re.compile(
    r"\b(?:music|song|tune|melody|piece|soundtrack|score|sound(?:s)?\s+like|sound\b|jingle|"
    r"theme|jig|reel|waltz|lullaby|ballad|march|hornpipe|air|compose|bars|bpm|"
    r"in\s+[A-G](?:#|b)?(?:\s+(?:major|minor))?)\b", I)
_MUSIC_NOUN_CUE = re.compile(r"\b(?:music|song|tune|melody|piece|soundtrack|score|sound(?:s)?\s+"
                             r"like|jingle|theme|jig|reel|waltz|lullaby|ballad|hornpipe)\b", I)
_PRONOUN_REF = re.compile(r"\b(?:it|this|that)\b(?!\s+(?:one\s+with|is|was|'s))", I)


def crossmodal(text: str, ctx: PlanContext) -> tuple[str, str, str] | None:
    """A new artwork made to fit one of the other kind: ("generate_image" or
    "compose_music", the reference, the request without it). "a cover for this song",
    "what would this painting sound like", "set the lighthouse to music", "cover art"."""
    refs: list[tuple[str, str | None, tuple[int, int]]] = [
        (t.ref, t.kind, t.span) for t in targets(text, ctx)]
    for m in re.finditer(r"\b(?:the|this|that|my|your)\s+(?:\w+\s+)?(" + MUSIC_NOUN + "|" +
                         IMAGE_NOUN + r")s?\b", text, I):
        if not any(a <= m.start() < b for _, _, (a, b) in refs):
            kind = "music" if re.fullmatch(MUSIC_NOUN, m.group(1), I) else "image"
            refs.append((_named_ref(m.group(0), kind, ctx), kind, (m.start(), m.end())))
    if not refs:
        pm = _PRONOUN_REF.search(text)
        if pm and focus_kind(ctx):
            refs.append(("it", focus_kind(ctx), (pm.start(), pm.end())))
    for ref, kind, (a, b) in refs:
        rest = text[:a] + " " + text[b:]
        if kind == "music" and _MAKE_IMAGE.search(rest) and not _edits_music(rest):
            return "generate_image", ref, rest
        cue = _MAKE_MUSIC.search(rest)
        if kind == "image" and cue and not _MAKE_IMAGE.search(
                re.sub(r"\b(?:sound|sounds)\s+like\b", " ", rest)) and not (
                ref == "it" and not _MUSIC_NOUN_CUE.search(rest)):
            return "compose_music", ref, rest
    if not refs and re.search(r"\b(?:cover\s+art|album\s+(?:art|cover)|a\s+cover|visuali[sz]e)\b",
                              text, I) and focus_kind(ctx) == "music":
        return "generate_image", "it", text
    return None


def _named_ref(phrase: str, kind: str, ctx: PlanContext) -> str:
    low = " ".join(phrase.lower().split())
    if re.fullmatch(r"(?:the|this|that|my)\s+(?:picture|image|painting|photo|drawing|song|music|"
                    r"piece|melody|tune|track)", low):
        return low
    return f"latest {kind}" if has_kind(ctx, kind) else low


def _edits_music(rest: str) -> bool:
    return bool(re.search(r"\b(?:faster|slower|transpose|tempo|key|instrument|play(?:ed)?\s+on)\b",
                          rest, I))


def generate_image(text: str, ctx: PlanContext) -> list[PlannedCall]:
    ref, rest = inspired(text, ctx, "image")
    calls = images._generate(rest if ref else text, ctx)
    if ref and calls:
        calls[0].args["inspired_by"] = ref
        if re.fullmatch(r"(?:a\s+)?(?:cover|poster|picture|image|painting|artwork|art)"
                        r"(?:\s+art)?", str(calls[0].args.get("prompt", "")), I):
            calls[0].args["prompt"] = "a picture"
    return calls


def compose_music(text: str, ctx: PlanContext) -> list[PlannedCall]:
    ref, rest = inspired(text, ctx, "music")
    calls = music._compose(rest if ref else text, ctx)
    if ref and calls:
        calls[0].args["inspired_by"] = ref
    return calls


BUILDERS: dict[str, Build] = {
    "generate_image": generate_image,
    "compose_music": compose_music,
    "edit": edit,
    "vary": vary,
    "blend": blend,
    "continue_music": continue_music,
    "upscale_image": for_image(images._upscale),
    "reframe_image": for_image(images._reframe),
    "inpaint_image": for_image(lambda t, c: images._inpaint(t, c) or inpaint(t, c)),
    "add_text": for_image(images._add_text),
    "undo": for_history(history._repeat("undo")),
    "redo": for_history(history._repeat("redo")),
    "revert": for_history(history._revert),
    "list_artworks": history._list,
    "show_versions": for_history(history._versions),
}

# Intents whose calls are always rebuilt here, whatever rule recognised them: the kind of
# artwork decides the tool.
REBUILT = ("edit", "vary", "continue_music", "upscale_image", "reframe_image")


def blend_targets(text: str, found: list[Target], ctx: PlanContext) -> list[PlannedCall]:
    """"blend the fox and the whale", "morph the piano one into the jig"."""
    refs = [t for t in found if t.ref.startswith("#")]
    low = text.lower()
    if len(refs) == 1 and re.search(r"\b(?:it|this|that)\b", low) and len(ctx.focus) == 1:
        it = Target(f"#{ctx.focus[0].number}", ctx.focus[0].kind, (-1, -1))
        first_it = re.search(r"\b(?:it|this|that)\b", low)
        refs = [it, refs[0]] if first_it and first_it.start() < refs[0].span[0] else [refs[0], it]
    if len(refs) < 2:
        bare = re.findall(r"\b(\d{1,2})\b", re.sub(r"\b\d+\s*(?:steps?|%)", " ", low))
        known = {b.number: b.kind for b in ctx.recent}
        if len(bare) >= 2 and all(int(n) in known for n in bare):
            refs = [Target(f"#{n}", known[int(n)], (0, 0)) for n in bare]
    if len(refs) < 2 and re.search(r"\ball\b|\bevery\b|\bthem\b|\bthese\b", low):
        pool = [b for b in ctx.focus] if len(ctx.focus) > 1 else \
            [b for b in ctx.recent if b.kind == "image"]
        refs = [Target(f"#{b.number}", b.kind, (0, 0)) for b in pool][-4:]
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


# -- strong cues, for when neither the rules nor the model are sure ----------------------

_TEXT_CUE = re.compile(
    r"^(?:write|caption(?:\s+it)?|add\s+(?:the\s+)?(?:text|caption|words?|title)|text|title|"
    r"label(?:\s+it)?|put\s+(?:the\s+)?(?:text|words?|caption))\s*(?::|-|saying|that\s+says|"
    r"reading)?\s+(.+?)\s*(?:(?:at|in|on|to)\s+(?:the\s+)?(top\s+left|top\s+right|bottom\s+left|"
    r"bottom\s+right|top|bottom|center|centre|middle)(?:\s+corner)?|(?:on|across)\s+(?:it|the\s+"
    r"(?:picture|image|painting)|#\d+))?\s*(?:(?:at|in)\s+the\s+(top|bottom|center|middle))?$", I)
_CONTENT_EDIT = re.compile(
    r"^(?:replace|swap)\s+(?:the\s+)?(\w[\w\s]*?)\s+(?:with|for)\s+(.+)$|"
    r"^(?:put|add|place|paint|draw|stick)\s+(.+?)\s+(?:in|into|on|onto)\s+(?:it|the\s+(?:picture|image|"
    r"painting|scene))$|^(?:turn|change|transform|make)\s+(?:the\s+)?(\w[\w\s]*?)\s+into\s+(.+)$", I)


def strong_cue(text: str, ctx: PlanContext) -> list[PlannedCall]:
    """Calls that the words alone make certain, whatever the model says."""
    if focus_kind(ctx) == "music" and not re.search(IMAGE_NOUN, text, I):
        return []
    m = _TEXT_CUE.match(text.strip())
    if m:
        words = m.group(1).strip(" '\"“”‘’")
        position = (m.group(2) or m.group(3) or "bottom").lower().replace("centre", "center") \
            .replace("middle", "center")
        if words:
            return [PlannedCall("add_text", {"artwork": "it", "text": words,
                                             "position": position})]
    if re.search(r"\b(?:" + _REGIONS + r")\b", text, I) and re.search(
            r"\b(?:replace|swap|repaint|redo|put|add|place|paint|draw|make|give|fill|change|be|"
            r"should|->)\b|->", text, I):
        painted = inpaint(text, ctx)
        if painted:
            return painted
    if _CONTENT_EDIT.match(text.strip()):
        return [PlannedCall("edit_image", {"artwork": "it", "instruction": text.strip()})]
    return []


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
