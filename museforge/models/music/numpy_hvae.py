"""The 16-bar hierarchical melody VAE at inference in plain numpy: the same ops as
``hvae.PhraseVAE``'s ``encode``, ``logits`` and ``generate`` on the same state-dict
tensors, in float32, so composing a phrase needs no torch
(``tests/models/music/test_phrase_model.py`` checks it against the torch network on the
held-out windows). Also what the phrase model's files are called and the network's
shape (``PhraseConfig``), which the torch module imports from here.

The LSTMs follow torch's layout, as in ``numpy_vae``; the bar decoder's input projection
is regrouped (token table, bar embedding and step features each projected once)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from museforge.models.music.base import MusicError
from museforge.models.music.checkpoint import WEIGHTS_DIR, read_safetensors
from museforge.models.music.data import NOTE_OFF, STEPS_PER_BAR, VOCAB
from museforge.models.music.numpy_vae import _lstm_step, _single_threaded
from museforge.models.music.phrase_data import (
    N_STEP_FEATURES,
    PHRASE_BARS,
    bar_features,
    step_features,
)

F32 = np.float32
# The phrase model's files, beside the 2-bar model's in the same weights folder.
PHRASE_WEIGHTS = "phrase_vae.safetensors"
PHRASE_CONFIG = "phrase_config.json"
PHRASE_HELDOUT = "phrase_heldout.npz"
PHRASE_FIGURES = "phrase_figures.json"
PHRASE_CARD = "PHRASE_MODEL_CARD.md"


@dataclass(frozen=True)
class PhraseConfig:
    """The phrase VAE's layer sizes (``phrase_config.json``'s ``model``)."""

    vocab: int = VOCAB
    embed: int = 32
    meter_embed: int = 8
    bar_encoder: int = 96  # per direction, over a bar's steps
    phrase_encoder: int = 128  # per direction, over the 16 bar vectors
    latent: int = 128
    conductor: int = 192
    bar_embed: int = 64  # the conductor's embedding fed at every step of its bar
    decoder: int = 256

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class PhraseCheckpoint:
    tensors: dict[str, np.ndarray]
    model: PhraseConfig
    config: dict[str, Any]
    revision: str


def load_phrase_checkpoint(path: Path | str = WEIGHTS_DIR) -> PhraseCheckpoint:
    path = Path(path)
    weights = path / PHRASE_WEIGHTS
    if not weights.exists():
        raise MusicError(f"no phrase model weights at {weights}; run "
                         "`museforge train-phrases` to make them")
    config = json.loads((path / PHRASE_CONFIG).read_text())
    tensors = {k: v.astype(np.float32) for k, v in read_safetensors(weights).items()}
    revision = hashlib.sha256(weights.read_bytes()).hexdigest()[:12]
    return PhraseCheckpoint(tensors, PhraseConfig(**config["model"]), config, revision)


def _lstm(t: dict[str, np.ndarray], name: str, suffix: str = "_l0",
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An LSTM direction's input weights ``[in, 4H]``, recurrent ``[H, 4H]`` and bias."""
    return (t[f"{name}.weight_ih{suffix}"].T.copy(), t[f"{name}.weight_hh{suffix}"].T.copy(),
            t[f"{name}.bias_ih{suffix}"] + t[f"{name}.bias_hh{suffix}"])


def _run(projected: np.ndarray, w_hh: np.ndarray, reverse: bool = False,
         state: tuple[np.ndarray, np.ndarray] | None = None,
         ) -> tuple[np.ndarray, np.ndarray]:
    """An LSTM over ``projected`` ``[batch, steps, 4H]`` (input projection and bias
    already added): every step's output ``[batch, steps, H]`` and the final hidden state."""
    batch, steps, _ = projected.shape
    hidden = w_hh.shape[0]
    if state is None:
        h, c = np.zeros((batch, hidden), F32), np.zeros((batch, hidden), F32)
    else:
        h, c = state
    out = np.empty((batch, steps, hidden), F32)
    for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
        h, c = _lstm_step(projected[:, t] + h @ w_hh, c)
        out[:, t] = h
    return out, h


