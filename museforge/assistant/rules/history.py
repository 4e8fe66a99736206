"""Rules for undo, redo, revert, list_artworks and show_versions."""

from __future__ import annotations

import re

from museforge.assistant import language
from museforge.assistant.planning import PlanContext, PlannedCall
from museforge.assistant.rules import Rule

I = re.IGNORECASE  # noqa: E741


# "the last change", "the past three edits", "the thing you undid": steps, not artworks.
_STEPS = re.compile(
    r"\b(?:the\s+)?(?:(?:very\s+)?last|latest|past|previous|most\s+recent)\s+(?:"
    + language.NUMBER_PATTERN + r"\s+(?:of\s+)?)?(?:changes?|edits?|steps?|things?|actions?|"
    r"undos?)\b(?:\s+(?:you|i|we)\s+(?:did|made|undid))?", I)


# "like it was", "how it used to be": about the past state, not a pronoun for an artwork.
_AS_IT_WAS = re.compile(r"\b(?:like|how|the\s+way|as)\s+it\s+(?:was|used\s+to\s+be)\b", I)
_NOT_A_NAME = {"last", "latest", "first", "original", "previous", "current", "same", "new",
               "other", "next", "whole", "very", "one", "ones", "change", "changes", "edit",
               "edits", "version", "versions", "history", "undo", "redo", "result"}


def _ref(text: str, ctx: PlanContext | None = None, default: str = "it") -> str:
    # "version 2" is a version, not an artwork; strip it before looking for a reference.
    cleaned = re.sub(r"\b(?:to\s+)?(?:the\s+|its\s+)?(?:v\d+|version\s+\w+|(?:first|original)"
                     r"\s+version|original)\b", " ", text, flags=I)
    cleaned = _AS_IT_WAS.sub(" ", _STEPS.sub(" ", cleaned))
    ref = language.natural_ref(cleaned)
    if (ref is None or language.PRONOUN_RE.fullmatch(ref)) and ctx is not None:
        ref = _named(cleaned, ctx) or ref
    return ref or default


def _named(text: str, ctx: PlanContext) -> str | None:
    """"the whale" when a recent artwork's title has the word "whale": a reference by name
    ("revert the whale to how it was"), resolved like "the whale one"."""
    titles = [set(re.findall(r"[\w'-]+", b.title.lower())) for b in ctx.recent]
    for m in re.finditer(r"\bthe\s+([a-z][\w'-]*)", text, I):
        word = m.group(1).lower()
        if len(word) > 2 and word not in _NOT_A_NAME and any(word in t for t in titles):
            return f"the {word} one"
    return None


def _refs(text: str, ctx: PlanContext | None = None) -> list[str]:
    """Every artwork the request names: "undo #2 and #3" is about two artworks."""
    explicit = language.explicit_refs(text)
    return explicit if len(explicit) > 1 else [_ref(text, ctx)]


def _repeat(name: str):  # type: ignore[no-untyped-def]
    def build(text: str, ctx: PlanContext) -> list[PlannedCall]:
        count = max(1, min(language.times(text), 20))
        return [PlannedCall(name, {"artwork": ref}) for ref in _refs(text, ctx)
                for _ in range(count)]

    return build


def _revert(text: str, ctx: PlanContext) -> list[PlannedCall]:
    version = language.version_number(text)
    explicit = language.explicit_refs(text)
    if explicit and " v" in explicit[0]:  # "revert to #2 v3"
        number, v = explicit[0].split(" v")
        return [PlannedCall("revert", {"artwork": number, "version": int(v)})]
    # No version named means the original; "v0" is passed on, for the tool to refuse.
    version = 1 if version is None else version
    return [PlannedCall("revert", {"artwork": _ref(text, ctx), "version": version})]


def _list(text: str, _ctx: PlanContext) -> list[PlannedCall]:
    low = text.lower()
    kind = "all"
    if re.search(r"\b(images?|pictures?|paintings?|photos?|drawings?)\b", low):
        kind = "image"
    if re.search(r"\b(music|songs?|pieces?|melod(y|ies)|tunes?|tracks?)\b", low):
        kind = "music" if kind == "all" else "all"
    if re.search(r"\b(clips?|recordings?|sounds?|audio)\b", low):
        kind = "audio" if kind == "all" else "all"
    return [PlannedCall("list_artworks", {"kind": kind})]


def _versions(text: str, ctx: PlanContext) -> list[PlannedCall]:
    if re.search(r"\b(?:a\s+few|several|some|two|three|four|\d)\s+(?:more\s+)?versions\b", text,
                 I) and not re.search(r"\b(?:show|list|see|how\s+many)\b", text, I):
        return []  # "a few versions" of it: variations, not its history
    cleaned = re.sub(r"\b(versions?|history|tree)\b", " ", text, flags=I)
    return [PlannedCall("show_versions", {"artwork": ref}) for ref in _refs(cleaned, ctx)]


