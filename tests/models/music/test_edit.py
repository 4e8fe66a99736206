"""The deterministic edits and the theory under them, checked on the notes."""

from __future__ import annotations

import pytest

from museforge.models.music import edit
from museforge.models.music.base import MusicError
from museforge.models.music.piece import Note, Part, Piece
from museforge.models.music.theory import (
    GM_PERCUSSION,
    GM_PROGRAMS,
    Key,
    estimate_key,
    in_key_share,
    instrument_program,
    key_signature,
    mode_map,
    parse_key,
    pitch_name,
    transpose_key,
)

C_MAJOR_TUNE = [60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62, 60, 67]


def piece(key: str = "C major", tempo: float = 120.0, bars: int = 2) -> Piece:
    """A diatonic melody, triads and drums over ``bars`` bars of 4/4."""
    beats = bars * 4
    melody = [Note(C_MAJOR_TUNE[i % 16], i * 0.5, i * 0.5 + 0.5, 80) for i in range(beats * 2)]
    chords = [Note(p, float(b), b + 1.0, 60) for b in range(0, beats, 2) for p in (48, 52, 55)]
    drums = [Note(36 if b % 2 == 0 else 38, float(b), b + 0.25, 100) for b in range(beats)]
    return Piece([Part("melody", 0, False, melody), Part("chords", 48, False, chords),
                  Part("drums", 0, True, drums)], tempo=tempo, key=key)


def pitches(p: Piece, name: str) -> list[int]:
    part = p.part(name)
    assert part is not None
    return [n.pitch for n in part.notes]


# ---------------------------------------------------------------- theory


@pytest.mark.parametrize(("text", "key"), [
    ("D minor", Key("D", "minor")), ("Bb major", Key("Bb", "major")),
    ("F# minor", Key("F#", "minor")), ("c#m", Key("C#", "minor")), ("Am", Key("A", "minor")),
    ("E flat major", Key("Eb", "major")), ("f sharp minor", Key("F#", "minor")),
    ("G", Key("G", "major")), ("bb", Key("Bb", "major")), ("b", Key("B", "major")),
    ("Ebmin", Key("Eb", "minor")), ("A aeolian", Key("A", "minor")),
    ("D dorian", Key("D", "dorian")), ("C major key", Key("C", "major")),
    ("E♭ major", Key("Eb", "major")), ("CM", Key("C", "major")),
])
def test_keys_are_parsed_as_people_write_them(text, key):
    assert parse_key(text) == key


@pytest.mark.parametrize("text", ["H major", "C blues", "", "minor", "C## major"])
def test_unknown_keys_are_refused_with_examples(text):
    with pytest.raises(MusicError, match='write it like "D minor"'):
        parse_key(text)


def test_scales_and_signatures():
    assert parse_key("D minor").scale == (2, 4, 5, 7, 9, 10, 0)
    assert key_signature("D minor") == (14, "minor")
    assert key_signature("D dorian") == (0, "major")  # the notes of C major
    assert str(transpose_key("C major", 3)) == "Eb major"
    assert str(transpose_key("A minor", -3)) == "F# minor"
    assert pitch_name(60) == "C4" and pitch_name(70) == "Bb4"


def test_mode_map_moves_scale_degrees_not_the_tonic():
    assert [mode_map(p, "C major", "minor") for p in (60, 62, 64, 65, 67, 69, 71)] == \
        [60, 62, 63, 65, 67, 68, 70]
    assert mode_map(64, "C major", "minor") == 63  # E -> Eb
    assert [mode_map(p, "A minor", "major") for p in (57, 60, 65, 67)] == [57, 61, 66, 68]
    assert mode_map(71, "C minor", "major") == 71  # the leading tone is already in C major
    assert mode_map(66, "C major", "minor") == 66  # F# (between F and G) stays


def test_estimate_key_and_share():
    tune = [(p, 1.0) for p in C_MAJOR_TUNE]
    assert estimate_key(tune) == Key("C", "major")
    assert in_key_share(C_MAJOR_TUNE, "C major") == 1.0
    assert in_key_share([60, 61], "C major") == 0.5


def test_every_gm_name_and_the_common_words_give_a_program():
    assert len(GM_PROGRAMS) == 128 and len(GM_PERCUSSION) == 47
    for number, name in enumerate(GM_PROGRAMS):
        assert instrument_program(name) == number
        assert instrument_program(name.upper()) == number
    words = {"piano": 0, "violin": 40, "violins": 40, "guitar": 25, "flute": 73,
             "strings": 48, "synth pad": 88, "Electric piano": 4, "bass": 33, "cello": 42,
             "acoustic guitar nylon": 24, "the trumpet": 56, 41: 41, "41": 41}
    for word, number in words.items():
        assert instrument_program(word) == number, word


