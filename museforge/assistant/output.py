"""One output interface for every front-end: what to show (text, image, audio, progress,
errors). Each front-end implements it once; ``present`` walks a turn's result through it."""

from __future__ import annotations

from typing import Protocol

from museforge.assistant.turn import TurnResult
from museforge.tools.base import Artifact


class Output(Protocol):
    def text(self, text: str) -> None: ...

    def image(self, artifact: Artifact) -> None: ...

    def audio(self, artifact: Artifact) -> None: ...

    def progress(self, what: str, step: int, total: int) -> None: ...

    def error(self, text: str) -> None: ...


def present(result: TurnResult, out: Output) -> None:
    out.text(result.reply)
    for artifact in [*result.imported, *result.artifacts]:
        if artifact.kind in ("music", "audio"):  # a clip is heard, and its picture shown
            out.audio(artifact)
        else:
            out.image(artifact)
