"""The melody model at run time: the trained MusicVAE-style network behind the
``MelodyModel`` protocol, plus what the music tools build on it (interpolation in z,
variation by perturbing z, continuation by chunks).

The network runs in numpy (``numpy_vae.NumpyMelodyVAE``, the same ops as the torch
``vae.MelodyVAE`` on the same safetensors weights), so composing never imports torch and
works on the base install. ``from_dir(path, backend="torch")`` runs the torch network
instead (what ``evaluate`` and training use, and the equivalence test checks against).
Greedy decoding gives the same tokens on both; sampling draws from the same
distributions, but numpy's and torch's random streams differ, so a seed's samples do too.

Importing this module is cheap; the weights load on the first ``load_default()`` (or
``MelodyVAEModel.from_dir``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from museforge.models.music.base import Continuation, MusicError
from museforge.models.music.checkpoint import WEIGHTS_DIR, load_checkpoint
from museforge.models.music.data import (
    MAX_PITCH,
    MIN_PITCH,
    STEPS_PER_BAR,
    STEPS_PER_BEAT,
    meter_index,
    notes_to_tokens,
    tokens_to_notes,
)
from museforge.models.music.numpy_vae import NumpyMelodyVAE
from museforge.models.music.piece import Note

__all__ = ["WEIGHTS_DIR", "Continuation", "MelodyVAEModel", "load_default", "slerp"]
BACKENDS = ("numpy", "torch")
FIFTH = 7  # semitones: the widest leap allowed where a continuation joins
CONTINUE_CANDIDATES = 16
CONTINUE_AMOUNT = 0.35  # how far each new chunk's latent moves from the previous one's


def slerp(za: Sequence[float], zb: Sequence[float], t: float) -> list[float]:
    a, b = np.asarray(za, np.float64), np.asarray(zb, np.float64)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return list(map(float, (1 - t) * a + t * b))
    omega = math.acos(float(np.clip(a @ b / (na * nb), -1.0, 1.0)))
    if omega < 1e-6:
        return list(map(float, (1 - t) * a + t * b))
    s = math.sin(omega)
    return list(map(float, math.sin((1 - t) * omega) / s * a + math.sin(t * omega) / s * b))


class MelodyVAEModel:
    """The committed melody VAE: 2-bar windows in 4/4 (C), 2/2 (C|), 2/4, 3/4 and 6/8,
    pitches C3..C6 (MIDI 48..84), a sixteenth-note grid."""

    name = "museforge-melody-vae"
    pitch_range = (MIN_PITCH, MAX_PITCH)
    time_signatures = ((4, 4), (2, 2), (2, 4), (3, 4), (6, 8))

    def __init__(self, net: Any, config: dict[str, Any], revision: str) -> None:
        """``net``: a ``NumpyMelodyVAE``, or a torch ``MelodyVAE`` (then every call runs
        on torch)."""
        self._net = net
        self.backend = "numpy" if isinstance(net, NumpyMelodyVAE) else "torch"
        self.config = config
        self.revision = revision  # first 12 hex digits of the weights' sha256
        self.latent_size: int = int(config["model"]["latent"])

    @classmethod
    def from_dir(cls, path: Path | str, *, backend: str = "numpy") -> MelodyVAEModel:
        if backend not in BACKENDS:
            raise MusicError(f"the melody model runs on numpy or torch, not {backend!r}")
        ckpt = load_checkpoint(path)
        if backend == "numpy":
            return cls(NumpyMelodyVAE(ckpt.model, ckpt.tensors), ckpt.config, ckpt.revision)
        import torch

        from museforge.models.music.vae import MelodyVAE

        net = MelodyVAE(ckpt.model)
        net.load_state_dict({k: torch.from_numpy(v) for k, v in ckpt.tensors.items()})
        net.eval()
        return cls(net, ckpt.config, ckpt.revision)

    # -- the MelodyModel protocol
    def sample(self, n: int, time_signature: tuple[int, int], *, temperature: float = 1.0,
               seed: int = 0) -> list[list[Note]]:
        """``n`` 2-bar melodies from the prior (z ~ N(0, I)), decoded at ``temperature``;
        one seeded random stream draws the latents, then the tokens."""
        if not 1 <= n <= 1024:
            raise MusicError(f"can sample 1 to 1024 melodies at once, not {n}")
        if self.backend == "numpy":
            rng: Any = np.random.default_rng(seed)
            z: Any = rng.standard_normal((n, self.latent_size)).astype(np.float32)
        else:
            import torch

            rng = torch.Generator().manual_seed(seed)
            z = torch.randn(n, self.latent_size, generator=rng)
        return [tokens_to_notes(row) for row in
                self._generate(z, time_signature, temperature, rng)]

    def encode(self, melody: Sequence[Note], time_signature: tuple[int, int]) -> list[float]:
        """The latent mean of a 2-bar melody (notes in beats from 0, C3..C6)."""
        return self.encode_many([melody], time_signature)[0]

    def encode_many(self, melodies: Sequence[Sequence[Note]], time_signature: tuple[int, int],
                    ) -> list[list[float]]:
        meter = meter_index(time_signature)
        tokens = np.stack([notes_to_tokens(list(m), time_signature) for m in melodies])
        if self.backend == "numpy":
            mu, _ = self._net.encode(tokens, meter)
            return mu.astype(np.float64).tolist()  # type: ignore[no-any-return]
        import torch

        with torch.no_grad():
            mu, _ = self._net.encode(torch.from_numpy(tokens), meter)
        return mu.double().tolist()  # type: ignore[no-any-return]

    def decode(self, z: Sequence[float], time_signature: tuple[int, int], *,
               temperature: float = 0.0, seed: int = 0) -> list[Note]:
        """A 2-bar melody from a latent (temperature 0: greedy, deterministic)."""
        return self.decode_many([z], time_signature, temperature=temperature, seed=seed)[0]

    def decode_many(self, zs: Sequence[Sequence[float]], time_signature: tuple[int, int], *,
                    temperature: float = 0.0, seed: int = 0) -> list[list[Note]]:
        z = np.asarray(zs, np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_size:
            raise MusicError(f"a latent of this model has {self.latent_size} numbers")
        if self.backend == "numpy":
            return [tokens_to_notes(row) for row in self._generate(
                z, time_signature, temperature, np.random.default_rng(seed))]
        import torch

        return [tokens_to_notes(row) for row in self._generate(
            torch.from_numpy(z), time_signature, temperature,
            torch.Generator().manual_seed(seed))]

    def _generate(self, z: Any, time_signature: tuple[int, int], temperature: float,
                  rng: Any) -> np.ndarray:
        """Token rows for latents ``z`` (a numpy array or torch tensor, by backend);
        ``rng``: a numpy Generator or a torch one."""
        if not 0 <= temperature <= 5:
            raise MusicError(f"temperature goes from 0 to 5, not {temperature}")
        meter = meter_index(time_signature)
        steps = 2 * STEPS_PER_BAR[meter]
        if self.backend == "numpy":
            return self._net.generate(  # type: ignore[no-any-return]
                z, meter, steps, temperature=temperature, rng=rng)
        return self._net.generate(z, meter, steps, temperature=temperature,  # type: ignore[no-any-return]
                                  generator=rng).numpy()

    # -- helpers for the music tools
    def interpolate(self, za: Sequence[float], zb: Sequence[float], steps: int,
                    ) -> list[list[float]]:
        """``steps`` latents from ``za`` to ``zb`` (both included) along the great circle
        (slerp), which keeps the in-between latents as typical as the ends."""
        if not 2 <= steps <= 64:
            raise MusicError(f"interpolation takes 2 to 64 steps, not {steps}")
        return [slerp(za, zb, i / (steps - 1)) for i in range(steps)]

    def perturb(self, z: Sequence[float], amount: float, *, seed: int = 0) -> list[float]:
        """A latent ``amount`` (0..1) of the way from ``z`` to a fresh prior draw:
        ``cos(a·π/2)·z + sin(a·π/2)·ε``; 0 gives ``z`` back, 1 an unrelated melody."""
        if not 0 <= amount <= 1:
            raise MusicError(f"amount goes from 0 to 1, not {amount}")
        rng = np.random.default_rng(seed)
        eps = rng.standard_normal(len(z))
        angle = amount * math.pi / 2
        return list(map(float, math.cos(angle) * np.asarray(z, np.float64)
                        + math.sin(angle) * eps))

    def continue_melody(self, notes: Sequence[Note], time_signature: tuple[int, int],
                        bars: int, *, seed: int = 0, temperature: float = 0.5) -> Continuation:
        """Extend a melody by ``bars`` bars, one 2-bar chunk at a time: each chunk is
        decoded from a latent near the previous chunk's (``perturb`` by 0.35), and of
        16 such candidates the first whose opening note lies within a fifth of the last
        note heard is kept (failing that, the closest, moved by an octave when that
        brings it within a fifth and keeps it in range)."""
        if not 1 <= bars <= 256:
            raise MusicError(f"can continue by 1 to 256 bars, not {bars}")
        if not notes:
            raise MusicError("there is no melody to continue")
        meter = meter_index(time_signature)
        bar_beats = STEPS_PER_BAR[meter] / STEPS_PER_BEAT
        window = 2 * bar_beats
        end = max(n.end for n in notes)
        start = math.ceil(end / bar_beats - 1e-6) * bar_beats
        context_from = max(0.0, start - window)
        context = [Note(n.pitch, n.start - context_from, min(n.end, start) - context_from,
                        n.velocity) for n in notes if n.start >= context_from - 1e-6
                   and n.start < start]
        last = max(notes, key=lambda n: (n.start, n.pitch)).pitch
        z = self.encode(context, time_signature) if context else [0.0] * self.latent_size
        rng_seed = seed
        out: list[Note] = []
        joins: list[int] = []
        offset = start
        remaining = bars
        velocity = notes[-1].velocity
        while remaining > 0:
            candidates = [self.perturb(z, CONTINUE_AMOUNT, seed=rng_seed * 1000 + k)
                          for k in range(CONTINUE_CANDIDATES)]
            melodies = self.decode_many(candidates, time_signature, temperature=temperature,
                                        seed=rng_seed)
            if remaining == 1:  # the last bar of an odd count: the chunk's first bar
                melodies = [[Note(n.pitch, n.start, min(n.end, bar_beats), n.velocity)
                             for n in m if n.start < bar_beats - 1e-9] for m in melodies]
            chunk = _pick_join(melodies, last)
            rng_seed += 1
            if chunk:
                joins.append(chunk[0].pitch - last)
                last = chunk[-1].pitch
                z = self.encode(chunk, time_signature)
            out.extend(Note(n.pitch, n.start + offset, n.end + offset, velocity)
                       for n in chunk)
            offset += min(2, remaining) * bar_beats
            remaining -= 2
        return Continuation(out, start, joins)


def _pick_join(melodies: list[list[Note]], last: int) -> list[Note]:
    sounding = [m for m in melodies if m]
    if not sounding:
        return []
    for m in sounding:
        if abs(m[0].pitch - last) <= FIFTH:
            return m
    best = min(sounding, key=lambda m: abs(m[0].pitch - last))
    gap = best[0].pitch - last
    shift = -12 * round(gap / 12)
    lo, hi = min(n.pitch for n in best), max(n.pitch for n in best)
    if MIN_PITCH <= lo + shift and hi + shift <= MAX_PITCH:
        return [Note(n.pitch + shift, n.start, n.end, n.velocity) for n in best]
    return best


@lru_cache(maxsize=1)
def load_default() -> MelodyVAEModel:
    """The committed model on numpy (loaded once per process; no torch)."""
    return MelodyVAEModel.from_dir(WEIGHTS_DIR)
