"""A person's own melody through the real tools and store: typed notes and ABC in as an
artwork (v1 exactly what was given), a composition that starts with given notes, an
accompaniment under a melody that stays note for note, variations of an imported tune,
ABC/MusicXML attachments, and every piece back out as ABC and MusicXML. The melody model
is the real MelodyVAE class with tiny random weights."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from museforge.assistant.attachments import import_attachment
from museforge.models.music.midi import load_midi
from museforge.models.music.scorefiles import load_abc, load_musicxml
from museforge.tools.base import Services, ToolContext, ToolError
from museforge.tools.registry import get_tool
from museforge.tools.replay import replay


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


@pytest.fixture
def ctx(store, me, chat, tiny_melody_model):
    return ToolContext(store, me, chat, services=Services(melody=tiny_melody_model))


def run(ctx, name, **args):
    return get_tool(name).run(ctx, args)


def melody_of(artifact):
    piece = load_midi(artifact.files["mid"].read_bytes())
    return [(n.pitch, n.start, n.end) for n in piece.part("melody").notes], piece


JIG = """X:1
T:The Test Jig
M:6/8
L:1/8
Q:3/8=120
K:D
|:A|dfa afd|g2e c2A|dfa agf|e3 d2:|
"""


def test_typed_notes_become_an_artwork_whose_v1_is_exactly_them(ctx):
    result = run(ctx, "import_melody", notes="D8 F#8 A4 d/2")
    [made] = result.artifacts
    notes, piece = melody_of(made)
    assert notes == [(62, 0.0, 0.5), (66, 0.5, 1.0), (69, 1.0, 2.0), (74, 2.0, 4.0)]
    assert piece.key == "D major" and piece.time_signature == (4, 4)
    assert "I read: D4/8 F#4/8 A4/4 D5/2" in result.message
    assert set(made.files) == {"mid", "ogg", "png"}


def test_a_pasted_abc_tune_is_read_as_written(ctx):
    result = run(ctx, "import_melody", notes=JIG)
    [made] = result.artifacts
    notes, piece = melody_of(made)
    assert [p for p, _, _ in notes[:4]] == [69, 74, 78, 81]  # A d f a
    assert piece.time_signature == (6, 8) and made.recipe["tempo"] == 180
    assert made.title == "The Test Jig"


def test_a_bad_note_is_said_and_nothing_is_stored(ctx, store, me, chat):
    with pytest.raises(ToolError, match='"H#" is not a note'):
        run(ctx, "import_melody", notes="C E H#")
    with pytest.raises(ToolError, match="999 is out of range"):
        run(ctx, "import_melody", notes="60 64 999")
    assert store.list_artworks(me, chat) == []


def test_compose_starting_with_c_e_g_begins_with_exactly_them(ctx):
    result = run(ctx, "compose_music", prompt="a melody", start_with="C E G", seed=3)
    [made] = result.artifacts
    notes, piece = melody_of(made)
    assert notes[:3] == [(60, 0.0, 1.0), (64, 1.0, 2.0), (67, 2.0, 3.0)]
    assert len(notes) > 3  # the model carried on
    assert made.recipe["key"] == "C major" and made.recipe["time_signature"] == [4, 4]
    assert "I read: C4 E4 G4" in result.message
    assert {p.name for p in piece.parts} >= {"melody", "chords", "bass"}
    assert replay(ctx, made.ref).identical


def test_compose_keeps_the_meter_of_the_bars_given(ctx):
    result = run(ctx, "compose_music", prompt="a waltz tune", start_with="D F# A | B A F# |",
                 seed=1)
    [made] = result.artifacts
    notes, piece = melody_of(made)
    assert piece.time_signature == (3, 4) and made.recipe["key"] == "D major"
    assert [p for p, _, _ in notes[:6]] == [62, 66, 69, 71, 69, 66]


def test_harmonise_keeps_the_melody_note_for_note(ctx):
    [tune] = run(ctx, "import_melody", notes="E D C D | E E E/2 | D/4 D D/2 | E/4 G G/2").artifacts
    before, _ = melody_of(tune)
    result = run(ctx, "harmonise_music", artwork=f"#{tune.artwork}", style="waltz",
                 parts=["chords", "bass", "drums"])
    [made] = result.artifacts
    after, piece = melody_of(made)
    assert after == before
    assert made.version == 2 and made.artwork == tune.artwork
    assert {p.name for p in piece.parts} == {"melody", "chords", "bass", "drums"}
    chords = piece.part("chords").notes
    # under the melody, and the first bar (E D C D) on the tonic C major chord
    assert max(n.pitch for n in chords) < min(p for p, _, _ in before) + 12
    assert {n.pitch % 12 for n in chords if n.start < 4} == {0, 4, 7}
    assert "the melody is unchanged" in result.message
    assert replay(ctx, made.ref).identical


def test_a_low_melody_stays_the_melody_when_harmonised(ctx):
    [tune] = run(ctx, "import_melody", notes="C2 E2 G2 C3").artifacts
    before, _ = melody_of(tune)
    [made] = run(ctx, "harmonise_music", artwork=f"#{tune.artwork}").artifacts
    after, _ = melody_of(made)
    assert after == before


def test_an_imported_tune_varies_and_interpolates_like_any_piece(ctx):
    [tune] = run(ctx, "import_melody", notes="C D E F | G A B c | c B A G | F E D C").artifacts
    [other] = run(ctx, "compose_music", prompt="a calm tune", bars=4, seed=2).artifacts
    [varied] = run(ctx, "vary_music", artwork=f"#{tune.artwork}", seed=1).artifacts
    assert varied.artwork not in (tune.artwork, other.artwork)
    assert melody_of(varied)[0]  # it has a melody
    made = run(ctx, "interpolate_music", artwork_a=f"#{tune.artwork}",
               artwork_b=f"#{other.artwork}", steps=2).artifacts
    assert made and made[0].version == 2


def test_export_writes_abc_and_musicxml_that_read_back_the_same(ctx):
    [tune] = run(ctx, "import_melody", notes="D8 F#8 A4 B4. A8 | G2 F#2",
                  key="D major").artifacts
    notes, _ = melody_of(tune)
    shown = run(ctx, "export_music", artwork=f"#{tune.artwork}", format="abc")
    path = Path(shown.message.split(": ", 1)[1].split(".abc")[0] + ".abc")
    assert "K:D" in shown.message and path.is_file()
    back = load_abc(path.read_bytes()).piece
    assert [(n.pitch, n.start, n.end) for n in back.part("melody").notes] == notes
    xml = run(ctx, "export_music", artwork=f"#{tune.artwork}", format="musicxml")
    path = Path(xml.message.split(": ", 1)[1].rstrip("."))
    back = load_musicxml(path.read_bytes()).piece
    assert [(n.pitch, n.start, n.end) for n in back.part("melody").notes] == notes
    assert xml.artifacts == [] and xml.touched == [(tune.artwork, "music")]


def test_export_of_a_composed_piece_leaves_the_drums_out_and_says_so(ctx):
    [piece] = run(ctx, "compose_music", prompt="a rock song", style="rock", bars=4,
                  seed=4).artifacts
    result = run(ctx, "export_music", artwork=f"#{piece.artwork}", format="musicxml")
    assert "drums left out" in result.message
    path = Path(result.message.split(": ", 1)[1].split(".musicxml")[0] + ".musicxml")
    back = load_musicxml(path.read_bytes()).piece
    stored = load_midi(piece.files["mid"].read_bytes())
    assert [n.pitch for n in back.part("melody").notes] == \
        [n.pitch for n in stored.part("melody").notes]


def test_abc_and_musicxml_attachments_keep_what_was_sent(ctx, tmp_path):
    abc = tmp_path / "jig.abc"
    abc.write_text(JIG)
    made = import_attachment(ctx, abc)
    assert made is not None and made.files["abc"].read_bytes() == JIG.encode()
    assert made.recipe["format"] == "abc" and "6/8" in made.recipe["echo"]
    xml = get_tool("export_music")
    result = xml.run(ctx, {"artwork": f"#{made.artwork}", "format": "musicxml"})
    path = Path(result.message.split(": ", 1)[1].rstrip("."))
    packed = tmp_path / "jig.mxl"
    with zipfile.ZipFile(packed, "w") as zf:
        zf.writestr("META-INF/container.xml",
                    '<container><rootfiles><rootfile full-path="score.xml"/></rootfiles>'
                    "</container>")
        zf.writestr("score.xml", path.read_bytes())
    again = import_attachment(ctx, packed)
    assert again is not None
    assert melody_of(again)[0] == melody_of(made)[0]


def test_a_hostile_score_attachment_is_refused_with_one_line(ctx, tmp_path, store, me, chat):
    bomb = tmp_path / "bomb.musicxml"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                    '<!ENTITY lol2 "&lol;&lol;&lol;">]><score-partwise>&lol2;</score-partwise>')
    with pytest.raises(ToolError, match="declares its own XML entities"):
        import_attachment(ctx, bomb)
    rests = tmp_path / "rests.abc"
    rests.write_text("X:1\nM:4/4\nL:1/4\nK:C\nC D E F|Z1000000000|\n")
    with pytest.raises(ToolError, match="too long"):
        import_attachment(ctx, rests)
    assert store.list_artworks(me, chat) == []


def test_the_new_tools_are_in_the_registry_with_descriptions():
    for name in ("import_melody", "harmonise_music", "export_music"):
        tool = get_tool(name)
        assert len(tool.description) > 80 and tool.family == "music"
    assert "start_with" in get_tool("compose_music").args.model_fields
    buffer = io.StringIO()
    buffer.write(get_tool("compose_music").args.model_fields["start_with"].description or "")
    assert "C E G" in buffer.getvalue()
