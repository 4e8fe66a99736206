"""The audio tools through the real store: clips come in through the safe loader and have
WAV, OGG and a waveform-and-spectrogram PNG; each edit does what it says on the samples
(trim, fades, loop, gain, normalise, tempo at the same pitch, a mix with a piece's
synthesizer render); versions undo, redo and replay sample for sample; bad arguments are
one clear sentence. generate_audio runs a tiny random-weight MusicGen (and MusicGen-melody)
saved locally, and with no weights says so in one sentence."""

from __future__ import annotations

import io
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile
from pydantic import ValidationError

from museforge.config import load_settings
from museforge.tools.base import Cancelled, Services, ToolContext, ToolError
from museforge.tools.registry import get_tool
from museforge.tools.replay import replay


def _tiny_builder():
    """tests/models/audio/tiny_musicgen.py (this folder is no package, so by path)."""
    import importlib.util

    path = Path(__file__).parents[1] / "models" / "audio" / "tiny_musicgen.py"
    spec = importlib.util.spec_from_file_location("tiny_musicgen_for_tools", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.save_tiny_musicgen


save_tiny_musicgen = _tiny_builder()
RATE = 22050


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


@pytest.fixture
def ctx(store, me, chat, tiny_melody_model):
    return ToolContext(store, me, chat, services=Services(melody=tiny_melody_model))


def run(ctx, name, **args):
    return get_tool(name).run(ctx, args)


def tone_file(tmp_path: Path, seconds: float = 2.0, hz: float = 440.0, channels: int = 1,
              name: str = "tone.wav", fmt: str = "WAV") -> Path:
    t = np.arange(int(seconds * RATE)) / RATE
    wave = np.stack([0.5 * np.sin(2 * np.pi * hz * t)] * channels, axis=1)
    path = tmp_path / name
    soundfile.write(path, wave.astype(np.float32), RATE, format=fmt)
    return path


def samples_of(artifact) -> tuple[np.ndarray, int]:
    data, rate = soundfile.read(io.BytesIO(artifact.files["wav"].read_bytes()),
                                dtype="float32", always_2d=True)
    return data, rate


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples[:, 0] * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[np.argmax(spectrum)])


def imported(ctx, tmp_path, **kwargs):
    from museforge.tools.audio_tools import import_audio

    return import_audio(ctx, tone_file(tmp_path, **kwargs))


def test_an_attached_clip_is_an_audio_artwork_with_three_files(ctx, tmp_path):
    made = imported(ctx, tmp_path, channels=2, name="My Song.flac", fmt="FLAC")
    assert made.kind == "audio" and made.title == "My Song" and made.version == 1
    assert set(made.files) == {"wav", "ogg", "png"}
    assert made.recipe["format"] == "flac" and made.recipe["seconds"] == 2.0
    assert made.recipe["channels"] == 2 and made.recipe["sample_rate"] == RATE
    ogg, rate = soundfile.read(made.files["ogg"])
    assert rate == RATE and abs(len(ogg) / rate - 2.0) < 0.05
    from PIL import Image

    with Image.open(made.files["png"]) as picture:
        assert picture.size == (800, 320)
        pixels = np.asarray(picture.convert("L"), dtype=np.float32)
    assert pixels[:120].std() > 10 and pixels[120:].std() > 10  # a waveform, a spectrogram
    samples, _ = samples_of(made)
    assert abs(dominant_hz(samples, RATE) - 440) < 5


def test_a_refused_attachment_is_one_sentence(ctx, tmp_path):
    from museforge.tools.audio_tools import import_audio

    bad = tmp_path / "huge.wav"
    data = bytearray(tone_file(tmp_path).read_bytes())
    data[40:44] = (0xFFFFFFF0).to_bytes(4, "little")  # the data chunk claims 4 GB
    bad.write_bytes(bytes(data))
    with pytest.raises(ToolError, match="lasts 27 h 03 min; the longest audio I take is 10 min"):
        import_audio(ctx, bad)
    assert ctx.store.list_artworks(ctx.actor, ctx.session) == []