def test_an_unknown_instrument_gets_the_closest_gm_name():
    with pytest.raises(MusicError, match='unknown instrument "violn"; did you mean "Violin"?'):
        instrument_program("violn")
    with pytest.raises(MusicError, match='did you mean "Acoustic Grand Piano"'):
        instrument_program("pianoo")
    with pytest.raises(MusicError, match="use a General MIDI name"):
        instrument_program("xyzzy")
    with pytest.raises(MusicError, match="programs are 0..127"):
        instrument_program(128)
    with pytest.raises(MusicError, match="drums are a part"):
        instrument_program("drums")


# ---------------------------------------------------------------- pitch edits


def test_transpose_moves_every_pitched_note_and_leaves_drums():
    before = piece()
    after = edit.transpose(before, 2)

    assert pitches(after, "melody") == [p + 2 for p in pitches(before, "melody")]
    assert pitches(after, "chords") == [p + 2 for p in pitches(before, "chords")]
    assert pitches(after, "drums") == pitches(before, "drums")
    assert after.key == "D major"
    assert before.key == "C major" and pitches(before, "melody")[0] == 60  # untouched


@pytest.mark.parametrize("semitones", [200, -25, 25, 2.5, 2.0, True])
def test_transpose_refuses_absurd_intervals(semitones):
    with pytest.raises(MusicError, match="transpose"):
        edit.transpose(piece(), semitones)


def test_transpose_refuses_to_leave_the_midi_range():
    high = piece()
    high.parts[0].notes.append(Note(120, 0, 1))
    with pytest.raises(MusicError, match="push 1 note above the top MIDI note"):
        edit.transpose(high, 12)


@pytest.mark.parametrize("mode", ["minor", "dorian", "mixolydian", "phrygian"])
def test_a_mode_change_puts_every_melody_note_in_the_new_scale(mode):
    after = edit.change_mode(piece(), mode)
    scale = parse_key(after.key).scale

    assert after.key == f"C {mode}"
    assert all(p % 12 in scale for p in pitches(after, "melody") + pitches(after, "chords"))
    assert pitches(after, "drums") == pitches(piece(), "drums")


def test_major_to_minor_is_by_degree_and_comes_back():
    minor = edit.change_mode(piece(), "minor")
    assert pitches(minor, "melody")[:8] == [60, 62, 63, 65, 67, 68, 70, 72]
    assert pitches(minor, "chords")[:3] == [48, 51, 55]  # C major triad -> C minor triad
    assert edit.change_mode(minor, "major").parts == piece().parts


def test_change_key_takes_the_short_way_and_changes_mode():
    a_minor = edit.change_key(piece(), "A minor")
    assert a_minor.key == "A minor"
    assert pitches(a_minor, "melody")[0] == 57  # down a minor third, not up a sixth
    assert in_key_share(pitches(a_minor, "melody"), "A minor") == 1.0

    g_major = edit.change_key(piece(), "G major")
    assert pitches(g_major, "melody")[0] == 55  # C4 -> G3: down a fourth, not up a fifth

    d_minor = edit.change_key(piece(), "d minor")
    assert d_minor.key == "D minor"
    assert in_key_share(pitches(d_minor, "melody"), "D minor") == 1.0
    assert pitches(d_minor, "drums") == pitches(piece(), "drums")


# ---------------------------------------------------------------- time edits


def test_tempo_scale_two_halves_the_seconds():
    before = piece(tempo=100)
    after = edit.scale_tempo(before, 2)
    assert after.seconds == pytest.approx(before.seconds / 2)
    assert after.parts == before.parts and after.tempo == 200


@pytest.mark.parametrize("bpm", [0, 10_000, 19.9, 300.5, -5, float("nan")])
def test_absurd_tempos_are_refused(bpm):
    with pytest.raises(MusicError, match="tempo must be between 20 and 300 bpm"):
        edit.set_tempo(piece(), bpm)


def test_tempo_scale_bounds():
    assert edit.set_tempo(piece(), 72).tempo == 72.0
    with pytest.raises(MusicError, match="tempo_scale must be between 0.25 and 4"):
        edit.scale_tempo(piece(), 10)
    with pytest.raises(MusicError, match="gives 480 bpm, outside 20..300"):
        edit.scale_tempo(piece(tempo=240), 2)


