"""A message that corrects itself: "a waltz on guitar, no wait, piano", "paint a cat,
actually make it a dog", "two pictures, make that three", "in D, I mean G".

People type as they think, and a correction in the same message takes back the word it
replaces. ``take_back`` rewrites the message as it was meant ("a waltz on piano") before
anything else reads it, so the slot fillers never see the word taken back. What the new
word replaces is found by its kind, the way a person reads it: a key replaces the key, a
number the number, an instrument the instrument, a colour the colour, a style the style,
a comparative the comparative ("brighter, no, darker"), a noun phrase the noun phrase
with the same article ("a fox in the snow, no, the rain"); a word of no kind replaces the
subject (the first noun phrase). A correction that is a whole request of its own ("undo,
no wait, redo") is the message.
"""

from __future__ import annotations

import re

from museforge.assistant import language

# What marks a correction. "actually", "sorry", "I mean" and a bare "no" only mark one after
# a break (a comma, a dash, a full stop), so "it's actually fine, make it brighter" and
# "no people in it" are not corrections.
_MARK = re.compile(
    r"(?:[\s,;.!]*\b(?:no+\s+wait|wait\s*,?\s+no|no\s+no|no\s*,?\s+actually|scratch\s+that|"
    r"or\s+rather|"
    r"make\s+that\s+(?=(?:an?\s+)?\S+\s*(?:instead)?\s*[.!]*$))"
    r"|(?:\s*[,;.!—–]|\s+-+)\s*(?:actually|sorry|oops|i\s+mean[t]?|i\s+meant|"
    r"no(?=\s*,|\s+(?:an?|the|some|\d)\b)|er+m*|hmm+|wait))\b[\s,:.!—–-]*",
    re.I)
_NOT_AFTER_MARK = re.compile(r"(?:can|could|would|will|please|it'?s|that'?s|this|"
                             r"i\s+(?:like|love|think))\b", re.I)
_VERB = re.compile(
    r"(?:paint|draw|sketch|compose|write|generate|create|render|undo|redo|revert|list|show|"
    r"upscale|crop|blend|mix|morph|continue|extend|play|transpose|brighten|darken|add|remove|"
    r"give\s+me|do\s+(?:a|an|some)|make\s+(?:a|an|me|some|\d|two|three|four|five))\b",
    re.I)
_NO = re.compile(r"^no\s*[,!.]?\s+", re.I)
_ON_IT = re.compile(r"^[a-z]+\s+(?:it|them|that|this)\b(?!\s+(?:is|was|looks|sounds))", re.I)
_INTO_VALUE = re.compile(r"^(?:(?:make|change|turn)\s+(?:it|that|this|them)\s+"
                         r"(?:in(?:to)?\s+|to\s+)?|it\s+should\s+be\s+|i\s+(?:want|wanted|meant)\s+|(?:i\s+)?meant\s+)",
                         re.I)
_TRAIL = re.compile(r"[\s,.!?]*(?:\b(?:instead|please|pls|plz|then|sorry|thanks)\b[\s,.!?]*)*$",
                    re.I)
_ARTICLE = r"(?:a|an|the|some|my|his|her|their|our)"
_PREP = (r"(?:in|on|at|with|under|over|by|near|beside|behind|from|into|onto|across|through|"
         r"for|of|playing|sitting|standing|flying|running|and|,)")
_NOUN_PHRASE = re.compile(r"\b(" + _ARTICLE + r")\s+((?:(?!" + _PREP + r"\b)[\w'-]+\s*){1,4}?)"
                          r"(?=\s*(?:\b" + _PREP + r"\b|[,.;!?]|$))", re.I)
_COLOURS = (r"red|orange|yellow|green|blue|purple|violet|pink|brown|black|white|grey|gray|"
            r"gold|golden|silver|teal|turquoise|cyan|magenta|crimson|navy|beige|cream|"
            r"lilac|lavender|maroon|amber|indigo")
_COLOUR = re.compile(r"\b(?:" + _COLOURS + r")\b", re.I)
_COMPARATIVE = re.compile(r"\b(?:(?:a\s+(?:bit|lot|little|touch)\s+|much\s+|way\s+)?"
                          r"(?:more|less)\s+[a-z]+|[a-z]{3,}er)\b", re.I)
