"""The intent model: multinomial logistic regression over the features of
``features.py``, trained here with numpy (full-batch Adam, L2), stored as one ``.npz``
(the feature names, the labels and a float16 weight matrix; no pickle). It answers one
question about a request: which kind of action a person wants (make a picture, make
music, edit, vary, undo...). Which artwork and which arguments stay with the rules.

Tiny and fast: ~30k features x 18 labels, well under a millisecond per request."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from museforge.assistant.intent.features import features

WEIGHTS = Path(__file__).parent / "weights" / "intent.npz"


@dataclass(frozen=True)
class Prediction:
    label: str
    p: float
    ranked: list[tuple[str, float]]  # every label, most likely first

    def p_of(self, label: str) -> float:
        return next((p for name, p in self.ranked if name == label), 0.0)


class IntentModel:
    def __init__(self, vocab: Sequence[str], labels: Sequence[str], weights: np.ndarray):
        self.vocab = list(vocab)
        self.labels = list(labels)
        self.index = {f: i for i, f in enumerate(self.vocab)}
        self.weights = np.asarray(weights, dtype=np.float32)
        if self.weights.shape != (len(self.vocab), len(self.labels)):
            raise ValueError(f"intent weights have shape {self.weights.shape}, expected "
                             f"({len(self.vocab)}, {len(self.labels)})")

    # -- use ---------------------------------------------------------------------------

    def predict(self, text: str) -> Prediction:
        logits = self._logits(text)
        p = _softmax(logits[None, :])[0]
        order = np.argsort(-p)
        ranked = [(self.labels[i], float(p[i])) for i in order]
        return Prediction(ranked[0][0], ranked[0][1], ranked)

    def _logits(self, text: str) -> np.ndarray:
        idx, val = _vector(features(text), self.index)
        return (self.weights[idx] * val[:, None]).sum(axis=0)

    # -- storage -----------------------------------------------------------------------

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, vocab=np.array(self.vocab), labels=np.array(self.labels),
                            weights=self.weights.astype(np.float16))

    @classmethod
    def load(cls, path: Path = WEIGHTS) -> IntentModel:
        with np.load(path, allow_pickle=False) as data:
            return cls([str(v) for v in data["vocab"]], [str(x) for x in data["labels"]],
                       data["weights"])


_LOADED: IntentModel | None = None


def default_model() -> IntentModel | None:
    """The committed model, loaded once; None when its file is missing (the planner then
    runs on its rules alone and says nothing is lost but robustness)."""
    global _LOADED
    if _LOADED is None and WEIGHTS.exists():
        _LOADED = IntentModel.load(WEIGHTS)
    return _LOADED


# -- training ------------------------------------------------------------------------------

@dataclass(frozen=True)
class TrainSettings:
    epochs: int = 300
    lr: float = 0.05
    l2: float = 1e-4
    min_df: int = 2  # a feature must appear in this many training requests


def train(texts: Sequence[str], labels: Sequence[str],
          settings: TrainSettings = TrainSettings()) -> IntentModel:
    """Fit the model on ``texts`` -> ``labels``. Deterministic: no random state at all
    (zero start, full batch)."""
    feats = [features(t) for t in texts]
    df = Counter(f for fs in feats for f in set(fs))
    vocab = sorted(f for f, n in df.items() if n >= settings.min_df or f == "<bias>")
    index = {f: i for i, f in enumerate(vocab)}
    names = sorted(set(labels))
    y = np.array([names.index(label) for label in labels])
    rows, cols, vals = [], [], []
    for r, fs in enumerate(feats):
        idx, val = _vector(fs, index)
        rows.append(np.full(len(idx), r))
        cols.append(idx)
        vals.append(val)
    row, col, val = (np.concatenate(a) for a in (rows, cols, vals))
    n, f, c = len(texts), len(vocab), len(names)
    counts = np.bincount(y, minlength=c)
    class_w = np.sqrt(n / (c * np.maximum(counts, 1)))  # rare intents count a bit more
    sample_w = class_w[y] / class_w[y].sum()
    onehot = np.zeros((n, c))
    onehot[np.arange(n), y] = 1.0
    w = np.zeros((f, c))
    m, v = np.zeros_like(w), np.zeros_like(w)
    b1, b2 = 0.9, 0.999
    for step in range(1, settings.epochs + 1):
        logits = np.zeros((n, c))
        contrib = w[col] * val[:, None]
        for k in range(c):
            logits[:, k] = np.bincount(row, weights=contrib[:, k], minlength=n)
        g_out = (_softmax(logits) - onehot) * sample_w[:, None]
        grad = np.empty_like(w)
        for k in range(c):
            grad[:, k] = np.bincount(col, weights=g_out[row, k] * val, minlength=f)
        grad += settings.l2 * w
        m = b1 * m + (1 - b1) * grad
        v = b2 * v + (1 - b2) * grad * grad
        mhat, vhat = m / (1 - b1 ** step), v / (1 - b2 ** step)
        w -= settings.lr * mhat / (np.sqrt(vhat) + 1e-8)
    return IntentModel(vocab, names, w.astype(np.float32))


def _vector(feats: list[str], index: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Known features of one request with sublinear counts, scaled to unit length."""
    counts = Counter(index[f] for f in feats if f in index)
    if not counts:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    idx = np.fromiter(counts.keys(), dtype=np.int64)
    val = np.array([1.0 + math.log(n) for n in counts.values()])
    return idx, val / np.linalg.norm(val)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
