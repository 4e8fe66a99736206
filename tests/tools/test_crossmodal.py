"""Cross-modal inspiration: pictures suggest music and music suggests pictures, by one
deterministic mapping whose choices and reasons land in the recipe."""

from __future__ import annotations

from PIL import Image

from museforge.assistant.offline import OfflinePlanner
from museforge.assistant.turn import Assistant
from museforge.models.image.procedural import ProceduralPainter, paint
from museforge.storage.models import Actor, FileIn, Scope
from museforge.tools.base import Services
from museforge.tools.crossmodal import image_from_music, look_of, music_from_image


def test_light_and_color_choose_mode_tempo_and_key():
    bright = Image.new("RGB", (32, 32), (250, 200, 40))  # bright, saturated yellow-orange
    dark = Image.new("RGB", (32, 32), (20, 30, 70))  # dark blue
    b, d = music_from_image(bright), music_from_image(dark)
    assert b.key.endswith("major") and d.key.endswith("minor")
    assert b.tempo > d.tempo
    assert b.key.split()[0] in ("G", "D")  # orange/yellow on the circle of fifths
    assert "luminance" in b.why["mode"] and "circle of fifths" in b.why["key"]
    assert music_from_image(bright) == b  # deterministic


def test_the_words_of_the_picture_count_too():
    image = paint("a lighthouse", 1, 64, 64)
    plain = music_from_image(image, "a lighthouse")
    snowy = music_from_image(image, "a lighthouse in the snow at night")
    assert snowy.instrument == "Celesta" and snowy.key.endswith("minor")
    assert snowy.tempo < plain.tempo
    assert "night" in snowy.why["mode"]


def test_music_suggests_palette_light_and_style():
    calm = image_from_music(key="D minor", tempo=66, mood="calm",
                            instrument="Acoustic Grand Piano")
    assert "yellow" in calm.words and "dusk" in calm.words and "soft" in calm.words
    assert calm.style == "minimal"
    lively = image_from_music(key="E major", tempo=150, instrument="Lead 1 (square)")
    assert "golden daylight" in lively.words and lively.style == "neon"


def test_look_of_measures_the_picture():
    look = look_of(Image.new("RGB", (16, 16), (255, 0, 0)))
    assert look.hue < 5 or look.hue > 355
    assert look.warmth > 0.9 and look.saturation > 0.9


def test_a_picture_inspired_by_music_records_why(sqlite_store):
    store = sqlite_store
    me = Actor(store.local_user())
    chat = store.session(me, Scope.local("x"))
    store.create_artwork(me, chat, "music", title="calm piano", prompt="calm piano",
                         operation="compose_music",
                         recipe={"key": "D minor", "tempo": 66, "mood": "calm",
                                 "instrument": "Acoustic Grand Piano"},
                         files={"mid": FileIn(b"MThd", "audio/midi")})
    assistant = Assistant(store, OfflinePlanner(), services=Services(image=ProceduralPainter()))
    result = assistant.turn(me, chat, "paint a picture that fits #1")
    assert result.calls[0].ok, result.calls[0].error
    recipe = store.resolve(me, chat, "#2")[1].recipe
    assert recipe["inspiration"]["from"] == "#1 v1"
    assert "dusk" in recipe["prompt"] and recipe["style"] == "minimal"
    assert recipe["inspiration"]["why"]["style"] == "the Acoustic Grand Piano"


def test_music_inspired_by_a_picture_takes_what_the_person_left_open(sqlite_store,
                                                                     tiny_melody_model):
    store = sqlite_store
    me = Actor(store.local_user())
    chat = store.session(me, Scope.local("x"))
    assistant = Assistant(store, OfflinePlanner(), services=Services(
        image=ProceduralPainter(), melody=tiny_melody_model))
    assistant.turn(me, chat, "paint a fox in the snow at night")
    result = assistant.turn(me, chat, "compose a calm piece that fits it")
    assert result.calls[0].ok, result.calls[0].error
    recipe = store.resolve(me, chat, "#2")[1].recipe
    inspiration = recipe["inspiration"]
    assert inspiration["from"] == "#1 v1"
    assert recipe["mood"] == "calm" and "tempo" not in inspiration["filled"]
    assert recipe["key"] == inspiration["filled"]["key"] and recipe["key"].endswith("minor")
    assert recipe["instrument"] == "Celesta"  # snow
