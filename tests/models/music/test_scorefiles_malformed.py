"""A malformed corpus for the ABC and MusicXML loaders, every file built here: cut off,
claiming absurd lengths, tempos, meters, keys and octaves, XML bombs and external
entities, deep nesting, .mxl zip bombs. Each is refused with one sentence of the loaders'
own error type, and without paying for what it claims: the CPU bound is wide (a refusal
here costs milliseconds; several of these files cost music21 from 40 s to all the memory
there was before the pre-checks saw them), the memory bound is what tracemalloc saw."""

from __future__ import annotations

import io
import re
import struct
import time
import tracemalloc
import warnings
import zipfile
from collections.abc import Callable

import pytest

from museforge.models.music.base import MusicError
from museforge.models.music.scorefiles import LIMITS, load_abc, load_musicxml

CPU_BOUND = 2.0  # seconds
HEAD = "X:1\nT:Test\nM:4/4\nL:1/4\nK:C\n"
QUARTER = "<note><pitch><step>C</step><octave>4</octave></pitch><duration>1</duration></note>"
ATTRIBUTES = ("<attributes><divisions>1</divisions><key><fifths>0</fifths></key><time>"
              "<beats>4</beats><beat-type>4</beat-type></time></attributes>")


def score(measures: int = 2, notes: str = QUARTER * 4, *, parts: int = 1,
          attributes: str = ATTRIBUTES, head: str = '<?xml version="1.0"?>\n') -> bytes:
    bars = "".join(f'<measure number="{i}">{attributes if i == 1 else ""}{notes}</measure>'
                   for i in range(1, measures + 1))
    ids = [f"P{i}" for i in range(1, parts + 1)]
    listed = "".join(f'<score-part id="{p}"><part-name>{p}</part-name></score-part>'
                     for p in ids)
    body = "".join(f'<part id="{p}">{bars}</part>' for p in ids)
    return (f'{head}<score-partwise version="4.0"><part-list>{listed}</part-list>{body}'
            "</score-partwise>").encode()


GOOD = score()


def zipped(*members: tuple[str, bytes | str], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


CONTAINER = ('<container><rootfiles><rootfile full-path="score.xml"/></rootfiles>'
             "</container>")


def refuse(load: Callable[..., object], data: bytes | str) -> str:
    """The refusal of ``data``: one sentence of the loaders' own type, quickly."""
    started = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # music21's own chatter is not the answer
        with pytest.raises(MusicError) as caught:
            load(data)
    spent = time.process_time() - started
    message = str(caught.value)
    assert type(caught.value) is MusicError
    assert "\n" not in message and 0 < len(message) < 300, message
    assert spent < CPU_BOUND, (message, spent)
    return message


ABC_CASES = [
    ("cut off in a chord", HEAD + "C D [CEG", "cut off or damaged"),
    ("cut off in a quote", HEAD + 'C D "Am', "cut off or damaged"),
    ("cut off in the header", "X:1\nT:Test\nM:4/", "K: \\(key\\) line"),
    ("empty", "", "K: \\(key\\) line"),
    ("empty bytes", b"", "K: \\(key\\) line"),
    ("binary", b"\x00\x01\x02\xff" * 500, "K: \\(key\\) line"),
    ("a header and no notes", "X:1\nT:Test\nM:4/4\nK:C\n", "no notes"),
    ("only rests", HEAD + "z4|z4|x4|\n", "no notes"),
    ("a part repeated 1,000 times", HEAD + "|" + ":" * 1000 + "CDEF:|", "repeated 1,000"),
    ("an ending played 1,000,000 times", HEAD + "|:CDEF|[1000000 GABc:|", "1,000,000 times"),
    # The first limit reached says it: the notes, or the bars they fill.
    ("100,000 notes", HEAD + "\n".join(["C D E F|" * 25] * 1000), "too many notes|too long"),
    ("100,000 notes on one line", HEAD + "CDEF|" * 25_000, "too many notes|too long"),
    ("100,000 notes in one bar", HEAD + "C" * 100_000, "too many notes|past its 4/4 meter"),
    ("a chord of 30,000 notes", HEAD + "[" + "C" * 30_000 + "]", "chord of 30,000"),
    ("a grace of 50,000 notes", HEAD + "{" + "C" * 50_000 + "}D", "too many notes|past its"),
    ("a note 99,999,999 units long", HEAD + "C99999999", "impossible note length"),
    ("a note 9,999 units long", HEAD + "C9999|", "too long|past its"),
    ("a note halved 17 times", HEAD + "C" + "/" * 17, "impossible note length"),
    ("a billion bars of rest", HEAD + "CDEF|Z1000000000|", "too long"),
    ("10,000 bars", HEAD + "C|" * 10_000, "too long"),
    ("5,000 continued lines", HEAD + "C\\\n" * 5000, "too long|past its"),
    ("a tempo of 0", "X:1\nM:4/4\nQ:1/4=0\nK:C\nCDEF|", "tempo"),
    ("a tempo of 999,999", "X:1\nM:4/4\nQ:1/4=999999\nK:C\nCDEF|", "tempo"),
    ("a meter of 0/4", "X:1\nM:0/4\nK:C\nCDEF|", "meter"),
    ("a meter of 99999/1", "X:1\nM:99999/1\nK:C\nCDEF|", "meter"),
    ("a meter of 4/3", "X:1\nM:4/3\nK:C\nCDEF|", "meter"),
    ("a unit of 1/0", "X:1\nL:1/0\nK:C\nCDEF|", "L: field"),
    ("a note 200 octaves up", HEAD + "c" + "'" * 200, "outside MIDI"),
    ("a note 200 octaves down", HEAD + "C" + "," * 200, "outside MIDI"),
    ("1,000 voices", "X:1\nM:4/4\nL:1/4\nK:C\n" + "".join(f"V:{i}\nC\n" for i in range(1000)),
     "too many voices"),
    ("bytes that are no text", (HEAD + "C D E F|").encode() + b"\xff\xfe\x80 G A|",
     "not ABC notation"),
    ("1,000 nested brackets", HEAD + "[" * 1000 + "C" + "]" * 1000, "damaged"),
    ("an over-the-size tune", HEAD + "C" * (LIMITS.max_bytes + 1), "too big"),
]


@pytest.mark.parametrize(("data", "said"), [pytest.param(d, s, id=i) for i, d, s in ABC_CASES])
def test_a_malformed_abc_tune_is_refused_in_one_sentence(data, said):
    assert re.search(said, refuse(load_abc, data))


LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (i, b"".join(b"&lol%d;" % (i - 1) if i > 1
                                                            else b"&lol;" for _ in range(10)))
                     for i in range(1, 10))
          + b"]><score-partwise>&lol9;</score-partwise>")
