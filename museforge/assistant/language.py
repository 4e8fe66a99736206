"""Small pieces of English the offline planner's rules share: numbers in words and
digits, ordinals, splitting a message into requests, and spotting artwork references."""

from __future__ import annotations

import re

UNITS = {
    "zero": 0, "one": 1, "a": 1, "an": 1, "single": 1, "two": 2, "a couple of": 2,
    "a pair of": 2, "couple": 2, "pair": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
    "dozen": 12, "a dozen": 12,
}
ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4,
    "4th": 4, "fifth": 5, "5th": 5, "sixth": 6, "6th": 6, "seventh": 7, "7th": 7,
    "eighth": 8, "8th": 8, "ninth": 9, "9th": 9, "tenth": 10, "10th": 10,
}
TIMES = {"once": 1, "twice": 2, "thrice": 3}
NUMBER_WORDS = sorted(UNITS, key=len, reverse=True)
_NUM = r"(?:\d+(?:\.\d+)?|" + "|".join(re.escape(w) for w in NUMBER_WORDS) + r")"
NUMBER_PATTERN = _NUM  # a number in digits or words, for other modules' patterns
NUM_RE = re.compile(
    r"\b(" + _NUM + r"(?:[\s-]+(?:one|two|three|four|five|six|seven|eight|nine))?)\b", re.I
)


def to_number(text: str) -> float | None:
    """'3', 'three', 'twenty-five', 'a couple of', '2.5' -> the number; else None."""
    t = " ".join(text.lower().replace("-", " ").split())
    if not t:
        return None
    try:
        return float(t) if "." in t else int(t)
    except ValueError:
        pass
    if t in UNITS:
        return UNITS[t]
    if t in ORDINALS:
        return ORDINALS[t]
    parts = t.split()
    if len(parts) == 2 and parts[0] in UNITS and parts[1] in UNITS:
        tens, ones = UNITS[parts[0]], UNITS[parts[1]]
        if tens >= 20 and tens % 10 == 0 and 0 < ones < 10:
            return tens + ones
        if parts[1] == "hundred":
            return tens * 100
    return None


def times(text: str) -> int:
    """How many times a request says to do something: 'twice', '3 times', 'three times',
    'undo undo'."""
    low = text.lower()
    repeated = re.search(r"\b(undo|redo)(?:[\s,!.]+\1\b)+", low)  # "undo undo"
    if repeated:
        return len(re.findall(r"\b" + repeated.group(1) + r"\b", repeated.group(0)))
    for word, n in TIMES.items():
        if re.search(rf"\b{word}\b", low):
            return n
    m = re.search(r"\b(" + _NUM + r")\s*(?:x\b|times\b)", low) or re.search(r"\bx\s*(\d+)\b", low)
    if m:
        value = to_number(m.group(1))
        if value is not None:
            return int(value)
    # "the last two changes", "go back three steps", "two more undos"
    m = re.search(r"\b(" + _NUM + r")\s+(?:of\s+)?(?:(?:more|the)\s+)?(?:changes|edits|steps|"
                                  r"undos|redos|"
                  r"versions)\b", low)
    if m:
        value = to_number(m.group(1))
        if value is not None:
            return int(value)
    return 1


# -- splitting a message into requests -------------------------------------------------

_SEQ = re.compile(
    r"\s*(?:;|\.\s+|,\s*plus\b|,?\s*\band\s+then\b|,?\s*\bthen\b(?!\s*:)|,?\s*\bafter\s+that\b|"
    r",?\s*\bafterwards\b|,?\s*\band\s+also\b|,\s*also\b)\s*",
    re.I,
)


# "Three things: 1) a watercolor map 2) a neon map 3) a chill tune", "1. a fox 2. an owl"
_NUMBERED = re.compile(r"(?:^|(?<=[\s:,;]))\(?([1-9])[).](?=\s)\s*")
# "two tavern tunes please: one on lute, one on hurdy-gurdy"
_EACH = re.compile(r"^(?P<head>.*?\b(?:two|three|four|2|3|4)\s+(?P<what>(?:[\w'-]+\s+){0,2}?)"
                   r"(?P<noun>tunes|songs|pieces|melodies|tracks|pictures|images|paintings|"
                   r"drawings|posters|portraits|versions|ones)\b[^:]*?)\s*[:,-]\s*"
                   r"(?P<items>(?:one|the\s+first)\b.+)$", re.I)
