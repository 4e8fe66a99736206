"""The melody model's numpy run time: the same weights read without torch or the
safetensors package, the same tokens as the torch network on held-out windows, seeded
sampling, and a composing turn that never imports torch."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from museforge.models.music import data
from museforge.models.music.base import MusicError
from museforge.models.music.checkpoint import (
    HELDOUT_FILE,
    WEIGHTS_DIR,
    WEIGHTS_FILE,
    read_safetensors,
)

ROOT = Path(__file__).resolve().parents[3]
TIME_SIGNATURES = [(4, 4), (2, 4), (3, 4), (6, 8)]  # one per meter id
PER_METER = 200  # held-out windows per meter compared (of the 1,500 committed)


@pytest.fixture(scope="module")
def numpy_model():
    from museforge.models.music.model import load_default

    return load_default()


@pytest.fixture(scope="module")
def torch_model():
    pytest.importorskip("torch")
    from museforge.models.music.model import MelodyVAEModel

    return MelodyVAEModel.from_dir(WEIGHTS_DIR, backend="torch")


@pytest.fixture(scope="module")
def heldout():
    from museforge.models.music.train import load_heldout

    windows, _ = load_heldout(WEIGHTS_DIR / HELDOUT_FILE)
    return [w.take(np.arange(min(len(w), PER_METER))) for w in windows]


# ---------------------------------------------------------------- reading the weights


def test_the_reader_gives_what_the_safetensors_package_gives():
    numpy_loader = pytest.importorskip("safetensors.numpy")
    ours = read_safetensors(WEIGHTS_DIR / WEIGHTS_FILE)
    theirs = numpy_loader.load_file(str(WEIGHTS_DIR / WEIGHTS_FILE))
    assert ours.keys() == theirs.keys()
    for name, array in theirs.items():
        assert ours[name].dtype == array.dtype and ours[name].shape == array.shape, name
        assert np.array_equal(ours[name], array), name


def _file(header: dict, body: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + body


def test_the_reader_reads_the_dtypes_it_names(tmp_path):
    half = np.array([[1.5, -2.0], [0.25, 65504.0]], "<f2")
    ints = np.arange(3, dtype="<i8")
    bf16 = np.array([0x3FC0, 0xC000], "<u2")  # 1.5, -2.0 in bfloat16
    body = half.tobytes() + ints.tobytes() + bf16.tobytes()
    header = {"__metadata__": {"format": "pt"},
              "h": {"dtype": "F16", "shape": [2, 2], "data_offsets": [0, 8]},
              "i": {"dtype": "I64", "shape": [3], "data_offsets": [8, 32]},
              "b": {"dtype": "BF16", "shape": [2], "data_offsets": [32, 36]}}
    path = tmp_path / "w.safetensors"
    path.write_bytes(_file(header, body))
    got = read_safetensors(path)
    assert set(got) == {"h", "i", "b"}
    assert np.array_equal(got["h"], half) and got["h"].dtype == np.float16
    assert np.array_equal(got["i"], ints)
    assert got["b"].tolist() == [1.5, -2.0]


@pytest.mark.parametrize("content", [
    b"\x01\x00",  # shorter than the length field
    struct.pack("<Q", 10**9) + b"{}",  # a header longer than the file
    struct.pack("<Q", 4) + b"nope",  # not JSON
    _file({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 8),
    _file({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 16]}}, b"\0" * 16),
    _file({"w": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}}, b"\0" * 8),
    _file({"w": {"shape": [1]}}, b""),
])
def test_the_reader_refuses_a_damaged_file(tmp_path, content):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(MusicError, match="bad.safetensors"):
        read_safetensors(path)


def test_the_runtime_model_runs_on_numpy(numpy_model):
    from museforge.models.music.numpy_vae import NumpyMelodyVAE

    assert numpy_model.backend == "numpy"
    assert isinstance(numpy_model._net, NumpyMelodyVAE)
    card = (WEIGHTS_DIR / "MODEL_CARD.md").read_text()
    assert f"revision `{numpy_model.revision}`" in card
    with pytest.raises(MusicError, match="numpy or torch"):
        type(numpy_model).from_dir(WEIGHTS_DIR, backend="jax")


# ---------------------------------------------------------------- numpy against torch


@pytest.mark.parametrize("meter", range(4))
def test_numpy_matches_torch_on_heldout_windows(torch_model, numpy_model, heldout, meter):
    import torch

    w = heldout[meter]
    tokens = w.tokens.astype(np.int64)
    steps = tokens.shape[1]
    tnet, nnet = torch_model._net, numpy_model._net
    with torch.no_grad():
        mu_t, logvar_t = tnet.encode(torch.from_numpy(tokens), meter)
        logits_t = tnet.logits(mu_t, torch.from_numpy(tokens), meter).numpy()
        greedy_t = tnet.generate(mu_t, meter, steps).numpy()
    mu_n, logvar_n = nnet.encode(tokens, meter)
    logits_n = nnet.logits(mu_n, tokens, meter)

    assert np.abs(mu_n - mu_t.numpy()).max() < 1e-4
    assert np.abs(logvar_n - logvar_t.numpy()).max() < 1e-4
    assert np.abs(logits_n - logits_t).max() < 1e-4
    # greedy decoding: the same tokens, from numpy's own latents and from torch's
    assert np.array_equal(nnet.generate(mu_n, meter, steps), greedy_t)
    assert np.array_equal(nnet.generate(mu_t.numpy(), meter, steps), greedy_t)
    # and the model reconstructs these windows as its card says (not a vacuous match)
    assert (logits_n.argmax(2) == tokens).mean() > 0.9


def test_the_runtime_api_gives_the_same_melodies_on_both(torch_model, numpy_model, heldout):
    for w, ts in zip(heldout, TIME_SIGNATURES, strict=True):
        melodies = [data.tokens_to_notes(row) for row in w.tokens[:24]]
        zn = numpy_model.encode_many(melodies, ts)
        zt = torch_model.encode_many(melodies, ts)
        assert np.abs(np.subtract(zn, zt)).max() < 1e-4
        assert numpy_model.decode_many(zn, ts) == torch_model.decode_many(zt, ts)
        path = numpy_model.interpolate(zn[0], zn[1], 4)
        assert numpy_model.decode_many(path, ts) == torch_model.decode_many(path, ts)


# ---------------------------------------------------------------- sampling


def test_sampling_with_a_seed_is_reproducible(numpy_model):
    first = numpy_model.sample(6, (6, 8), temperature=1.0, seed=11)
    assert numpy_model.sample(6, (6, 8), temperature=1.0, seed=11) == first
    assert numpy_model.sample(6, (6, 8), temperature=1.0, seed=12) != first
    z = numpy_model.perturb([0.0] * numpy_model.latent_size, 1.0, seed=3)
    warm = numpy_model.decode_many([z] * 4, (3, 4), temperature=0.8, seed=5)
    assert numpy_model.decode_many([z] * 4, (3, 4), temperature=0.8, seed=5) == warm
    assert len({tuple(m) for m in warm}) > 1  # each row draws its own tokens
    again = numpy_model.continue_melody(first[0], (6, 8), 4, seed=2)
    assert numpy_model.continue_melody(first[0], (6, 8), 4, seed=2) == again


def test_sampled_tokens_follow_the_softmax(numpy_model):
    """The first step of many rows from one latent: token shares against the softmax of
    its logits at the temperature (total variation well under what a wrong sampler,
    e.g. one ignoring the temperature, gives)."""
    net = numpy_model._net
    meter, n, temperature = 2, 20_000, 1.5
    z = np.asarray(numpy_model.perturb([0.0] * numpy_model.latent_size, 1.0, seed=4),
                   np.float32)[None].repeat(n, 0)
    logits = net.logits(z[:1], np.zeros((1, 1), np.int64), meter)[0, 0].astype(np.float64)
    tokens = net.generate(z, meter, 1, temperature=temperature,
                          rng=np.random.default_rng(0))[:, 0]
    shares = np.bincount(tokens, minlength=len(logits)) / n

    def softmax(x):
        e = np.exp(x - x.max())
        return e / e.sum()

    expected = softmax(logits / temperature)
    assert 0.5 * np.abs(shares - expected).sum() < 0.02
    wrong = softmax(logits)
    assert 0.5 * np.abs(wrong - expected).sum() > 0.04  # the check could tell them apart


# ---------------------------------------------------------------- no torch when composing


_COMPOSE = textwrap.dedent("""
    import importlib.abc, sys
    BLOCK = {block!r}

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCK:
                raise ImportError(f"{{name}} is not installed (blocked by the test)")

    sys.meta_path.insert(0, Block())
    from museforge.cli import main
    sys.argv = ["museforge", "ask", "compose a jig"]
    try:
        main()
    except SystemExit as done:
        code = done.code
    print("EXIT", code)
    print("LOADED", sorted(m for m in ("torch", "safetensors") if m in sys.modules))
