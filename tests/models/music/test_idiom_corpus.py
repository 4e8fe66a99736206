"""The dances' latents: the committed file belongs to the committed model, holds each
dance, and the builder re-makes one from the corpus (a few tunes of each here)."""

from __future__ import annotations

import shutil

import numpy as np

from museforge.models.music.checkpoint import CONFIG_FILE, WEIGHTS_DIR, WEIGHTS_FILE
from museforge.models.music.idioms import CORPUS_IDIOMS, IDIOMS_PATH
from museforge.models.music.model import load_default


def test_the_committed_latents_belong_to_the_committed_model():
    with np.load(IDIOMS_PATH) as f:
        assert str(f["revision"]) == load_default().revision, \
            "rebuild: python -m museforge.models.music.idiom_corpus"
        for dance in CORPUS_IDIOMS:
            assert f[dance].shape == (512, load_default().latent_size)
            assert int(f[f"{dance}_tunes"]) >= 150  # from many tunes, not a few


def test_the_builder_encodes_each_dance_from_the_corpus(tmp_path):
    from museforge.models.music.idiom_corpus import build

    for name in (WEIGHTS_FILE, CONFIG_FILE):
        shutil.copy(WEIGHTS_DIR / name, tmp_path / name)
    path = build(tmp_path, limit=6)
    with np.load(path) as f:
        assert str(f["revision"]) == load_default().revision
        for dance in CORPUS_IDIOMS:
            assert 0 < len(f[dance]) <= int(f[f"{dance}_windows"])
            assert np.isfinite(f[dance].astype(np.float32)).all()
