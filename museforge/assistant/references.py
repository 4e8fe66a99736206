"""Resolving what a person calls an artwork ("it", "#3 v2", "the first one", "the last
two", "the one with the fox") to canonical references ("#3", "#3 v2") in a session.

"It" means what the conversation was last about: the artworks the last tool call made or
touched (its *focus*). With several candidates the resolver refuses to guess and says
which ones it could mean; the reply turns that into a question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from museforge.assistant import language
from museforge.storage.errors import InvalidReference, NotFound
from museforge.storage.models import Actor, ArtworkInfo, SessionInfo
from museforge.storage.refs import Ref, parse_ref
from museforge.storage.store import Store
from museforge.tools.base import ToolError

Touched = tuple[int, str]  # (artwork number, kind)

STOPWORDS = set(
    "the a an one of with about showing featuring that this it image picture painting "
    "photo piece song melody tune track music version please my our and in on at to".split()
)
_WHAT = {"image": "image", "music": "music piece", None: "artwork"}


class ReferenceError(ToolError):
    pass


class Ambiguous(ReferenceError):
    def __init__(self, phrase: str, candidates: list[tuple[int, str]]):
        self.candidates = candidates
        listed = _or_list([f"#{n} “{t}”" if t else f"#{n}" for n, t in candidates])
        super().__init__(f"“{phrase}” could mean {listed}. Which one?")


@dataclass
class Resolver:
    store: Store
    actor: Actor
    session: SessionInfo
    focus: list[Touched] = field(default_factory=list)
    # Artworks a --plan-only run pretends exist: number -> (kind, title).
    provisional: dict[int, tuple[str, str]] = field(default_factory=dict)
    # (tool, artwork) of the undo/redo calls a --plan-only run has checked against the store
    stepped: set[tuple[str, str]] = field(default_factory=set)

    def resolve_one(self, raw: str, kind: str | None = None) -> str:
        refs = self.resolve(raw, kind)
        if len(refs) > 1:
            raise Ambiguous(raw, [(int(r[1:].split()[0]), self._title(r)) for r in refs])
        return refs[0]

    def resolve(self, raw: str, kind: str | None = None) -> list[str]:
        """Canonical references for ``raw``: one, or several for "the last two"."""
        text = " ".join(str(raw).split())
        low = text.lower().strip(" .!?")
        if not low:
            raise InvalidReference("an empty artwork reference")
        explicit = language.explicit_refs(text)
        if explicit:
            return [self._check(parse_ref(r)) for r in explicit]
        if re.fullmatch(r"\d+", low):
            return [self._check(parse_ref("#" + low))]
        if re.fullmatch(r"(?:the\s+)?(?:latest|last)(?:\s+(?:image|picture|music|song|piece|"
                        r"one))?", low):
            return [self._latest(self._kind_in(low) or kind)]
        m = language.LAST_N_RE.search(low)
        if m:
            n = language.to_number(m.group(1))
            return self._latest_n(int(n or 1), self._kind_in(low) or kind)
        if language.BOTH_RE.fullmatch(low):
            group = self._focus(kind)
            return [f"#{n}" for n in group] if len(group) > 1 else self._latest_n(2, kind)
        if low in ("it", "that", "this", "that one", "this one", "the result", "the same",
                   "the same one", "the new one", "the current one"):
            return [self._it(text, kind)]
        m = re.fullmatch(r"(?:the|that|this|my)\s+(picture|image|painting|photo|drawing|song|"
                         r"music|piece|melody|tune|track)", low)
        if m:
            return [self._it(text, self._kind_in(m.group(1)))]
        if low in ("the previous one", "the one before", "the one before that"):
            return [self._nth_latest(2, kind)]
        m = language.ORDINAL_REF_RE.fullmatch(low)
        if m and m.group(1) in language.ORDINALS:
            return [self._ordinal(language.ORDINALS[m.group(1)], self._kind_in(low) or kind)]
        return [self._by_words(text, kind)]

    # -- the strategies ----------------------------------------------------------------

    def _check(self, ref: Ref) -> str:
        assert ref.number is not None
        if ref.number in self.provisional:
            return str(ref)
        art, _ = self.store.resolve(self.actor, self.session, ref)
        return str(Ref(art.number, ref.version))

    def _focus(self, kind: str | None) -> list[int]:
        return [n for n, k in self.focus if kind is None or k == kind]

    def _it(self, phrase: str, kind: str | None) -> str:
        group = self._focus(kind)
        if len(group) == 1:
            return f"#{group[0]}"
        if len(group) > 1:
            raise Ambiguous(phrase, [(n, self._title(f"#{n}")) for n in group])
        return self._latest(kind)

    def _latest(self, kind: str | None) -> str:
        pretend = [n for n, (k, _) in self.provisional.items() if kind is None or k == kind]
        if pretend:
            return f"#{max(pretend)}"
        art, _ = self.store.resolve(self.actor, self.session, Ref(kind=kind))
        return f"#{art.number}"

    def _nth_latest(self, n: int, kind: str | None) -> str:
        numbers = self._numbers(kind)
        if len(numbers) < n:
            raise NotFound(f"there is no {'' if n == 1 else 'earlier '}{_WHAT[kind]} in this "
                           "conversation yet")
        return f"#{numbers[-n]}"

    def _latest_n(self, n: int, kind: str | None) -> list[str]:
        numbers = self._numbers(kind)
        if len(numbers) < n:
            raise NotFound(f"this conversation has {len(numbers)} {_WHAT[kind]}"
                           f"{'s' if len(numbers) != 1 else ''}, not {n}")
        return [f"#{x}" for x in numbers[-n:]]

    def _ordinal(self, n: int, kind: str | None) -> str:
        group = self._focus(kind)
        pool = group if len(group) > 1 else self._numbers(kind)
        if n > len(pool):
            raise NotFound(f"there is no {_nth(n)} {_WHAT[kind]} here (there are {len(pool)})")
        return f"#{pool[n - 1]}"

    def _by_words(self, phrase: str, kind: str | None) -> str:
        m = language.ONE_WITH_RE.search(phrase) or language.THE_X_ONE_RE.search(phrase)
        words = m.group(1) if m else phrase
        terms = [w for w in re.findall(r"[\w'-]+", words.lower()) if w not in STOPWORDS]
        if not terms:
            raise InvalidReference(f"I can't tell which artwork “{phrase}” means; use #N")
        # The store matches substrings; "the cat one" must not find "a catalog of shells".
        found: list[ArtworkInfo | _Prov] = [
            a for a in self.store.search_artworks(self.actor, self.session, " ".join(terms),
                                                  kind)
            if _has_words(f"{a.title} {a.prompt}", terms)]
        found += [_Prov(n, k, t) for n, (k, t) in self.provisional.items()
                  if (kind is None or k == kind) and _has_words(t, terms)]
        stems = [_stem(t) for t in terms]
        if not found and stems != terms:  # "the snowy one" is the fox in the snow
            found = [a for a in self.store.search_artworks(self.actor, self.session,
                                                           " ".join(stems), kind)
                     if _has_words(f"{a.title} {a.prompt}", stems)]
            found += [_Prov(n, k, t) for n, (k, t) in self.provisional.items()
                      if (kind is None or k == kind) and _has_words(t, stems)]
        if not found:
            raise NotFound(f"no {_WHAT[kind]} here matches “{' '.join(terms)}”")
        if len(found) > 1:
            raise Ambiguous(phrase, [(a.number, a.title) for a in found])
        return f"#{found[0].number}"

    # -- helpers -----------------------------------------------------------------------

    def _numbers(self, kind: str | None) -> list[int]:
        stored = [a.number for a in self.store.list_artworks(self.actor, self.session, kind)]
        extra = [n for n, (k, _) in self.provisional.items() if kind is None or k == kind]
        return sorted(set(stored) | set(extra))

    def _title(self, ref: str) -> str:
        number = int(ref[1:].split()[0])
        if number in self.provisional:
            return self.provisional[number][1]
        try:
            return self.store.artwork(self.actor, self.session, number).title
        except NotFound:
            return ""

    @staticmethod
    def _kind_in(low: str) -> str | None:
        if re.search(r"\b(image|picture|painting|photo)s?\b", low):
            return "image"
        if re.search(r"\b(music|song|piece|melody|tune|track)s?\b", low):
            return "music"
        return None


@dataclass(frozen=True)
class _Prov:
    number: int
    kind: str
    title: str


def _stem(word: str) -> str:
    """"snowy" -> "snow", "foggy" -> "fog", "icy" -> "ice": the noun an adjective is made of."""
    if word == "icy":
        return "ice"
    if len(word) > 4 and word.endswith("y") and word[-2] not in "aeiouy":
        base = word[:-1]
        return base[:-1] if len(base) > 3 and base[-1] == base[-2] and base[-1] not in "sl" \
            else base
    return word


def _has_words(text: str, terms: list[str]) -> bool:
    """Every term as a whole word of ``text`` (a plural counts: "fox" finds "foxes")."""
    low = text.lower()
    return all(re.search(rf"(?<![\w'-]){re.escape(t)}(?:e?s)?(?![\w'-])", low) for t in terms)


def _nth(n: int) -> str:
    return {1: "first", 2: "second", 3: "third"}.get(n, f"{n}th")


def _or_list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]
