"""The safe loaders of a person's ABC notation (pasted or ``.abc``) and MusicXML
(``.musicxml``, ``.xml``, compressed ``.mxl``), read into a ``Reading`` like typed notes.

music21 reads them, but only after a cheap textual scan has checked the same kind of
limits the MIDI loader checks (size, notes, parts, bars, length in time, repeat counts),
so that a 60-byte tune claiming a billion bars of rest, a note a million bars long or a
repeat asked for a million times is refused before music21 builds anything. A ``.mxl`` is
unzipped here with a cap on its members and on the bytes each one may inflate to (read
with a limit, not trusted from the zip's directory). XML with an internal DTD subset or
any entity declaration is refused before a parser sees it (no entity expansion, no
external entities); a plain DOCTYPE naming the MusicXML DTD, which every notation program
writes, is cut out before parsing. music21 is imported inside the functions that use it.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
import zlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import PurePath
from typing import Any

from museforge.models.music.base import MusicError
from museforge.models.music.notation import DEFAULT_TEMPO, DEFAULT_VELOCITY, Reading
from museforge.models.music.piece import Note, Part, Piece
from museforge.models.music.theory import estimate_key, spell_key


@dataclass(frozen=True)
class ScoreLimits:
    max_bytes: int = 2_000_000  # the text (ABC, or the MusicXML once unzipped)
    max_mxl_bytes: int = 5_000_000  # a compressed .mxl as sent
    max_members: int = 64  # files inside a .mxl
    # music21 is the cost: here a MusicXML took ~0.6 ms of CPU a note and 1,000 bars
    # ~1.2 s; ABC 1.4-2.8 ms a note or rest (more for lengths like 5/6), and its bars cost
    # more the more there are (500 bars of rest 1.3 s, 1,000 4.7 s, 2,000 18 s). So each
    # file stays under about 2 s.
    max_notes: int = 3_000
    max_parts: int = 32
    max_bars: int = 1_000  # in each part; and all parts' bars together at most twice that
    max_abc_notes: int = 600  # and rests
    max_abc_bars: int = 300  # all voices' together
    max_seconds: float = 600.0
    max_repeats: int = 16  # "play this 16 times"


LIMITS = ScoreLimits()
TEMPO_RANGE = (8.0, 1000.0)  # as the MIDI loader: a file's tempo in bpm
# What music21 raises on input it cannot read, beside its own Music21Exception: the scan
# has refused what we know to trip it, so one of these is a gap in the scan, said in a line.
_LIBRARY_ERRORS = (ValueError, LookupError, TypeError, AttributeError,  # LookupError: an
                   ZeroDivisionError, OverflowError, RecursionError)  # encoding="utf-9"


def is_abc(text: str) -> bool:
    """ABC notation: a ``K:`` field line (the one field every tune has) after an ``X:`` or
    ``T:`` line, or at least a ``K:`` and an ``M:``/``L:`` line."""
    fields = {m.group(1) for m in re.finditer(r"^\s*([A-Za-z]):", text, re.M)}
    return "K" in fields and bool(fields & {"X", "T", "M", "L"})


def _too_big(what: str, size: int, limit: int) -> MusicError:
    return MusicError(f"the {what} is too big: {size / 1e6:.1f} MB (the limit is "
                      f"{limit / 1e6:g} MB)")


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"),
                       (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


# ------------------------------------------------------------------ ABC


_FIELD = re.compile(r"^\s*([A-Za-z]):(.*)$")
_ABC_NOTE = re.compile(r"[_=^]*([A-Ga-gzxyZX])[,']*(\d*)((?:/\d*)*)")
_BAR = re.compile(r"::|[:\[]*\|+[\]:\d]*|\[\d")
_BAR_OR_NOTE = re.compile(rf"(?P<bar>{_BAR.pattern})|{_ABC_NOTE.pattern}")
# music21 splits a bar that runs past its meter and gives the rest a meter of its own,
# counted in a short enough note: a cost that grows steeply past a hundred or so of them
# (397/8: 22 s of CPU). Our own meters stop at 64, so a longer overrun is refused.
_MAX_OVERRUN = 64
_MAX_ABC_CHANGES = 200  # field lines after the first K:


def load_abc(data: bytes | str, *, filename: str = "", limits: ScoreLimits = LIMITS
             ) -> Reading:
    """Read ABC notation (the first tune of a file that holds several) into a Reading, or
    refuse it with one line. Repeats are played as written (once)."""
    size = len(data.encode("utf-8") if isinstance(data, str) else data)
    if size > limits.max_bytes:
        raise _too_big("ABC tune", size, limits.max_bytes)
    text = _decode(data).replace("\r\n", "\n").replace("\r", "\n")
    tunes = [t for t in re.split(r"^(?=\s*X:)", text, flags=re.M) if re.search(
        r"^\s*K:", t, re.M)]
    if not tunes:
        raise MusicError("this is not ABC notation I can read: a tune needs its K: (key) "
                         "line before the notes")
    tune = tunes[0]
    said = [f"the ABC holds {len(tunes)} tunes; I read the first"] if len(tunes) > 1 else []
    _check_abc_text(tune, limits)
    header = _scan_abc(tune, limits)
    m21 = _music21()
    from music21 import converter

    try:
        score = converter.parse(tune, format="abc")
    except (m21.exceptions21.Music21Exception, *_LIBRARY_ERRORS) as exc:
        raise MusicError(f"the ABC tune is damaged: {_one_line(exc)}") from None
    title = header.get("T", "") or (PurePath(filename).stem if filename else "")
    voices = list(dict.fromkeys(re.findall(r'^\s*V:\s*(\S+)[^\n%]*?name\s*=\s*"([^"]{1,40})"',
                                           tune, re.M)))
    reading = _from_score(score, "abc", title, limits, [name for _, name in voices])
    reading.notes[:0] = said
    return reading


def _scan_abc(tune: str, limits: ScoreLimits) -> dict[str, str]:
    """The tune's header fields, once its body has been counted: notes, bars (bar lines
    and multi-bar rests), repeat counts and an upper bound of its length in beats."""
    header: dict[str, str] = {}
    unit = Fraction(1, 8)
    meter = Fraction(1)  # a bar, in whole notes
    tempo = DEFAULT_TEMPO
    notes = bars = pitched = 0
    beats = Fraction(0)
    in_body = False
    bar = _BarLength()
    changes = 0
    for number, raw in enumerate(tune.split("\n"), start=1):
        line = raw.split("%", 1)[0]
        field = _FIELD.match(line)
        if field and (not in_body or len(field.group(1)) == 1 and field.group(1) in
                      "KLMQVPTWwNR"):
            name, value = field.group(1), field.group(2).strip()
            header.setdefault(name, value)
            changes += in_body
            if changes > _MAX_ABC_CHANGES:  # each one costs music21 ~4 ms
                raise MusicError(f"the ABC tune changes its key, meter, tempo or voice more "
                                 f"than {_MAX_ABC_CHANGES} times")
            if name == "K":
                in_body = True
            elif name == "L":
                unit = _abc_fraction(value, "L", number, upto=64)
            elif name == "M":
                bar.meter, bar.meter_text = _abc_meter(value, number), value
                meter = bar.meter or meter
                if "L" not in header:
                    unit = Fraction(1, 16) if meter < Fraction(3, 4) else Fraction(1, 8)
            elif name == "Q":
                tempo = _abc_tempo(value, number)
            continue
        if not in_body or not line.strip():
            continue
        body = re.sub(r'"[^"]*"|![^!\n]*!|\+[^+\n]*\+|\[[A-Za-z]:[^\]]*\]', " ", line)
        if body.count('"') or re.search(r"![^!]*$", body):
            raise MusicError(f"the ABC tune is cut off or damaged: a quote or decoration "
                             f"on line {number} is never closed")
        if body.count("[") - len(re.findall(r"\[\d|\[\|", body)) != body.count("]") - len(
                re.findall(r"\|\]", body)):
            raise MusicError(f"the ABC tune is cut off or damaged: a chord bracket on line "
                             f"{number} is never closed")
        for volta in re.findall(r"(?:\[|\|)(\d+(?:[-,]\d+)*)", body):
            top = max(int(n) for n in re.split(r"[-,]", volta) if n)
            if top > limits.max_repeats:
                raise MusicError(f"the ABC tune asks for an ending played {top:,} times "
                                 f"(at most {limits.max_repeats})")
        colons = max((len(c) for c in re.findall(r":+(?=\|)|(?<=\|):+", body)), default=0)
        if colons > limits.max_repeats:
            raise MusicError(f"the ABC tune asks for a part repeated {colons:,} times "
                             f"(at most {limits.max_repeats})")
        bars += len(_BAR.findall(body))
        chords = re.sub(r"\[([^\]|]*)\]", lambda m: _first_note(m.group(1)), body)
        bar.check(chords, unit, number)
        for m in _ABC_NOTE.finditer(chords):
            letter = m.group(1)
            count = int(m.group(2)) if m.group(2) else 1
            if letter in "ZX":  # a multi-bar rest: its number counts bars
                bars += count
                beats += count * meter * 4
            else:
                if letter != "y":  # a spacer; a rest costs music21 as much as a note
                    notes += 1
                    pitched += letter not in "zx"
                beats += _abc_length(m.group(2), m.group(3), number) * unit * 4
            if notes > limits.max_abc_notes:
                raise MusicError(f"the ABC tune has too many notes and rests: more than "
                                 f"{limits.max_abc_notes:,}")
            if bars > limits.max_abc_bars:
                raise MusicError(f"the ABC tune is too long: more than "
                                 f"{limits.max_abc_bars:,} bars")
        seconds = float(beats) * 60.0 / tempo
        # Chords and tuplets are counted at their full length here, so the bound is loose:
        # twice the limit; the piece itself is measured exactly once read.
        if seconds > 2 * limits.max_seconds:
            raise MusicError(f"the ABC tune is too long: it lasts more than {_minutes(seconds)} "
                             f"(the limit is {_minutes(limits.max_seconds)})")
    if pitched == 0:
        raise MusicError("the ABC tune has no notes")
    return header


class _BarLength:
    """Each bar's length against the meter of an M: field, as written (tuplets counted at
    their full length, so it only errs long)."""

    def __init__(self) -> None:
        self.meter: Fraction | None = None  # no M: field (or M:none): music21 does not re-bar
        self.meter_text = ""
        self.length = Fraction(0)
        self.shortest: Fraction | None = None

    def check(self, body: str, unit: Fraction, line: int) -> None:
        for m in _BAR_OR_NOTE.finditer(body):
            if m.group("bar") is not None or m.group(2) in "ZX":  # a bar line, bars of rest
                self.length, self.shortest = Fraction(0), None
                continue
            if m.group(2) == "y":  # a spacer: no time
                continue
            note = _abc_length(m.group(3), m.group(4), line) * unit
            self.length += note
            self.shortest = note if self.shortest is None else min(self.shortest, note)
            if self.meter is None or self.length <= self.meter:
                continue
            overrun = self.length - self.meter  # in whole notes
            # music21 counts it in a note that divides it, no longer than the bar's shortest
            counted = max(overrun / self.shortest, Fraction(overrun.numerator))
            if counted > _MAX_OVERRUN:
                raise MusicError(f"the ABC tune has a bar on line {line} that runs "
                                 f"{float(overrun * 4):g} beats past its {self.meter_text[:12]} "
                                 "meter; add its missing bar lines")


_MAX_CHORD = 16  # notes struck together in one chord


def _check_abc_text(tune: str, limits: ScoreLimits) -> None:
    """What the line scan counts only roughly: voices (music21 builds a part for each
    before our part limit could see them), every note of a chord (the scan counts a chord
    as its first note; a chord of 30,000 notes cost music21 a minute) and characters that
    are no ABC at all (music21 reads an unknown letter as a C, with only a warning)."""
    voices = set(re.findall(r"^\s*V:\s*(\S+)", tune, re.M)) | set(
        re.findall(r"\[V:\s*([^\]\s]+)", tune))
    if len(voices) > limits.max_parts:
        raise MusicError(f"the ABC tune has too many voices: {len(voices):,} (the limit is "
                         f"{limits.max_parts})")
    in_body = False
    for number, raw in enumerate(tune.split("\n"), start=1):
        line = raw.split("%", 1)[0]
        if _FIELD.match(line):
            in_body = in_body or line.strip().startswith("K:")
            continue
        if not in_body:
            continue
        body = re.sub(r'"[^"]*"|![^!\n]*!|\+[^+\n]*\+|\[[A-Za-z]:[^\]]*\]', " ", line)
        odd = re.search(r"[^\x20-\x7e\t]", body)
        if odd:
            raise MusicError(f"the ABC tune has a character that is not ABC notation on line "
                             f"{number} ({odd.group(0)!r}); is it saved as text?")
        for chord in re.findall(r"\[([^\]|\d][^\]|]*)\]", body):
            count = len([m for m in _ABC_NOTE.finditer(chord) if m.group(1) not in "zxyZX"])
            if count > _MAX_CHORD:
                raise MusicError(f"the ABC tune has a chord of {count:,} notes on line "
                                 f"{number} (at most {_MAX_CHORD})")


def _first_note(chord: str) -> str:
    m = _ABC_NOTE.search(chord)
    return m.group(0) if m else ""


def _abc_length(digits: str, slashes: str, line: int) -> Fraction:
    if len(digits) > 4 or len(slashes) > 8:
        raise MusicError(f"the ABC tune has an impossible note length on line {line}")
    length = Fraction(int(digits) if digits else 1)
    for part in re.findall(r"/(\d*)", slashes):
        if part and not int(part):
            raise MusicError(f"the ABC tune has an impossible note length on line {line}")
        length /= int(part) if part else 2
    if length == 0:
        raise MusicError(f"the ABC tune has a note of length 0 on line {line}")
    return length


def _abc_fraction(value: str, name: str, line: int, upto: int) -> Fraction:
    m = re.fullmatch(r"\s*(\d{1,3})\s*/\s*(\d{1,3})\s*", value)
    if not m or int(m.group(1)) == 0 or not 1 <= int(m.group(2)) <= upto:
        raise MusicError(f"the ABC tune's {name}: field on line {line} ({value[:30]!r}) is "
                         "not a length I can read (like 1/8)")
    return Fraction(int(m.group(1)), int(m.group(2)))


def _abc_meter(value: str, line: int) -> Fraction | None:
    value = value.strip()
    if value in ("C", "C|"):
        return Fraction(1) if value == "C" else Fraction(1)
    if value.lower() in ("none", ""):
        return None
    m = re.fullmatch(r"\(?\s*(\d{1,3}(?:\s*\+\s*\d{1,3})*)\s*\)?\s*/\s*(\d{1,3})", value)
    if not m:
        raise MusicError(f"the ABC tune's M: field on line {line} ({value[:30]!r}) is not "
                         "a meter I can read (like 6/8)")
    top = sum(int(n) for n in m.group(1).split("+"))
    bottom = int(m.group(2))
    if not 1 <= top <= 64 or bottom not in (1, 2, 4, 8, 16, 32):
        raise MusicError(f"the ABC tune's meter {value} is not one I can play")
    return Fraction(top, bottom)


def _abc_tempo(value: str, line: int) -> float:
    m = re.search(r"(?:(\d{1,2})/(\d{1,3})\s*=\s*)?(\d{1,6})\s*(?:\"|$)", value.strip())
    if re.search(r"\d\s*/\s*\d+\s*=", value) and not (m and m.group(1) and int(m.group(1))
                                                      and int(m.group(2))):
        raise MusicError(f"the ABC tune's Q: field on line {line} ({value[:30]!r}) is not a "
                         "tempo I can read (like 1/4=120)")
    if not m:
        return DEFAULT_TEMPO
    beat = Fraction(int(m.group(1)), int(m.group(2))) if m.group(1) and int(m.group(2)) \
        else Fraction(1, 4)
    bpm = float(int(m.group(3)) * beat * 4)
    if not TEMPO_RANGE[0] <= bpm <= TEMPO_RANGE[1]:
        raise MusicError(f"the ABC tune's tempo on line {line} is {bpm:g} quarter notes a "
                         f"minute, outside the {TEMPO_RANGE[0]:g}..{TEMPO_RANGE[1]:g} I play")
    return bpm


# ------------------------------------------------------------------ MusicXML


def load_musicxml(data: bytes, *, filename: str = "", limits: ScoreLimits = LIMITS
                  ) -> Reading:
    """Read MusicXML (plain, or compressed ``.mxl``) into a Reading, or refuse it with one
    line. Repeats are played as written (once)."""
    if data[:4] == b"PK\x03\x04":
        if len(data) > limits.max_mxl_bytes:
            raise _too_big("MusicXML file", len(data), limits.max_mxl_bytes)
        data = _unzip_mxl(data, limits)
        if data[:4] == b"PK\x03\x04":
            raise MusicError("the .mxl file's score is itself a zip file; send the .mxl as "
                             "the notation program wrote it")
    if len(data) > limits.max_bytes:
        raise _too_big("MusicXML file", len(data), limits.max_bytes)
    text = _safe_xml(_undeclared(_decode(data)), "MusicXML file")
    root = re.search(r"<\s*([A-Za-z][\w.-]*)", text)
    if root is None or root.group(1) not in ("score-partwise", "score-timewise"):
        what = f"its root is <{root.group(1)}>" if root else "it holds no XML element"
        raise MusicError(f"this is not MusicXML ({what}); send a .musicxml or .mxl file")
    if root.group(1) == "score-timewise":
        raise MusicError("this MusicXML is written time-wise, which I do not read; export "
                         "it part-wise (the usual kind) and resend it")
    _scan_musicxml(text, limits)
    _check_musicxml_values(text)
    m21 = _music21()
    from music21.musicxml.xmlToM21 import MusicXMLImporter

    importer = MusicXMLImporter()
    importer.xmlText = text
    try:
        importer.parseXMLText()
    except (m21.exceptions21.Music21Exception, *_LIBRARY_ERRORS) as exc:
        raise MusicError(f"the MusicXML file is damaged: {_one_line(exc)}") from None
    except Exception as exc:  # xml.etree's ParseError: a cut-off or broken file
        if type(exc).__name__ != "ParseError":
            raise
        raise MusicError(f"the MusicXML file is cut off or damaged: {_one_line(exc)}") from None
    score = importer.stream
    title = ""
    if score.metadata is not None:
        title = score.metadata.title or score.metadata.movementName or ""
    return _from_score(score, "musicxml", title or (PurePath(filename).stem if filename
                                                    else ""), limits)


def _unzip_mxl(data: bytes, limits: ScoreLimits) -> bytes:
    """The score inside a .mxl: the rootfile its META-INF/container.xml names (else its
    one .xml/.musicxml file), inflated with a limit whatever the zip claims."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    # NotImplementedError: zipfile's own word for a compression method it cannot read
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error,
            NotImplementedError) as exc:
        raise MusicError(f"the .mxl file is cut off or damaged: {_one_line(exc)}") from None
    if len(members) > limits.max_members:
        raise MusicError(f"the .mxl file holds {len(members):,} files (at most "
                         f"{limits.max_members})")
    names = {m.filename: m for m in members}
    target = None
    if "META-INF/container.xml" in names:
        container = _safe_xml(_decode(_inflate(archive, names["META-INF/container.xml"],
                                               64_000)), ".mxl file's container")
        m = re.search(r"<rootfile\b[^>]*\bfull-path\s*=\s*[\"']([^\"']+)[\"']", container)
        if m:
            target = names.get(m.group(1))
            if target is None:
                raise MusicError(f"the .mxl file names a score ({m.group(1)[:60]}) it does "
                                 "not hold")
    if target is None:
        scores = [m for m in members if not m.filename.startswith("META-INF/")
                  and m.filename.lower().endswith((".xml", ".musicxml"))]
        if len(scores) != 1:
            raise MusicError("the .mxl file does not say which of its files is the score")
        target = scores[0]
    return _inflate(archive, target, limits.max_bytes)


