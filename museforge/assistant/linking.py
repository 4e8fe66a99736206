"""A new artwork made to fit one of the other kind: "a cover for this song", "what would
this painting sound like", "set the lighthouse to music", "music for #1". The new
artwork's recipe links to what inspired it (``inspired_by``), and the words of the link
are not painted or composed."""

from __future__ import annotations

import re

from museforge.assistant import language
from museforge.assistant.naming import (
    IMAGE_NOUN,
    MUSIC_NOUN,
    focus_kind,
    has_kind,
    kind_named,
    subject_ref,
    targets,
)
from museforge.assistant.planning import PlanContext, PlannedCall
from museforge.assistant.rules import images, music

I = re.IGNORECASE  # noqa: E741


_LINK = (r"(?:(?:that|which|to)\s+(?:fits?|match(?:es)?|goes?\s+with|suits?|accompan(?:y|ies)|"
         r"complements?|captures?|evokes?|reflects?)|to\s+go\s+(?:with|along\s+with)|"
         r"inspired\s+by|based\s+on|in\s+the\s+mood\s+of|from|for|of|like|after|"
         r"matching|fitting|about)")
_THING = (r"(?:it|this|that|(?:him|her|them)(?=\s*(?:$|[,.!?]|(?:lol|please|pls|too|now|then)\b))|"
          r"#\s*\d+(?:\s*v\s*\d+)?|(?:the|this|that|my|your)\s+(?:\w+\s+){0,2}?"
          r"(?:" + MUSIC_NOUN + "|" + IMAGE_NOUN + r"|one(?:\s+with\s+(?:the\s+)?[\w-]+)?)s?|"
          r"the\s+[a-z][\w'-]+)")
_SOUND_LIKE = re.compile(r"\b(?:what|how)\s+(?:would|does|might|"
                         r"could)\s+(.+?)\s+sound(?:\s+like)?\b",
                         I)
_LOOK_LIKE = re.compile(r"\b(?:what|how)\s+(?:would|does|might|could)\s+(.+?)\s+look(?:\s+like)?\b",
                        I)


def inspired(text: str, ctx: PlanContext, new_kind: str) -> tuple[str | None, str]:
    """The artwork of the other kind a new one should fit ("a cover for this song": the
    song), and the text without that phrase."""
    other = "music" if new_kind == "image" else "image"
    like = (_SOUND_LIKE if new_kind == "music" else _LOOK_LIKE).search(text)
    if like:
        ref = _other_ref(like.group(1), ctx, other)
        if ref:  # "what would the attic look like": the attic is what the picture shows
            kept = like.group(1) if _subject_words(like.group(1)) else ""
            return ref, text[: like.start()] + " " + kept + " " + text[like.end():]
    m = _DANCE_TO.search(text)  # "music it could dance to"
    if m:
        ref = _other_ref(m.group(1), ctx, other)
        if ref:
            return ref, text[: m.start()] + " " + text[m.end():]
    m = re.search(r"\b(?:for|of|to)\s+(?:the\s+)?same(?:\s+(?:one|" + IMAGE_NOUN + "|" +
                  MUSIC_NOUN +
                  r"))?\b", text, I)  # "also one music with sitar for same"
    if m and focus_kind(ctx) == other:
        return "it", text[: m.start()] + " " + text[m.end():]
    found = [(m, ref) for m in re.finditer(r"\b" + _LINK + r"\s+(" + _THING + r")(?=\W|$)",
                                           text, I)
             if (ref := _other_ref(m.group(1), ctx, other))]
    # "a picture of the cliffs for it": "for it" is the link; "of the cliffs" names what
    # the new artwork shows, so its words stay in the prompt (it links too, when alone)
    links = [(m, ref) for m, ref in found if not _depicts(m)] or found
    if links:
        m, ref = links[0]
        if _depicts(m):
            return ref, text
        return ref, text[: m.start()] + " " + text[m.end():]
    return None, text


def _depicts(m: re.Match[str]) -> bool:
    """A link match "of the boat", "about the cliffs": what the new artwork shows."""
    return _shows(m.group(0)[: m.start(1) - m.start(0)], m.group(1))