_SINGULAR = {"tunes": "tune", "songs": "song", "pieces": "piece", "melodies": "melody",
             "tracks": "track", "pictures": "picture", "images": "image",
             "paintings": "painting", "drawings": "drawing", "posters": "poster",
             "portraits": "portrait", "versions": "version", "ones": "one"}


def listed(message: str) -> str:
    """A message that lists what it wants, each item its own request (joined by ";"):
    numbered items, or "two tunes: one on lute, one on harp" (each "one" the head's noun,
    with what the head says of them). Anything else is returned as it was."""
    numbers = list(_NUMBERED.finditer(message))
    if len(numbers) >= 2 and [int(m.group(1)) for m in numbers] == list(
            range(1, len(numbers) + 1)):
        items = [message[a.end(): b.start() if b else len(message)].strip(" ,;.")
                 for a, b in zip(numbers, [*numbers[1:], None], strict=True)]
        if all(items):
            return "; ".join(items)
    each = _EACH.match(message.strip())
    if each:
        parts = re.split(r",?\s*(?:and\s+)?\b(?:one|the\s+(?:first|second|other|third|last))\b\s*",
                         each.group("items"), flags=re.I)
        parts = [p.strip(" ,.;") for p in parts if p.strip(" ,.;")]
        if len(parts) >= 2:
            what = (each.group("what") or "").strip()
            what = re.sub(r"^(?:short|little|more|different)\s+", "", what, flags=re.I)
            noun = _SINGULAR[each.group("noun").lower()]
            head = f"a {what + ' ' if what else ''}{noun}"
            return "; ".join(f"{head} {p}" for p in parts)
    named = _NAMED_ITEMS.match(message.strip())
    if named:  # "two short pieces: a lively reel on fiddle and a slow air on low whistle"
        items = [p.strip(" ,.;") for p in re.split(
            r"\s*(?:,\s*(?:and\s+)?|\s+and\s+)(?=(?:a|an)\s)", named.group("items"), flags=re.I)]
        if len(items) == to_number(named.group("n")) and all(
                re.match(r"(?:a|an)\s", p, re.I) for p in items):
            return "; ".join(items)
    return message


_NAMED_ITEMS = re.compile(r"^.*?\b(?P<n>two|three|four|2|3|4)\s+(?:[\w'-]+\s+){0,2}?(?:tunes|songs|"
                          r"pieces|melodies|tracks|pictures|images|paintings|drawings|posters|"
                          r"things)\b[^:]*:\s*(?P<items>(?:a|an)\s.+)$", re.I)


def split_requests(message: str, starts_request) -> list[str]:  # type: ignore[no-untyped-def]
    """Split on 'then', 'and then', ';', '. '; split on 'and' / ',' only where what follows
    starts a request of its own (``starts_request(text) -> bool``), so "a fox and a cat"
    stays one prompt while "paint a fox and make it grayscale" becomes two."""
    pieces = [p for p in _SEQ.split(message.strip()) if p and p.strip(" ,.;")]
    out: list[str] = []
    for piece in pieces:
        out.extend(_split_and(piece.strip(" ,"), starts_request))
    return [p.strip(" ,.;!?") for p in out if p.strip(" ,.;!?")]


def _split_and(text: str, starts_request) -> list[str]:  # type: ignore[no-untyped-def]
    parts: list[str] = []
    last = 0
    for m in re.finditer(r"\s*(?:,\s*and\b|\band\b|,)\s*", text, re.I):
        rest = text[m.end():]
        if starts_request(rest) or _other_kind_follows(text[last:m.start()], rest):
            parts.append(text[last:m.start()])
            last = m.end()
    parts.append(text[last:])
    return [p for p in parts if p.strip()]


_PICTURE_NOUN = r"(?:pictures?|paintings?|drawings?|images?|photos?|posters?|portraits?|pics?|" \
                r"illustrations?|sketch(?:es)?)"
_MUSIC_NOUN = r"(?:tunes?|songs?|melod(?:y|ies)|lullab(?:y|ies)|waltz(?:es)?|jigs?|reels?|" \
              r"marches|march|ballads?|pieces?\s+of\s+music|soundtracks?|themes?|jingles?)"