""")


@pytest.mark.parametrize("block", [(), ("torch", "safetensors")],
                         ids=["torch-installed", "base-install"])
def test_composing_a_piece_never_imports_torch(tmp_path, block):
    """A real turn, ``museforge ask "compose a jig"``, in a fresh process and data dir:
    torch stays out of ``sys.modules``, and with torch and safetensors made unimportable
    (what the base install lacks) the turn still composes."""
    env = dict(os.environ, MUSEFORGE_HOME=str(tmp_path / "home"), COLUMNS="200",
               MUSEFORGE_NO_INLINE="1")
    done = subprocess.run([sys.executable, "-c", _COMPOSE.format(block=block)],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=180)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "EXIT 0" in lines, done.stdout + done.stderr
    assert any(line.startswith("Composed #1") for line in lines), done.stdout
    assert "LOADED []" in lines, done.stdout


def test_the_card_says_how_the_model_runs(tmp_path):
    """The committed card is what ``write_model_card`` writes from ``figures.json``, and
    says the run time needs no torch."""
    from museforge.models.music.evaluate import write_model_card

    figures = json.loads((WEIGHTS_DIR / "figures.json").read_text())
    write_model_card(figures, tmp_path / "card.md")
    card = (WEIGHTS_DIR / "MODEL_CARD.md").read_text()
    assert (tmp_path / "card.md").read_text() == card
    assert "runs the network in numpy" in card and "neither torch nor" in card


def test_the_network_runs_blas_on_one_thread_and_puts_the_count_back():
    from museforge.models.music import numpy_vae

    blas = numpy_vae._blas_threads()
    if blas is None:
        pytest.skip("numpy here does not use OpenBLAS")
    setter, getter = blas
    before = getter()
    setter(2)
    try:
        with numpy_vae.one_blas_thread():
            assert getter() == 1
            with numpy_vae.one_blas_thread():  # nested (or another thread's) call
                assert getter() == 1
            assert getter() == 1
        assert getter() == 2
    finally:
        setter(before)
