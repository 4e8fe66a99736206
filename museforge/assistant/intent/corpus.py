"""The request corpus (``corpus/*.jsonl``, format in ``corpus/SPEC.md``): loading it, the
split by family into a training part and a held-out part, the intent label of a line,
and the conversation states its lines are planned in.

Two held-out measures, never tuned on: the families of the corpus whose name hashes into
the held-out fifth, and ``heldout/*.jsonl``, written by another hand from the SPEC alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
UNSEEN = HERE / "heldout"
HELD_OUT_EVERY = 5  # one family in five is held out
T = TypeVar("T")

# The action a request asks for, whatever the artwork's kind: the model's labels.
LABEL_OF_TOOL = {
    "generate_image": "generate_image", "compose_music": "compose_music",
    "adjust_image": "edit", "edit_image": "edit", "edit_music": "edit",
    "vary_image": "vary", "vary_music": "vary",
    "blend_images": "blend", "interpolate_music": "blend",
    "reframe_image": "reframe_image", "upscale_image": "upscale_image",
    "inpaint_image": "inpaint_image", "add_text": "add_text",
    "continue_music": "continue_music",
    "undo": "undo", "redo": "redo", "revert": "revert",
    "list_artworks": "list_artworks", "show_versions": "show_versions",
}
NO_CALL = ("ask", "refuse", "say", "chat")
CONTEXTS = ("empty", "image", "music", "both-image", "both-music", "studio", "studio-music",
            "batch")


@dataclass(frozen=True)
class Line:
    family: str
    context: str
    text: str
    expect: Any  # a list of {"tool", "args"} or one of NO_CALL
    source: str = ""

    @property
    def held_out(self) -> bool:
        return is_held_out(self.family)

    @property
    def label(self) -> str | None:
        """The intent label to train on, or None when the line does not give one (several
        different actions; "say", whose text is an ordinary request in a state where it
        cannot run; "ask" in the batch state, where the text is clear and "it" is not)."""
        if isinstance(self.expect, str):
            if self.expect in ("refuse", "chat"):
                return self.expect
            if self.expect == "ask" and self.context != "batch":
                return "ask"
            return None
        labels = {LABEL_OF_TOOL.get(c["tool"]) for c in self.expect}
        return labels.pop() if len(labels) == 1 and None not in labels else None


def is_held_out(family: str) -> bool:
    digest = hashlib.sha1(family.encode()).digest()
    return digest[0] % HELD_OUT_EVERY == 0


def load(folder: Path = CORPUS) -> list[Line]:
    lines: list[Line] = []
    for path in sorted(folder.glob("*.jsonl")):
        lines.extend(read(path))
    return lines


def _objects(path: Path, make: Callable[[Any, str], T]) -> Iterator[tuple[int, T]]:
    """(line number, ``make(obj, source)``) for each JSON line of ``path``; a line that does
    not parse or lacks a key is an error naming the file and line."""
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip():
            continue
        try:
            yield n, make(json.loads(raw), f"{path.name}:{n}")
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path.name} line {n}: {exc}") from None


def read(path: Path) -> list[Line]:
    out = []
    for n, line in _objects(path, lambda obj, src: Line(
            str(obj["family"]), str(obj["context"]), str(obj["text"]), obj["expect"], src)):
        if line.context not in CONTEXTS:
            raise ValueError(f"{path.name} line {n}: unknown context {line.context!r}")
        if isinstance(line.expect, str) and line.expect not in NO_CALL:
            raise ValueError(f"{path.name} line {n}: unknown expectation {line.expect!r}")
        out.append(line)
    return out


def split(lines: Iterable[Line]) -> tuple[list[Line], list[Line]]:
    """(training part, held-out part): by family; a held-out line whose words also appear
    in the training part ("undo", "#2 brighter") is left out, since it is not unseen."""
    train: list[Line] = []
    held: list[Line] = []
    for line in lines:
        (held if line.held_out else train).append(line)
    return train, not_in(held, train)


def not_in(lines: Iterable[Line], train: Iterable[Line]) -> list[Line]:
    seen = {norm(line.text) for line in train}
    return [line for line in lines if norm(line.text) not in seen]


def unseen(train: Iterable[Line]) -> list[Line]:
    """The independent held-out set, less any line whose words are in ``train``."""
    return not_in(load(UNSEEN), train) if UNSEEN.exists() else []


# -- conversations ------------------------------------------------------------------------

CONVERSATIONS = "conversations"  # a subfolder of CORPUS and of UNSEEN


@dataclass(frozen=True)
class Conversation:
    """A run of requests in one session (SPEC.md, "Conversations"); each turn is a
    ``Line`` whose family is the conversation's name and whose context is its start."""

    name: str
    start: str
    turns: tuple[Line, ...]
    source: str = ""

    @property
    def held_out(self) -> bool:
        return is_held_out(self.name)


