"""Rules for a person's own melody: notes typed or pasted into the chat come in as they
are ("here's my tune: C D E C | E F G", an ABC tune), start a new piece ("a waltz that
starts with G A B D"), get chords under them ("harmonise it", "add a bass line to my
melody"), and go out as a score ("export #2 as MusicXML", "the sheet music please").

Notes are found in the raw message, before spelling correction, which would take "sol"
or "fa" for typos. A run of note tokens counts when it cannot be ordinary words: at least
three notes, and one of them unmistakable (a capital letter, an octave, a sharp, a
length, a bar line, a MIDI number) or at least five notes in all."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from museforge.assistant import language
from museforge.assistant.planning import ArtworkBrief, PlanContext, PlannedCall
from museforge.assistant.rules import Rule, music

I = re.IGNORECASE  # noqa: E741

_NOTE = re.compile(
    r"^(?:(?P<name>[A-Ga-g]|do|re|mi|fa|sol|so|la|ti|si)(?P<acc>##|bb|#|♯|b|♭)?|"
    r"(?P<midi>\d{1,3})|(?P<rest>r|rest))"
    r"(?P<octave>-?\d)?(?:[/:](?P<dur>\d{1,2}))?(?P<dot>\.)?$", I)
_BAR = re.compile(r"^\|+:?$|^:?\|+$")
# Words that are also note names or solfège: alone they never make a run of notes.
_WORDY = {"a", "b", "c", "d", "e", "f", "g", "do", "re", "mi", "fa", "so", "la", "ti", "si",
          "sol", "r", "rest"}
_ABC_FIELD = re.compile(r"^\s*[A-Za-z]:", re.M)


@dataclass(frozen=True)
class Given:
    """Notes found in a message: the notes exactly as given, and the words around them
    with the notes replaced by "these notes"."""

    notes: str
    words: str
    abc: bool = False


def given_notes(message: str) -> Given | None:
    """The notes a message carries, if it carries any."""
    abc = _abc_block(message)
    if abc is not None:
        start, end = abc
        return Given(message[start:end].strip("\n"),
                     _joined(message[:start], message[end:]), abc=True)
    run = _longest_run(message)
    if run is None:
        return None
    start, end = run
    return Given(message[start:end], _joined(message[:start], message[end:]))


def _joined(before: str, after: str) -> str:
    before = before.rstrip()
    if before.endswith(":"):
        before = before[:-1].rstrip()
    return " ".join(f"{before} these notes {after.strip()}".split())


def _abc_block(message: str) -> tuple[int, int] | None:
    """Where an ABC tune sits in a message: from its first field line to its last line of
    music (prose after it is the request)."""
    from museforge.models.music.scorefiles import is_abc

    if not is_abc(message):
        return None
    first = _ABC_FIELD.search(message)
    if first is None:
        return None
    start = first.start()
    lines = message[start:].splitlines(keepends=True)
    end = start
    offset = start
    for line in lines:
        offset += len(line)
        if _ABC_FIELD.match(line) or not _prose(line):
            end = offset
        elif line.strip():
            break
    return start, end


def _prose(line: str) -> bool:
    """A line of words, not of ABC music: two words with letters no ABC note uses
    (chord symbols in quotes and !decorations! aside)."""
    bare = re.sub(r'"[^"]*"|![^!]*!|\+[^+]*\+', " ", line)
    words = re.findall(r"[A-Za-z']{2,}", bare)
    return sum(bool(re.search(r"[h-wyH-WY]", w)) for w in words) >= 2


def _longest_run(message: str) -> tuple[int, int] | None:
    best: tuple[int, int] | None = None
    best_count = 0
    run: list[tuple[int, int, str]] = []  # (start, end, token) of the run so far

    def close() -> None:
        nonlocal best, best_count
        notes = [p for _, _, t in run for p in _pieces(t) if not _BAR.match(p)]
        if len(notes) >= 3 and (len(notes) >= 5 or any(_clear(t) for t in notes)
                                or any(_BAR.match(t) for _, _, t in run)) \
                and not _counting(notes) and len(notes) > best_count:
            best, best_count = (run[0][0], run[-1][1]), len(notes)
        run.clear()

    for m in re.finditer(r"[^\s,;]+", message):
        token = m.group(0)
        core = token.lstrip("([\"“'")
        start = m.end() - len(core)
        core = core.rstrip(")]\"”'")
        ended = bool(core) and (core[-1] in "!?" or core.endswith(".") and not re.search(
            r"[/:]\d{1,2}\.$", core))
        if ended:
            core = core.rstrip(".!?")
        if core and all(_is_note(p) or _BAR.match(p) for p in _pieces(core)):
            run.append((start, start + len(core), core))
            if ended:
                close()  # the sentence ends here
            continue
        close()
    close()
    return best


def _pieces(token: str) -> list[str]:
    """"C-D-E" is three notes."""
    return [p for p in re.split(r"(?<=\w)-(?=[A-Ga-g\d])", token) if p]


def _is_note(token: str) -> bool:
    """A note name, solfège, a rest, or a MIDI number a melody uses (21..127: "3/4" is a
    meter, "2" a count)."""
    m = _NOTE.match(token)
    return m is not None and (not m.group("midi") or 21 <= int(m.group("midi")) <= 127)


def _clear(token: str) -> bool:
    """A token nobody writes as a word: a capital note name, an octave, an accidental, a
    length, a MIDI number."""
    m = _NOTE.match(token)
    if m is None:
        return False
    if m.group("midi"):
        return 21 <= int(m.group("midi")) <= 108
    if token.lower() in _WORDY:
        return bool(m.group("name")) and m.group("name").isupper() and len(token) == 1 \
            and token not in ("A",)
    return True


def _counting(notes: list[str]) -> bool:
    """"1 2 3", "2 3 4": numbers that count, not MIDI notes."""
    if not all(n.isdigit() for n in notes):
        return False
    values = [int(n) for n in notes]
    return any(v < 21 or v > 108 for v in values)


# -- what to do with them ----------------------------------------------------------------------

_HARMONISE = re.compile(
    r"\bharmoni[sz]\w*|\b(?:chords?|chord\s+progression|accompan\w*|backing(?:\s+track)?|"
    r"harmon(?:y|ies)|bass\s*line)\b", I)
_NO_PARTS = re.compile(r"\b(?:no|without|remove|drop|lose|take\s+(?:out|away)|get\s+rid\s+of|"
                       r"less)\b[^.;,]*\b(?:chords?|bass|drums|accompaniment|harmony)\b", I)
_EXPORT_FORMAT = re.compile(
    r"\b(?P<abc>abc(?:\s+notation)?)\b|\b(?P<xml>music\s*xml|mxl)\b|"
    r"\b(?P<sheet>sheet\s+music|(?:the\s+|a\s+)?score(?!\s+(?:it|this|that|the|a|for))|"
    r"notation|notes?\s+(?:written|on\s+paper)|musescore|sibelius|finale|dorico)\b|"
    r"\b(?P<midi>midi(?:\s+file)?|\.mid)\b", I)
_EXPORT_VERB = re.compile(r"\b(?:export|save|download|give|send|write|turn|convert|put|get|"
                          r"output|need|want|share|as|in|into|to)\b", I)
_NOT_A_FORMAT = re.compile(r"\b(?:pdf|png|jpe?g|mp3|wav|flac|ogg|aac|m4a|mp4|video)\b|"
                           r"\b(?:sounds?|feels?|like)\b[^.;]*\bmidi\b", I)
_COMPOSE = re.compile(
    r"\b(?:compose|create|continue|extend|finish|develop|expand|complete|build\s+on|grow|"
    r"generate|write\s+(?:a|an|me|us|some|something|more|the\s+rest)|"
    r"(?:make|turn)\s+(?:these\s+notes\s+|this\s+|them\s+|it\s+)?into|"
    r"make\s+(?:me\s+|us\s+)?(?:a|an|some|something|more)\b|"
    r"start(?:s|ing)?\s+(?:with|on|from)|begin(?:s|ning)?\s+(?:with|on)|"
    r"open(?:s|ing)?\s+with|based\s+on|out\s+of|the\s+rest\s+of)\b", I)
_GIVEN_PHRASE = re.compile(
    r"\b(?:(?:that|which)\s+)?(?:start(?:s|ing)?|begin(?:s|ning)?|open(?:s|ing)?|kick(?:s|ing)?"
    r"\s+off)\s+(?:with|on|from)\s+these\s+notes\b|\b(?:based\s+on|from|using|with|out\s+of|"
    r"around|on|of|into)\s+these\s+notes\b|\bthese\s+notes\b|"
    r"\b(?:make|turn)\s+(?:it\s+|this\s+|them\s+|these\s+notes\s+)?into\b|"
    r"\b(?:out\s+of|from|with|using|on)\s+(?:it|this|that|them)\b|"
    r"\b(?:continue|extend|finish|develop|complete|expand|build\s+on)\s+(?:it|this|my|the)?\s*"
    r"(?:tune|melody|idea|motif|phrase|notes)?\b|\b(?:this|my)\s+(?:tune|melody|idea|motif|"
    r"phrase)\b|\b(?:here(?:'s|\s+is)|i\s+(?:have|wrote|got)|(?:can|could|would)\s+you|"
    r"please|pls)\b", I)
_TITLE = re.compile(r"\b(?:called|named|titled)\s+[\"“']?((?:(?!\bthese\s+notes\b)[^\"”'.,;])"
                    r"{1,60})", I)
# What a message that brings notes in may say besides: the words of bringing them in.
_BRINGING = re.compile(
    r"\b(?:here(?:'s|\s+is|\s+are)|this\s+is|these\s+are|i\s+(?:have|wrote|made|got|came\s+up"
    r"\s+with)|my|a|an|the|own|little|short|simple|tune|melody|song|notes?|idea|motif|phrase|"
    r"riff|hook|theme|line|play|plays|playing|hear|listen|to|it|this|that|them|these|back|"
    r"for\s+me|me|can|could|would|will|you|please|pls|thanks|import|bring|load|enter|take|"
    r"use|try|in|out|of|go|how|does|sound|sounds|like|what|do|just|so|ok|okay|hi|hey|hello|"
    r"bars?|beat|beats|input|typed|type|i|i'm|im|am|is|are|was|know|remember|from|with|on|"
    r"called|named|titled|and|then|now)\b", I)


def plan_given(given: Given, context: PlanContext,
               plan_words: Callable[[str, PlanContext], list[PlannedCall]]
               ) -> list[PlannedCall]:
    """The calls for a message that carries notes. ``plan_words`` plans the words beside
    them as an ordinary request about the melody just brought in ("… can you make it
    slower")."""
    words = given.words
    low = words.lower()
    number = max([0, *(b.number for b in context.recent)]) + 1
    if _EXPORT_FORMAT.search(words) and _EXPORT_VERB.search(words) \
            and not _NOT_A_FORMAT.search(words):
        return [_import(given), PlannedCall("export_music", {"artwork": f"#{number}",
                                                             "format": export_format(words)})]
    if _HARMONISE.search(words) and not _NO_PARTS.search(words):
        return [_import(given), harmonise(f"#{number}", low)]
    if _COMPOSE.search(words):
        asked = [p for p in re.split(r"(?<=[.!?;])\s+", words) if _COMPOSE.search(p)]
        rest = _GIVEN_PHRASE.sub(" ", _TITLE.sub(" ", " ".join(asked)))
        call = music._compose(rest, context)[0]
        if re.fullmatch(r"[\s,.!?:]*(?:(?:a|an|the|some)\s+)?(?:piece|song|tune|melody|piece\s+"
                        r"of\s+music|something|it|one|more)?[\s,.!?:]*", str(call.args["prompt"]),
                        I):
            call.args["prompt"] = "a piece that begins with your notes"
        call.args["start_with"] = given.notes
        wants = music._parts(low)
        if wants and "parts" not in call.args:
            call.args["parts"] = wants
        return [call]
    brought = _import(given)
    leftover = _BRINGING.sub(" ", _TITLE.sub(" ", music._INSTRUMENT_RE.sub(" ", words)))
    leftover = re.sub(r"\b\d+(?:\.\d+)?\s*(?:bpm|beats\s+per\s+minute)\b|\b[2346]/[48]\b|"
                      r"\b[A-G](?:#|b)?\s*(?:major|minor|m)\b|\bin\b", " ", leftover, flags=I)
    if not re.search(r"[a-z]{3,}", leftover, I):
        return [brought]
    brief = ArtworkBrief(number, "music", str(brought.args.get("title") or "your melody"))
    after = replace(context, focus=[brief], recent=[*context.recent, brief], history=[])
    more = [c for c in plan_words(re.sub(r"\bthese\s+notes\b", "it", words), after)
            if c.name not in ("compose_music", "generate_image", "import_melody")
            and not (c.name == "edit_music" and set(c.args) - {"artwork"} <= set(brought.args))]
    return [brought, *more]


def _import(given: Given) -> PlannedCall:
    args: dict[str, object] = {"notes": given.notes}
    words = given.words
    instrument = music._instrument_in(words)
    if instrument:
        args["instrument"] = instrument
    if not given.abc:  # an ABC tune says its own key, meter and tempo
        key = music.key_in(words)
        if key:
            args["key"] = key
        meter = music.meter_in(words)
        if meter:
            args["time_signature"] = meter
        tempo = music.tempo_in(words)
        if tempo is not None:
            args["tempo"] = max(20.0, min(300.0, tempo))  # import_melody's range
    title = _TITLE.search(words)
    if title:
        args["title"] = title.group(1).strip()
    return PlannedCall("import_melody", args)


def harmonise(ref: str, low: str) -> PlannedCall:
    """harmonise_music of ``ref`` with the parts and the style a request names."""
    args: dict[str, object] = {"artwork": ref}
    parts = harmony_parts(low)
    if parts:
        args["parts"] = parts
    style = next((s for s in music.STYLE_WORDS if re.search(rf"\b{s}\b", low)), None)
    if style:
        args["style"] = style
    return PlannedCall("harmonise_music", args)


def harmony_parts(low: str) -> list[str] | None:
    """The parts a request names: "chords and a bass line", "add drums"; None: the tool's
    default (chords and bass, drums when the style has them)."""
    named = [part for part, pattern in (
        ("chords", r"\bchords?\b|\bchord\s+progression\b|\bharmon(?:y|ies)\b"),
        ("bass", r"\bbass(?:\s*line)?\b"),
        ("drums", r"\bdrums?\b|\bpercussion\b|\ba\s+beat\b|\bdrum\s+(?:track|part|beat)\b"))
        if re.search(pattern, low)]
    return named or None


def export_format(text: str) -> str:
    """The format a request names; "sheet music" or "the score" is MusicXML."""
    named = {k for m in _EXPORT_FORMAT.finditer(text) for k, v in m.groupdict().items() if v}
    return "abc" if "abc" in named else "midi" if "midi" in named and "xml" not in named \
        else "musicxml"


# -- rules for requests about a piece already here ----------------------------------------------

_HARMONISE_REQUEST = re.compile(
    r"\bharmoni[sz]e\b|\bharmoni[sz](?:ing|ation)\b|"
    r"\b(?:add|put|give|write|lay|want|need|with|could\s+use)\b[^.;]{0,80}?\b(?:chords?|"
    r"chord\s+progression|accompaniment|backing(?:\s+track)?|harmony|harmonies|"
    r"bass\s*line|drums?|drum\s+track|percussion|a\s+beat)\b[^.;]{0,80}?"
    r"\b(?:under|to|behind|beneath|it|this|that|my|#\s*\d+)\b|"
    r"\b(?:add|put|give|with)\s+(?:it|this|that|#\s*\d+|the\s+\w+|my\s+\w+)\s+(?:some\s+|"
    r"a\s+|an\s+)?(?:chords?|chord\s+progression|accompaniment|backing|harmony|bass\s*line|"
    r"drums?|drum\s+track|percussion|beat)\b|"
    r"\b(?:chords?|accompaniment|harmony|bass\s*line|drums)\s+(?:under|to|for|behind|"
    r"beneath)\b|\baccompany\s+(?:it|this|that|my|the)\b", I)


def _harmonise(text: str, context: PlanContext) -> list[PlannedCall]:
    low = text.lower()
    if _NO_PARTS.search(low) or re.search(r"\b(?:compose|write\s+(?:a|an|me|some)|new\s+"
                                          r"(?:piece|song|tune)|colou?rs?|tones?|palette|"
                                          r"light(?:ing)?|shades?|hues?|picture|image|"
                                          r"painting|photo|drawing)\b", low) \
            or re.match(r"(?:a|an|some|another|new)\b", low):
        return []  # "harmonise the colours" is a picture's; "a tune with a bass line" new
    ref = language.natural_ref(text) or "it"
    if ref == "it" and music.kind_of(ref, context) != "music" \
            and not re.search(r"\bharmoni[sz]", low):
        return []  # "add drums behind the singer" is about the picture in focus
    return [harmonise(ref, low)]


_EXPORT_REQUEST = re.compile(
    r"\b(?:export|save|download|give|send|write|turn|convert|put|get|output|share|"
    r"as|in|into)\b[^.;]*?\b(?:abc(?:\s+notation)?|music\s*xml|mxl|sheet\s+music|"
    r"notation|musescore|sibelius|dorico|midi(?:\s+file)?|\.mid)\b|"
    r"\b(?:sheet\s+music|the\s+score|musicxml|abc\s+notation)\b\s*(?:for|of)\b|"
    r"^(?:the\s+)?(?:sheet\s+music|music\s*xml|abc(?:\s+notation)?|midi\s+file|notation)\b|"
    r"^the\s+score\s*(?:$|please|pls|of\s+it|for\s+(?:it|#))", I)


def _export(text: str, context: PlanContext) -> list[PlannedCall]:
    if _NOT_A_FORMAT.search(text) or not _EXPORT_FORMAT.search(text) or re.match(
            r"(?:a|an|some|another|new)\b|(?:compose|write|make)\s+(?:a|an|me|some)\b", text, I):
        return []  # "a score for my film" is a new piece
    ref = language.natural_ref(text) or "it"
    if ref == "it" and music.kind_of(ref, context) != "music" and not re.search(
            r"\b(?:export|abc|music\s*xml|mxl|sheet\s+music|musescore)\b", text, I):
        return []  # "save it as a midi" with a picture in focus is not a score
    return [PlannedCall("export_music", {"artwork": ref, "format": export_format(text)})]


_STARTS = re.compile(r"^(?:please\s+)?(?:harmoni[sz]e|export)\b", I)

RULES = [
    Rule("export_music", _EXPORT_REQUEST, _export, priority=11, starts=_STARTS),
    Rule("harmonise_music", _HARMONISE_REQUEST, _harmonise, priority=10, starts=_STARTS),
]