_NOT_COMPARATIVE = {"water", "paper", "after", "other", "never", "over", "under", "summer",
                    "winter", "river", "flower", "tower", "silver", "number", "corner", "ever",
                    "power", "whisper", "dinner", "player", "singer", "tiger", "monster",
                    "spider", "sweater", "letter", "mother", "father", "brother", "sister",
                    "daughter", "butter", "computer", "poster", "banner", "border", "finger",
                    "hunter", "teacher", "farmer", "dancer", "timer", "leather", "feather",
                    "weather", "thunder", "lighter", "cover", "order", "soldier", "together",
                    "either", "rather", "whether", "container", "danger"}
_NUMBER = re.compile(r"\b(" + language.NUMBER_PATTERN + r")(\s*(?:bpm|bars?|x|%|times|"
                     r"seconds?|secs?|semitones?|steps?|variations?|pictures?|images?|"
                     r"versions?|tunes?|pieces?))?\b", re.I)
_METER = re.compile(r"\b\d{1,2}\s*/\s*\d{1,2}\b")
_KEY = re.compile(r"\b(?:(?:in|key\s+of)\s+)?[A-G](?:b|#|♯|♭|\s+sharp|\s+flat)?"
                  r"(?:\s*(?:major|minor|maj|min|dorian|mixolydian|lydian|phrygian|aeolian|"
                  r"ionian|locrian))?(?![\w#'])")
_KEY_VALUE = re.compile(r"^(?:in\s+)?[A-G](?:b|#|♯|♭|\s+sharp|\s+flat)?"
                        r"(?:\s*(?:major|minor|maj|min|m|dorian|mixolydian|lydian|phrygian|"
                        r"aeolian|ionian|locrian))?$")
_HEAD_KEY = re.compile(r"\b(?:in|key\s+of)\s+[A-G](?:b|#|♯|♭|\s+sharp|\s+flat)?"
                       r"(?:\s*(?:major|minor|maj|min|m|dorian|mixolydian|lydian|phrygian|"
                       r"aeolian|ionian|locrian))?(?![\w#'])|\b[A-G](?:b|#)?\s*(?:major|minor|"
                       r"maj|min|dorian|mixolydian|lydian|phrygian|aeolian|ionian|locrian)\b")


_MEDIUM = (r"(?:[\w'-]+\s+)?(?:pictures?|paintings?|drawings?|images?|photos?|pics?|"
           r"portraits?|sketch(?:es)?|posters?|tunes?|songs?|pieces?|melod(?:y|ies)|music)")


def take_back(message: str) -> str:
    """``message`` as meant, its last self-correction applied (unchanged without one)."""
    message = _the_other_way(_never_mind(message))
    for _ in range(3):  # "a cat, no, a dog, no wait, a horse"
        fixed = _once(message)
        if fixed == message:
            return message
        message = fixed
    return message


def _once(message: str) -> str:
    marks = [m for m in _MARK.finditer(message) if m.start() > 0 and _TRAIL.sub(
        "", message[m.end():]).strip(" ,.!?")]  # "darker, sorry": the "sorry" ends it
    if not marks:
        return message
    mark = marks[-1]
    head = message[: mark.start()].rstrip(" ,;.-—–")
    tail = re.sub(r"^just\s+", "", _NO.sub("", message[mark.end():].strip()), flags=re.I)
    tail = re.sub(r"^(?:he|she|they|my\s+\w+)\s+(?:says|said|wants|means|meant)\s+(?=(?:a|an|the|"
                  r"some|it)\b)", "", tail, flags=re.I)  # "no wait, he says a SPACE shark"
    if not head.strip() or not tail or _NOT_AFTER_MARK.match(tail) or len(head.split()) < 1:
        return message
    if re.fullmatch(r"(?:hi|hey|hello|ok(?:ay)?|so|um+|well|hmm+)", head.strip(), re.I):
        return message
    value = _TRAIL.sub("", _INTO_VALUE.sub("", tail)).strip(" ,.!?")
    if not value:
        return message
    own_request = (_VERB.match(tail) or _ON_IT.match(tail)) and not _INTO_VALUE.match(tail)
    if own_request or len(value.split()) > 8:
        # "undo, no wait, redo": the correction is the request; the artwork named ahead of
        # the first thought stays ("the first one, redo... no, show me its versions")
        named = _NAMED_AHEAD.match(head)
        if named and re.search(r"\b(?:it|its|them|that|this)\b", tail, re.I):
            return f"{named.group(1)}, {tail}"
        return tail
    replaced = _replace(head, value)
    if not replaced and "," in value:  # "softer... I mean lower, deeper notes"
        first, more = value.split(",", 1)
        replaced = _replace(head, first.strip())
        if replaced:
            replaced = f"{replaced}, {more.strip()}"
    return replaced or message  # nothing of its kind to replace: as said


