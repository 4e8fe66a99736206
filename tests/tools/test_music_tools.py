"""The music tools through conversations: every version has MIDI, audio and a piano roll;
edits are checked on the notes; the latent tools make what they say; MIDI files come in
through the safe loader; absurd arguments are refused; versions replay byte for byte.
The melody model here is the real MelodyVAE class with tiny random weights."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile

from museforge.assistant.offline import OfflinePlanner
from museforge.assistant.turn import Assistant
from museforge.models.media import read_png_text
from museforge.models.music.midi import load_midi
from museforge.models.music.theory import parse_key
from museforge.tools.base import Services, ToolContext
from museforge.tools.replay import replay


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


@pytest.fixture
def assistant(store, tiny_melody_model):
    return Assistant(store, OfflinePlanner(), services=Services(melody=tiny_melody_model))


def say(assistant, me, chat, text):
    result = assistant.turn(me, chat, text)
    failed = [c.error for c in result.calls if not c.ok]
    return result, failed


def notes_of(store, me, chat, ref):
    _, version = store.resolve(me, chat, ref)
    return load_midi(version.files["mid"].read_bytes())


def test_a_composition_has_midi_audio_and_a_piano_roll(store, me, chat, assistant):
    result, failed = say(assistant, me, chat, "compose a calm piano piece in D minor, seed 5")
    assert not failed, failed
    [made] = result.artifacts
    assert set(made.files) == {"mid", "ogg", "png"} and made.kind == "music"
    piece = load_midi(made.files["mid"].read_bytes())
    assert {p.name for p in piece.parts} >= {"melody", "chords", "bass"}
    assert piece.key.startswith("D minor") or piece.key == "D minor"
    recipe = made.recipe
    assert recipe["key"] == "D minor" and recipe["mood"] == "calm" and recipe["seed"] == 5
    audio, rate = soundfile.read(io.BytesIO(made.files["ogg"].read_bytes()))
    assert abs(len(audio) / rate - piece.seconds) < 1.5
    assert float(np.sqrt(np.mean(np.square(audio)))) > 0.01  # not silent
    assert made.files["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_same_arguments_and_seed_give_the_same_midi(store, me, chat, assistant):
    say(assistant, me, chat, "compose a waltz, seed 11")
    say(assistant, me, chat, "compose a waltz, seed 11")
    a = store.resolve(me, chat, "#1")[1].files["mid"].read_bytes()
    b = store.resolve(me, chat, "#2")[1].files["mid"].read_bytes()
    assert a == b


def test_edits_are_checked_on_the_notes(store, me, chat, assistant):
    say(assistant, me, chat, "compose a march with drums, seed 3")
    before = notes_of(store, me, chat, "#1")
    _, failed = say(assistant, me, chat, "transpose it up two semitones")
    assert not failed, failed
    after = notes_of(store, me, chat, "#1")
    for old, new in zip(before.parts, after.parts, strict=True):
        shift = 0 if old.is_drum else 2
        assert [n.pitch + shift for n in old.notes] == [n.pitch for n in new.notes], old.name
    _, failed = say(assistant, me, chat, "make it minor")
    assert not failed, failed
    minor = notes_of(store, me, chat, "#1")
    key = parse_key(store.resolve(me, chat, "#1")[1].recipe["key"])
    assert key.mode == "minor"
    assert all(key.contains(n.pitch) for n in minor.part("melody").notes)
    _, failed = say(assistant, me, chat, "a bit faster")
    assert not failed
    assert notes_of(store, me, chat, "#1").tempo == pytest.approx(minor.tempo * 1.1, rel=0.01)
    _, failed = say(assistant, me, chat, "play it on the violin")
    assert not failed
    assert notes_of(store, me, chat, "#1").part("melody").program == 40
    tree = {v.number: v.parent_number for v in store.versions(me, chat, 1)}
    assert tree == {1: None, 2: 1, 3: 2, 4: 3, 5: 4}


def test_the_latent_tools(store, me, chat, assistant):
    say(assistant, me, chat, "compose a calm folk tune, seed 8")
    result, failed = say(assistant, me, chat, "2 variations of the song")
    assert not failed, failed
    assert [a.artwork for a in result.artifacts] == [2, 3]
    original = notes_of(store, me, chat, "#1")
    varied = notes_of(store, me, chat, "#2")
    assert [n.pitch for n in varied.part("melody").notes] != \
        [n.pitch for n in original.part("melody").notes]
    assert [n.pitch for n in varied.part("bass").notes] == \
        [n.pitch for n in original.part("bass").notes]  # the accompaniment stays
    result, failed = say(assistant, me, chat, "continue #1 for 4 more bars")
    assert not failed, failed
    longer = notes_of(store, me, chat, "#1")
    assert longer.bars >= original.bars + 4 - 1
    result, failed = say(assistant, me, chat, "morph #1 into #2 in 3 steps")
    assert not failed, failed
    [made] = result.artifacts
    assert made.artwork == 4 and made.version == 3
    assert [v.number for v in store.versions(me, chat, 4)] == [1, 2, 3]


def test_music_versions_replay_byte_for_byte(store, me, chat, assistant, tiny_melody_model):
    for text in ("compose a jig, seed 4", "transpose it down 3", "humanize it",
                 "a variation of #1", "continue #1"):
        _, failed = say(assistant, me, chat, text)
        assert not failed, (text, failed)
    ctx = ToolContext(store, me, chat, services=Services(melody=tiny_melody_model))
    for ref in ("#1 v1", "#1 v2", "#1 v3", "#1 v4", "#2"):
        report = replay(ctx, ref)
        assert report.identical, (ref, report.detail)


def test_midi_files_come_in_through_the_safe_loader(store, me, chat, assistant, tmp_path):
    import music21

    real = Path(music21.__file__).parent / "midi" / "testPrimitive" / "test03.mid"
    result = assistant.turn(me, chat, "transpose it up 2", attachments=[real])
    assert result.errors == [] and result.imported[0].kind == "music"
    assert result.calls[0].ok, result.calls[0].error
    bogus = tmp_path / "song.mid"
    bogus.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x03\xe8\x01\xe0")  # claims 1000 tracks
    result = assistant.turn(me, chat, "list my music", attachments=[bogus])
    assert len(result.errors) == 1 and "\n" not in result.errors[0]["error"]
    assert [a.number for a in store.list_artworks(me, chat)] == [1]


@pytest.mark.parametrize("text, words", [
    ("compose a piece at 0 bpm", ["tempo"]),
    ("compose a piece at 1000 bpm", ["tempo"]),
    ("transpose #1 up 200", ["transpose", "24"]),
    ("make #1 10000 bars long", ["bars", "256"]),
    ("play #1 on the zorblophone", ["zorblophone", "Xylophone"]),
])
def test_absurd_arguments_are_refused_with_a_reason(store, me, chat, assistant, text, words):
    say(assistant, me, chat, "compose a calm tune, seed 1")
    result = assistant.turn(me, chat, text)
    failed = [c for c in result.calls if not c.ok]
    assert failed or not result.calls, result.reply
    said = failed[0].error if failed else result.reply
    assert all(w in said for w in words), said
    assert [v.number for v in store.versions(me, chat, 1)] == [1]


def test_a_misspelt_instrument_is_read_as_the_instrument(store, me, chat, assistant):
    say(assistant, me, chat, "compose a calm tune, seed 1")
    result = assistant.turn(me, chat, "play #1 on the violn")
    assert [(c.name, c.ok) for c in result.calls] == [("edit_music", True)], result.reply
    versions = store.versions(me, chat, 1)
    assert [v.number for v in versions] == [1, 2]
    assert versions[-1].recipe["args"]["instrument"] == "Violin"


def test_music_through_ask_on_the_embedded_defaults():
    """The committed melody model, the real CLI: a piece, then an edit, by the contract."""
    from cliutil import ask, check_contract

    out = ask("compose a calm piano piece in D minor")
    check_contract(out)
    call = out["tool_calls"][0]
    assert call["name"] == "compose_music" and call["ok"], call
    [art] = out["artifacts"]
    assert art["kind"] == "music" and art["recipe"]["key"] == "D minor"
    assert art["recipe"]["altered_share"] < 0.10  # the melody is the model's own
    out = ask("a bit faster")
    check_contract(out)
    assert out["tool_calls"][0]["args"] == {"artwork": "#1", "tempo_scale": 1.1}
    assert out["artifacts"][0]["version"] == 2


def test_the_piano_roll_title_follows_the_instrument_and_the_key(store, me, chat, assistant):
    def roll_title() -> str:
        _, version = store.resolve(me, chat, "#1")
        return read_png_text(version.files["png"].read_bytes())["Title"]

    _, failed = say(assistant, me, chat, "compose a calm piano piece in G major, seed 4")
    assert not failed, failed
    assert " · Acoustic Grand Piano · G major · " in roll_title()

    _, failed = say(assistant, me, chat, "play it on the violin")
    assert not failed, failed
    assert " · Violin · G major · " in roll_title()
    assert "Acoustic Grand Piano" not in roll_title()

    _, failed = say(assistant, me, chat, "in D minor")
    assert not failed, failed
    title = roll_title()
    assert " · Violin · D minor · " in title
    assert "in D minor" in title and "G major" not in title  # the name's key too
