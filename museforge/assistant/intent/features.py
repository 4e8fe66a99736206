"""What the intent model sees of a request: word unigrams and bigrams, and character
n-grams of each word (so "compse" and "compose" share most of their features, and a
typo costs a few features, not the whole word). Numbers and artwork references are
folded into placeholder words: "#3" and "#12" say the same thing about intent."""

from __future__ import annotations

import re

_REF = re.compile(r"#\s*\d+(?:\s*v\s*\d+)?", re.I)
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?|[#%:/]|\d+|[^\w\s]")
CHAR_SIZES = (2, 3, 4, 5)


def normalise(text: str) -> str:
    low = text.lower().replace("’", "'").replace("‘", "'")
    low = _REF.sub(" #ref ", low)
    low = re.sub(r"\b(\d+)\s*(?:bpm)\b", r" 0 bpm ", low)
    low = re.sub(r"\b(\d+)\s*[:x×]\s*(\d+)\b", " 0:0 ", low)
    low = _NUMBER.sub(" 0 ", low)
    return " ".join(low.split())


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(normalise(text)) if w.strip()]


def features(text: str) -> list[str]:
    """Every feature name of ``text`` (repeats count)."""
    toks = words(text)
    out = ["<bias>"]
    out += [f"w:{t}" for t in toks]
    padded = ["<s>", *toks, "</s>"]
    out += [f"b:{a} {b}" for a, b in zip(padded, padded[1:], strict=False)]
    out += [f"f:{t}" for t in toks[:2]]  # how a request begins says a lot ("undo", "a")
    for t in toks:
        if not t[0].isalpha() or len(t) < 3:
            continue
        w = f"<{t}>"
        for n in CHAR_SIZES:
            out += [f"c:{w[i:i + n]}" for i in range(len(w) - n + 1)]
    return out