def _inflate(archive: zipfile.ZipFile, member: zipfile.ZipInfo, cap: int) -> bytes:
    if member.file_size > cap:
        raise MusicError(f"the .mxl file's score unpacks to {member.file_size / 1e6:,.1f} MB "
                         f"(the limit is {cap / 1e6:g} MB)")
    try:
        with archive.open(member) as stream:
            out = stream.read(cap + 1)
    # NotImplementedError: a member compressed with a method zipfile cannot read
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError,
            NotImplementedError, zlib.error) as exc:
        raise MusicError(f"the .mxl file is cut off or damaged: {_one_line(exc)}") from None
    if len(out) > cap:  # the directory lied about the size
        raise MusicError(f"the .mxl file's score unpacks to more than {cap / 1e6:g} MB")
    return out


_DOCTYPE = re.compile(r"<!DOCTYPE\b[^>\[]*>", re.I)
_ENCODING = re.compile(r"""^(\s*<\?xml\b[^>]*?)\s+encoding\s*=\s*["'][^"']*["']""")


def _undeclared(text: str) -> str:
    """Decoded text without its XML declaration's encoding, which would have the parser
    decode it a second time (a Latin-1 "à" came out as "Ã" and a no-break space)."""
    return _ENCODING.sub(r"\1", text, count=1)


