"""What a request names: the artwork it is about ("#3", "v2 of the whale", "the second
one", "the fox", "the one with the castle", "the piano one", "the song"), its kind, and
whether its words are music's or pictures' vocabulary. Read from the planner's view of
the conversation (``PlanContext``); the store resolves what is found here."""

from __future__ import annotations

import re
from dataclasses import dataclass

from museforge.assistant import language
from museforge.assistant.planning import ArtworkBrief, PlanContext
from museforge.assistant.rules import history, music

I = re.IGNORECASE  # noqa: E741

IMAGE_NOUN = r"(?:picture|pic|image|painting|drawing|photo|illustration|artwork|poster|cover|art)"
MUSIC_NOUN = (r"(?:song|tune|music|melody|piece|track|jig|reel|waltz|lullaby|ballad|march|"
              r"hornpipe|air|theme|soundtrack|composition|beat|loop|jingle|chiptune)")
# Words that only make sense for one kind of artwork.
MUSIC_ONLY = re.compile(
    r"\b(?:faster|slower|slow|quicker|quick|rushed|speedier|speed|tempo|bpm|pace|transpose|"
    r"semitones?|octaves?|key|pitch|"
    r"robotic|humani[sz]e|dorian|mixolydian|lydian|phrygian|groove|swing|quantize|staccato|"
    r"instrument|bars?|humani[sz]e|quanti[sz]e|rhythm|timing|swing|notes?|chords?|bass|"
    r"melody|tune|song|music|piece|track|major|minor|played|play|louder|quieter|beat|"
    r"beats|loop|chiptune|lofi|lo-fi|sound|sounds|sounding)\b", I)
IMAGE_ONLY = re.compile(
    r"\b(?:crop|rotate|flip|mirror|zoom|upscale|brightness|contrast|saturat\w*|colou?rs?|"
    r"colou?rful|vivid|sharpen|sharper|blur\w*|sepia|grayscale|greyscale|black\s+and\s+white|"
    r"pixels?|resolution|picture|image|painting|photo|warmer|cooler|hue|tint|"
    r"exposure|filter|vignette|caption|text|sky|background|foreground)\b", I)


