"""Rules for styles a person teaches: "learn my style from #2, #3 and #4 as Aird",
"remember these reels as 'session tunes'", "list my styles", "forget the style Aird", and
"compose a jig in my Aird style" (compose_music's ``learnt_style``; ``style`` stays the
form: waltz, jig...)."""

from __future__ import annotations

import re

from museforge.assistant import language
from museforge.assistant.planning import PlanContext, PlannedCall
from museforge.assistant.rules import Rule, music

I = re.IGNORECASE  # noqa: E741

_NAME = r"[\"“'‘]?([\w][\w' -]{0,38}?)[\"”'’]?"
_LEARN = re.compile(
    r"\b(?:learn|study|train(?:\s+on)?|pick\s+up|copy|remember|memori[sz]e|teach\s+yourself)\b"
    r"[^.;]*?\b(?:style|feel|sound|way|these|those|them|#\s*\d+|tunes?|pieces?|songs?|reels?|"
    r"jigs?|melod(?:y|ies)|pictures?|paintings?|drawings?|photos?|art|character|mascot)\b", I)


def _learn(text: str, context: PlanContext) -> list[PlannedCall]:
    refs = language.explicit_refs(text)
    pictures = re.search(r"\b(?:pictures?|paintings?|drawings?|photos?|art|character|person|"
                         r"mascot)\b", text, I) is not None
    if not refs and re.search(r"\b(?:these|those|them|all|my\s+(?:tunes|pieces|songs|pictures|"
                              r"paintings|drawings))\b|\bthis\s+(?:character|person|mascot)\b",
                              text, I):
        kind = "image" if pictures else "music"
        pool = [b for b in context.focus] if len(context.focus) > 1 else \
            [b for b in context.recent if b.kind == kind][-1 if kind == "image" and not re.search(
                r"\b(?:these|those|them|all)\b", text, I) else 0:]
        refs = [f"#{b.number}" for b in pool]
    if not refs:
        return []
    name = re.search(r"\b(?:as|called|named|name\s+it|call\s+it)\s+" + _NAME + r"\s*[.!?]*$",
                     text, I) or re.search(r"\bmy\s+" + _NAME + r"\s+style\b", text, I)
    if name is None:
        return []  # a style needs a name to be asked for later; the tool would refuse
    known = {b.number: b.kind for b in [*context.recent, *context.focus]}
    kinds = {known.get(int(r[1:].split()[0])) for r in refs}
    args: dict[str, object] = {"name": name.group(1).strip(), "artworks": refs}
    if len(kinds) == 1 and None not in kinds:
        args["kind"] = kinds.pop()
    if args.get("kind") == "image" and re.search(r"\b(?:character|person|mascot|figure|him|her|"
                                                 r"pet|dog|cat)\b", text, I):
        args["character"] = True  # "remember this character as Pip": Pip, by name
    return [PlannedCall("learn_style", args)]


_LIST = re.compile(r"\bmy\s+(?:own\s+)?(?:learnt\s+|learned\s+|taught\s+)?(?:picture\s+|image\s+|"
                   r"music\s+|melody\s+|painting\s+)?(?:styles|characters)\b|"
                   r"\b(?:learnt|learned|taught)\s+styles\b|\bstyles\s+(?:have\s+you|you'?ve|"
                   r"did\s+you|i'?ve|have\s+i|did\s+i)\s+(?:learnt|learned|taught|been\s+taught)\b",
                   I)


def asks_for_styles(text: str) -> bool:
    """"list my styles", "what styles have you learnt?" (before the help answers)."""
    return bool(_LIST.search(text)) and not re.search(r"\b(?:paint|draw|compose|write|"
                                                      r"make)\b", text, I)


def _list(text: str, context: PlanContext) -> list[PlannedCall]:
    kind = "music" if re.search(r"\b(?:music|tune|song|melod)", text, I) else \
        "image" if re.search(r"\b(?:picture|image|painting)", text, I) else None
    return [PlannedCall("list_styles", {"kind": kind} if kind else {})]


_FORGET = re.compile(r"\b(?:forget|delete|remove|drop|unlearn)\s+(?:the\s+|my\s+)?(?:style\s+)?"
                     + _NAME + r"(?:\s+style)?\s*[.!?]*$", I)