def _safe_xml(text: str, what: str) -> str:
    """``text`` without its DOCTYPE, refused when it declares anything (an internal DTD
    subset, an entity): entity expansion is how XML bombs and external reads work."""
    if re.search(r"<!ENTITY\b", text, re.I) or re.search(r"<!DOCTYPE\b[^>]*\[", text, re.I):
        raise MusicError(f"the {what} declares its own XML entities, which I do not read "
                         "(that is how XML bombs work); export it again from the notation "
                         "program")
    if re.search(r"<!DOCTYPE\b", text, re.I) and not _DOCTYPE.search(text):
        raise MusicError(f"the {what} is cut off or damaged: its DOCTYPE never ends")
    return _DOCTYPE.sub("", text, count=1)


_MAX_XML_ATTRIBUTES = 250


def _scan_musicxml(text: str, limits: ScoreLimits) -> None:
    parts = len(re.findall(r"<score-part[\s>]", text))
    if parts > limits.max_parts:
        raise MusicError(f"the MusicXML file has too many parts: {parts:,} (the limit is "
                         f"{limits.max_parts})")
    notes = len(re.findall(r"<note[\s>]", text))
    if notes > limits.max_notes:
        raise MusicError(f"the MusicXML file has too many notes: {notes:,} (the limit is "
                         f"{limits.max_notes:,})")
    measures = len(re.findall(r"<measure[\s>]", text))
    if measures > limits.max_bars * max(1, parts):
        raise MusicError(f"the MusicXML file is too long: {measures // max(1, parts):,} bars "
                         f"(the limit is {limits.max_bars:,})")
    if measures > 2 * limits.max_bars:
        raise MusicError(f"the MusicXML file is too long: {measures:,} bars in all its parts "
                         f"together (the limit is {2 * limits.max_bars:,})")
    attributes = len(re.findall(r"<attributes[\s>]", text))
    if attributes > _MAX_XML_ATTRIBUTES:  # clef, key and meter changes: ~4 ms each in music21
        raise MusicError(f"the MusicXML file changes its clef, key or meter {attributes:,} "
                         f"times (at most {_MAX_XML_ATTRIBUTES} are accepted)")
    times = [int(t) for t in re.findall(r"\btimes\s*=\s*[\"'](\d{1,12})[\"']", text)]
    if times and max(times) > limits.max_repeats:
        raise MusicError(f"the MusicXML file asks for a repeat played {max(times):,} times "
                         f"(at most {limits.max_repeats})")
    divisions = [int(d) for d in re.findall(r"<divisions>\s*(\d{1,12})\s*</divisions>", text)]
    if any(d == 0 for d in divisions):
        raise MusicError("the MusicXML file is damaged: it counts 0 divisions per beat")
    durations = [int(d) for d in re.findall(r"<duration>\s*(\d{1,15})\s*</duration>", text)]
    if durations and divisions:
        longest = max(durations) / min(divisions)  # beats, at the coarsest division
        total = sum(durations) / min(divisions) / max(1, parts)
        beats_limit = limits.max_seconds * TEMPO_RANGE[1] / 60
        if longest > beats_limit or total > 4 * beats_limit:
            raise MusicError(f"the MusicXML file is too long: a note or the piece lasts "
                             f"{max(longest, total):,.0f} beats, more than "
                             f"{_minutes(limits.max_seconds)} at any tempo")