def load_conversations(folder: Path = CORPUS / CONVERSATIONS) -> list[Conversation]:
    out: list[Conversation] = []
    for path in sorted(folder.glob("*.jsonl")) if folder.exists() else []:
        out.extend(read_conversations(path))
    return out


def _conversation(obj: dict[str, Any], source: str) -> Conversation:
    name, start = str(obj["conversation"]), str(obj.get("start", "empty"))
    turns = tuple(Line(name, start, str(t["text"]), t["expect"], source) for t in obj["turns"])
    return Conversation(name, start, turns, source)


def read_conversations(path: Path) -> list[Conversation]:
    out = []
    for n, conv in _objects(path, _conversation):
        start, turns = conv.start, conv.turns
        if start not in CONTEXTS:
            raise ValueError(f"{path.name} line {n}: unknown start {start!r}")
        for turn in turns:
            if isinstance(turn.expect, str) and turn.expect not in NO_CALL:
                raise ValueError(f"{path.name} line {n}: unknown expectation {turn.expect!r}")
        out.append(conv)
    return out


def split_conversations(convs: Iterable[Conversation]) -> tuple[list[Conversation],
                                                                 list[Conversation]]:
    """(training part, held-out part), by conversation."""
    train: list[Conversation] = []
    held: list[Conversation] = []
    for conv in convs:
        (held if conv.held_out else train).append(conv)
    return train, held


def unseen_conversations() -> list[Conversation]:
    return load_conversations(UNSEEN / CONVERSATIONS)


def training_lines() -> list[Line]:
    """Every line the model may learn from: the training families and the turns of the
    training conversations."""
    train, _ = split(load())
    conv_train, _ = split_conversations(load_conversations())
    # A turn that should ask is usually asking because of the state ("it" is four pictures),
    # not because of its words: it gives the model no label.
    return train + [t for c in conv_train for t in c.turns if t.expect != "ask"]


def norm(text: str) -> str:
    return " ".join(text.lower().split())


# -- conversation states -------------------------------------------------------------------

@dataclass(frozen=True)
class Art:
    kind: str
    title: str


@dataclass(frozen=True)
class State:
    artworks: list[Art] = field(default_factory=list)
    focus: list[int] = field(default_factory=list)


_FOX, _PIANO = Art("image", "a fox in the snow"), Art("music", "a calm piano piece")
_STUDIO = [Art("image", "a red fox in the snow"), Art("image", "a blue whale at sea"),
           Art("image", "a lighthouse at dusk"), Art("music", "a calm piano melody"),
           Art("music", "a lively jig on the fiddle"), Art("image", "a castle made of ice")]
STATES: dict[str, State] = {
    "empty": State(),
    "image": State([_FOX], [1]),
    "music": State([_PIANO], [1]),
    "both-image": State([_FOX, _PIANO], [1]),
    "both-music": State([_FOX, _PIANO], [2]),
    "studio": State(_STUDIO, [6]),
    "studio-music": State(_STUDIO, [5]),
    "batch": State([Art("image", "a lighthouse")] * 4, [1, 2, 3, 4]),
}
VERSIONS = 3  # every artwork of a state has three versions


# -- scoring ------------------------------------------------------------------------------

def call_matches(got_name: str, got_args: dict[str, Any], want: dict[str, Any]) -> bool:
    if got_name != want["tool"]:
        return False
    for key, value in (want.get("args") or {}).items():
        if not _arg_ok(got_args, key, value):
            return False
    return True


def _arg_ok(args: dict[str, Any], key: str, want: Any) -> bool:
    op = key[-1] if key[-1] in "~<>!" else ""
    name = key[:-1] if op else key
    got = args.get(name)
    if op == "!":
        return got is None
    if got is None:
        return False
    if op == "~":
        hay = " ".join(str(g) for g in got) if isinstance(got, list) else str(got)
        needles = want if isinstance(want, list) else [want]
        return all(str(n).lower() in hay.lower() for n in needles)
    if op in ("<", ">"):
        try:
            number = float(got)
        except (TypeError, ValueError):
            return False
        return number > float(want) if op == ">" else number < float(want)
    return _equal(got, want)


def _equal(got: Any, want: Any) -> bool:
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(
            _equal(g, w) for g, w in zip(got, want, strict=True))
    if isinstance(want, bool) or isinstance(got, bool):
        return got is want
    if isinstance(want, int | float) and isinstance(got, int | float):
        return abs(float(got) - float(want)) < 1e-6
    return " ".join(str(got).lower().split()) == " ".join(str(want).lower().split())
