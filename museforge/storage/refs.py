"""Canonical artwork references: ``#3``, ``#3 v2``, ``#3v2``, ``latest``, ``latest image``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from museforge.storage.errors import InvalidReference

MAX_NUMBER = 2**31 - 1
_REF = re.compile(r"^#\s*(-?\d+)(?:\s*v\s*(-?\d+))?$", re.IGNORECASE)
_LATEST = re.compile(r"^(?:the\s+)?(?:latest|last)"
                     r"(?:\s+(image|picture|music|song|piece|audio|sound|clip|recording))?$", re.I)
_KIND = {"image": "image", "picture": "image", "music": "music", "song": "music", "piece": "music",
         "audio": "audio", "sound": "audio", "clip": "audio", "recording": "audio"}


@dataclass(frozen=True)
class Ref:
    number: int | None = None  # None means "latest"
    version: int | None = None
    kind: str | None = None  # only with latest

    def __str__(self) -> str:
        if self.number is None:
            return "latest" + (f" {self.kind}" if self.kind else "")
        return f"#{self.number}" + (f" v{self.version}" if self.version is not None else "")


def parse_ref(text: str) -> Ref:
    s = " ".join(str(text).split())
    m = _REF.match(s)
    if m:
        number = _positive(m.group(1), "artwork number", s)
        version = _positive(m.group(2), "version", s) if m.group(2) is not None else None
        return Ref(number, version)
    m = _LATEST.match(s)
    if m:
        return Ref(kind=_KIND[m.group(1).lower()] if m.group(1) else None)
    raise InvalidReference(
        f"'{text}' is not an artwork reference; use #N, #N vM, 'latest', 'latest image' "
        "or 'latest music'"
    )


def _positive(digits: str, what: str, ref: str) -> int:
    value = int(digits)
    if value < 1 or value > MAX_NUMBER:
        raise InvalidReference(f"'{ref}': the {what} must be a whole number from 1 up")
    return value