_NUMBER = r"\s*([^<]{0,40}?)\s*"


def _check_musicxml_values(text: str) -> None:
    """The values music21 trusts and pays for: a meter of 1,000 beats took it 44 s and one
    of 999,999,999 all the memory there was; a key of 1,000 sharps is read as E major; an
    octave of 99 comes out moved into MIDI's range; a duration of 1e300 overflows."""
    for beats in re.findall(r"<beats>" + _NUMBER + r"</beats>", text):
        tops = re.findall(r"\d+", beats) if re.fullmatch(r"[\d+\s]+", beats) else []
        if not 1 <= sum(int(n[:6]) for n in tops) <= 64:
            raise MusicError(f"the MusicXML file's meter has {beats[:12]} beats a bar, "
                             "which I cannot play (at most 64)")
    for beat_type in re.findall(r"<beat-type>" + _NUMBER + r"</beat-type>", text):
        if beat_type not in ("1", "2", "4", "8", "16", "32"):
            raise MusicError(f"the MusicXML file's meter has a beat type of {beat_type[:12]}, "
                             "which I cannot play (1, 2, 4, 8, 16 or 32)")
    for fifths in re.findall(r"<fifths>" + _NUMBER + r"</fifths>", text):
        if not re.fullmatch(r"[+-]?\d{1,2}", fifths) or not -7 <= int(fifths) <= 7:
            raise MusicError(f"the MusicXML file has a key of {fifths[:12]} fifths (a key has "
                             "at most 7 sharps or flats)")
    for octave in re.findall(r"<octave>" + _NUMBER + r"</octave>", text):
        if not re.fullmatch(r"\d", octave):
            raise MusicError(f"the MusicXML file has a note in octave {octave[:12]}, outside "
                             "MIDI's C-1 to G9")
    for tag in ("divisions", "duration"):
        for value in re.findall(rf"<{tag}>" + _NUMBER + rf"</{tag}>", text):
            try:
                number = float(value)
            except ValueError:
                number = float("nan")
            if not (1 <= number < 1e7 if tag == "divisions" else 0 <= number < 1e12):
                raise MusicError(f"the MusicXML file is damaged: a {tag} of {value[:12]!r} "
                                 "is not a length")