def test_trim_fades_loop_and_gain_do_what_they_say(ctx, tmp_path):
    imported(ctx, tmp_path)
    trimmed = run(ctx, "edit_audio", artwork="#1", trim=[0.5, 1.5]).artifacts[0]
    samples, _ = samples_of(trimmed)
    assert trimmed.version == 2 and len(samples) == RATE
    faded = run(ctx, "edit_audio", artwork="#1", fade_in=0.2, fade_out=0.3).artifacts[0]
    samples, _ = samples_of(faded)
    assert abs(samples[0, 0]) < 1e-3 and abs(samples[-1, 0]) < 1e-3
    assert np.abs(samples[int(0.4 * RATE):int(0.6 * RATE)]).max() > 0.45
    looped = run(ctx, "edit_audio", artwork="#1", loop_to=2.5).artifacts[0]
    samples, _ = samples_of(looped)
    assert len(samples) == int(2.5 * RATE) and np.abs(samples[-RATE // 4:]).max() > 0.4
    quieter = run(ctx, "edit_audio", artwork="#1", gain=-6).artifacts[0]
    samples, _ = samples_of(quieter)
    assert abs(np.abs(samples).max() - 0.5 * 10 ** (-6 / 20)) < 0.01
    loud = run(ctx, "edit_audio", artwork="#1", normalise=True).artifacts[0]
    samples, _ = samples_of(loud)
    assert abs(20 * np.log10(np.abs(samples).max()) + 1.0) < 0.05
    assert loud.version == 6 and loud.recipe["sources"][0]["version"] == 5


def test_a_tempo_change_keeps_the_pitch(ctx, tmp_path):
    imported(ctx, tmp_path, seconds=3.0, hz=330.0)
    faster = run(ctx, "edit_audio", artwork="#1", tempo_scale=1.5)
    samples, _ = samples_of(faster.artifacts[0])
    assert abs(len(samples) / RATE - 2.0) < 0.01
    assert abs(dominant_hz(samples, RATE) - 330) < 3  # a resampling would read 495 Hz
    assert "same pitch" in faster.message


def test_mixing_in_a_pieces_render(ctx, tmp_path):
    imported(ctx, tmp_path, seconds=1.0, hz=220.0)
    run(ctx, "import_melody", notes="C5 E5 G5 C6", tempo=120)  # #2, 2 s of music
    mixed = run(ctx, "edit_audio", artwork="#1", mix_with="#2", mix_gain=-3).artifacts[0]
    samples, _ = samples_of(mixed)
    assert len(samples) > 2.5 * RATE  # as long as the piece and its release tail
    assert np.abs(samples[int(1.5 * RATE):]).max() > 0.05  # the piece goes on after the tone
    [base, piece] = mixed.recipe["sources"]
    assert (base["artwork"], piece["artwork"], piece["version"]) == (1, 2, 1)
    assert piece["renderer"] in ("fluidsynth", "numpy")
    assert replay(ctx, "#1").identical


def test_versions_undo_redo_and_replay_like_the_other_kinds(ctx, tmp_path):
    imported(ctx, tmp_path, seconds=2.0)
    run(ctx, "edit_audio", artwork="#1", trim=[0, 1])
    run(ctx, "edit_audio", artwork="#1", tempo_scale=0.8, fade_out=0.2)
    report = replay(ctx, "#1")
    assert report.identical, report.detail
    assert "sample for sample" in report.detail
    assert "now at v2" in run(ctx, "undo", artwork="#1").message
    assert "now at v3" in run(ctx, "redo", artwork="#1").message
    assert run(ctx, "revert", artwork="#1", version=1).artifacts[0].kind == "audio"
    branched = run(ctx, "edit_audio", artwork="#1", gain=3).artifacts[0]
    assert branched.version == 4 and branched.recipe["sources"][0]["version"] == 1
    with pytest.raises(ToolError, match="brought in from a file"):
        replay(ctx, "#1 v1")
    # A stored WAV that no longer matches its recipe is said to differ.
    _, v3 = ctx.resolve("#1 v3")
    data, rate = soundfile.read(v3.files["wav"], dtype="float32")
    v3.files["wav"].chmod(0o644)
    soundfile.write(v3.files["wav"], data * 0.5, rate, subtype="PCM_16")
    report = replay(ctx, "#1 v3")
    assert not report.identical and "differ" in report.detail
    assert ctx.resolve("latest audio")[0].number == 1


def test_bad_arguments_are_clear(ctx, tmp_path):
    imported(ctx, tmp_path, seconds=2.0)
    with pytest.raises(ToolError, match="2.00 s; a trim cannot end at 5 s"):
        run(ctx, "edit_audio", artwork="#1", trim=[1, 5])
    with pytest.raises(ToolError, match="is not a stretch of time"):
        run(ctx, "edit_audio", artwork="#1", trim=[1.5, 1])
    with pytest.raises(ValidationError):
        run(ctx, "edit_audio", artwork="#1", tempo_scale=3)
    with pytest.raises(ValidationError):
        run(ctx, "edit_audio", artwork="#1", volume=2)  # unknown arguments are refused
    with pytest.raises(ToolError, match="not both"):
        run(ctx, "edit_audio", artwork="#1", gain=2, normalise=True)
    with pytest.raises(ToolError, match="say what to change"):
        run(ctx, "edit_audio", artwork="#1")
    with pytest.raises(ToolError, match="longer than the clip"):
        run(ctx, "edit_audio", artwork="#1", fade_in=1.5, fade_out=1.5)
    with pytest.raises(ToolError, match="is a trim"):
        run(ctx, "edit_audio", artwork="#1", loop_to=1)
    idle = run(ctx, "edit_audio", artwork="#1", gain=0, tempo_scale=1)
    assert "nothing changed" in idle.message and not idle.artifacts
    run(ctx, "import_melody", notes="C D E")
    with pytest.raises(ToolError, match="#2 is music, not audio"):
        run(ctx, "edit_audio", artwork="#2", gain=1)


# -- generate_audio --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_musicgen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_musicgen(tmp_path_factory.mktemp("musicgen") / "tiny")


@pytest.fixture(scope="module")
def tiny_melody_musicgen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_musicgen(tmp_path_factory.mktemp("musicgen") / "melody", melody=True)


def test_no_weights_is_one_sentence_with_the_command(ctx, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(ToolError) as missing:
        run(ctx, "generate_audio", prompt="lofi beat", seconds=2)
    text = str(missing.value)
    assert "museforge models pull musicgen-small" in text and text.count(". ") == 0
    assert ctx.store.list_artworks(ctx.actor, ctx.session) == []  # no silent substitute
    run(ctx, "import_melody", notes="C D E")
    with pytest.raises(ToolError, match="museforge models pull musicgen-melody"):
        run(ctx, "generate_audio", prompt="full band", melody_from="#1", seconds=2)


def test_generate_audio_with_a_tiny_musicgen_from_the_hub_cache(ctx, monkeypatch, tmp_path,
                                                                tiny_musicgen):
    # The preset's weights where `museforge models pull musicgen-small` puts them.
    snapshot = tmp_path / "hub" / "models--facebook--musicgen-small" / "snapshots" / "abc123"
    shutil.copytree(tiny_musicgen, snapshot)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    steps: list[tuple[int, int]] = []
    ctx.progress = lambda what, i, n: steps.append((i, n))
    result = run(ctx, "generate_audio", prompt="a calm piano piece", seconds=2, seed=7)
    [made] = result.artifacts
    assert made.kind == "audio" and set(made.files) == {"wav", "ogg", "png"}
    samples, rate = samples_of(made)
    assert rate == 8000 and len(samples) == 16000 and samples.std() > 1e-3
    backend = made.recipe["backend"]
    assert backend["preset"] == "musicgen-small" and backend["seed"] == 7
    assert len(backend["weights_sha256"]) == 64 and backend["deterministic"]
    assert "MusicGen small" in result.message and "seed 7" in result.message
    assert steps[-1][0] == steps[-1][1] == backend["steps"] and len(steps) > 10
    report = replay(ctx, "#1")
    assert report.identical, report.detail
    other = run(ctx, "generate_audio", prompt="a calm piano piece", seconds=2, seed=8)
    assert not np.array_equal(samples_of(other.artifacts[0])[0], samples)
    edited = run(ctx, "edit_audio", artwork="#1", fade_out=0.5)  # generated clips edit too
    assert edited.artifacts[0].version == 2


def test_inspired_by_a_picture_or_a_piece_joins_the_prompt(ctx, tiny_musicgen):
    from museforge.models.audio.musicgen import MusicgenBackend
    from museforge.models.image.procedural import ProceduralPainter

    ctx.services.audio = MusicgenBackend(str(tiny_musicgen))
    ctx.services.image = ProceduralPainter()
    run(ctx, "import_melody", notes="C D E F G", tempo=96, key="C major")
    made = run(ctx, "generate_audio", prompt="lofi beat", seconds=1, seed=1,
               inspired_by="#1").artifacts[0]
    assert made.recipe["prompt_used"] == "lofi beat, C major, 96 bpm, Acoustic Grand Piano"
    assert made.recipe["sources"][0]["artwork"] == 1
    run(ctx, "generate_image", prompt="a dark stormy night", seed=3, width=64, height=64)
    made = run(ctx, "generate_audio", seconds=1, seed=1, inspired_by="#3").artifacts[0]
    assert "minor" in made.recipe["prompt_used"] and made.recipe["inspiration"]["why"]


def test_a_full_band_recording_follows_the_piece(ctx, tiny_melody_musicgen):
    from museforge.models.audio.musicgen import MusicgenBackend

    ctx.services.audio_melody = MusicgenBackend(str(tiny_melody_musicgen))
    run(ctx, "import_melody", notes="C5 E5 G5 C6 G5 E5", tempo=120)  # #1
    run(ctx, "edit_music", artwork="#1", transpose=5)  # #1 v2
    made = run(ctx, "generate_audio", melody_from="#1", seconds=2, seed=4).artifacts[0]
    [source] = made.recipe["sources"]
    assert (source["artwork"], source["version"], source["role"]) == (1, 2, "melody")
    assert made.recipe["prompt_used"].startswith("a full-band recording")
    assert made.recipe["backend"]["class"] == "MusicgenMelodyForConditionalGeneration"
    assert replay(ctx, "#2").identical
    # Another melody, the same prompt and seed: other samples (the melody is followed).
    run(ctx, "import_melody", notes="A3 A3 A3 A3 A3 A3", tempo=120)  # #3
    again = run(ctx, "generate_audio", melody_from="#3", seconds=2, seed=4,
                prompt=made.recipe["prompt_used"]).artifacts[0]
    assert not np.array_equal(samples_of(again)[0], samples_of(made)[0])


def test_a_melody_asked_of_a_model_that_cannot_follow_one(ctx, monkeypatch, tiny_musicgen):
    from museforge.models.audio.musicgen import MusicgenBackend

    monkeypatch.setenv("MUSEFORGE_AUDIO_MODEL", str(tiny_musicgen))
    ctx.settings = load_settings()  # MUSEFORGE_AUDIO_MODEL reaches the tools as a setting
    ctx.services.audio = MusicgenBackend(str(tiny_musicgen))
    run(ctx, "import_melody", notes="C D E")
    with pytest.raises(ToolError, match="does not follow a melody: set MUSEFORGE_AUDIO_MODEL"):
        run(ctx, "generate_audio", melody_from="#1", seconds=1, seed=1)


def test_cancel_between_steps_keeps_nothing(ctx, tiny_musicgen):
    from museforge.models.audio.musicgen import MusicgenBackend

    ctx.services.audio = MusicgenBackend(str(tiny_musicgen))
    cancel = threading.Event()
    ctx.cancel = cancel
    ctx.progress = lambda what, i, n: cancel.set() if i >= 3 else None
    with pytest.raises(Cancelled):
        run(ctx, "generate_audio", prompt="rock", seconds=3, seed=1)
    assert ctx.store.list_artworks(ctx.actor, ctx.session) == []


def test_cost_estimates(ctx, tmp_path, tiny_musicgen):
    from museforge.models.audio.musicgen import MusicgenBackend
    from museforge.tools.costs import MUSICGEN_S_PER_SECOND, estimate
    from museforge.tools.registry import get_tool as tool

    imported(ctx, tmp_path, seconds=2.0)
    edit = tool("edit_audio").args.model_validate({"artwork": "#1", "loop_to": 300})
    short = tool("edit_audio").args.model_validate({"artwork": "#1", "gain": 1})
    assert estimate("edit_audio", ctx, edit) > 10 * estimate("edit_audio", ctx, short)
    gen = tool("generate_audio").args.model_validate({"prompt": "x", "seconds": 30})
    # No weights here: nothing to estimate, so the tool (not the budget) says how to get them.
    assert estimate("generate_audio", ctx, gen) == 0.0
    ctx.services.audio = MusicgenBackend(str(tiny_musicgen))  # handed in: loaded already
    assert estimate("generate_audio", ctx, gen) == pytest.approx(30 * MUSICGEN_S_PER_SECOND["cpu"])


def test_an_attachment_in_a_turn_comes_in_through_the_audio_loader(store, me, chat, tmp_path):
    from museforge.assistant.offline import OfflinePlanner
    from museforge.assistant.turn import Assistant

    assistant = Assistant(store, OfflinePlanner())
    song = tone_file(tmp_path, name="take one.ogg", fmt="OGG")
    result = assistant.turn(me, chat, "", [song])
    [made] = result.imported
    assert made.kind == "audio" and made.recipe["codec"] == "vorbis"
    midi_named = tmp_path / "fake.mp3"
    midi_named.write_bytes(b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x60")
    result = assistant.turn(me, chat, "", [midi_named])
    assert result.errors[0]["error"] == ("This is a MIDI file; send a WAV, FLAC, OGG (Vorbis "
                                         "or Opus) or MP3 file.")


# -- generate_audio with Stable Audio Open ---------------------------------------------------


def _tiny_stable_audio_builder():
    """tests/models/audio/tiny_stable_audio.py, by path as the MusicGen builder."""
    import importlib.util

    path = Path(__file__).parents[1] / "models" / "audio" / "tiny_stable_audio.py"
    spec = importlib.util.spec_from_file_location("tiny_stable_audio_for_tools", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.save_tiny_stable_audio


@pytest.fixture(scope="module")
def tiny_stable_audio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torchsde")
    return _tiny_stable_audio_builder()(tmp_path_factory.mktemp("stable-audio") / "tiny")


def stable_audio_in_hub(tmp_path: Path, folder: Path, monkeypatch) -> None:
    """The preset's weights where `museforge models pull stable-audio-open` puts them, and
    MUSEFORGE_AUDIO_MODEL=stable-audio-open."""
    repo = tmp_path / "hub" / "models--stabilityai--stable-audio-open-1.0"
    shutil.copytree(folder, repo / "snapshots" / "f00d")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("f00d")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("MUSEFORGE_AUDIO_MODEL", "stable-audio-open")


def test_generate_audio_with_stable_audio_open(ctx, monkeypatch, tmp_path, tiny_stable_audio):
    stable_audio_in_hub(tmp_path, tiny_stable_audio, monkeypatch)
    ctx.settings = load_settings()
    steps: list[tuple[int, int]] = []
    ctx.progress = lambda what, i, n: steps.append((i, n))
    result = run(ctx, "generate_audio", prompt="rain on a tin roof", seconds=1.5, seed=5,
                 steps=4, negative_prompt="thunder")
    [made] = result.artifacts
    samples, rate = samples_of(made)
    assert rate == 8000 and samples.shape == (12000, 2) and samples.std() > 1e-3
    backend = made.recipe["backend"]
    assert (backend["backend"], backend["preset"], backend["revision"]) == (
        "stable-audio", "stable-audio-open", "f00d")
    assert backend["seed"] == 5 and backend["steps"] == 4 and backend["deterministic"]
    assert backend["negative_prompt"] == "thunder" and made.recipe["args"]["steps"] == 4
    assert "Stable Audio Open" in result.message and "seed 5" in result.message
    assert steps == [(i, 4) for i in range(5)]
    report = replay(ctx, "#1")
    assert report.identical, report.detail
    plain = run(ctx, "generate_audio", prompt="rain on a tin roof", seconds=1.5, seed=5,
                steps=4).artifacts[0]
    assert not np.array_equal(samples_of(plain)[0], samples)  # the negative prompt counts
    run(ctx, "import_melody", notes="C D E")
    with pytest.raises(ToolError, match="Stable Audio Open does not follow a melody"):
        run(ctx, "generate_audio", melody_from="#3", seconds=1, seed=1)


def test_stable_audio_cancel_stops_at_the_next_step(ctx, monkeypatch, tmp_path,
                                                    tiny_stable_audio):
    stable_audio_in_hub(tmp_path, tiny_stable_audio, monkeypatch)
    ctx.settings = load_settings()
    cancel = threading.Event()
    seen: list[int] = []
    ctx.cancel = cancel

    def progress(what: str, i: int, n: int) -> None:
        seen.append(i)
        if i == 2:
            cancel.set()

    ctx.progress = progress
    with pytest.raises(Cancelled):
        run(ctx, "generate_audio", prompt="wind", seconds=1, seed=1, steps=20)
    assert seen == [0, 1, 2]  # the step after the cancel reported nothing: it stopped there
    assert ctx.store.list_artworks(ctx.actor, ctx.session) == []


def test_musicgen_refuses_what_only_stable_audio_takes(ctx, tiny_musicgen):
    from museforge.models.audio.musicgen import MusicgenBackend

    ctx.services.audio = MusicgenBackend(str(tiny_musicgen))
    with pytest.raises(ToolError, match="takes no negative prompt; Stable Audio Open does"):
        run(ctx, "generate_audio", prompt="rock", negative_prompt="drums", seconds=1)
    with pytest.raises(ToolError, match="steps follow from the seconds"):
        run(ctx, "generate_audio", prompt="rock", steps=10, seconds=1)


@pytest.mark.slow  # 100 diffusion steps (the model's default) and a cold CLI: ~10 s here
def test_ask_makes_a_clip_with_stable_audio_on_the_embedded_defaults(monkeypatch, tmp_path,
                                                                     tiny_stable_audio):
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1]))
    from cliutil import ask, museforge

    stable_audio_in_hub(tmp_path, tiny_stable_audio, monkeypatch)
    out = ask("generate audio of rain on a tin roof, 2 seconds")
    assert out["planner"] == "offline" and out["errors"] == []
    [call] = out["tool_calls"]
    assert call["name"] == "generate_audio" and call["ok"], out
    [made] = out["artifacts"]
    assert made["kind"] == "audio" and set(made["files"]) == {"wav", "ogg", "png"}
    backend = made["recipe"]["backend"]
    assert backend["preset"] == "stable-audio-open" and backend["steps"] == 100
    assert "Stable Audio Open" in out["reply"]
    data, rate = soundfile.read(made["files"]["wav"], dtype="float32", always_2d=True)
    assert rate == 8000 and data.shape == (16000, 2)
    done = museforge("replay", made["artwork"], "--session", "studio")
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_stable_audio_weights_is_one_sentence_with_the_command(ctx, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("MUSEFORGE_AUDIO_MODEL", "stable-audio-open")
    ctx.settings = load_settings()
    with pytest.raises(ToolError) as missing:
        run(ctx, "generate_audio", prompt="rain", seconds=2)
    text = str(missing.value)
    assert "museforge models pull stable-audio-open" in text and text.count(". ") == 0
    assert ctx.store.list_artworks(ctx.actor, ctx.session) == []


# -- generate_audio with ACE-Step ------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_ace_step(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import importlib.util

    path = Path(__file__).parents[1] / "models" / "audio" / "tiny_ace_step.py"
    spec = importlib.util.spec_from_file_location("tiny_ace_step_for_tools", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.save_tiny_ace_step(tmp_path_factory.mktemp("ace-step") / "tiny")


def test_generate_audio_with_ace_step(ctx, monkeypatch, tmp_path, tiny_ace_step):
    repo = tmp_path / "hub" / "models--ACE-Step--acestep-v15-xl-turbo-diffusers"
    shutil.copytree(tiny_ace_step, repo / "snapshots" / "cafe")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("cafe")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("MUSEFORGE_AUDIO_MODEL", "ace-step")
    ctx.settings = load_settings()
    steps: list[tuple[int, int]] = []
    ctx.progress = lambda what, i, n: steps.append((i, n))
    result = run(ctx, "generate_audio", prompt="a happy rock song", seconds=2, seed=9)
    [made] = result.artifacts
    samples, rate = samples_of(made)
    assert rate == 8000 and samples.shape == (16000, 2) and samples.std() > 1e-3
    backend = made.recipe["backend"]
    assert (backend["backend"], backend["preset"], backend["revision"], backend["steps"]) == (
        "ace-step", "ace-step", "cafe", 8)
    assert "ACE-Step 1.5" in result.message and steps == [(i, 8) for i in range(9)]
    report = replay(ctx, "#1")
    assert report.identical, report.detail
    with pytest.raises(ToolError, match="ACE-Step 1.5 takes no negative prompt"):
        run(ctx, "generate_audio", prompt="rock", negative_prompt="drums", seconds=1)


def test_a_model_the_person_names_is_used_for_that_call_only(ctx, monkeypatch, tmp_path,
                                                             tiny_stable_audio, tiny_musicgen):
    from museforge.models.audio.musicgen import MusicgenBackend

    stable_audio_in_hub(tmp_path, tiny_stable_audio, monkeypatch)
    monkeypatch.delenv("MUSEFORGE_AUDIO_MODEL")
    ctx.settings = load_settings()
    ctx.services.audio = MusicgenBackend(str(tiny_musicgen))  # the configured one
    named = run(ctx, "generate_audio", prompt="rain", seconds=1, seed=2, steps=3,
                model="stable-audio-open")
    assert named.artifacts[0].recipe["backend"]["preset"] == "stable-audio-open"
    assert "Stable Audio Open" in named.message
    assert replay(ctx, "#1").identical
    plain = run(ctx, "generate_audio", prompt="rain", seconds=1, seed=2)
    assert plain.artifacts[0].recipe["backend"]["backend"] == "musicgen"
    with pytest.raises(ValidationError, match="model must be one of"):
        run(ctx, "generate_audio", prompt="rain", model="/etc/some/folder")
    with pytest.raises(ToolError, match="museforge models pull ace-step"):
        run(ctx, "generate_audio", prompt="rain", model="ace-step")
    run(ctx, "import_melody", notes="C D E")
    with pytest.raises(ToolError, match="Stable Audio Open does not follow a melody"):
        run(ctx, "generate_audio", melody_from="#3", model="stable-audio-open", seconds=1)