_VERSION = (r"v\s*\d+|version\s+\w+|(?:first|original|second|third|fourth|fifth)\s+version|"
            r"original")
_UNDO = re.compile(
    r"\b(undo|un-do|ctrl[\s+-]*z|cmd[\s+-]*z|scrap\s+(?:that|the\s+last|it)|take\s+back\s+(?:the|that|my)|take\s+(?:that|it|this)\s+back|go\s+back(?:\s+one)?(?:\s+step)?|"
    r"step\s+back|back\s+up|revert|"
    r"cancel\s+(?:that|the\s+last)(?:\s+(?:change|edit))?|scratch\s+that|never\s*mind\s+that|"
    r"put\s+it\s+back\s+(?:the\s+way|as|how|to\s+how)\s+it\s+was(?!\s+before\s+i\s+undid)|(?:i\s+)?liked\s+it\s+better\s+before|"
    # "make it like it was (before)", but not "make it look like it was painted in oils"
    r"(?:the\s+)?previous\s+version|(?:like|how|the\s+way)\s+it\s+(?:was|used\s+to\s+be)"
    r"(?=(?:\s+(?:before|again))?\W*$))\b", I)
_REDO = re.compile(
    r"\b(un-?undo|ctrl[\s+-]*(?:y|shift[\s+-]*z)|cmd[\s+-]*shift[\s+-]*z|bring\s+(?:that|the)\s+(?:change|edit)\s+back|redo(?!\s+(?:just\s+|only\s+)?the\s+(?:sky|background|foreground|ground|top|bottom|left|right|middle|"
    r"center|centre|colou?rs?|lighting|face|eyes))|re-do|undo\s+(?:the|that|my)\s+undo|bring\s+(?:it|that|the\s+change)\s+back|"
    r"go\s+forward|step\s+forward|put\s+(?:the\s+change|it|that)\s+back(?!\s+(?:the\s+way|as|how|to\s+how))|"
    r"(?:put|bring)\s+back\s+(?:the\s+)?(?:change|edit|what)|"
    r"(?:change|edit|thing)s?\s+(?:you|i|we)\s+(?:just\s+)?undid|"
    r"(?:how|the\s+way|as)\s+it\s+was\s+before\s+(?:i|you|we)\s+undid|before\s+(?:the|that|my)\s+undo)\b",
    I)
_REVERT = re.compile(
    r"\b(revert|go\s+back|return|restore|roll\s*back|back|reset|change\s+it\s+back)\b.*\b("
    + _VERSION + r")\b"
    r"|\b(?:use|go\s+to|jump\s+to|switch\s+to)\s+(?:#\d+\s+)?(?:the\s+)?(?:" + _VERSION + r")\b"
    r"|\b(?:" + _VERSION + r")\b.*\bback\b"  # "I'd like version 2 back"
    r"|#\d+\s*v\s*\d+\s+(?:again|back)|\b(?:use|make)\s+#\d+\s*v\s*\d+\s+(?:current|the\s+"
    r"current|again)", I)
_LIST = re.compile(
    r"\b(list|show(?:\s+me)?|what|which|see|view|display|how\s+many)\b.*?\b(artworks?|images?|"
    r"pictures?|paintings?|music|songs?|pieces?|melodies|tunes|everything|all\s+of\s+(?:it|them)|"
    r"(?:have|did)\s+(?:we|i)\s+(?:made|make|created?|done|do))\b|"
    r"\bwhat\s+(?:(?:have|did|do)\s+)?(?:we|i|you)(?:'ve)?\s+(?:got|made|make|created?|done|"
    r"drawn|painted|composed|have)\b|\bmy\s+(?:gallery|artworks|creations|stuff|work|things)\b|"
    r"\blist\s+(?:them|it|all|everything|the\s+\w+)\b|^(?:all|every)\s+(?:the\s+|my\s+)?(?:images|"
    r"pictures|music|songs|pieces|artworks|tracks)\b|\b(?:inventory|catalog(?:ue)?|overview|"
    r"rundown)\s+of\s+(?:my|our|the|all)|\bremind\s+me\s+what\b|"
    r"\bwhat'?s\s+(?:here|in\s+here|on\s+(?:the\s+)?(?:board|table)|been\s+made)\b", I)
