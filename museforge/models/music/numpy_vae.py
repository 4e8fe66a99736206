"""The melody VAE at inference in plain numpy: the same ops as ``vae.MelodyVAE``'s
``encode``, ``logits`` and ``generate`` (bidirectional LSTM encoder to the latent's mean
and log-variance, decoder state from z and the meter, one LSTM step per sixteenth), on
the same state-dict tensors, in float32. No torch: a cold process composes in a fraction
of a second instead of importing torch first (``tests/models/music/test_numpy_runtime.py``
checks it against the torch network on the held-out windows).

LSTMs follow torch's layout: gates stacked as input, forget, cell, output, with
``bias_ih + bias_hh``. Decoder steps use precomputed input projections (the token
embedding table, z and the per-step conditioning projected once), which is the same sum
as projecting the concatenated input, regrouped.

Every call runs with numpy's BLAS on one thread (``one_blas_thread``): these matrices are
a few hundred wide, too small for threads to pay, and on a busy machine OpenBLAS's
threads made a composing turn's sampling about 8x slower (80 ms against 9 ms per batch of
eight 2-bar melodies, measured on the 2-core development machine)."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from museforge.models.music.checkpoint import VAEConfig
from museforge.models.music.data import N_POSITION_FEATURES, NOTE_OFF, position_features

F32 = np.float32
T = TypeVar("T")

# ---------------------------------------------------------------- BLAS threads

_SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
            "openblas_set_num_threads64_", "openblas_set_num_threads")
_GETTERS = ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
            "openblas_get_num_threads64_", "openblas_get_num_threads")
_lock = threading.Lock()
_users = 0
_saved = 0


def _openblas_paths() -> list[str]:
    """Where numpy's bundled OpenBLAS lies (wheels: ``numpy.libs`` or ``numpy/.dylibs``),
    and any OpenBLAS this process has mapped (Linux)."""
    here = Path(np.__file__).parent
    paths = [str(p) for folder in (here.parent / "numpy.libs", here / ".dylibs")
             if folder.is_dir() for p in sorted(folder.glob("*openblas*"))]
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/maps").read_text().splitlines():
            path = line.split(maxsplit=5)[-1] if line.count(" ") >= 5 else ""
            if "openblas" in path.lower() and path.startswith("/") and path not in paths:
                paths.append(path)
    return paths


@functools.lru_cache(maxsize=1)
def _blas_threads() -> tuple[Callable[[int], None], Callable[[], int]] | None:
    """numpy's OpenBLAS thread setter and getter, or None where numpy uses another BLAS
    (then nothing is changed)."""
    for path in _openblas_paths():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        setter = next((getattr(lib, n) for n in _SETTERS if hasattr(lib, n)), None)
        getter = next((getattr(lib, n) for n in _GETTERS if hasattr(lib, n)), None)
        if setter is not None and getter is not None:
            setter.argtypes, setter.restype = [ctypes.c_int], None
            getter.argtypes, getter.restype = [], ctypes.c_int
            return setter, getter
    return None


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """numpy's BLAS on one thread inside; the count before is put back when the last
    caller (of any thread) leaves."""
    global _users, _saved
    blas = _blas_threads()
    if blas is None:
        yield
        return
    setter, getter = blas
    with _lock:
        if _users == 0:
            _saved = getter()
            setter(1)
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                setter(_saved)


def _single_threaded(fn: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        with one_blas_thread():
            return fn(*args, **kwargs)
    return wrapper


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return F32(0.5) * (np.tanh(F32(0.5) * x) + F32(1.0))  # no overflow for large |x|


def _lstm_step(gates: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One LSTM cell update from its summed gate pre-activations ``[batch, 4H]``."""
    i, f, g, o = np.split(gates, 4, axis=1)
    c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    return _sigmoid(o) * np.tanh(c), c