# "in a pentatonic... no, never mind. in A minor": the thought given up goes, back to where
# its sentence began
_GIVEN_UP = re.compile(r"(?:\.{2,}|…|,|-+|—)\s*(?:no+\s*,?\s*|oh\s*,?\s*)?(?:never\s*mind|nvm|"
                       r"forget\s+(?:that|it)|scrap\s+that|scratch\s+that)[\s.,!;:-]+(?=\S)", re.I)


_NAMED_AHEAD = re.compile(r"^\s*(?:(?:and|now|ok(?:ay)?|so|then)[\s,]+)*((?:the\s+(?:[\w'-]+\s+){1,3}?"
                          r"one|#\d+(?:\s+v\d+)?))\s*[,:;]\s+\S", re.I)


def _never_mind(message: str) -> str:
    m = _GIVEN_UP.search(message)
    if not m or m.start() == 0:
        return message
    before = message[: m.start()]
    ends = [e.end() for e in re.finditer(r"(?<!\.)[.!?](?!\.)\s+", before)]
    return (before[: ends[-1]] if ends else "") + message[m.end():]


# "tidy the rhythm - no wait, the opposite, loosen it", "rotate it 90. the other way I mean,
# to the left": what follows "the opposite" is what was meant.
_OPPOSITE = re.compile(
    r"(?:\s*[,;.!—–]|\s+-+)\s*(?:(?:no+\s+wait|no|wait|sorry|actually|oops)\s*[,!.]?\s*)*"
    r"(?:the\s+|do\s+the\s+)?(?:opposite|other\s+way(?:\s+round)?|reverse)"
    r"(?:\s*,?\s*(?:i\s+mean[t]?|sorry|actually))?[\s,:;.—–-]+(\S.*)$", re.I)
_DIRECTION = re.compile(r"\s*\b(?:to\s+the\s+)?(?:left|right|anti-?clockwise|counter-?clockwise|"
                        r"clockwise|up|down)\b", re.I)
_CLAUSE = re.compile(r".*(?:[.!?;]|\s-+|—|–)\s+", re.S)


def _the_other_way(message: str) -> str:
    m = _OPPOSITE.search(message)
    if not m or m.start() == 0:
        return message
    head, rest = message[: m.start()], m.group(1).strip()
    clause = _CLAUSE.match(head)  # the request the opposite is of: the head's last clause
    kept = head[: clause.end()] if clause else ""
    if _VERB.match(rest) or _ON_IT.match(rest):
        return f"{kept}{rest}"  # "..., the opposite, loosen it": loosen it
    if _DIRECTION.fullmatch(rest.strip(" .!")):
        return f"{_DIRECTION.sub('', head).rstrip(' ,.')} {rest}"  # "90 ... to the left"
    return message


_INTERVAL = re.compile(r"\b(?:(?:an?|one|two|\d+)\s+)?(?:(?:minor|major|perfect|augmented|"
                       r"diminished)\s+)?(?:semitones?|half[\s-]steps?|tones?|whole\s+steps?|"
                       r"seconds?|thirds?|fourths?|fifths?|sixths?|sevenths?|octaves?)\b", re.I)


