"""Protocols between the music rooms: the melody model the composer and the music tools
use, and what a music result carries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from museforge.models.music.piece import Note, Piece

# Meter families the melody model knows: "duple" (4/4, 2/4, C, C|: 16 sixteenth steps per
# 4/4 bar) and "triple" (3/4, 6/8). A 2-bar window is the model's unit.
METER_FAMILIES = ("duple", "triple")


class MusicError(ValueError):
    """A request or a file the music rooms refuse; the text says why."""


def meter_family(time_signature: tuple[int, int]) -> str:
    num, den = time_signature
    return "triple" if (num % 3 == 0 and num != 0) else "duple"


@dataclass(frozen=True)
class Continuation:
    """New notes after a melody (beats on the melody's own timeline, starting at the
    first bar line after it ends), and the interval in semitones at each join."""

    notes: list[Note]
    start: float
    joins: list[int]


class MelodyModel(Protocol):
    """A latent melody model over 2-bar windows (MusicVAE-style): every method the
    composer and the music tools call."""

    name: str
    latent_size: int
    revision: str  # first 12 hex digits of the weights' sha256 (replay checks it)
    pitch_range: tuple[int, int]  # the lowest and highest MIDI pitch it writes

    def sample(self, n: int, time_signature: tuple[int, int], *, temperature: float = 1.0,
               seed: int = 0) -> list[list[Note]]:
        """``n`` 2-bar melodies (notes in beats from 0)."""

    def encode(self, melody: Sequence[Note], time_signature: tuple[int, int]) -> list[float]:
        """The latent mean of a 2-bar melody (notes in beats from 0)."""

    def decode(self, z: Sequence[float], time_signature: tuple[int, int], *,
               temperature: float = 0.0, seed: int = 0) -> list[Note]:
        """A 2-bar melody from a latent (temperature 0: greedy, deterministic)."""

    def interpolate(self, za: Sequence[float], zb: Sequence[float], steps: int,
                    ) -> list[list[float]]:
        """``steps`` latents from ``za`` to ``zb``, both included."""

    def perturb(self, z: Sequence[float], amount: float, *, seed: int = 0) -> list[float]:
        """A latent ``amount`` (0..1) of the way from ``z`` to a fresh prior draw."""

    def continue_melody(self, notes: Sequence[Note], time_signature: tuple[int, int],
                        bars: int, *, seed: int = 0, temperature: float = 0.5
                        ) -> Continuation:
        """The melody extended by ``bars`` bars."""


class PhraseModel(Protocol):
    """A latent model of whole 16-bar melodies (MusicVAE's hierarchical model): what the
    composer calls to write a melody of 8 to 16 bars, and to chain phrases beyond, and
    what the latent tools call on pieces of 8 bars and more (``phrase_latent``)."""

    name: str
    revision: str  # first 12 hex digits of the weights' sha256
    bars: int  # the phrase length it writes (16)
    latent_size: int
    pitch_range: tuple[int, int]  # the lowest and highest MIDI pitch it writes
    time_signatures: tuple[tuple[int, int], ...]  # the meters it writes
    config: dict[str, Any]  # its phrase_config.json (training figures the composer aims at)

    def sample(self, n: int, time_signature: tuple[int, int], *, temperature: float = 1.0,
               seed: int = 0) -> list[list[Note]]:
        """``n`` melodies of ``bars`` bars from the prior (notes in beats from 0)."""

    def encode(self, melody: Sequence[Note], time_signature: tuple[int, int]) -> list[float]:
        """The latent mean of a ``bars``-bar melody."""

    def decode(self, z: Sequence[float], time_signature: tuple[int, int], *,
               temperature: float = 0.0, seed: int = 0) -> list[Note]:
        """A ``bars``-bar melody from a latent."""

    def decode_many(self, zs: Sequence[Sequence[float]], time_signature: tuple[int, int], *,
                    temperature: float = 0.0, seed: int = 0) -> list[list[Note]]:
        """``bars``-bar melodies from latents, one seeded stream for all of them."""

    def interpolate(self, za: Sequence[float], zb: Sequence[float], steps: int,
                    ) -> list[list[float]]:
        """``steps`` latents from ``za`` to ``zb``, both included."""

    def perturb(self, z: Sequence[float], amount: float, *, seed: int = 0) -> list[float]:
        """A latent ``amount`` (0..1) of the way from ``z`` to a fresh prior draw."""


@dataclass
class MusicResult:
    piece: Piece
    recipe: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # fallbacks taken, said to the user