# ------------------------------------------------------------------ music21 -> Piece


def _music21() -> Any:
    import music21

    return music21


def _from_score(score: Any, source: str, title: str, limits: ScoreLimits,
                names: list[str] | None = None) -> Reading:
    """A music21 score as a Piece: every pitched note of every part at its offset in beats,
    ties joined, chords as notes struck together; tempo, meter and key from the first
    marks (else 100 bpm, 4/4, the key that fits the notes), each said in the echo."""
    from music21 import harmony, meter, note, tempo

    parts_in = list(getattr(score, "parts", [])) or [score]
    if len(parts_in) > limits.max_parts:
        raise MusicError(f"the score has too many parts: {len(parts_in)} (the limit is "
                         f"{limits.max_parts})")
    flat = score.flatten()
    said: list[str] = []
    marks = list(flat.getElementsByClass(tempo.MetronomeMark))
    bpm = float(marks[0].getQuarterBPM()) if marks and marks[0].number else DEFAULT_TEMPO
    if not TEMPO_RANGE[0] <= bpm <= TEMPO_RANGE[1]:
        raise MusicError(f"the score's tempo is {bpm:g} quarter notes a minute, outside the "
                         f"{TEMPO_RANGE[0]:g}..{TEMPO_RANGE[1]:g} I play")
    signatures = list(flat.getElementsByClass(meter.TimeSignature))
    ts = (int(signatures[0].numerator), int(signatures[0].denominator)) if signatures \
        else (4, 4)
    if not 1 <= ts[0] <= 64 or ts[1] not in (1, 2, 4, 8, 16, 32):
        raise MusicError(f"the score's meter {ts[0]}/{ts[1]} is not one I can play")
    found: list[tuple[str, int, list[Note]]] = []
    total = 0
    for index, part in enumerate(parts_in):
        notes: list[Note] = []
        part.stripTies(inPlace=True)  # a copy cost more than the parse (the score is ours)
        for element in part.flatten().notes:
            if isinstance(element, harmony.ChordSymbol) or element.duration.isGrace:
                continue  # a chord name above the staff, a grace note: no time of their own
            start = float(element.offset)
            end = start + float(element.quarterLength)
            if end <= start:
                continue
            pitches = [element.pitch] if isinstance(element, note.Note) else \
                list(getattr(element, "pitches", []))
            try:
                velocity = int(element.volume.velocity or DEFAULT_VELOCITY) \
                    if element.volume.velocity is not None else DEFAULT_VELOCITY
            except ValueError:  # dynamics="nan"
                raise MusicError("the score has a note whose loudness is not a number; export "
                                 "it again from the notation program") from None
            for p in pitches:
                if not math.isfinite(p.ps):  # an <alter> of nan or inf
                    raise MusicError("the score has a note whose pitch is not a number; "
                                     "export it again from the notation program")
                if not 0 <= p.ps <= 127:  # p.midi would move it into range by octaves
                    raise MusicError(f"the score has a note ({p.nameWithOctave}) outside "
                                     "MIDI's C-1 to G9")
                notes.append(Note(int(p.midi), round(start, 6), round(end, 6), velocity))
        total += len(notes)
        if total > limits.max_notes:
            raise MusicError(f"the score has too many notes: more than {limits.max_notes:,}")
        if notes:
            notes.sort(key=lambda n: (n.start, n.pitch))
            name = (getattr(part, "partName", None) or "").strip().lower()
            if not name and names and index < len(names):
                name = names[index].strip().lower()
            program = _program(part)
            found.append((name or f"part {index + 1}", program, notes))
    if not found:
        raise MusicError("the score has no notes")
    parts = _name_parts(found)
    pitched = [(n.pitch, n.duration) for p in parts for n in p.notes]
    key = _score_key(flat)
    if key is None:
        key = str(estimate_key(pitched))
        said.append(f"{key} (from the notes)")
    else:
        said.append(key)
    piece = Piece(parts, round(bpm, 2), ts, key, title[:80])
    if piece.bars > limits.max_bars:
        raise MusicError(f"the score is too long: {piece.bars:,} bars (the limit is "
                         f"{limits.max_bars:,})")
    if piece.seconds > limits.max_seconds:
        raise MusicError(f"the score is too long: it lasts {_minutes(piece.seconds)} (the "
                         f"limit is {_minutes(limits.max_seconds)})")
    count = sum(len(p.notes) for p in parts)
    echo = (f"I read: {len(parts)} part{'s' if len(parts) != 1 else ''} "
            f"({', '.join(p.name for p in parts)}), {count} notes in {piece.bars} bars, "
            f"{ts[0]}/{ts[1]}{'' if signatures else ' (no meter given)'}, {', '.join(said)}, "
            f"{bpm:g} bpm{'' if marks else ' (no tempo given)'}")
    return Reading(piece, echo, source)