_A_NEW = r"^(?:also\s+)?(?:a|an|some|one)\s+(?:[\w'-]+\s+){0,2}?"


def _other_kind_follows(before: str, rest: str) -> bool:
    """"a picture of a red squirrel and a tune about a squirrel too": a creation of the
    other kind after "and" is a request of its own (a fox and a cat stay one picture)."""
    if re.match(_A_NEW + _MUSIC_NOUN + r"\b", rest, re.I):
        return bool(re.search(r"\b" + _PICTURE_NOUN + r"\b", before, re.I)) and not re.search(
            r"\b" + _MUSIC_NOUN + r"\b", before, re.I)
    if re.match(_A_NEW + _PICTURE_NOUN + r"\b", rest, re.I):
        return bool(re.search(r"\b" + _MUSIC_NOUN + r"\b", before, re.I)) and not re.search(
            r"\b" + _PICTURE_NOUN + r"\b", before, re.I)
    return False


# -- artwork references inside a request ------------------------------------------------

REF_RE = re.compile(r"#\s*(-?\d+)(?:\s*(?:v|version\s*)(-?\d+))?", re.I)
VERSION_RE = re.compile(r"\b(?:v|version\s*)(\d+|" + "|".join(UNITS) + r")\b", re.I)
PRONOUN_RE = re.compile(
    r"\b(it|that|this|that one|this one|the last one|the latest one|the latest|the last|"
    r"the previous one|the one before|the result)\b", re.I
)
ORDINAL_REF_RE = re.compile(
    r"\bthe\s+(" + "|".join(ORDINALS) + r"|last|latest)\s+(?:one|image|picture|piece|song|"
    r"melody|tune|track|version)?\b", re.I
)
LAST_N_RE = re.compile(
    r"\bthe\s+(?:last|latest)\s+(" + _NUM + r")\b(?:\s+(?:ones|images|pictures|pieces|songs))?",
    re.I,
)
BOTH_RE = re.compile(r"\b(both|them|those|these|the two)\b", re.I)
ONE_WITH_RE = re.compile(
    r"\bthe\s+(?:one|image|picture|painting|piece|song|melody|tune|track)\s+"
    r"(?:with|of|about|showing|featuring)\s+(?:the\s+|a\s+|an\s+)?([\w\s'-]+?)"
    r"(?=\s*(?:$|[,.;!?]|\b(?:to|and|into|brighter|darker|more|less|a\s+bit|by|please)\b))",
    re.I,
)
# "the fox one", "the red fox picture" (words that pick one, like "same", are not a name)
THE_X_ONE_RE = re.compile(
    r"\bthe\s+(?!(?:same|current|new|other|previous|next|whole|latest|last)\b)"
    r"([a-z][\w'-]*(?:\s+[a-z][\w'-]*)?)\s+(?:one|image|picture|painting|photo|drawing|piece|"
    r"song|melody|tune|track)\b", re.I)


def explicit_refs(text: str) -> list[str]:
    """'#3', '#3 v2' written out, in order, normalised."""
    refs = []
    for m in REF_RE.finditer(text):
        ref = f"#{m.group(1)}"
        if m.group(2) is not None:
            ref += f" v{m.group(2)}"
        refs.append(ref)
    return refs


def version_number(text: str) -> int | None:
    """'v2', 'version 2', 'version two' outside of a '#N vM' reference."""
    stripped = REF_RE.sub(" ", text)
    m = VERSION_RE.search(stripped)
    if m:
        value = to_number(m.group(1))
        return int(value) if value is not None else None
    m = re.search(r"\b(" + "|".join(ORDINALS) + r")\s+version\b", stripped, re.I)
    if m:
        return ORDINALS[m.group(1).lower()]
    m = re.search(r"\b(?:the\s+)?original(?:ly)?\b|\bhow\s+it\s+(?:first|originally)\s+(?:was|"
                  r"looked|"
                  r"sounded)\b|\bthe\s+(?:very\s+)?(?:beginning|start)\b", stripped, re.I)
    return 1 if m else None


