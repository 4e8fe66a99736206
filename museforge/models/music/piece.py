"""The music a tool works on: parts of notes timed in beats (quarter notes), a tempo, a
time signature and a key. Plain dataclasses with no MIDI library behind them, so tools
and tests can read and build pieces; ``museforge.models.music.midi`` turns them into MIDI
bytes and back (pretty_midi, lazily)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

PART_NAMES = ("melody", "chords", "bass", "drums")


@dataclass(frozen=True)
class Note:
    pitch: int  # MIDI note number 0..127 (for drums: the GM percussion key)
    start: float  # beats from the start of the piece (a beat = a quarter note)
    end: float  # beats
    velocity: int = 80

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass
class Part:
    name: str  # melody | chords | bass | drums, or another name for a user's track
    program: int = 0  # General MIDI program 0..127
    is_drum: bool = False
    notes: list[Note] = field(default_factory=list)

    def copy(self, **changes: object) -> Part:
        changes.setdefault("notes", list(self.notes))
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass
class Piece:
    parts: list[Part]
    tempo: float = 100.0  # quarter notes per minute
    time_signature: tuple[int, int] = (4, 4)
    key: str = "C major"  # "D minor", "Bb major"
    title: str = ""

    @property
    def beats_per_bar(self) -> float:
        num, den = self.time_signature
        return num * 4 / den

    @property
    def end_beat(self) -> float:
        return max((n.end for p in self.parts for n in p.notes), default=0.0)

    @property
    def bars(self) -> int:
        import math

        return max(1, math.ceil(self.end_beat / self.beats_per_bar - 1e-6))

    @property
    def seconds(self) -> float:
        return self.end_beat * 60.0 / self.tempo

    def part(self, name: str) -> Part | None:
        return next((p for p in self.parts if p.name == name), None)

    def copy(self, **changes: object) -> Piece:
        changes.setdefault("parts", [p.copy() for p in self.parts])
        return replace(self, **changes)  # type: ignore[arg-type]
