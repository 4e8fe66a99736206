"""Where the jig, reel and hornpipe live in the melody model's latent space: the dance
tunes of O'Neill's 1850 and Ryan's Mammoth (in the music21 corpus), cut into the same
2-bar windows the model was trained on and encoded; a seeded draw of their latent means
is committed (``weights/idioms.npz``) and the composer samples near them for those
styles (``models/music/idioms.py``).

Which tunes: O'Neill's tunes by their ``R:`` field (jig / double jig, reel, hornpipe;
slip jigs are 9/8 and left out), Ryan's by the file name (``…Jig.abc``, ``…Reel.abc``,
``…Hornpipe.abc``). Which windows: the style's meter (jig 6/8; reel and hornpipe 4/4,
which C| shares), from tunes outside the model's held-out split (``data.heldout_tunes``,
the same fingerprint, so the same tunes). Build it again after retraining the model:
``python -m museforge.models.music.idiom_corpus`` (about two minutes; needs music21)."""

from __future__ import annotations

import re
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from museforge.models.music.checkpoint import WEIGHTS_DIR
from museforge.models.music.data import (
    METERS,
    TuneSource,
    _abc_tunes,
    _bars,
    _melody_part,
    corpus_dir,
    heldout_tunes,
    tokens_to_notes,
    windows_from_cache,
)

IDIOMS_FILE = "idioms.npz"
IDIOM_METERS = {"jig": (6, 8), "reel": (4, 4), "hornpipe": (4, 4)}
PER_IDIOM = 512  # latents kept per idiom (a seeded draw)
HELDOUT_SHARE = 0.10  # as train.py splits


def _form(tune: TuneSource, block_form: str | None) -> str | None:
    name = (block_form or tune.name).lower()
    if "slip" in name:
        return None
    for form in IDIOM_METERS:
        if form in name:
            return form
    return None


def idiom_tunes() -> list[tuple[str, TuneSource]]:
    root = corpus_dir()
    out: list[tuple[str, TuneSource]] = []
    for path in sorted((root / "oneills1850").glob("*.abc")):
        text = path.read_text(encoding="latin-1")
        forms = {}
        for block in re.split(r"(?m)^(?=X:)", text):
            if block.startswith("X:"):
                number = block[2:].split("\n", 1)[0].strip()
                rhythm = re.search(r"(?m)^R:(.*)$", block)
                forms[number] = rhythm.group(1).strip() if rhythm else ""
        for tune in _abc_tunes(path, "oneill", root):
            number = tune.name.split("#", 1)[1].split(" ", 1)[0]
            form = _form(tune, forms.get(number) or "-")
            if form:
                out.append((form, tune))
    for path in sorted((root / "ryansMammoth").glob("*.abc")):
        for tune in _abc_tunes(path, "ryan", root):
            form = _form(tune, None)
            if form:
                out.append((form, tune))
    return out


def build(out_dir: Path = WEIGHTS_DIR, *, limit: int | None = None) -> Path:
    """Encode the dances' windows with the model in ``out_dir`` and write ``idioms.npz``
    there; ``limit`` parses only the first tunes of each dance (for tests)."""
    import logging
    import warnings

    from museforge.models.music.model import MelodyVAEModel

    logging.getLogger("music21").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    model = MelodyVAEModel.from_dir(out_dir)
    tunes = idiom_tunes()
    if limit is not None:
        seen: dict[str, int] = {}
        kept = []
        for form, tune in tunes:
            seen[form] = seen.get(form, 0) + 1
            if seen[form] <= limit:
                kept.append((form, tune))
        tunes = kept
    forms: list[str] = []
    bar_rows, pitches, onsets, names = [], [], [], []
    step = 0
    for i, (form, tune) in enumerate(tunes):
        if i % 100 == 0:
            sys.stderr.write(f"\r{i}/{len(tunes)} {tune.name[:50]:50}")
        try:
            bars = _bars(_melody_part(tune.load()))
        except Exception:  # noqa: BLE001 - a tune music21 cannot read is skipped
            continue
        idx = len(forms)
        forms.append(form)
        names.append(tune.name)
        prev_end = None
        for ts, offset, pitch, onset, _ in bars:
            follows = int(prev_end is not None and offset == prev_end)
            bar_rows.append((idx, step, len(pitch), ts[0], ts[1], follows))
            pitches.append(pitch)
            onsets.append(onset)
            step += len(pitch)
            prev_end = offset + Fraction(len(pitch), 4)
    sys.stderr.write("\n")
    cache = out_dir / "idioms-cache.tmp.npz"
    np.savez_compressed(cache, version=np.array(1), tune_source=np.zeros(len(forms), np.int8),
                        tune_name=np.array(names), bars=np.array(bar_rows, np.int64),
                        pitch=np.concatenate(pitches), onset=np.concatenate(onsets),
                        stats=np.zeros(4), limit=np.array(-1))
    try:
        held = heldout_tunes(cache, HELDOUT_SHARE)
        windows = windows_from_cache(cache)
    finally:
        cache.unlink()
    rng = np.random.default_rng(0)
    arrays: dict[str, Any] = {"revision": np.array(model.revision)}
    for form, ts in IDIOM_METERS.items():
        w = windows[METERS[ts]]
        keep = np.array([forms[t] == form and not held[t] for t in w.tune], bool)
        rows = np.flatnonzero(keep)
        chosen = np.sort(rng.choice(rows, min(PER_IDIOM, len(rows)), replace=False))
        melodies = [tokens_to_notes(w.tokens[r]) for r in chosen]
        z = np.asarray(model.encode_many(melodies, ts), np.float32)
        arrays[form] = z.astype(np.float16)
        arrays[f"{form}_windows"] = np.array(len(rows))
        arrays[f"{form}_tunes"] = np.array(len({int(t) for t in w.tune[rows]}))
        sys.stderr.write(f"{form}: {len(rows)} windows from {arrays[f'{form}_tunes']} tunes; "
                         f"kept {len(chosen)}\n")
    path = out_dir / IDIOMS_FILE
    np.savez_compressed(path, **arrays)
    return path


if __name__ == "__main__":
    print(build())