def natural_ref(text: str) -> str | None:
    """The first reference to an artwork in plain words, as written ('#3', 'it', 'the
    first one', 'the one with the fox', 'the last two'); None when there is none."""
    refs = explicit_refs(text)
    if refs:
        return refs[0]
    for pattern in (LAST_N_RE, ONE_WITH_RE, ORDINAL_REF_RE, THE_X_ONE_RE, BOTH_RE, PRONOUN_RE):
        m = pattern.search(text)
        if m:
            return " ".join(m.group(0).split())
    return None


# A variation asked to be far from its source: "a strong variation", "pretty different from
# each other", "change it loads". One pattern for pictures and music.
STRONG_CHANGE = re.compile(
    r"\b(?:strong\w*|wild\w*|crazi\w*|crazy|big|bold\w*|a\s+lot|loads|heavily|radical\w*|"
    r"drastic\w*|dramatic|completely|totally|unrecogni[sz]able|differently|much\s+more|"
    r"(?:very|really|pretty|quite|totally|wildly|super|way|completely|more)\s+different|"
    r"different\s+from\s+each\s+other|nothing\s+alike|go\s+far|far\s+out)\b", re.I)


# "more moody" is "moodier": the tables of moods, complaints and adjustments are written
# with one form, and people say either.
_COMPARATIVE_OF = {
    "dark": "darker", "bright": "brighter", "warm": "warmer", "cool": "cooler",
    "cold": "colder", "sad": "sadder", "happy": "happier", "moody": "moodier",
    "gloomy": "gloomier", "calm": "calmer", "soft": "softer", "loud": "louder",
    "quiet": "quieter", "fast": "faster", "slow": "slower", "sunny": "sunnier",
    "spooky": "spookier", "creepy": "creepier", "lively": "livelier", "jolly": "jollier",
    "dreamy": "dreamier", "sleepy": "sleepier", "punchy": "punchier", "bouncy": "bouncier",
    "groovy": "groovier", "mellow": "mellower", "gentle": "gentler", "sharp": "sharper",
    "cheery": "cheerier", "scary": "scarier", "busy": "busier", "simple": "simpler",
    "deep": "deeper", "heavy": "heavier", "light": "lighter", "dim": "dimmer",
    "cozy": "cozier", "cosy": "cosier", "chill": "chiller", "snowy": "snowier",
    "stormy": "stormier", "rainy": "rainier", "foggy": "foggier", "misty": "mistier",
}
_MORE_ADJECTIVE = re.compile(
    r"\bmore\s+(" + "|".join(_COMPARATIVE_OF) + r")\b(?!\s+(?:and|than)\b)"
    r"(?!\s+(?:colou?rs?|tones?|light|shadows?|notes?|sounds?|parts?|bits?|areas?|bars?)\b)",
    re.I)


def comparatives(text: str) -> str:
    """"make it more moody" -> "make it moodier"; "more light" (a noun) stays."""
    return _MORE_ADJECTIVE.sub(lambda m: _COMPARATIVE_OF[m.group(1).lower()], text)


_SPELLED_VALUE = re.compile(
    r"\b(seed|bpm|tempo|bars?)(\s+(?:number\s+|of\s+|=\s*|:\s*|at\s+)?)((?:twenty|thirty|forty|"
    r"fifty|sixty|seventy|eighty|ninety|hundred|one|two|three|four|five|six|seven|eight|nine|"
    r"ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)"
    r"(?:[\s-]+(?:one|two|three|four|five|six|seven|eight|nine))?)\b", re.I)


def spelled_values(text: str) -> str:
    """"seed twelve", "tempo of ninety" -> digits, as the argument readers expect."""
    def digits(m: re.Match[str]) -> str:
        n = to_number(m.group(3))
        return f"{m.group(1)}{m.group(2)}{n}" if isinstance(n, int) else m.group(0)

    return _SPELLED_VALUE.sub(digits, text)


# "make 2 versions of the painting", "2 more versions of the beat": new ones like it (the
# versions of its history are "show me the versions")
MORE_VERSIONS = (r"(?:\d+|two|three|four|five|six|ten|a\s+few|a\s+couple(?:\s+of)?|several|"
                 r"some)\s+(?:more\s+|other\s+|new\s+|different\s+|alt\s+|extra\s+)?versions|"
                 r"(?:more|extra|other|alt)\s+versions(?!\s+(?:of|does|do|has|have)\s+(?:it|this|that)\s*\?)")
