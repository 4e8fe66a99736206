"""The 16-bar phrase model at run time: the hierarchical VAE (``hvae.py``'s network, run
in numpy by ``numpy_hvae.NumpyPhraseVAE``) behind sample / encode / decode / interpolate
/ perturb, on whole 16-bar phrases. The composer writes melodies of 8 to 16 bars with it
(and chains phrases beyond) where its weights are present (``load_phrases``), and the
2-bar model otherwise.

``from_dir(path, backend="torch")`` runs the torch network instead (what the figures
are measured on); greedy decoding gives the same tokens on both."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from museforge.models.music.base import MusicError
from museforge.models.music.checkpoint import WEIGHTS_DIR
from museforge.models.music.data import (
    MAX_PITCH,
    MIN_PITCH,
    meter_index,
    notes_to_tokens,
    tokens_to_notes,
)
from museforge.models.music.model import slerp
from museforge.models.music.numpy_hvae import (
    PHRASE_WEIGHTS,
    NumpyPhraseVAE,
    load_phrase_checkpoint,
)
from museforge.models.music.phrase_data import PHRASE_BARS
from museforge.models.music.piece import Note

BACKENDS = ("numpy", "torch")


class PhraseVAEModel:
    """The committed phrase VAE: 16-bar melodies in 4/4 (C), 2/2 (C|), 2/4, 3/4 and 6/8,
    pitches C3..C6, a sixteenth-note grid."""

    name = "museforge-phrase-vae"
    bars = PHRASE_BARS
    pitch_range = (MIN_PITCH, MAX_PITCH)
    time_signatures: tuple[tuple[int, int], ...] = ((4, 4), (2, 2), (2, 4), (3, 4), (6, 8))

    def __init__(self, net: Any, config: dict[str, Any], revision: str) -> None:
        self._net = net
        self.backend = "numpy" if isinstance(net, NumpyPhraseVAE) else "torch"
        self.config = config
        self.revision = revision
        self.latent_size: int = int(config["model"]["latent"])

    @classmethod
    def from_dir(cls, path: Path | str, *, backend: str = "numpy") -> PhraseVAEModel:
        if backend not in BACKENDS:
            raise MusicError(f"the phrase model runs on numpy or torch, not {backend!r}")
        ckpt = load_phrase_checkpoint(path)
        if backend == "numpy":
            return cls(NumpyPhraseVAE(ckpt.model, ckpt.tensors), ckpt.config, ckpt.revision)
        import torch

        from museforge.models.music.hvae import PhraseVAE

        net = PhraseVAE(ckpt.model)
        net.load_state_dict({k: torch.from_numpy(v) for k, v in ckpt.tensors.items()})
        net.eval()
        return cls(net, ckpt.config, ckpt.revision)

    # -- tokens
    def sample_tokens(self, n: int, meter: int, *, temperature: float = 1.0, seed: int = 0,
                      ) -> np.ndarray:
        """``n`` phrases' token rows from the prior (z ~ N(0, I)); one seeded stream draws
        the latents, then the tokens."""
        if not 1 <= n <= 1024:
            raise MusicError(f"can sample 1 to 1024 phrases at once, not {n}")
        if self.backend == "numpy":
            rng: Any = np.random.default_rng(seed)
            z: Any = rng.standard_normal((n, self.latent_size)).astype(np.float32)
        else:
            import torch

            rng = torch.Generator().manual_seed(seed)
            z = torch.randn(n, self.latent_size, generator=rng)
        return self._generate(z, meter, temperature, rng)

    def _generate(self, z: Any, meter: int, temperature: float, rng: Any) -> np.ndarray:
        if not 0 <= temperature <= 5:
            raise MusicError(f"temperature goes from 0 to 5, not {temperature}")
        if self.backend == "numpy":
            return self._net.generate(z, meter, temperature=temperature,  # type: ignore[no-any-return]
                                      rng=rng)
        return self._net.generate(z, meter, temperature=temperature,  # type: ignore[no-any-return]
                                  generator=rng).numpy()

    # -- notes
    def sample(self, n: int, time_signature: tuple[int, int], *, temperature: float = 1.0,
               seed: int = 0) -> list[list[Note]]:
        """``n`` 16-bar melodies from the prior (notes in beats from 0)."""
        return [tokens_to_notes(row) for row in
                self.sample_tokens(n, meter_index(time_signature), temperature=temperature,
                                   seed=seed)]

    def encode_many(self, melodies: Sequence[Sequence[Note]], time_signature: tuple[int, int],
                    ) -> list[list[float]]:
        """The latent means of 16-bar melodies (notes in beats from 0, C3..C6)."""
        meter = meter_index(time_signature)
        tokens = np.stack([notes_to_tokens(list(m), time_signature, PHRASE_BARS)
                           for m in melodies])
        if self.backend == "numpy":
            mu, _ = self._net.encode(tokens, meter)
            return mu.astype(np.float64).tolist()  # type: ignore[no-any-return]
        import torch

        with torch.no_grad():
            mu, _ = self._net.encode(torch.from_numpy(tokens), meter)
        return mu.double().tolist()  # type: ignore[no-any-return]

    def encode(self, melody: Sequence[Note], time_signature: tuple[int, int]) -> list[float]:
        return self.encode_many([melody], time_signature)[0]

    def decode_many(self, zs: Sequence[Sequence[float]], time_signature: tuple[int, int], *,
                    temperature: float = 0.0, seed: int = 0) -> list[list[Note]]:
        """16-bar melodies from latents (temperature 0: greedy, deterministic)."""
        z = np.asarray(zs, np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_size:
            raise MusicError(f"a latent of this model has {self.latent_size} numbers")
        meter = meter_index(time_signature)
        if self.backend == "numpy":
            rows = self._generate(z, meter, temperature, np.random.default_rng(seed))
        else:
            import torch

            rows = self._generate(torch.from_numpy(z), meter, temperature,
                                  torch.Generator().manual_seed(seed))
        return [tokens_to_notes(row) for row in rows]

    def decode(self, z: Sequence[float], time_signature: tuple[int, int], *,
               temperature: float = 0.0, seed: int = 0) -> list[Note]:
        return self.decode_many([z], time_signature, temperature=temperature, seed=seed)[0]

    def interpolate(self, za: Sequence[float], zb: Sequence[float], steps: int,
                    ) -> list[list[float]]:
        """``steps`` latents from ``za`` to ``zb`` (both included) along the great circle."""
        if not 2 <= steps <= 64:
            raise MusicError(f"interpolation takes 2 to 64 steps, not {steps}")
        return [slerp(za, zb, i / (steps - 1)) for i in range(steps)]

    def perturb(self, z: Sequence[float], amount: float, *, seed: int = 0) -> list[float]:
        """A latent ``amount`` (0..1) of the way from ``z`` to a fresh prior draw."""
        if not 0 <= amount <= 1:
            raise MusicError(f"amount goes from 0 to 1, not {amount}")
        eps = np.random.default_rng(seed).standard_normal(len(z))
        angle = amount * np.pi / 2
        return list(map(float, np.cos(angle) * np.asarray(z, np.float64) + np.sin(angle) * eps))


@lru_cache(maxsize=1)
def load_phrases(path: Path | str = WEIGHTS_DIR) -> PhraseVAEModel | None:
    """The committed phrase model on numpy, or None where its weights are not there (the
    composer then chains the 2-bar model)."""
    if not (Path(path) / PHRASE_WEIGHTS).exists():
        return None
    return PhraseVAEModel.from_dir(path)