def _program(part: Any) -> int:
    try:
        instrument = part.getInstrument(returnDefault=False)
    except Exception:  # a part with no instrument mark
        return 0
    program = getattr(instrument, "midiProgram", None) if instrument is not None else None
    return int(program) if isinstance(program, int) and 0 <= program <= 127 else 0


def _name_parts(found: list[tuple[str, int, list[Note]]]) -> list[Part]:
    """One part: "melody". Several: the highest is the melody, the lowest (when low) the
    bass; the rest keep their own names (a chorale's alto and tenor)."""
    if len(found) == 1:
        _, program, notes = found[0]
        return [Part("melody", program, False, notes)]
    mean = [sum(n.pitch for n in notes) / len(notes) for _, _, notes in found]
    top = max(range(len(found)), key=lambda i: (mean[i], -i))
    low = min(range(len(found)), key=lambda i: (mean[i], i))
    names: list[str] = []
    for i, (name, _, _) in enumerate(found):
        base = "melody" if i == top else "bass" if i == low and mean[i] < 60 else name
        candidate, count = base, 1
        while candidate in names:
            count += 1
            candidate = f"{base} {count}"
        names.append(candidate)
    return [Part(n, program, False, notes)
            for n, (_, program, notes) in zip(names, found, strict=True)]


