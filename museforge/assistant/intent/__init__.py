"""The offline planner's learned intent layer: the request corpus, the model, its training
and its evaluation (see weights/MODEL_CARD.md)."""