def _replace(head: str, value: str) -> str | None:
    if _INTERVAL.fullmatch(value) and _INTERVAL.search(head):  # "down a tone. actually, a
        found = list(_INTERVAL.finditer(head))                 # minor third"
        return _swap(head, found[-1], value)
    if _KEY_VALUE.fullmatch(value):
        key = value if value.lower().startswith("in ") else f"in {value}"
        found = list(_HEAD_KEY.finditer(head))
        if found:
            return _swap(head, found[-1], key if found[-1].group(0).lower().startswith(
                ("in", "key")) else key[3:])
        return f"{head} {key}"
    if _METER.fullmatch(value):
        found = list(_METER.finditer(head))
        return _swap(head, found[-1], value) if found else f"{head} in {value}"
    number = _NUMBER.fullmatch(value)
    if number and number.group(1).lower() not in ("a", "an"):
        found = [m for m in _NUMBER.finditer(head) if m.group(1).lower() not in (
            "a", "an") and not _METER.search(
            head[max(0, m.start() - 3): m.end() + 3])]
        if found:
            last = found[-1]
            unit = number.group(2) or last.group(2) or ""
            return head[: last.start()] + number.group(1) + unit + head[last.end():]
        return f"{head} {value}"
    from museforge.assistant.rules import images, music

    instrument = music._instrument_in(f"on the {value}")
    bare = re.sub(r"^(?:on\s+)?(?:the\s+|a\s+|an\s+)?", "", value, flags=re.I).lower()
    if instrument and bare.rstrip("s") in (instrument, instrument.rstrip("s")):
        had = music._instrument_in(head)
        if had:
            # "on sleigh bells... no, celesta": the words the instrument was named with
            # after its "on"/"for", not only the one the table knows ("bells")
            named = re.search(r"\b(?:on|for|with)\s+(?:(?:the|a|an)\s+)?((?:[\w'-]+\s+){0,2}?"
                              + re.escape(had) + r"s?)\b", head, re.I)
            if named:
                return head[: named.start(1)] + bare + head[named.end(1):]
            m = re.search(r"\b" + re.escape(had) + r"s?\b", head, re.I)
            if m:
                return _swap(head, m, bare)
        return f"{head} on {bare}"
    if _COLOUR.fullmatch(value):
        found = list(_COLOUR.finditer(head))
        return _swap(head, found[-1], value) if found else f"{head}, {value}"
    style, _ = images._style_of(value)
    if style and len(value.split()) <= 3:
        had, _ = images._style_of(head)
        if had:
            m = images._STYLE_RE.search(head)
            word = m and next((re.search(r"\b" + re.escape(k) + r"\b", m.group(0), re.I)
                               for k in sorted(images.STYLE_WORDS, key=len, reverse=True)
                               if re.search(r"\b" + re.escape(k) + r"\b", m.group(0), re.I)),
                              None)
            if m and word:  # "in watercolour" -> "in oil": the style word alone
                return head[: m.start() + word.start()] + value + head[m.start() + word.end():]
        return f"{head}, {value}"
    if _comparative(value):
        found = [m for m in _COMPARATIVE.finditer(head) if _comparative(m.group(0))]
        if found:
            return _swap(head, found[-1], value)
    article = re.match(_ARTICLE + r"\s+", value, re.I)
    phrases = [p for p in _NOUN_PHRASE.finditer(head)
               if not re.fullmatch(_MEDIUM, p.group(2).strip(), re.I)]  # not "a picture"
    if article:
        said = article.group(0).strip().lower()
        same = [p for p in phrases if p.group(1).lower() == said]
        target = (same or phrases)[:1]
        if target:
            p = target[0]
            if re.search(r"\b" + _PREP + r"\b", value, re.I):
                return head[: p.start()] + value  # "a dog on a boat": the whole scene
            end = p.start(2) + len(p.group(2).rstrip())
            return head[: p.start()] + value + head[end:]
        return f"{head} {value}"
    if len(value.split()) <= 2 and phrases:
        p = phrases[0]  # a bare word of no kind: the subject
        noun = list(re.finditer(r"[\w'-]+", p.group(2)))
        if noun:
            last = noun[-1]
            start = p.start(2) + last.start()
            return head[:start] + value + head[p.start(2) + last.end():]
    return None


def _comparative(text: str) -> bool:
    words = text.lower().split()
    if not words:
        return False
    if "more" in words or "less" in words:
        return True
    last = words[-1]
    return last.endswith("er") and len(last) > 4 and last not in _NOT_COMPARATIVE


def _swap(text: str, match: re.Match[str], value: str) -> str:
    return text[: match.start()] + value + text[match.end():]
