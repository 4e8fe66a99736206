"""``museforge train-planner`` and ``eval-planner``: train the intent model on the
training families of the corpus, then measure the planner on the training part, the
held-out families and the independent held-out set, and write the figures the model
card quotes (``weights/figures.json``)."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from museforge.assistant import spelling
from museforge.assistant.intent import corpus
from museforge.assistant.intent.evaluate import Score, evaluate
from museforge.assistant.intent.model import WEIGHTS, IntentModel, TrainSettings, train

FIGURES = WEIGHTS.parent / "figures.json"


def training_pairs(lines: list[corpus.Line]) -> tuple[list[str], list[str]]:
    """(text as the planner sees it, label) for every line that gives a label."""
    texts, labels = [], []
    for line in lines:
        label = line.label
        if label is None:
            continue
        titles = [w for a in corpus.STATES[line.context].artworks for w in a.title.split()]
        texts.append(spelling.normalise(line.text, titles))
        labels.append(label)
    return texts, labels


def train_model(settings: TrainSettings = TrainSettings(),
                out: Path = WEIGHTS) -> tuple[IntentModel, dict[str, Any]]:
    lines = corpus.load()
    train_lines, _ = corpus.split(lines)
    texts, labels = training_pairs(train_lines)
    t0 = time.perf_counter()
    model = train(texts, labels, settings)
    seconds = time.perf_counter() - t0
    model.save(out)
    info = {"train_requests": len(texts), "labels": dict(sorted(Counter(labels).items())),
            "features": len(model.vocab), "train_seconds": round(seconds, 1),
            "settings": settings.__dict__}
    return model, info


def measure(model: IntentModel | None, planner: str = "offline") -> dict[str, Score]:
    """Scores on: train (the training families), held-out (the held-out families),
    unseen (the independent set), phrasings are measured by the test suite."""
    lines = corpus.load()
    train_lines, held = corpus.split(lines)
    unseen = corpus.load(corpus.UNSEEN) if corpus.UNSEEN.exists() else []
    make = _planner_factory(model, planner)
    return {"train": evaluate(train_lines, make), "held_out": evaluate(held, make),
            "unseen": evaluate(unseen, make)}


def _planner_factory(model: IntentModel | None, planner: str):  # type: ignore[no-untyped-def]
    if planner == "llm":
        from museforge.assistant.llm import LLMPlanner
        from museforge.config import load_settings

        return lambda: LLMPlanner.from_settings(load_settings())
    from museforge.assistant.offline import OfflinePlanner

    if planner == "rules":
        return lambda: OfflinePlanner(model=None)
    return lambda: OfflinePlanner(model=model)


def write_figures(info: dict[str, Any], scores: dict[str, Score],
                  baseline: dict[str, Score] | None = None) -> dict[str, Any]:
    figures = {**info, **{name: s.figures() for name, s in scores.items()}}
    if baseline:
        figures["rules_only"] = {name: {"accuracy": round(s.accuracy, 4),
                                        "wrong_action_rate": round(s.wrong_rate, 4)}
                                 for name, s in baseline.items()}
    FIGURES.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    return figures
