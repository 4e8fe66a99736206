"""Reading what people type before the rules see it: text-speak ("pls", "u", "pic"),
and typos of the words the planner acts on ("pnt a lighthuose", "compse a waltz").

A word is corrected only when it is not a word the planner knows and exactly one known
word is close: one edit (a transposition counts as one) for words of four letters or
more, two for words of seven or more with the same first letter, or the same consonants
for a word typed without vowels ("pnt", "drw"). Words of the session's own artwork
titles count as known, so "the lighthuose one" finds the lighthouse."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

TEXT_SPEAK = {
    "u": "you", "ur": "your", "pls": "please", "plz": "please", "pleeze": "please",
    "thx": "thanks", "ty": "thanks", "pic": "picture", "pics": "pictures", "pix": "pictures",
    "gimme": "give me", "wanna": "want to", "gonna": "going to", "lemme": "let me",
    "r": "are", "w/": "with", "w/o": "without", "b4": "before", "abt": "about",
    "smth": "something", "sth": "something", "tho": "though", "rly": "really",
"bg": "background", "img": "image", "imgs": "images", "vid": "video",
    "mins": "minutes", "bpms": "bpm", "sec": "seconds", "secs": "seconds", "cuz": "because",
    "coz": "because", "dont": "don't", "cant": "can't", "wont": "won't", "its": "its",
    "im": "i'm", "id": "i'd", "ive": "i've", "youre": "you're", "thats": "that's",
    "whats": "what's", "lets": "let's", "moar": "more", "mor": "more", "bigg": "big", "abit": "a bit",
    "alil": "a little", "lil": "little", "bc": "because", "rn": "right now", "ngl": "honestly",
    "aight": "alright", "ight": "alright", "tmrw": "tomorrow", "pls.": "please",
}
# "a pic that goes w it": a lone "w" before what it is with
_WITH = re.compile(r"\bw\s+(?=(?:it|the|a|an|my|that|this|some|them|his|her|our|your)\b)", re.I)

# The words the rules act on: verbs, nouns, adjustments, music words and the procedural
# painter's subjects. A typo of one of these is worth fixing; other words pass as typed.
LEXICON = set("""
paint draw generate create render imagine illustrate design produce sketch make compose
write play give show crop rotate flip mirror resize zoom extend upscale enlarge vary
variation variations variant variants blend mix combine merge caption replace repaint
brighten darken sharpen blur desaturate invert undo redo revert restore transpose continue
morph interpolate humanize humanise quantize quantise list change turn add remove put
picture pictures image images painting paintings drawing drawings illustration photo
photograph portrait poster wallpaper scene version versions music song songs tune tunes
melody melodies piece pieces track lullaby waltz march jig reel ballad hornpipe air
composition soundtrack anthem jingle
brighter darker warmer cooler colder sharper softer faster slower louder quieter happier
sadder gloomier calmer bigger smaller higher lower lighter brightness contrast saturation
saturated warmth vivid vibrant colorful colourful grayscale greyscale black white sepia
vintage square widescreen vertical horizontal landscape background foreground
tempo bpm key major minor octave semitone semitones fifth fourth third instrument
piano violin cello guitar flute clarinet oboe bassoon harp organ trumpet trombone
saxophone fiddle banjo ukulele mandolin accordion harmonica xylophone marimba
celesta glockenspiel harpsichord bagpipe bagpipes sitar koto shamisen kalimba ocarina
choir strings orchestra synth drums
watercolor watercolour pixel neon minimal minimalist anime cartoon realistic
photorealistic sketchy
fox cat dog wolf bear deer rabbit bird owl horse lion tiger dragon whale fish person
castle house lighthouse tower cabin ship boat tree flower rose sunflower mushroom
mountain mountains forest ocean beach lake river harbour harbor city village street
sunset sunrise night dusk dawn morning evening winter summer autumn spring snow snowy
stl obj fbx glb gltf mp3 wav flac svg pdf gif midi ogg png jpg jpeg webp abc
vignette musicxml harmonise harmonize chords accompaniment notation
bottom middle corner centre center
""".split())

SHORT_VERBS = set("make draw undo redo crop flip zoom blur play show give turn take list edit "
                  "vary mix paint".split())
COMPARATIVES = set("bluer redder greener yellower greyer grayer pinker warmer cooler contrasty "
                   "moodier sunnier snowier cozier cosier punchier zippier dreamier".split())
ENGLISH = Path(__file__).parent / "data" / "english.txt.gz"


@lru_cache(maxsize=1)
def english() -> frozenset[str]:
    """The ~28,000 most frequent English words (wordfreq's small English list, CC BY-SA
    4.0; see data/README.md), less a few frequent typos: a word in it is never
    "corrected", so "a goat" stays a goat and "a real castle" is not a reel."""
    with gzip.open(ENGLISH, "rt", encoding="utf-8") as f:
        return frozenset(f.read().split()) - {"und", "pnt", "drw"}


def known(word: str) -> bool:
    """A word of English or of the rules, inflected or not: "sleepier" (sleepy),
    "galloping" (gallop), "daffodils" (daffodil), "bigger" (big), "vignette"."""
    low = word.lower()
    words = english()
    if low in words or low in LEXICON or low in COMPARATIVES:
        return True
    stems = []
    for ending, back in (("iest", "y"), ("ier", "y"), ("ies", "y"), ("ied", "y"),
                         ("est", ""), ("er", ""), ("ing", ""), ("ed", ""), ("es", ""),
                         ("s", ""), ("ing", "e"), ("ed", "e"), ("er", "e"), ("est", "e")):
        if low.endswith(ending) and len(low) - len(ending) >= 3:
            stem = low[: -len(ending)] + back
            stems.append(stem)
            if len(stem) >= 4 and stem[-1] == stem[-2] and not back:
                stems.append(stem[:-1])  # "bigger", "hotter", "stopped"
    return any(stem in words or stem in LEXICON for stem in stems)


@lru_cache(maxsize=1)
def _instruments() -> frozenset[str]:
    from museforge.models.music.theory import GM_PROGRAMS, INSTRUMENT_ALIASES

    names = " ".join([*GM_PROGRAMS, *INSTRUMENT_ALIASES]).lower()
    return frozenset(w for w in re.findall(r"[a-z]+", names) if len(w) >= 4)


def normalise(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with text-speak spelled out and typos of known words fixed; ``extra``
    adds words that count as known targets (the session's artwork titles)."""
    titled = frozenset(w.lower() for w in extra if len(w) >= 3 and w.isalpha())
    # words in quotes are the person's own ("put 'when u hear the treat bag' at the top"):
    # written as typed, never spelled out or corrected
    parts = _QUOTED.split(text)
    if len(parts) > 1:
        return "".join(part if i % 2 else normalise(part, extra) for i, part in enumerate(parts))
    targets = _targets(titled)
    out: list[str] = []
    for token in re.split(r"(\s+|[,.;!?()\"“”]+)", text):
        named = token[:1].isupper() and token[1:].islower() and any(
            t.strip() for t in out) and not re.search(r"[.!?]\s*$", "".join(out))
        # a capitalised word inside a sentence is a name ("call it Aird"), not a typo
        out.append(_fix(token, targets, titled) if token and token.strip() and not named
                   else token)
    said = _WITH.sub("with ", _TOO.sub(lambda m: m.group(1) + " too", "".join(out)))
    return _ASIDE.sub(r", \1, ", said)