def test_fit_bars_loops_a_short_piece():
    before = piece(bars=2)
    after = edit.fit_bars(before, 5)

    assert after.bars == 5 and after.end_beat == 20
    melody = after.part("melody").notes
    assert len(melody) == 16 * 2 + 8  # two whole copies and half of one
    assert [n.pitch for n in melody[16:32]] == pitches(before, "melody")
    assert melody[16].start == 8.0


def test_fit_bars_trims_a_long_piece():
    after = edit.fit_bars(piece(bars=8), 3)
    assert after.bars == 3
    assert all(n.end <= 12 for p in after.parts for n in p.notes)
    assert edit.fit_bars(piece(bars=3), 3).parts == piece(bars=3).parts


def test_fit_bars_shortens_a_note_that_crosses_the_end():
    long_note = Piece([Part("melody", notes=[Note(60, 2.0, 10.0)])])
    assert edit.fit_bars(long_note, 2).parts[0].notes == [Note(60, 2.0, 8.0)]


@pytest.mark.parametrize("bars", [0, 10_000, 257, 2.5])
def test_absurd_bar_counts_are_refused(bars):
    with pytest.raises(MusicError, match="bars"):
        edit.fit_bars(piece(), bars)


def test_humanize_is_seeded_and_keeps_order():
    before = piece()
    one = edit.humanize(before, seed=7, amount=1.0)

    assert one == edit.humanize(before, seed=7, amount=1.0)
    assert one != edit.humanize(before, seed=8, amount=1.0)
    assert one.parts != before.parts
    for part, original in zip(one.parts, before.parts, strict=True):
        starts = [n.start for n in part.notes]
        assert starts == sorted(starts) and min(starts) >= 0
        for moved, note in zip(part.notes, original.notes, strict=True):
            assert abs(moved.start - note.start) <= 0.05 + 1e-9
            assert moved.duration == pytest.approx(note.duration) or moved.end == 8.0
            assert 1 <= moved.velocity <= 127
    # a chord struck together stays together
    chord = [n.start for n in one.part("chords").notes[:3]]
    assert len(set(chord)) == 1
    assert one.bars == before.bars
    assert edit.humanize(before, seed=7, amount=0.0).parts == before.parts
    with pytest.raises(MusicError, match="humanize amount"):
        edit.humanize(before, seed=1, amount=2)


def test_quantize_snaps_to_the_grid():
    loose = Piece([Part("melody", notes=[Note(60, 0.13, 0.37), Note(62, 0.49, 0.52),
                                         Note(64, 1.02, 1.9)])])
    tight = edit.quantize(loose, 0.25)
    assert [(n.start, n.end) for n in tight.parts[0].notes] == \
        [(0.25, 0.5), (0.5, 0.75), (1.0, 2.0)]
    def timing(p: Piece) -> list[tuple[float, float]]:
        return [(n.start, n.end) for part in p.parts for n in part.notes]

    assert timing(edit.quantize(edit.humanize(piece(), seed=3), 0.25)) == timing(piece())
    with pytest.raises(MusicError, match="quantize grid"):
        edit.quantize(loose, 0)


def test_set_instrument_by_name_and_part():
    violin = edit.set_instrument(piece(), "violin")
    assert violin.part("melody").program == 40 and violin.part("chords").program == 48
    strings = edit.set_instrument(piece(), 48, part="all")
    assert {p.program for p in strings.parts if not p.is_drum} == {48}
    with pytest.raises(MusicError, match='did you mean "Violin"'):
        edit.set_instrument(piece(), "violn")
    with pytest.raises(MusicError, match='no part named "bass"; the parts are: melody'):
        edit.set_instrument(piece(), "cello", part="bass")
    with pytest.raises(MusicError, match="plays percussion"):
        edit.set_instrument(piece(), "cello", part="drums")


def test_apply_edits_in_one_fixed_order():
    done = edit.apply_edits(piece(), key="A minor", tempo_scale=1.5, bars=4, humanize=0.3,
                            seed=5, instrument="flute")
    assert done == edit.apply_edits(piece(), key="A minor", tempo_scale=1.5, bars=4,
                                    humanize=0.3, seed=5, instrument="flute")
    assert done.key == "A minor" and done.tempo == 180 and done.bars == 4
    assert done.part("melody").program == 73
    with pytest.raises(MusicError, match="not both"):
        edit.apply_edits(piece(), tempo=90, tempo_scale=2)