class NumpyMelodyVAE:
    """Inference-only ``MelodyVAE`` from its state dict (arrays by torch's names)."""

    @_single_threaded
    def __init__(self, config: VAEConfig, tensors: Mapping[str, np.ndarray]) -> None:
        self.config = c = config
        t = {k: np.ascontiguousarray(v, dtype=F32) for k, v in tensors.items()}
        expected = {"embed.weight": (c.vocab, c.embed),
                    "meter.weight": (None, c.meter_embed),
                    "to_latent.weight": (2 * c.latent, 2 * c.encoder),
                    "to_state.weight": (2 * c.decoder_layers * c.decoder,
                                        c.latent + c.meter_embed),
                    "out.weight": (c.vocab, c.decoder)}
        for name, shape in expected.items():
            if name not in t or any(want is not None and got != want
                                    for got, want in zip(t[name].shape, shape, strict=True)):
                raise ValueError(f"the weights do not fit the config: {name}")
        self.embed = t["embed.weight"]
        self.meter = t["meter.weight"]
        cond = N_POSITION_FEATURES + c.meter_embed
        # encoder, each direction: input weights transposed [in, 4H], recurrent [H, 4H]
        self.encoder = []
        for suffix in ("_l0", "_l0_reverse"):
            self.encoder.append((t[f"encoder.weight_ih{suffix}"].T.copy(),
                                 t[f"encoder.weight_hh{suffix}"].T.copy(),
                                 t[f"encoder.bias_ih{suffix}"] + t[f"encoder.bias_hh{suffix}"]))
        self.to_latent = (t["to_latent.weight"].T.copy(), t["to_latent.bias"])
        self.to_state = (t["to_state.weight"].T.copy(), t["to_state.bias"])
        # decoder layer 0's input is [embedding, z, position features, meter embedding]
        self.decoder = []
        for layer in range(c.decoder_layers):
            w_ih = t[f"decoder.weight_ih_l{layer}"].T.copy()
            self.decoder.append((w_ih, t[f"decoder.weight_hh_l{layer}"].T.copy(),
                                 t[f"decoder.bias_ih_l{layer}"] + t[f"decoder.bias_hh_l{layer}"]))
        w0 = self.decoder[0][0]
        if w0.shape[0] != c.embed + c.latent + cond:
            raise ValueError("the weights do not fit the config: decoder input")
        self._token_in = self.embed @ w0[:c.embed]  # [vocab, 4H]
        self._z_in = w0[c.embed:c.embed + c.latent]  # [latent, 4H]
        self._cond_in = w0[c.embed + c.latent:]  # [cond, 4H]
        self.out = (t["out.weight"].T.copy(), t["out.bias"])
        self._cond_cache: dict[int, np.ndarray] = {}

    # -- conditioning
    def _cond(self, meter: int) -> np.ndarray:
        """``[steps, N_POSITION_FEATURES + meter_embed]`` for a 2-bar window of ``meter``."""
        if meter not in self._cond_cache:
            pos = position_features(meter)
            m = np.broadcast_to(self.meter[meter], (pos.shape[0], self.meter.shape[1]))
            self._cond_cache[meter] = np.concatenate([pos, m], axis=1).astype(F32)
        return self._cond_cache[meter]

    # -- encoder
    @_single_threaded
    def encode(self, tokens: np.ndarray, meter: int) -> tuple[np.ndarray, np.ndarray]:
        """``(mu, logvar)`` ``[batch, latent]`` of token windows ``[batch, steps]``."""
        tokens = np.asarray(tokens, np.int64)
        batch, steps = tokens.shape
        cond = self._cond(meter)[:steps]
        cond = np.broadcast_to(cond, (batch, *cond.shape))
        x = np.concatenate([self.embed[tokens], cond], axis=2)  # [batch, steps, in]
        finals = []
        for direction, (w_ih, w_hh, bias) in enumerate(self.encoder):
            projected = x @ w_ih + bias  # [batch, steps, 4H]
            hidden = w_hh.shape[0]
            h = np.zeros((batch, hidden), F32)
            c = np.zeros((batch, hidden), F32)
            order = range(steps) if direction == 0 else range(steps - 1, -1, -1)
            for t in order:
                h, c = _lstm_step(projected[:, t] + h @ w_hh, c)
            finals.append(h)
        w, b = self.to_latent
        mu, logvar = np.split(np.concatenate(finals, axis=1) @ w + b, 2, axis=1)
        return mu, logvar

    # -- decoder
    def _initial_state(self, z: np.ndarray, meter: int) -> list[tuple[np.ndarray, np.ndarray]]:
        c = self.config
        m = np.broadcast_to(self.meter[meter], (z.shape[0], self.meter.shape[1]))
        w, b = self.to_state
        state = np.tanh(np.concatenate([z, m], axis=1) @ w + b)
        state = state.reshape(z.shape[0], 2, c.decoder_layers, c.decoder)
        return [(np.ascontiguousarray(state[:, 0, k]), np.ascontiguousarray(state[:, 1, k]))
                for k in range(c.decoder_layers)]

    def _step(self, gates0: np.ndarray, state: list[tuple[np.ndarray, np.ndarray]],
              ) -> np.ndarray:
        """One decoder step given layer 0's input projection; updates ``state``, returns
        the step's logits."""
        y = gates0
        for k, (w_ih, w_hh, bias) in enumerate(self.decoder):
            h, c = state[k]
            gates = (y if k == 0 else y @ w_ih) + h @ w_hh + bias
            h, c = _lstm_step(gates, c)
            state[k] = (h, c)
            y = h
        w, b = self.out
        return y @ w + b  # type: ignore[no-any-return]

    @_single_threaded
    def logits(self, z: np.ndarray, tokens: np.ndarray, meter: int) -> np.ndarray:
        """Teacher-forced logits ``[batch, steps, vocab]``: step t sees tokens < t."""
        z = np.asarray(z, F32)
        tokens = np.asarray(tokens, np.int64)
        batch, steps = tokens.shape
        previous = np.concatenate([np.full((batch, 1), NOTE_OFF, np.int64), tokens[:, :-1]],
                                  axis=1)
        fixed = z @ self._z_in  # [batch, 4H]
        cond = self._cond(meter) @ self._cond_in  # [steps, 4H]
        state = self._initial_state(z, meter)
        out = np.empty((batch, steps, self.config.vocab), F32)
        for t in range(steps):
            out[:, t] = self._step(self._token_in[previous[:, t]] + fixed + cond[t], state)
        return out

    @_single_threaded
    def generate(self, z: np.ndarray, meter: int, steps: int, *, temperature: float = 0.0,
                 rng: np.random.Generator | None = None) -> np.ndarray:
        """Tokens ``[batch, steps]`` decoded one step at a time (temperature 0: greedy;
        otherwise each token drawn from softmax(logits / temperature) with ``rng``)."""
        z = np.asarray(z, F32)
        batch = z.shape[0]
        if temperature > 0 and rng is None:
            rng = np.random.default_rng(0)
        fixed = z @ self._z_in
        cond = self._cond(meter) @ self._cond_in
        state = self._initial_state(z, meter)
        token = np.full(batch, NOTE_OFF, np.int64)
        out = np.empty((batch, steps), np.int64)
        for t in range(steps):
            logits = self._step(self._token_in[token] + fixed + cond[t], state)
            if temperature <= 0:
                token = logits.argmax(axis=1)
            else:
                scaled = logits.astype(np.float64) / temperature
                scaled -= scaled.max(axis=1, keepdims=True)
                cdf = np.cumsum(np.exp(scaled), axis=1)
                u = rng.random(batch) * cdf[:, -1]  # type: ignore[union-attr]
                token = np.minimum((cdf <= u[:, None]).sum(axis=1), logits.shape[1] - 1)
            out[:, t] = token
        return out