# "its upside down lol undo": an aside between two thoughts is where one ends
_ASIDE = re.compile(r"(?<=[a-z])\s+(lol+|lmf?ao+|haha+|ngl|tbh|bruh|omg|smh|rofl)\s+(?=[a-z#])", re.I)


_QUOTED = re.compile(r"(\"[^\"]+\"|“[^”]+”|‘[^’]+’|(?<![\w'])'[^']+'(?![\w']))")


# "its a bit to dark", "way to loud": "to" before a quality is "too"
_TOO = re.compile(r"\b(a\s+(?:bit|little|tad|touch|lot)|way|far|much|its|it's|it\s+is|is|are|"
                  r"looks|sounds|got|so|just|bit|abit|kinda|slightly|still)\s+to(?=\s+(?:dark|"
                  r"bright|light|loud|quiet|fast|slow|big|small|busy|plain|warm|cold|cool|sad|"
                  r"happy|long|short|high|low|harsh|soft|sharp|blurry|noisy|red|blue|green|"
                  r"yellow|orange|pink|purple|grey|gray|saturated|dull|flat|boring|gloomy|"
                  r"cheerful|repetitive|busy|much|many|simple|dim|pale|muddy|heavy)\b)", re.I)


def _fix(token: str, targets: frozenset[str], titled: frozenset[str] = frozenset()) -> str:
    low = token.lower()
    if low in TEXT_SPEAK:
        return _keep_case(token, TEXT_SPEAK[low])
    if not low.isalpha() or low in targets or len(low) < 3 or low in english() \
            or low in COMPARATIVES or (token.isupper() and len(token) > 1):  # "XVIII", "MEOW"
        return token
    for stem in (low[:-1], low[:-2]) if low.endswith("s") else ():
        if stem in targets or stem in english():
            return token  # "sunflowers" is a plural, not a typo of "sunflower"
    if known(low):
        return token  # "whiter" is white, inflected; not a typo of "white"
    squeezed = re.sub(r"(\w)\1{2,}", r"\1\1", low)  # "sloooower", "pleeease"
    if squeezed != low:
        for form in (squeezed, re.sub(r"(\w)\1+", r"\1", squeezed)):
            if form in targets or form in english() or form in TEXT_SPEAK:
                return _keep_case(token, TEXT_SPEAK.get(form, form))
        low = squeezed
    # the session's own words first: "the paino one" is the piano piece, not "paint"
    best = (closest(low, titled) if titled else None) or closest(low, targets)
    return _keep_case(token, best) if best else token