class NumpyPhraseVAE:
    """Inference-only ``PhraseVAE`` from its state dict (arrays by torch's names)."""

    @_single_threaded
    def __init__(self, config: PhraseConfig, tensors: Mapping[str, np.ndarray]) -> None:
        self.config = c = config
        t = {k: np.ascontiguousarray(v, dtype=F32) for k, v in tensors.items()}
        expected = {"embed.weight": (c.vocab, c.embed), "meter.weight": (None, c.meter_embed),
                    "to_latent.weight": (2 * c.latent, 2 * c.phrase_encoder),
                    "to_conductor.weight": (2 * c.conductor, c.latent + c.meter_embed),
                    "to_bar_state.weight": (2 * c.decoder, c.conductor),
                    "to_bar_embed.weight": (c.bar_embed, c.conductor),
                    "decoder.weight_hh_l0": (4 * c.decoder, c.decoder),
                    "out.weight": (c.vocab, c.decoder)}
        for name, shape in expected.items():
            if name not in t or any(want is not None and got != want
                                    for got, want in zip(t[name].shape, shape, strict=True)):
                raise ValueError(f"the weights do not fit the config: {name}")
        self.embed = t["embed.weight"]
        self.meter = t["meter.weight"]
        self.bar_encoder = [_lstm(t, "bar_encoder"), _lstm(t, "bar_encoder", "_l0_reverse")]
        self.phrase_encoder = [_lstm(t, "phrase_encoder"),
                               _lstm(t, "phrase_encoder", "_l0_reverse")]
        self.to_latent = (t["to_latent.weight"].T.copy(), t["to_latent.bias"])
        self.to_conductor = (t["to_conductor.weight"].T.copy(), t["to_conductor.bias"])
        self.conductor = _lstm(t, "conductor")
        self.to_bar_state = (t["to_bar_state.weight"].T.copy(), t["to_bar_state.bias"])
        self.to_bar_embed = (t["to_bar_embed.weight"].T.copy(), t["to_bar_embed.bias"])
        w_ih, self._w_hh, self._bias = _lstm(t, "decoder")
        if w_ih.shape[0] != c.embed + c.bar_embed + N_STEP_FEATURES + c.meter_embed:
            raise ValueError("the weights do not fit the config: decoder input")
        # the bar decoder's input is [token embedding, bar embedding, step features, meter]
        self._token_in = self.embed @ w_ih[:c.embed]  # [vocab, 4H]
        self._embed_in = w_ih[c.embed:c.embed + c.bar_embed]  # [bar_embed, 4H]
        self._cond_in = w_ih[c.embed + c.bar_embed:]  # [step_in, 4H]
        self.out = (t["out.weight"].T.copy(), t["out.bias"])

    # -- conditioning
    def _cond(self, meter: int) -> tuple[np.ndarray, np.ndarray]:
        m = self.meter[meter]
        steps, bars = step_features(meter), bar_features()
        return (np.concatenate([steps, np.broadcast_to(m, (len(steps), len(m)))], 1).astype(F32),
                np.concatenate([bars, np.broadcast_to(m, (len(bars), len(m)))], 1).astype(F32))

    # -- encoder
    @_single_threaded
    def encode(self, tokens: np.ndarray, meter: int) -> tuple[np.ndarray, np.ndarray]:
        """``(mu, logvar)`` ``[batch, latent]`` of 16-bar token windows."""
        tokens = np.asarray(tokens, np.int64)
        batch = tokens.shape[0]
        bar = STEPS_PER_BAR[meter]
        step_cond, bar_cond = self._cond(meter)
        n = batch * PHRASE_BARS
        x = np.concatenate([self.embed[tokens.reshape(n, bar)],
                            np.broadcast_to(step_cond, (n, *step_cond.shape))], axis=2)
        finals = [_run(x @ w_ih + b, w_hh, reverse=k == 1)[1]
                  for k, (w_ih, w_hh, b) in enumerate(self.bar_encoder)]
        bars = np.concatenate(finals, axis=1).reshape(batch, PHRASE_BARS, -1)
        x = np.concatenate([bars, np.broadcast_to(bar_cond, (batch, *bar_cond.shape))], axis=2)
        finals = [_run(x @ w_ih + b, w_hh, reverse=k == 1)[1]
                  for k, (w_ih, w_hh, b) in enumerate(self.phrase_encoder)]
        w, b = self.to_latent
        mu, logvar = np.split(np.concatenate(finals, axis=1) @ w + b, 2, axis=1)
        return mu, logvar

    # -- decoder
    def conduct(self, z: np.ndarray, meter: int) -> np.ndarray:
        """The conductor's output per bar, ``[batch, 16, conductor]``."""
        batch = z.shape[0]
        _, bar_cond = self._cond(meter)
        m = np.broadcast_to(self.meter[meter], (batch, self.meter.shape[1]))
        w, b = self.to_conductor
        h0, c0 = np.split(np.tanh(np.concatenate([z, m], axis=1) @ w + b), 2, axis=1)
        x = np.concatenate([np.broadcast_to(z[:, None], (batch, PHRASE_BARS, z.shape[1])),
                            np.broadcast_to(bar_cond, (batch, *bar_cond.shape))], axis=2)
        w_ih, w_hh, bias = self.conductor
        y, _ = _run(x @ w_ih + bias, w_hh, state=(np.ascontiguousarray(h0),
                                                 np.ascontiguousarray(c0)))
        return y

    def _bars(self, z: np.ndarray, meter: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per bar: the decoder's initial ``h`` and ``c`` and the fixed part of its input
        projection (bar embedding and bias), each ``[batch, 16, ...]``."""
        conducted = self.conduct(z, meter)
        w, b = self.to_bar_state
        h, c = np.split(np.tanh(conducted @ w + b), 2, axis=2)
        w, b = self.to_bar_embed
        fixed = (conducted @ w + b) @ self._embed_in + self._bias
        return np.ascontiguousarray(h), np.ascontiguousarray(c), fixed

    @_single_threaded
    def logits(self, z: np.ndarray, tokens: np.ndarray, meter: int) -> np.ndarray:
        """Teacher-forced logits ``[batch, steps, vocab]``: step t sees tokens < t."""
        z = np.asarray(z, F32)
        tokens = np.asarray(tokens, np.int64)
        batch, steps = tokens.shape
        bar = STEPS_PER_BAR[meter]
        step_cond, _ = self._cond(meter)
        h, c, fixed = self._bars(z, meter)
        previous = np.concatenate([np.full((batch, 1), NOTE_OFF, np.int64), tokens[:, :-1]],
                                  axis=1).reshape(batch * PHRASE_BARS, bar)
        n = batch * PHRASE_BARS
        projected = self._token_in[previous] + (step_cond @ self._cond_in)[None] \
            + fixed.reshape(n, 1, -1)
        y, _ = _run(projected, self._w_hh, state=(h.reshape(n, -1), c.reshape(n, -1)))
        w, b = self.out
        return (y @ w + b).reshape(batch, steps, -1)  # type: ignore[no-any-return]

    @_single_threaded
    def generate(self, z: np.ndarray, meter: int, *, temperature: float = 0.0,
                 rng: np.random.Generator | None = None, bars: int = PHRASE_BARS,
                 ) -> np.ndarray:
        """Tokens ``[batch, bars * steps_per_bar]`` decoded one step at a time
        (temperature 0: greedy; otherwise drawn from softmax(logits / temperature) with
        ``rng``); ``bars`` stops after the first bars of the phrase."""
        z = np.asarray(z, F32)
        batch = z.shape[0]
        bar = STEPS_PER_BAR[meter]
        if temperature > 0 and rng is None:
            rng = np.random.default_rng(0)
        step_cond, _ = self._cond(meter)
        cond = step_cond @ self._cond_in  # [bar, 4H]
        h_all, c_all, fixed = self._bars(z, meter)
        w, b = self.out
        token = np.full(batch, NOTE_OFF, np.int64)
        out = np.empty((batch, bars * bar), np.int64)
        for k in range(bars):
            h, c = h_all[:, k], c_all[:, k]
            for t in range(bar):
                h, c = _lstm_step(self._token_in[token] + fixed[:, k] + cond[t]
                                  + h @ self._w_hh, c)
                logits = h @ w + b
                if temperature <= 0:
                    token = logits.argmax(axis=1)
                else:
                    scaled = logits.astype(np.float64) / temperature
                    scaled -= scaled.max(axis=1, keepdims=True)
                    cdf = np.cumsum(np.exp(scaled), axis=1)
                    u = rng.random(batch) * cdf[:, -1]  # type: ignore[union-attr]
                    token = np.minimum((cdf <= u[:, None]).sum(axis=1), logits.shape[1] - 1)
                out[:, k * bar + t] = token
        return out