_VERSIONS = re.compile(
    r"\b((?<!\ba\s)(?<!\ban\s)(?<!similar\s)(?<!crazier\s)(?<!wilder\s)(?<!varied\s)"
    r"(?<!different\s)(?<!new\s)(?<!more\s)(?<!another\s)(?<!extra\s)(?<!\d\s)(?<!two\s)"
    r"(?<!three\s)(?<!four\s)(?<!few\s)(?<!couple\s)(?<!couple\sof\s)(?<!several\s)"
    r"(?<!other\s)(?<!alt\s)versions?\s+(?:of|for|history)|(?:what|which)\s+versions?|version\s+(?:tree|history)|"
    r"history\s+of|(?:show|list|see)\s+(?:me\s+)?(?:all\s+)?(?:the\s+)?versions?|"
    r"how\s+many\s+versions|versions?\s+(?:does|do|has|have)|(?:edit|change)\s+history|"
    r"version\s+list|list\s+(?:of\s+)?(?:the\s+)?versions|versions\s+list)\b", I)

RULES = [
    Rule("revert", _REVERT, _revert, priority=3,
         starts=re.compile(r"^(?:please\s+)?(revert|go\s+back|restore|roll\s*back|switch\s+back|"
                           r"return)\b", I)),
    Rule("redo", _REDO, _repeat("redo"), priority=2,
         starts=re.compile(r"^(?:please\s+)?(redo|re-do|bring\s+it\s+back)\b", I)),
    # Priority 10 and above: the words make it certain, whatever the intent model says.
    Rule("redo", re.compile(r"\bundo\s+(?:the|that|my)\s+undo\b|\bun-?undo\b", I), _repeat("redo"),
         priority=11),
    # "can I have the first one again", "the original again": version 1 of "it"
    Rule("revert", re.compile(r"^(?:(?:can|could|may)\s+i\s+(?:have|get|see)\s+|"
                              r"(?:go\s+)?back\s+to\s+|"
                              r"(?:give\s+me|bring\s+back)\s+)?(?:the\s+)?(?:very\s+)?(?:first|original)"
                              r"(?:\s+(?:one|version|picture|tune|song))?\s+(?:again|back)\b|"
                              r"^(?:(?:ok|okay|now|please|pls|just)\s+)*(?:go\s+|take\s+(?:it|me)\s+)?"
                              r"back\s+to\s+(?:the\s+)?very\s+first(?:\s+(?:one|version))?\W*$", I),
         lambda text, ctx: [PlannedCall("revert", {"artwork": _ref(re.sub(
             r"\b(?:the\s+)?(?:very\s+)?(?:first|original)(?:\s+(?:one|version))?", " ", text,
             flags=I), ctx), "version": 1})], priority=10),
    # "revert to 2", "roll #3 back to 1": a bare number after "to" is a version
    Rule("revert", re.compile(r"^(?:(?:please|pls|ok|okay|now|just)[\s,]+)*(?:revert|roll\s*back|"
                              r"go\s+back|back)\s+(?:(?:it|that|this|#\s*\d+)\s+)?(?:back\s+)?"
                              r"to\s+(?:number\s+)?\d+(?:\s+(?:please|pls|then))?\W*$", I),
         lambda text, ctx: [PlannedCall("revert", {
             "artwork": language.explicit_refs(text)[0] if language.explicit_refs(text) else "it",
             "version": int(re.findall(r"\d+", text)[-1])})], priority=10),
    # "v3", "fine, v3 then": a version said alone is the one to go back to
    Rule("revert", re.compile(r"^(?:(?:fine|ok|okay|then|so|hmm|actually|no|nah|yes|yeah|right)"
                              r"[\s,.!]+)*(?:v\s*\d+|version\s+\d+)(?:[\s,]+(?:then|please|pls|"
                              r"instead|again|it\s+is))*\W*$", I), _revert, priority=10),
    # "undo the upscale", "take back that crop": the step named is the one to undo
    Rule("undo", re.compile(
        r"^(?:(?:please|pls|ok|okay|now|hmm|nah|no)[\s,]+)*(?:undo|revert|take\s+back|cancel|scrap)\s+"
        r"(?:the|that|my|this)\s+(?:last\s+)?(?:upscale|upscaling|crop|cropping|flip|rotation|"
        r"rotate|edit|change|blend|filter|transpose|transposition|adjustment|recolou?r\w*|text|"
        r"caption|inpaint\w*|zoom|tempo\s+change|key\s+change|humani[sz]\w*|quanti[sz]\w*|"
        r"sepia|black\s+and\s+white|grayscale|greyscale|mirror|resize)\b", I),
         _repeat("undo"), priority=10),
    Rule("undo", _UNDO, _repeat("undo"), priority=1,
         starts=re.compile(r"^(?:please\s+)?(undo|go\s+back|take\s+(?:that|it)\s+back|"
                           r"step\s+back)\b", I)),
    Rule("show_versions", _VERSIONS, _versions, priority=2,
         starts=re.compile(r"^(?:please\s+)?(?:show|list)\s+(?:me\s+)?(?:the\s+)?versions\b",
                           I)),
    Rule("list_artworks", _LIST, _list, priority=0,
         starts=re.compile(r"^(?:please\s+)?(?:list|show\s+me\s+(?:all|everything))\b", I)),
]