@lru_cache(maxsize=64)
def _targets(extra: frozenset[str]) -> frozenset[str]:
    # Instrument names are not corrected here: the music tool says "did you mean Violin?"
    # for a name it does not know, so a misspelt instrument is said, never swapped.
    return frozenset((LEXICON - _instruments())
                     | {w for w in extra if len(w) >= 3 and w.isalpha()})


@lru_cache(maxsize=4096)
def closest(word: str, targets: frozenset[str]) -> str | None:
    """The one target ``word`` is a typo of, or None (none close, or a tie)."""
    if not re.search(r"[aeiouy]", word) and len(word) >= 3:
        skeleton = [t for t in targets if _consonants(t) == word and len(t) <= len(word) + 3]
        return skeleton[0] if len(skeleton) == 1 else None
    if len(word) == 3:  # "mak" -> "make" (a letter missing at the end), "jgi" -> "jig"
        ends = [t for t in targets if (len(t) == 4 and t.startswith(word) and t in SHORT_VERBS)
                or (len(t) == 3 and t[0] == word[0] and sorted(t) == sorted(word))]
        return ends[0] if len(ends) == 1 else None
    limit = 2 if len(word) >= 7 else 1
    found: dict[int, list[str]] = {}
    for t in targets:
        if abs(len(t) - len(word)) > limit:
            continue
        d = _osa(word, t, limit)
        # typos keep the first letter (or swap the first two): "goat" is not "boat"
        if d <= limit and (t[0] == word[0] or (d == 1 and t[:2] == word[1::-1])):
            found.setdefault(d, []).append(t)
    for d in sorted(found):
        close = found[d]
        if len(close) > 1:  # people drop letters more often than they add them
            close = [t for t in close if len(t) > len(word)] or close
        return close[0] if len(close) == 1 else None
    return None


def _consonants(word: str) -> str:
    return re.sub(r"[aeiouy]", "", word)


def _osa(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of two letters is one edit), stopping
    early past ``limit``."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def _keep_case(original: str, word: str) -> str:
    return word.capitalize() if original[:1].isupper() and original[1:].islower() else word