def _shows(before: str, phrase: str) -> bool:
    """"of the boat", "about the cliffs" (``before`` ends with "of"/"about", ``phrase`` is
    the artwork's subject): a subject the new artwork shows, not only fits."""
    return bool(re.search(r"\b(?:of|about)\s+$", before, I)) and _subject_words(phrase)


def _subject_words(phrase: str) -> bool:
    """"the cliffs", "the old tavern": an artwork named by what it shows, not by its
    number, a pronoun or its kind ("the song", "this picture")."""
    bare = phrase.strip()
    return bool(re.fullmatch(r"the\s+[a-z][\w' -]*", bare, I)) and kind_named(phrase) is None \
        and not re.fullmatch(r"the\s+(?:same|other|first|last|second|third|one)\b.*", bare, I)


_DANCE_TO = re.compile(r"\b(it|they|this|that)\s+(?:could|can|would|might|will)\s+(?:dance|move|"
                       r"sway|walk|march|sleep|float|fly|run|swim|drift)\s+(?:along\s+)?to\b", I)


def _other_ref(phrase: str, ctx: PlanContext, other: str) -> str | None:
    phrase = " ".join(phrase.split())
    refs = language.explicit_refs(phrase)
    known = {b.number: b.kind for b in [*ctx.recent, *ctx.focus]}
    if refs:
        return refs[0] if known.get(int(refs[0][1:].split()[0])) in (other, None) else None
    named = subject_ref(phrase, ctx)
    if named:
        return named[0] if named[1] == other else None
    kind = kind_named(phrase)
    if kind is not None:
        if kind != other or not has_kind(ctx, other):
            return None
        return "it" if focus_kind(ctx) == other else f"latest {other}"
    if phrase.lower() in ("it", "this", "that") and focus_kind(ctx) == other:
        return phrase.lower()
    if phrase.lower() in ("him", "her", "them") and other == "image" \
            and focus_kind(ctx) == other:
        return "it"  # "music for him": the one in the picture in focus
    return None


_MAKE_IMAGE = re.compile(
    r"\b(?:covers?|cover\s+art|album\s+(?:art|cover)|artwork|art|pictures?|pics?|images?|"
    r"illustrations?|illustrate|paintings?|paint|draw|drawing|sketch(?:es)?|doodles?|posters?|visual|"
    r"visuals|ideas|"
    r"visuali[sz]e|visuali[sz]ation|wallpaper|look(?:s)?\s+like|look\b|picture\s+(?:it|this|that))"
    r"\b", I)
_MAKE_MUSIC = re.compile(
    r"\b(?:music|song|tune|melody|piece|soundtrack|score|sound(?:s)?\s+like|sound\b|jingle|"
    r"theme|jig|reel|waltz|lullaby|ballad|march|hornpipe|air|compose|bars|bpm|"
    r"in\s+[A-G](?:#|b)?(?:\s+(?:major|minor))?)\b", I)
_MUSIC_NOUN_CUE = re.compile(r"\b(?:music|song|tune|melody|piece|soundtrack|score|sound(?:s)?\s+"
                             r"like|jingle|theme|jig|reel|waltz|lullaby|ballad|hornpipe)\b", I)
_PRONOUN_REF = re.compile(
    r"\b(?:it|this|that)\b(?!\s+(?:one\s+with|is|was|'s|fits?|match\w*|goes|go|suits?|captures?|"
    r"evokes?|reflects?|sounds?|looks?|feels?|would|will|could|might|has|had)\b)", I)