def _forget(text: str, context: PlanContext) -> list[PlannedCall]:
    m = _FORGET.search(text)
    if m is None or not re.search(r"\bstyle\b", text, I):
        return []  # "remove the boat" is an edit
    name = re.sub(r"^(?:style\s+)|\s+style$", "", m.group(1).strip(), flags=I)
    return [PlannedCall("forget_style", {"name": name})]


# a style's name in running text stops at the words around it: "a fox in the snow at dusk in
# my Rust style" is Rust, not "snow at dusk in my Rust"
_STYLE_NAME = (r"[\"“'‘]?([\w][\w'-]{0,38}(?:\s+(?!(?:in|my|the|with|at|on|of|a|an|and|by|"
               r"for|from|using)\b)[\w][\w'-]{0,38}){0,2})[\"”'’]?")
IN_MY_STYLE = re.compile(r"\b(?:in|with|using)\s+(?:my|the)\s+" + _STYLE_NAME + r"\s+style\b|"
                          r"\b(?:in|with|using)\s+(?:my|the)\s+style\s+(?!of\b|from\b)" + _NAME +
                          r"\b|"
                          r"\blike\s+my\s+" + _NAME + r"\b", I)


MY_OWN = re.compile(r"\b(?:in|with|using)\s+my\s+(?:own\s+)?(?:usual\s+)?style\b(?!\s+(?:of|called|"
                     r"named)\b)|\blike\s+my\s+(?:own\s+)?(?:work|art|pictures|paintings|drawings|"
                     r"stuff)\b", I)


def learnt_style_in(text: str) -> str | None:
    """"in my Aird style", "with the style 'session tunes'": a style the person taught,
    not a form the composer knows (waltz, jig...) nor a mood. "in my style", no name: the
    one style the person has (``MY_STYLE``; the store says which, or asks)."""
    from museforge.storage.styles import MY_STYLE

    m = IN_MY_STYLE.search(text)
    if m is None and MY_OWN.search(text):
        return MY_STYLE
    if m is None:
        return None
    name = next(g for g in m.groups() if g).strip()
    low = name.lower()
    if low in music.STYLE_WORDS or low in music.MOODS or low in ("own", "usual", "favourite",
                                                                 "favorite", "old"):
        return None
    return name


# "in my Aird and Rust styles", "in my Aird style, lightly", "at half strength"
_MY_STYLES = re.compile(r"\b(?:in|with|using)\s+(?:my|the)\s+([\w][\w'-]{0,38}(?:\s*(?:,|and|&)\s*"
                        r"[\w][\w'-]{0,38}){1,3})\s+styles\b", I)
_STRENGTH = [(re.compile(r"\b(?:lightly|subtly|gently|a\s+(?:little|touch|bit)|faintly|softly)\b",
                         I), 0.4),
             (re.compile(r"\b(?:at\s+)?half\s+(?:strength|way)\b", I), 0.5),
             (re.compile(r"\b(?:strongly|heavily|a\s+lot|really\s+strong|full\s+strength|"
                         r"as\s+strong\s+as\s+(?:you\s+can|possible))\b", I), 1.2)]


def picture_styles_in(text: str) -> tuple[list[str], float | None, str]:
    """The picture styles a request paints in ("in my Aird style", "in my Aird and Rust
    styles"), how strongly when it says so, and the words without them."""
    several = _MY_STYLES.search(text)
    if several:
        names = [n.strip() for n in re.split(r"\s*(?:,|\band\b|&)\s*", several.group(1), flags=I)
                 if n.strip()]
        rest = text[: several.start()] + " " + text[several.end():]
    else:
        one = learnt_style_in(text)
        if one is None:
            return [], None, text
        names, rest = [one], MY_OWN.sub(" ", IN_MY_STYLE.sub(" ", text))
    strength = None
    for pattern, value in _STRENGTH:
        m = pattern.search(rest)
        if m:
            strength, rest = value, rest[: m.start()] + " " + rest[m.end():]
            break
    rest = re.sub(r"\s+,", ",", re.sub(r",\s*(?:,\s*)+", ", ", rest)).strip(" ,")
    return names[:4], strength, rest


_STARTS = re.compile(r"^(?:please\s+)?(?:learn|forget)\b", I)

RULES = [
    Rule("learn_style", _LEARN, _learn, priority=12, starts=_STARTS),
    Rule("list_styles", _LIST, _list, priority=12),
    Rule("forget_style", _FORGET, _forget, priority=12, starts=_STARTS),
]