with_attribute = GOOD.replace  # a variant of the good score, one value changed


XML_CASES = [
    ("cut off half way", GOOD[: len(GOOD) // 2], "cut off or damaged"),
    ("cut off in a tag", GOOD[:-10], "cut off or damaged"),
    ("a billion laughs", LAUGHS, "declares its own XML entities"),
    ("a parameter entity", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY % a SYSTEM '
                           b'"http://example.com/x">%a;]><score-partwise/>', "XML entities"),
    ("an external entity used undeclared", GOOD.replace(b"<part-name>P1", b"<part-name>&xxe;"),
     "cut off or damaged"),
    ("a DOCTYPE never closed", b'<?xml version="1.0"?><!DOCTYPE score-partwise PUBLIC "x',
     "DOCTYPE never ends"),
    ("1,000-deep nesting and no notes",
     score(1, "<a>" * 1000 + "</a>" * 1000), "no notes"),
    ("10,000 measures", score(10_000, ""), "too long"),
    ("10,000 measures of notes", score(10_000), "too"),
    ("40 parts", score(1, parts=40), "too many parts"),
    ("empty", b"", "not MusicXML"),
    ("HTML", b"<html><body>a tune</body></html>", "not MusicXML (its root is <html>)"),
    ("time-wise", b'<?xml version="1.0"?><score-timewise/>', "time-wise"),
    ("no notes", score(2, ""), "no notes"),
    ("only rests", score(2, "<note><rest/><duration>4</duration></note>"), "no notes"),
    ("a note of 10^15 divisions",
     score(1, "<note><pitch><step>C</step><octave>4</octave></pitch>"
              "<duration>999999999999999</duration></note>"), "too long"),
    ("a duration of 1e300", with_attribute(b"<duration>1</duration>",
                                           b"<duration>1e300</duration>"), "duration"),
    ("a backup of 10^12", GOOD.replace(b"</measure>", b"<backup><duration>999999999999"
                                                      b"</duration></backup></measure>", 1),
     "too long"),
    ("0 divisions", with_attribute(b"<divisions>1</divisions>", b"<divisions>0</divisions>"),
     "divisions"),
    ("-1 divisions", with_attribute(b"<divisions>1</divisions>", b"<divisions>-1</divisions>"),
     "divisions"),
    ("10^12 divisions", with_attribute(b"<divisions>1</divisions>",
                                       b"<divisions>999999999999</divisions>"), "divisions"),
    ("a meter of 1,000 beats", with_attribute(b"<beats>4</beats>", b"<beats>1000</beats>"),
     "1000 beats a bar"),
    ("a meter of 999,999,999 beats", with_attribute(b"<beats>4</beats>",
                                                    b"<beats>999999999</beats>"), "beats a bar"),
    ("a meter of 0 beats", with_attribute(b"<beats>4</beats>", b"<beats>0</beats>"),
     "0 beats a bar"),
    ("a beat type of 0", with_attribute(b"<beat-type>4</beat-type>",
                                        b"<beat-type>0</beat-type>"), "beat type of 0"),
    ("a key of 1,000 sharps", with_attribute(b"<fifths>0</fifths>", b"<fifths>1000</fifths>"),
     "1000 fifths"),
    ("octave 99", GOOD.replace(b"<octave>4</octave>", b"<octave>99</octave>", 1), "octave 99"),
    ("octave -5", GOOD.replace(b"<octave>4</octave>", b"<octave>-5</octave>", 1), "octave -5"),
    ("a tempo of 10^8", GOOD.replace(b"</attributes>", b"</attributes><direction>"
                                     b"<direction-type><metronome><beat-unit>quarter"
                                     b"</beat-unit><per-minute>99999999</per-minute>"
                                     b"</metronome></direction-type></direction>"), "tempo"),
    ("a repeat played 1,000,000 times",
     GOOD.replace(b"</measure>", b'<barline location="right"><repeat direction="backward" '
                                 b'times="1000000"/></barline></measure>', 1), "1,000,000 times"),
    ("an alteration of a billion", GOOD.replace(b"<step>C</step>",
                                                b"<step>C</step><alter>1e9</alter>", 1),
     "damaged"),
    ("a step H", GOOD.replace(b"<step>C</step>", b"<step>H</step>", 1), "damaged"),
    ("10,001 notes in a chord",
     score(1, QUARTER + "<note><chord/><pitch><step>E</step><octave>4</octave></pitch>"
              "<duration>1</duration></note>" * 10_000), "too many notes"),
    ("over the size", score(1, "<!--" + "x" * LIMITS.max_bytes + "-->"), "too big"),
]


@pytest.mark.parametrize(("data", "said"), [pytest.param(d, s, id=i) for i, d, s in XML_CASES])
def test_a_malformed_musicxml_file_is_refused_in_one_sentence(data, said):
    assert said in refuse(load_musicxml, data)


def lying_zip(real: bytes, claimed: int) -> bytes:
    """A .mxl whose directory says its score is ``claimed`` bytes; it inflates to ``real``."""
    data = bytearray(zipped(("score.xml", real)))
    local, central = data.find(b"PK\x03\x04"), data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, local + 22, claimed)
    struct.pack_into("<I", data, central + 24, claimed)
    return bytes(data)


MXL_CASES = [
    ("100 MB of zeros", zipped(("score.xml", b"<" + b" " * 100_000_000)), "unpacks to 100.0 MB"),
    ("a directory that lies", lying_zip(b" " * 50_000_000, 1000), "cut off or damaged"),
    ("10,000 members", zipped(*[(f"f{i}.txt", b"") for i in range(10_000)],
                              ("score.xml", GOOD)), "holds 10,001 files"),
    ("a zip in a zip", zipped(("META-INF/container.xml", CONTAINER),
                              ("score.xml", zipped(("score.xml", GOOD)))), "itself a zip"),
    ("a container of 10 MB", zipped(("META-INF/container.xml", "<a>" + " " * 10_000_000 + "</a>"),
                                    ("score.xml", GOOD)), "unpacks to"),
    ("entities in the container",
     zipped(("META-INF/container.xml", '<!DOCTYPE x [<!ENTITY a "b">]><container>&a;'
                                       "</container>"), ("score.xml", GOOD)), "XML entities"),
    ("a container naming what is not there",
     zipped(("META-INF/container.xml", CONTAINER.replace("score.xml", "../../etc/passwd")),
            ("score.musicxml", GOOD)), "does not hold"),
    ("a container naming itself",
     zipped(("META-INF/container.xml", CONTAINER.replace("score.xml",
                                                         "META-INF/container.xml"))),
     "not MusicXML"),
    ("two scores and no container", zipped(("a.xml", GOOD), ("b.xml", GOOD)), "does not say"),
    ("no score", zipped(("readme.txt", b"hello")), "does not say"),
    ("no members", zipped(), "not MusicXML"),
    ("cut off", zipped(("META-INF/container.xml", CONTAINER), ("score.xml", GOOD))[:200],
     "cut off or damaged"),
    ("over the size", b"PK\x03\x04" + b"\0" * LIMITS.max_mxl_bytes, "too big"),
]


@pytest.mark.parametrize(("data", "said"), [pytest.param(d, s, id=i) for i, d, s in MXL_CASES])
def test_a_malformed_mxl_is_refused_in_one_sentence(data, said):
    assert said in refuse(load_musicxml, data)


def test_a_zip_bomb_is_never_inflated_past_the_cap():
    bombs = [zipped(("score.xml", b" " * 200_000_000)), lying_zip(b" " * 50_000_000, 1000),
             lying_zip(b" " * 50_000_000, LIMITS.max_bytes)]
    tracemalloc.start()
    try:
        for bomb in bombs:
            tracemalloc.reset_peak()
            refuse(load_musicxml, bomb)
            _, peak = tracemalloc.get_traced_memory()
            assert peak < 2 * LIMITS.max_bytes + len(bomb) + 1_000_000, peak
    finally:
        tracemalloc.stop()


def test_a_member_named_outside_the_zip_is_read_from_the_zip_alone(tmp_path, monkeypatch):
    # The name climbs out of the archive; what is read is the zip's member, and nothing
    # is written anywhere (the loader never extracts).
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    packed = zipped(("META-INF/container.xml", CONTAINER.replace("score.xml",
                                                                 "../../score.xml")),
                    ("../../score.xml", GOOD))
    reading = load_musicxml(packed)
    assert [n.pitch for n in reading.piece.part("melody").notes] == [60] * 8
    assert list(work.iterdir()) == [] and not (tmp_path / "score.xml").exists()


def test_an_external_dtd_is_cut_out_never_fetched():
    # Every notation program writes this DOCTYPE; its SYSTEM id (here a local file) is
    # never read: the DOCTYPE is removed before the parser sees the text.
    public = GOOD.replace(b'<?xml version="1.0"?>\n', b'<?xml version="1.0"?>\n<!DOCTYPE '
                          b'score-partwise SYSTEM "file:///etc/passwd">')
    reading = load_musicxml(public)
    assert [n.pitch for n in reading.piece.part("melody").notes] == [60] * 8


def test_a_latin_1_score_that_says_so_keeps_its_accents():
    data = score(1, head='<?xml version="1.0" encoding="ISO-8859-1"?>\n').replace(
        b"<part-list>", "<movement-title>Chanson à boire</movement-title><part-list>"
        .encode("latin-1"))
    assert load_musicxml(data).piece.title == "Chanson à boire"


# -- typed notes (notation.parse_notes): the same one-sentence refusals -------------------

TYPED_CASES = [
    ("a letter that is no note", "C E H#", '"H#" is not a note'),
    ("a MIDI number past 127", "60 64 999", "999 is out of range"),
    ("an octave of 9", "C9 E9", "octave 9 is out of range"),
    ("a length of /3", "C/3 E", "/3 is not a note length"),
    ("only rests", "r r r", "only rests"),
    ("nothing", "  |  | ", "no notes"),
    ("600 notes", " ".join(["C"] * 600), "more than 512 notes"),
    ("bars of three lengths", "C D E | F G | A B c d", "different lengths"),
    ("a bar of 9 beats", "C/1 D/1 E | F/1 G/1 A | B", "no meter I know"),
    ("above G9", "G9/4 G#9", "octave 9 is out of range"),
]


@pytest.mark.parametrize(("text", "said"), [pytest.param(t, s, id=i)
                                            for i, t, s in TYPED_CASES])
def test_malformed_typed_notes_are_refused_in_one_sentence(text, said):
    from museforge.models.music.notation import parse_notes

    assert said in refuse(parse_notes, text)


def test_typed_notes_may_start_with_a_pickup_bar():
    from museforge.models.music.notation import parse_notes

    reading = parse_notes("G A B | D C B A")
    assert reading.piece.time_signature == (4, 4)
    assert [n.start for n in reading.piece.parts[0].notes] == [0, 1, 2, 3, 4, 5, 6]
    assert parse_notes("C D E | F G").piece.time_signature == (3, 4)  # a short last bar
