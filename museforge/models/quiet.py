"""Importing libraries that talk on stdout, without letting them: pyfluidsynth (imported by
pretty_midi) prints where it found libfluidsynth whenever ``CI`` is set, which would break
``museforge ask --json``'s one line of JSON. Their words go to stderr instead."""

from __future__ import annotations

import contextlib
import importlib
import sys
from types import ModuleType


def quiet_import(name: str) -> ModuleType:
    with contextlib.redirect_stdout(sys.stderr):
        return importlib.import_module(name)