_MUSIC_WORDS = re.compile(
    r"\b(?:music|musical|song|songs|tune|tunes|melody|melodies|jig|jigs|reel|reels|waltz|"
    r"lullaby|ballad|hornpipe|air|polka|minuet|nocturne|fanfare|anthem|jingle|march|"
    r"soundtrack|symphony|sonata|concerto|etude|étude|prelude|fugue|chorale|hymn|shanty|"
    r"lament|serenade|overture|riff|groove|bpm|tempo|chords?|bassline|arpeggio|"
    r"staccato|legato|pizzicato|crescendo|major|minor|dorian|mixolydian|lydian|phrygian|"
    r"bars|measures|[2346]/[248]|three[\s-]four|six[\s-]eight|waltz\s+time|"
    r"jazz|ambient|techno|dance\s+track|lo-?fi|hip[\s-]?hop|funk|"
    r"reggae|bossa|tango|samba|salsa|ragtime|orchestral|duet|trio|quartet|chiptunes?|"
    r"8[\s-]?bit\s+(?:music|tune|song|track|theme|loop|battle|boss)|synthwave|vaporwave|"
    r"edm|dubstep|house\s+music|drum\s+and\s+bass|trance|disco|punk|metal|grunge|"
    r"soundscapes?|drones?|loops?|stingers?|intro\s+music|outro|bgm|ost|banger|bop|"
    r"ditty|carol|lofi|lo-fi|beats|instrumental|accompaniment|harmony|harmonies)\b|"
    r"\b(?:sounds?|sounding)\s+(?:more|less|like|a\s+bit|kind\s+of|kinda|too)\b|"
    r"\bmake\s+(?:it|this|that|them)\s+sound\b|"
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
    for m in re.finditer(r"\b(?:number|no\.|nr\.?|artwork|picture|image|piece|song|tune|track)\s*"
                         r"#?\s*(\d+|one|two|three|four|five|six|seven|eight|"
                         r"nine|ten)\b(?!\s*(?:degrees?|deg|°|px|pixels?|wide|width|high|height|"
                         r"tall|bpm|bars?|%|percent|times|x\b|by\b|seconds?|minutes?|:\s*\d|"
                         r"/\s*\d))", text, I):
        n = int(language.to_number(m.group(1)) or 0)
        b = known.get(n)
        if n:
            add(f"#{n}", b.kind if b else None, m)
    pool = _pool(ctx)
    ords = "|".join(sorted(_ORD, key=len, reverse=True))
    for m in re.finditer(r"(?:\b(?:the|and|&)\s+|^)(" + ords + r")(?:\s+(" + _REF_NOUN + r")s?)?\b"
                         r"(?!\s+(?:change|edit|step|version|two|three|\d(?!\s*x\b|x\b)))",
                         text, I):
        n = _ORD[m.group(1).lower()]
        if not m.group(2) and not re.match(r"(?:the|and|&)\b", m.group(0), I) \
                and not m.group(1)[0].isdigit():
            continue  # "first, paint a fox": an order of steps ("2nd bigger" is an artwork)
        if m.group(1).lower() in ("last", "latest") and not m.group(2) \
                and not re.match(r"(?:and|&)\b", m.group(0), I):
            continue  # "the last" alone: "undo the last" is about steps ("first and last" is not)
        kind = _kind_of_noun(m.group(2))
        numbers = [x for x in pool if kind is None or known[x].kind == kind] if kind else pool
        if numbers and -len(numbers) <= n <= len(numbers) and n != 0:
            number = numbers[n - 1] if n > 0 else numbers[-1]
            add(f"#{number}", known[number].kind, m)
    original = re.search(r"(?<!\bto\s)\bthe\s+original(?:\s+(?:one|" + _REF_NOUN + r"))?\b"
                         r"(?!\s+(?:version|v\d))", text, I)
    if original and not re.search(r"\b(?:revert|restore|back|undo|version)\b", text, I):
        # "upscale the original" after variations: the artwork they were made from
        sources = [int(m.group(1)) for b in [*ctx.focus, *reversed(ctx.recent)]
                   for m in [re.match(r"variation of #(\d+)", b.title, I)] if m]
        if sources and sources[0] in known:
            add(f"#{sources[0]}", known[sources[0]].kind, original)
    middle = re.search(r"\bthe\s+(?:middle|centre|center)\s+(?:one|" + _REF_NOUN + r")\b", text, I)
    if middle and len(pool) % 2 == 1 and len(pool) > 1:  # "the middle one" of three
        number = pool[len(pool) // 2]
        add(f"#{number}", known[number].kind, middle)
    for m in re.finditer(r"\b" + _DET + r"\s+(?:(?:one|" + _REF_NOUN + r")\s+(?:with|of|"
                         r"about|showing|featuring|at|in)\s+(?:the\s+|a\s+|an\s+)?)?", text, I):
        words = []
        for w in list(re.finditer(r"[a-z][\w'-]*|[,;.!?+&→]", text[m.end():m.end() + 60], I))[:4]:
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
    for m in re.finditer(r"\b([a-z][\w-]*)['’]s\b", text, I):
        # "Rosie's is a bit too fast", "morph Rosie's into Ivy's": whose it is, by the name
        # in its title ("a lullaby for Rosie")
        if m.group(1).lower() not in _NOT_OWNERS:
            hit = _by_subject(m.group(1), ctx)
            if hit and hit[0].startswith("#"):
                add(*hit, m)
    first = re.match(r"^([a-z][\w'-]+)\b", text.strip(), I)
    if first and not found:
        hit = _by_subject(first.group(1), ctx)
        if hit:
            add(*hit, first)
    for m in re.finditer(r"\b(?:the|this|that|my)\s+(picture|image|painting|photo|drawing|song|"
                         r"music|"
                         r"piece|melody|tune|track)\b(?!\s+(?:box|boxes|stand|video|hall|room|sheet|"
                         r"lesson|teacher|school|festival|frame|book))", text, I):
        add(" ".join(m.group(0).lower().split()), _kind_of_noun(m.group(1)), m)
    for i, t in enumerate(found):  # "the whale v4", "castle version 4"
        after = re.match(r"\s*,?\s*(?:v|version\s*)(\d+)\b", text[t.span[1]:], I)
        if after and t.ref.startswith("#") and " v" not in t.ref:
            found[i] = t = Target(f"{t.ref} v{after.group(1)}", t.kind,
                                  (t.span[0], t.span[1] + after.end()))
    for i, t in enumerate(found):  # "v2 of the whale"
        before = text[: t.span[0]]
        v = re.search(r"\b(?:v|version\s*)(\d+)\s+of\s+$", before, I)
        if v and t.ref.startswith("#") and " v" not in t.ref:
            found[i] = Target(f"{t.ref} v{v.group(1)}", t.kind, (v.start(), t.span[1]))
    return sorted(found, key=lambda t: t.span[0])


_NOT_OWNERS = {"it", "that", "this", "there", "here", "what", "who", "where", "how", "let", "he",
               "she", "one", "today", "tonight", "tomorrow", "yesterday", "everyone", "nobody",
               "somebody", "someone", "everything", "nothing", "something", "mum", "mom", "dad",
               "year", "week", "month", "world", "child", "children", "kid", "kids", "people"}
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


def near_titles(word: str, ctx: PlanContext) -> bool:
    """A title has the word or its stem ("the snowy one" for "a fox in the snow", "the
    stormy one" for "a storm at sea")."""
    w = word.lower()
    if _in_titles(w, ctx):
        return True
    words = {t for b in ctx.recent for t in re.findall(r"[\w'-]+", f"{b.title} {b.prompt}".lower())}
    if w in words or w.rstrip("s") in words:
        return True
    stem = re.sub(r"(?:ier|iest|ies|ied|ing|ed|er|est|y|s)$", "", w)
    if len(stem) >= 3 and stem[-1] == stem[-2]:
        stem = stem[:-1]  # "foggy": fog
    if len(stem) < 3:
        return False
    return any(t.startswith(stem) or (len(t) >= 4 and w.startswith(t)) for t in words)


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
    said_kind = next((k for w in re.findall(r"[a-z]+", phrase.lower())
                      for k in [_kind_of_noun(w)] if k), None)  # "the squirrel picture"
    titled = [(b, set(re.findall(r"[\w'-]+", b.title.lower()))) for b in ctx.recent
              if said_kind is None or b.kind == said_kind]
    words = [w for w in words if any(w in t or w.rstrip("s") in t for _, t in titled)]
    if not words:
        return None
    best: list[tuple[int, int, ArtworkBrief]] = []
    for b, t in titled:
        hits = sum(1 for w in words if w in t or w.rstrip("s") in t)
        if hits:
            extra = len(t - set(words) - STOP_SUBJECT) + (
                5 if re.search(r"\b(?:blend|mix|variation|morph)\b", b.title, I) else 0)
            best.append((-hits, extra, b))
    best.sort(key=lambda x: (x[0], x[1]))
    top = [x for x in best if x[:2] == best[0][:2]]
    if len({x[2].number for x in top}) == 1:
        chosen = top[0][2]
        return f"#{chosen.number}", chosen.kind
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


_MADE_BY = [
    (re.compile(r"\bthe\s+(?:blend|mix|mash\s*-?\s*up|combo|fusion|merge|(?:blended|merged|mixed|"
                r"combined|fused)(?:\s+(?:one|picture|pic|image|version))?)\b", I),
     lambda title: title.startswith("blend of ")),
    (re.compile(r"\bthe\s+(?:morph|interpolation|transition|(?:morphed|in-between|interpolated)"
                r"(?:\s+(?:one|piece|tune|song|version))?)\b", I),
     lambda title: "→" in title),
    (re.compile(r"\bthe\s+(?:variation|variant|varied\s+one|alternative)\b(?!s)", I),
     lambda title: title.startswith("variation of ")),
]


def made_by_operation(text: str, ctx: PlanContext) -> str:
    """"upscale the blend", "a soundtrack for the morph": the newest artwork that a blend,
    a morph or a variation made, written as its "#N"."""
    for pattern, made in _MADE_BY:
        m = pattern.search(text)
        if not m:
            continue
        hits = [b for b in ctx.recent if made(b.title)]
        if hits:
            text = text[: m.start()] + f"#{hits[-1].number}" + text[m.end():]
    return text
