"""What the fuzz test (tests/models/test_fuzz_inputs.py) found in the ABC and MusicXML
loaders, each as a named case: small files that cost music21 seconds to minutes, and
damage that escaped as a library error instead of a sentence."""

from __future__ import annotations

import io
import time
import zipfile

import pytest

from museforge.models.music.base import MusicError
from museforge.models.music.engrave import to_musicxml
from museforge.models.music.piece import Note, Part, Piece
from museforge.models.music.scorefiles import load_abc, load_musicxml

JIG = """X:1
T:The Test Jig
M:6/8
L:1/8
Q:3/8=120
K:D
|:A|dfa afd|g2e c2A|dfa agf|e3 d{n}:|
"""


def refused(load, data) -> tuple[str, float]:
    started = time.process_time()
    with pytest.raises(MusicError) as caught:
        load(data)
    return str(caught.value), time.process_time() - started


def test_a_bar_far_past_its_meter_is_refused_before_music21_re_bars_it():
    # One 125-bar note: music21 splits the bar and gives the rest a meter of 997/8,
    # whose accent table took 52 s of CPU here.
    message, spent = refused(load_abc, JIG.format(n=1000))
    assert message == ("the ABC tune has a bar on line 7 that runs 498.5 beats past its 6/8 "
                       "meter; add its missing bar lines")
    assert spent < 0.5


def test_a_bar_a_little_past_its_meter_still_loads():
    reading = load_abc(JIG.format(n=12))  # two bars' worth in one: music21 re-bars it
    assert "6/8" in reading.echo


def test_a_long_abc_tune_is_refused_by_its_notes_and_rests():
    body = "|".join(["dfa z3"] * 151)  # 604 notes and rests in 151 bars
    message, _ = refused(load_abc, f"X:1\nM:6/8\nL:1/8\nK:D\n{body}|]\n")
    assert message == "the ABC tune has too many notes and rests: more than 600"
    assert load_abc(f"X:1\nM:6/8\nL:1/8\nK:D\n{'|'.join(['dfa z3'] * 100)}|]\n")


def score(notes: int = 8) -> bytes:
    melody = [Note(60 + i % 12, i * 0.5, i * 0.5 + 0.5, 80) for i in range(notes)]
    text = to_musicxml(Piece([Part("melody", 0, False, melody)], 120.0, (4, 4), "C major",
                             "x")).text
    return text if isinstance(text, bytes) else text.encode()


def test_an_alteration_of_nan_is_a_sentence():
    data = score()
    assert b"<alter>1</alter>" in data  # a sharp (music21 itself refuses a natural of nan)
    message, _ = refused(load_musicxml, data.replace(b"<alter>1</alter>", b"<alter>nan</alter>"))
    assert message == ("the score has a note whose pitch is not a number; export it again "
                       "from the notation program")


def test_an_mxl_whose_compressed_score_is_damaged_is_a_sentence():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("score.musicxml", score())
    data = bytearray(buffer.getvalue())
    start = 30 + len("score.musicxml")  # the first member's deflated bytes
    data[start + 40 : start + 48] = b"\xff" * 8
    message, _ = refused(load_musicxml, bytes(data))
    assert message.startswith("the .mxl file is cut off or damaged: ")
    assert "\n" not in message and len(message) < 300


def test_a_thousand_clef_key_and_meter_changes_are_refused_by_their_count():
    data = score()
    at = data.index(b"<attributes>")
    end = data.index(b"</attributes>") + len(b"</attributes>")
    bomb = data[:end] + data[at:end] * 1000 + data[end:]
    message, spent = refused(load_musicxml, bomb)
    assert message == ("the MusicXML file changes its clef, key or meter 1,001 times (at most "
                       "250 are accepted)")
    assert spent < 0.5


@pytest.mark.parametrize(("change", "said"), [
    ("Q:3/8=120", "Q:3/1000000000000=120"),  # music21: float division by zero
    ("dfa afd", "dfa af/0d"),  # Fraction(1, 0)
])
def test_a_zero_inside_a_length_is_a_sentence(change, said):
    message, _ = refused(load_abc, JIG.format(n=2).replace(change, said))
    assert message in (
        "the ABC tune's Q: field on line 5 ('3/1000000000000=120') is not a tempo I can "
        "read (like 1/4=120)",
        "the ABC tune has an impossible note length on line 7",
    )


def test_a_thousand_key_changes_are_refused_before_music21_makes_them():
    # Each costs music21 ~4 ms: 1,000 of them 4 s.
    message, spent = refused(load_abc, JIG.format(n=2).replace("K:D\n", "K:D\n" * 1000))
    assert message == "the ABC tune changes its key, meter, tempo or voice more than 200 times"
    assert spent < 0.5
    assert load_abc(JIG.format(n=2).replace("K:D\n", "K:D\n" * 50))  # a few dozen are fine


def test_a_loudness_of_nan_is_a_sentence():
    data = score().replace(b'dynamics="88.89"', b'dynamics="nan"', 1)
    message, _ = refused(load_musicxml, data)
    assert message == ("the score has a note whose loudness is not a number; export it "
                       "again from the notation program")