def crossmodal(text: str, ctx: PlanContext) -> tuple[str, str, str] | None:
    """A new artwork made to fit one of the other kind: ("generate_image" or
    "compose_music", the reference, the request without it). "a cover for this song",
    "what would this painting sound like", "set the lighthouse to music", "cover art"."""
    refs: list[tuple[str, str | None, tuple[int, int]]] = [
        (t.ref, t.kind, t.span) for t in targets(text, ctx)]
    for m in re.finditer(r"\b(?:the|this|that|my|your)\s+(?:\w+\s+)?(" + MUSIC_NOUN + "|" +
                         IMAGE_NOUN + r")s?\b", text, I):
        if not any(a <= m.start() < b for _, _, (a, b) in refs):
            noun = "music" if re.fullmatch(MUSIC_NOUN, m.group(1), I) else "image"
            refs.append((_named_ref(m.group(0), noun, ctx), noun, (m.start(), m.end())))
    if not refs:
        pms = list(_PRONOUN_REF.finditer(text))
        pm = pms[-1] if pms else None  # "music that fits it": the last one is the artwork
        if pm and focus_kind(ctx):
            refs.append(("it", focus_kind(ctx), (pm.start(), pm.end())))
    head = re.match(r"^(?:(?:and|now|also|then|ok|okay|so)\s+)*(?:(?:please|pls)\s+)?(?:a|an|some|"
                    r"one)\s+(?:[\w'-]+\s+){0,2}?(" + MUSIC_NOUN + "|" + IMAGE_NOUN + r")s?\b"
                    r"(?=.*\b(?:for|with|like|fits?|matches|suits|goes\s+with)\b)", text, I)
    if head:  # "and a music that look like this picture": the new one is what is named first
        wants = "music" if re.fullmatch(MUSIC_NOUN, head.group(1), I) else "image"
        other = [(ref, (a, b)) for ref, kind, (a, b) in refs if kind and kind != wants
                 and a >= head.end() and not _shows(text[:a], text[a:b])]
        if other:
            ref, (a, b) = other[-1]
            return ("compose_music" if wants == "music" else "generate_image", ref,
                    text[:a] + " " + text[b:])
    for ref, kind, (a, b) in refs:
        if _shows(text[:a], text[a:b]):
            # "a picture of the cliffs for it": the cliffs are what it shows
            rest = re.sub(r"\b(?:for|to\s+go\s+with|that\s+(?:fits|goes\s+with|matches)|"
                          r"to\s+match)\s+(?:it|this|that)\b", " ", text, flags=I)
        else:
            rest = text[:a] + " " + text[b:]
        if kind == "music" and _MAKE_IMAGE.search(rest) and not _edits_music(rest):
            return "generate_image", ref, rest
        cue = _MAKE_MUSIC.search(rest)
        if kind == "image" and cue and not _MAKE_IMAGE.search(
                re.sub(r"\b(?:sound|sounds)\s+like\b", " ", rest)) and not (
                ref == "it" and not _MUSIC_NOUN_CUE.search(rest)):
            return "compose_music", ref, rest
    if not refs and re.search(r"\b(?:cover\s+art|album\s+(?:art|cover)|a\s+cover|visuali[sz]e)\b",
                              text, I) and focus_kind(ctx) == "music":
        return "generate_image", "it", text
    return None


def _named_ref(phrase: str, kind: str, ctx: PlanContext) -> str:
    low = " ".join(phrase.lower().split())
    if re.fullmatch(r"(?:the|this|that|my)\s+(?:picture|image|painting|photo|drawing|song|music|"
                    r"piece|melody|tune|track)", low):
        return low
    return f"latest {kind}" if has_kind(ctx, kind) else low


def _edits_music(rest: str) -> bool:
    return bool(re.search(r"\b(?:faster|slower|transpose|tempo|key|instrument|play(?:ed)?\s+on)\b",
                          rest, I))


def _unlinked(prompt: str) -> str:
    """The prompt without a dangling link ("a melody inspired by" -> "a melody")."""
    return re.sub(r"[\s,]+(?:inspired\s+by|based\s+on|for|to\s+go\s+with|that\s+fits|like|of|"
                  r"to\s+match|matching)\s*$", "", prompt.strip(), flags=I).strip(" ,")


def generate_image(text: str, ctx: PlanContext) -> list[PlannedCall]:
    ref, rest = inspired(text, ctx, "image")
    calls = images._generate(rest if ref else text, ctx)
    if ref and calls:
        calls[0].args["inspired_by"] = ref
        if re.fullmatch(r"(?:a\s+)?(?:cover|poster|picture|image|painting|artwork|art)"
                        r"(?:\s+art)?", str(calls[0].args.get("prompt", "")), I):
            calls[0].args["prompt"] = "a picture"
    return calls


def compose_music(text: str, ctx: PlanContext) -> list[PlannedCall]:
    ref, rest = inspired(text, ctx, "music")
    calls = music._compose(rest if ref else text, ctx)
    if ref and calls:
        calls[0].args["inspired_by"] = ref
        calls[0].args["prompt"] = _unlinked(str(calls[0].args.get("prompt", ""))) or "music"
    return calls
