"""Complaints in a person's own words: what is wrong, so the edit goes the other way.

"looks drained", "colours are screaming at me", "it's blurry", "feels like it's crawling",
"sounds like a funeral", "too squeaky": a statement about an artwork that names a fault is
a request to correct it. The faults are a readable lexicon, each with the correction and
the kind of artwork it can be said of; a statement is told from an instruction by its
shape ("make it darker" asks for darkness, "it's dark" complains of it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from museforge.assistant.planning import PlannedCall

I = re.IGNORECASE  # noqa: E741


@dataclass(frozen=True)
class Fault:
    words: str  # a regex alternation of the words that name the fault
    kind: str  # "image" or "music"
    fix: dict[str, object]


FAULTS = [
    # pictures
    Fault(r"dark|dim|murky|shadowy|underexposed|under-exposed|gloomy\s+light|pitch\s+black|"
          r"taken\s+at\s+(?:midnight|night)|like\s+(?:midnight|night\s+time)|hard\s+to\s+see|"
          r"can'?t\s+see\s+(?:anything|much|a\s+thing)", "image", {"brightness": 1.25}),
    Fault(r"bright|glaring|blinding|overexposed|over-exposed|blown\s+out|too\s+much\s+light|"
          r"burning\s+my\s+eyes|hurts?\s+my\s+eyes|too\s+much\s+white|too\s+white", "image",
          {"brightness": 0.8}),
    Fault(r"drained|dull|drab|lifeless\s+colou?rs?|washed[\s-]out|wishy[\s-]washy|faded|pale|"
          r"colou?rless|flat\s+colou?rs?|grey(?:ish)?\s+colou?rs?|muted|bland|beige", "image",
          {"saturation": 1.35}),
    Fault(r"garish|gaudy|loud\s+colou?rs?|lurid|oversaturated|over-saturated|screaming|"
          r"too\s+colou?rful|too\s+saturated|too\s+vivid|too\s+intense|neon-?ish|radioactive|"
          r"eye[\s-]?searing|clashing|clash(?:es)?(?:\s+with\s+each\s+other)?|"
          r"fight(?:s|ing)?(?:\s+(?:each\s+other|with\s+each\s+other|one\s+another))?|"
          r"compet(?:e|es|ing)\s+(?:with\s+)?(?:each\s+other|one\s+another)", "image",
          {"saturation": 0.7}),
    Fault(r"cold|chilly|icy|clinical|sterile|bluish|blueish|too\s+blue|frosty|frozen|wintry|shiver\w*|"
          r"unwelcoming", "image", {"warmth": 0.3}),
    Fault(r"warm|toasty|orange(?:y|ish)?|yellow(?:y|ish)?|too\s+golden|golden\s+hour|hot|"
          r"fiery|sepia-?ish|jaundiced|nicotine", "image", {"warmth": -0.3}),
    Fault(r"blurry|blurred|fuzzy|mushy|smudged|smudgy|out\s+of\s+focus|unfocused|soft\s+focus|"
          r"hazy|soupy|not\s+sharp|not\s+crisp|smeared", "image", {"sharpness": 1.7}),
    Fault(r"flat|no\s+punch|lacks?\s+punch|no\s+depth|lacks?\s+depth|same\s+grey|all\s+grey|"
          r"muddy|washed\s+together|no\s+contrast|not\s+enough\s+contrast|"
          r"not\s+enough\s+difference\s+between\s+(?:the\s+)?light\s+and\s+(?:dark|shadow)|"
          r"darks\s+aren'?t\s+dark\s+enough", "image", {"contrast": 1.3}),
    Fault(r"harsh|stark|contrasty|too\s+much\s+contrast|too\s+punchy|crunchy", "image",
          {"contrast": 0.8}),
    Fault(r"grainy|noisy|speckled|specks|dotty", "image", {"blur": 1.0}),
    Fault(r"over-?sharp(?:ened)?|too\s+sharp|sharp|jagged|jaggy|razor[\s-]edged|brittle",
          "image", {"sharpness": 0.7}),
    # music
    Fault(r"slow|sluggish|draggy|dragging|drags|crawling|crawls|plodding|plods|sleepy|lethargic|"
          r"snail'?s\s+pace|takes\s+forever", "music", {"tempo_scale": 1.15}),
    Fault(r"fast|rushing|rushed|rushes|frantic|hurried|hurries|manic|breakneck|racing|races|"
          r"too\s+quick", "music",
          {"tempo_scale": 0.87}),
    Fault(r"sad|depressing|gloomy|mournful|morose|funeral|dirge|miserable|bleak|tearjerk\w*|"
          r"melancholy|melancholic|teary|tearful|weepy|"
          r"down(?:beat|er)|mopey|sombre|somber", "music", {"mode": "major"}),
    Fault(r"happy|chirpy|cheerful|jolly|perky|saccharine|cheesy|sugary|bubbly|chipper|"
          r"too\s+sweet|upbeat", "music", {"mode": "minor"}),
    Fault(r"robotic|mechanical|a\s+machine|stiff|rigid|midi-?ish|like\s+a\s+midi\s+file|"
          r"computer-?y|soulless|quanti[sz]ed\s+to\s+death|too\s+perfect|metronomic", "music",
          {"humanize": 0.5}),
    Fault(r"sloppy|messy|all\s+over\s+the\s+place|off[\s-]beat|off\s+the\s+beat|uneven|"
          r"out\s+of\s+time|wobbly|ragged|not\s+tight|loose", "music",
          {"quantize": "1/16"}),
    Fault(r"high|shrill|squeaky|piercing|screechy|squeaking|chipmunk|too\s+high\s+for\s+(?:me|her|"
          r"him|them)", "music", {"transpose": -5}),
    Fault(r"low|boomy|growly|rumbly|too\s+deep|muddy\s+bass", "music", {"transpose": 5}),
]

_DEGREE = (r"(?:too|so|very|kinda|kind\s+of|sort\s+of|a\s+(?:bit|little|touch|tad)|bit|rather|"
           r"quite|"
           r"really|way|super|pretty|all|overly|a\s+little\s+bit|just|far\s+too|much\s+too|"
           r"extremely|incredibly|horribly|awfully|way\s+too)")
_STATEMENT = (r"(?:it|this|that|they|everything|the\s+[\w' -]{1,30}?|colou?rs?|the\s+colou?rs?|"
              r"edges|the\s+edges|light|the\s+light|tempo|pace|the\s+pace|rhythm|the\s+rhythm|"
              r"melody|tune|song|piece|picture|image|painting|pitch)?\s*"
              r"(?:is|are|was|looks?|seems?|feels?|sounds?|gets?|got|went|came\s+out|'s|’s)?")
# "it is dim", "the colours are dull", "the snow is grey": the artwork or a part of it; "attics
# are dim" says how the world is, not what is wrong with the picture.
_SUBJECT = (r"\b(?:it|this|that|they|everything|colou?rs?|edges|light|lighting|tempo|pace|"
            r"rhythm|melody|tune|song|piece|music|picture|image|painting|photo|pitch|sky|"
            r"background|snow|sea|water|shadows|darks|lights|highlights|beat|bass|sound|mix|"
            r"one)'?s?\s+")
_IMPERATIVE = re.compile(
    r"^\s*(?:(?:please|pls|can\s+you|could\s+you|now|ok|okay|and)\s+)*(?:make|turn|give|add|"
    r"change|paint|draw|compose|write|generate|create|put|set|go|keep|render|do)\b", I)
_NEGATED = re.compile(r"\b(?:not|isn'?t|aren'?t|wasn'?t|never|no)\s+(?:\w+\s+)?$", I)


_FILLER = re.compile(r"\b(?:lol|lmao|tbh|af|ngl|imo|hmm+|ugh+|meh|honestly|pls|please|now|"
                     r"still|though|tho|innit|isn'?t\s+it|right|eh|oof|yikes|ew+|kinda|sorta|"
                     r"a\s+bit|bit|way|too|so|very|really|all|the|colou?rs?|edges|it|is|are|"
                     r"and|looks?|feels?|sounds?|seems?|fix|that|at\s+all|af|lmao|seriously)\b|"
                     r"[^\w\s]", I)
# A complaint beside an instruction is the reason for it ("way too slow, revert to v3",
# "pale on the projector, could you bump up the contrast"): the instruction is the request.
_INSTRUCTION = re.compile(
    r"\b(?:undo|redo|revert|go\s+back|put\s+it\s+back|restore|version|v\d|can\s+(?:you|u)|"
    r"could\s+(?:you|u)|would\s+you|bump|boost|increase|raise|reduce|lower|add|remove|make|turn|"
    r"give|crop|rotate|flip|upscale|continue|transpose|drop|speed|slow\s+(?:it\s+)?down|quanti[sz]e|"
    r"humani[sz]e|tighten|sharpen|brighten|darken|saturate|desaturate|warm\s+(?:it\s+)?up|"
    r"cool\s+(?:it\s+)?down|\d+\s*/\s*\d+|bpm|"
    r"in\s+[A-G](?:\s+(?:major|minor|flat|sharp)|[#b]))\b", I)
_NEW_THING = re.compile(
    r"\b(?:a|an|some|another|new)\s+(?:[\w'-]+\s+){0,3}?(?:picture|pic|image|painting|drawing|"
    r"photo|illustration|poster|cover|wallpaper|song|tune|melody|piece|track|jig|reel|waltz|"
    r"lullaby|ballad|march|jingle|loop|beat|theme|soundtrack)s?\b", I)


# "it rushes", "the tune drags": a verb that is itself the fault
_DOES_FAULT = (r"\b(?:it|this|that|the\s+(?:tune|song|piece|music|melody|tempo|beat|rhythm))\s+"
               r"(?:(?:really|still|kind\s+of|kinda|a\s+bit|sort\s+of)\s+)?"
               r"(?=(?:rushes|races|hurries|drags|crawls|plods)\b)")

# Said alone, these name what is wanted as often as what is wrong ("dark", "slow").
_NEUTRAL = re.compile(r"dark|dim|bright|cold|warm|hot|sad|happy|slow|fast|high|low|flat|harsh|"
                      r"loose|soft|stiff|muted|pale|upbeat", I)


def complaint(text: str) -> list[tuple[Fault, re.Match[str]]]:
    """The faults a statement names, in order ("it's blurry", "looks drained",
    "too squeaky"); [] for an instruction ("make it darker"), a request for something
    new ("a really bright picture of a beach") or no fault."""
    if _IMPERATIVE.match(text) or _NEW_THING.search(text) or _INSTRUCTION.search(text):
        return []
    remaining = " ".join(_FILLER.sub(" ", text).split())
    found = []
    for fault in FAULTS:
        words = r"(?:" + fault.words + r")(?!\s+(?:res|resolution|quality|definition|key|"
        words += r"notes?|register|octave|pitch\s+instrument|enough))"
        pattern = (r"(?:\b" + _DEGREE + r"\s+|" + _SUBJECT + r"(?:is|are|was|'s|’s)\s+(?:" +
                   _DEGREE + r"\s+)?|\b(?:looks?|seems?|feels?|sounds?|its|it's|like|bit|so)\s+"
                   r"(?:" +
                   _DEGREE + r"\s+)?|\bmakes?\s+me\s+(?:feel\s+)?(?:" + _DEGREE + r"\s+)?|"
                   r"\b(?:got|gone|going)\s+(?:all\s+)?|" + _DOES_FAULT +
                   r")(?:(?:a|an|the)\s+)?" +
                   words + r"\b")
        m = re.search(pattern, text, I)
        if m is None and remaining and not _NEUTRAL.fullmatch(remaining):
            m = re.fullmatch(words, remaining, I)  # "fuzzy", "wishy washy colours, fix pls"
        if not m or _NEGATED.search(text[: m.start()]) and m.re.pattern == pattern:
            continue
        if re.search(r"\b(?:a|an)\s+(?:" + _NEUTRAL.pattern + r")$", m.group(0), I) and re.match(
                r"\s+(?!one\b|ones\b|piece\b|thing\b)[a-z]", text[m.end():], I):
            continue  # "the attic is a slow quiet place" describes; it is no complaint
        # "the darks aren't dark enough" names its fault whole; any other "not X" is none
        found.append((fault, m))
    return found


def corrections(text: str, kind: str | None) -> list[PlannedCall]:
    """The calls that correct what ``text`` complains of, for an artwork of ``kind``
    (None: the kind the words themselves say)."""
    faults = complaint(text)
    if not faults:
        return []
    kinds = {f.kind for f, _ in faults}
    if kind is None or kind not in kinds:
        if len(kinds) != 1:
            return []
        word_kind = kinds.pop()
        if kind is not None and re.search(r"\b(?:looks?|looking|colou?rs?)\b" if word_kind ==
                                          "music" else r"\b(?:sounds?|sounding|hear)\b", text,
                                          re.I):
            return []  # "it looks gloomy" is not the piece's fault, whatever "gloomy" means
        ref = "it" if kind is None else f"latest {word_kind}"
        kind = word_kind
    else:
        ref = "it"
    args: dict[str, object] = {}
    for fault, _ in faults:
        if fault.kind == kind:
            for k, v in fault.fix.items():
                args.setdefault(k, v)
    tool = "adjust_image" if kind == "image" else "edit_music"
    return [PlannedCall(tool, {"artwork": ref, **args})]


# -- judgements: a statement that names no fault and asks for nothing ----------------------

_OPENERS = re.compile(
    r"^(?:(?:oo+h+|oh+|ah+|aw+|hmm+|hm+|um+|uh+|well|so|ok(?:ay)?|right|honestly|actually|"
    r"tbh|ngl|wow+|whoa|yeah|yes|nah|no|nope|ugh+|meh|sorry|lol|haha+|but|and|though|i\s+think|"
    r"i\s+guess|i\s+feel\s+like|to\s+be\s+honest)(?:[\s,.!?…-]+|$))*", I)
_CLOSERS = re.compile(r"(?:[\s,.!?…-]+(?:though|tho|honestly|now|actually|really|i\s+think|"
                      r"i\s+guess|tbh|ngl|lol|haha+|somehow|to\s+be\s+honest|for\s+me|"
                      r"if\s+i'?m\s+honest))*[\s,.!?…-]*$", I)
# what the person sees or hears now: "it's a bit much", "the text's fine", "it looks like a
# funeral", "there's too much going on"; "it needs a moon", "the sky should be red" wish
_NOW = re.compile(
    r"^(?:(?:it|this|that|they|these|those|everything|(?:the|this|that|my|his|her|your)\s+"
    r"[\w'-]+(?:\s+[\w'-]+){0,2}|#\s*\d+|[a-z][\w-]*['’]s(?:\s+one)?)\s*(?:'s|’s|\s+is|\s+are|\s+was|\s+were|\s+looks?|"
    r"\s+feels?|\s+seems?|\s+sounds?|\s+got|\s+went|\s+came\s+out)|it'?s|its|that'?s|thats|"
    r"there'?s|there\s+is|there\s+are|theres)\b(?!\s+(?:missing|lacking|needs?|should|"
    r"could|would|wants?|supposed|meant|going\s+to|gonna)\b)(.*)$", I)
# a fragment that only weighs it: "a bit of a mess", "too busy", "a bit much", "not a cat"
_WEIGHS = set("""a an the of bit little tad touch too so very really quite rather way kinda
kind sort sorta pretty just all much more less over overly far somewhat slightly totally
completely honestly actually now still again bit lot lots mess messy busy cluttered chaotic
crowded noisy overdone overwrought overkill fine ok okay good great nice lovely perfect
better worse best worst close nearly almost there cute pretty beautiful gorgeous stunning
ugly boring bland weird odd strange off wrong right amazing awesome cool interesting fun
funny sweet adorable alright decent meh mid fire sick dope lit wild crazy insane intense
strong heavy full going on happening thing things stuff everywhere it this that""".split())
_NEGATION = re.compile(r"^(?:not|no)\s+(?:a|an|the|that|this|with|like|my)?\s*[\w'-]+"
                       r"(?:\s+[\w'-]+)?$", I)


def judgement(text: str, kind: str | None = None) -> bool:
    """A statement that weighs an artwork and names no fault to correct and nothing to
    do: "ooh", "hmm, a bit of a mess", "it's a bit much now", "the text's fine", "it looks
    like a funeral", "too busy", "no, not a cat". It is never an instruction: beside a
    request it is the person's reason or relief, alone it wants a question ("what should I
    change?"), never an edit made of its words. ``kind``: the artwork's kind, when known
    ("it looks like a funeral" names a fault of a piece, not of a picture)."""
    bare = _CLOSERS.sub("", _OPENERS.sub("", text.strip())).strip()
    bare = re.sub(r"^[^,:]{1,40}[,:]\s*(?=(?:it|this|that|they)\b)", "", bare, flags=I)
    if not bare:
        return True
    if corrections(text, kind) or _IMPERATIVE.match(bare) or _INSTRUCTION.search(bare) or \
            re.search(r"\?|\b(?:can|could|would|will)\s+(?:they|it|he|she|we|i)\b|\blet'?s\b",
                      bare, I):
        return False
    clauses = [c for c in re.split(r"\s*[,;]\s*|\s+(?:but|and|so)\s+", bare) if c.strip()]
    if len(clauses) > 1:
        return all(_weighs(c) for c in clauses)
    return _weighs(bare)


def _weighs(bare: str) -> bool:
    if re.search(r"\b(?:make|add|remove|put|give|change|turn|replace|swap|with(?:out)?|"
                 r"instead|should|needs?|wants?|more\s+\w+|less\s+\w+|\w+er\s+than|"
                 r"missing|lacks?)\b", bare, I):
        return False
    if _NEGATION.match(bare):
        return True
    now = _NOW.match(bare)
    if now:
        return True
    words = re.findall(r"[a-z']+", bare.lower())
    return bool(words) and len(words) <= 6 and all(w in _WEIGHS for w in words)