def _score_key(flat: Any) -> str | None:
    from music21 import key as m21key

    for element in flat.getElementsByClass((m21key.Key, m21key.KeySignature)):
        k = element if isinstance(element, m21key.Key) else element.asKey("major")
        mode = k.mode if k.mode in ("major", "minor", "dorian", "mixolydian", "lydian",
                                    "phrygian", "locrian") else "major"
        return str(spell_key(int(k.tonic.pitchClass), mode))
    return None


def _minutes(seconds: float) -> str:
    from museforge.models.music.midi import format_duration

    return format_duration(seconds)


def _one_line(exc: BaseException) -> str:
    # The library's words often quote the input: a hostile file must not fill the reply.
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 120 else text[:119] + "…"


def read_melody(text: str, *, key: str | None = None,
                time_signature: tuple[int, int] | None = None, tempo: float | None = None,
                program: int = 0, title: str = "") -> Reading:
    """Whatever a person typed: an ABC tune (it says its own key and meter; giving
    another is refused rather than ignored) or typed notes (``notation.parse_notes``)."""
    from museforge.models.music.notation import parse_notes

    if not is_abc(text):
        return parse_notes(text, key=key, time_signature=time_signature, tempo=tempo,
                           program=program, title=title)
    if key is not None or time_signature is not None:
        raise MusicError("an ABC tune gives its own key and meter (its K: and M: lines); "
                         "change them there")
    reading = load_abc(text)
    piece = reading.piece
    if tempo is not None:
        piece.tempo = float(tempo)
    if program:
        for part in piece.parts:
            if part.name == "melody":
                part.program = program
    if title:
        piece.title = title
    return reading
