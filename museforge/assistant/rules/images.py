"""Rules for the image tools: generate, vary, edit, adjust, reframe, upscale, inpaint,
add_text, blend. Slots are filled from the words people use: styles, aspects, counts in
words or digits, intensities ("a bit warmer", "much darker"), regions, quoted captions."""

from __future__ import annotations

import re

from museforge.assistant import language
from museforge.assistant.planning import PlanContext, PlannedCall
from museforge.assistant.rules import Rule

I = re.IGNORECASE  # noqa: E741
NUM = r"(\d+(?:\.\d+)?|" + "|".join(sorted(language.UNITS, key=len, reverse=True)) + r")"

STYLE_WORDS = {
    "watercolor": "watercolor", "watercolour": "watercolor", "water color": "watercolor",
    "oil painting": "oil", "oil paint": "oil", "in oils": "oil", "oil": "oil",
    "pixel art": "pixel art", "pixel-art": "pixel art", "pixelart": "pixel art",
    "8-bit": "pixel art", "16-bit": "pixel art", "water colour": "watercolor",
    "watercolours": "watercolor", "watercolors": "watercolor", "oils": "oil",
    "minimalistic": "minimal", "sketches": "sketch", "pencil sketch": "sketch",
    "aquarelle": "watercolor", "gouache": "watercolor", "ink wash": "watercolor",
    "pixelated": "pixel art", "sketch": "sketch", "pencil drawing": "sketch",
    "pencil": "sketch", "charcoal": "sketch", "line drawing": "sketch", "neon": "neon",
    "synthwave": "neon", "minimal": "minimal", "minimalist": "minimal", "flat design": "minimal",
    "photo": "photo", "photograph": "photo", "photorealistic": "photo", "realistic": "photo",
    "photos": "photo", "photographs": "photo",
    "anime": "anime", "manga": "anime", "cartoon": "anime",
}
_STYLE_RE = re.compile(
    r"(?:^|,\s*|\s+)(?:(?:in\s+(?:the\s+style\s+of\s+|a\s+|an\s+)?|as\s+(?:a\s+|an\s+)?)?"
    r"(?:" + "|".join(re.escape(k) for k in sorted(STYLE_WORDS, key=len, reverse=True)) +
    r")(?:\s+(?:style|sign\s+style|art|painting|colou?rs))?)\b", I)
ASPECT_WORDS = [
    (r"\bpanoram(?:a|ic)\b|\bultra[\s-]?wide\b|\bsuper[\s-]?wide\b", "21:9"),
    (r"\bwide\s*screen\b|\bwide\b|\bwider\b|\bcinematic\b|\b16\s*[:x]\s*9\b|\bfor\s+the\s+(?:telly|tv)\b|"
     r"\b(?:yt|youtube)\s+thumbnails?\b|\bthumbnail\s+for\s+(?:yt|youtube)\b",
     "16:9"),
    (r"\bsquare\b|\b(?:insta(?:gram)?|ig)\s+post\b|\bprofile\s+(?:pic(?:ture)?|photo)\b|\bavatar\b",
     "1:1"),
    (r"\b(?:portrait|vertical|tall)\s+(?:format|orientation|mode|crop)\b|\bvertical\b|"
     r"\bphone\s+wallpapers?\b|\bwallpapers?\s+for\s+(?:my|a)\s+phone\b|\block\s*screen\b|"
     r"\bfor\s+(?:my|a)\s+phone\b|\b(?:4|for)\s+my\s+phone\b|\bfront\s+of\s+my\s+phone\b|"
     r"\bphone\s+(?:background|screen|size)\b|\bstory\s+format\b|(?<=,\s)portrait\b|\bportrait(?=,)|"
     r"\b(?:to|as)\s+(?:a\s+)?portrait\b|\bportrait\s*$|\btall\b|\bportrait\s+(?:size|shape|ratio)\b|"
     r"\btaller\b|\bfor\s+(?:(?:my|the|an?)\s+)?(?:insta(?:gram)?\s+|ig\s+)?(?:stor(?:y|ies)|reels?|tiktoks?|"
     r"shorts)\b|\bportrait\s+for\b|"
     r"\b(?:make|turn|crop|change|put|switch|have)\s+(?:it|this|that|them|#\d+)\s+(?:to\s+|into\s+|"
     r"in\s+|as\s+)?(?:a\s+)?portrait\b(?!\s+of\b)|\bportrait(?=\s+(?:please|pls|plz|its|it's|so|"
     r"because|then|instead|now)\b)", "9:16"),
    (r"\blandscape\s+(?:format|orientation|mode)\b", "3:2"),
]
_RATIO_RE = re.compile(r"\b(\d{1,2})\s*(?:[:x]|\s+by\s+)\s*(\d{1,2})\b(?!\s*px)")
_SIZE_RE = re.compile(r"\b(\d{3,4})\s*(?:[x×]|\s+by\s+)\s*(\d{3,4})\b")
_SEED_RE = re.compile(r"\bseed\b[^\d]{0,24}?(\d{1,10})\b", I)
SEEDS_RE = re.compile(r"\bseeds?\s*[:=]?\s*(\d{1,10})((?:\s*(?:,|and|&|or)\s*\d{1,10})+)", I)
_STEPS_RE = re.compile(r"\b(\d{1,3})\s+steps\b", I)
_NEGATIVE_KEY = re.compile(r"\bneg(?:ative)?(?:[\s_-]*prompt)?\s*[:=]\s*(.+?)\s*(?=;|$|\.\s)", I)
_WITHOUT_RE = re.compile(r"\b(?:without(?:\s+any)?|with\s+no|no|minus(?:\s+the)?|"
                         r"leave\s+out(?:\s+any|\s+the)?|don't\s+(?:want|include|add|show|"
                         r"put)\s+(?:any\s+)?|"
                         r"do\s+not\s+(?:include|add|show)\s+(?:any\s+)?)\b\s*([\w\s'-]+?)"
                         r"(?=$|[,.;]|\s+(?:and|in|at|on|with)\b)", I)
_INSPIRED_RE = re.compile(
    r"\b(?:that\s+(?:fits|matches|goes\s+with|suits)|to\s+(?:fit|match|go\s+with|suit)|"
    r"inspired\s+by|based\s+on|(?:for|like)\s+(?=the\s+(?:song|music|melody|piece|tune)))"
    r"\s+(.+)$", I)

_ART_VERB = (r"(?:paint|draw|generate|create|render|imagine|illustrate|design|produce|"
             r"sketch|dream\s+up)")
# "make" and the asking verbs need a new thing after them: "make a poster", not "make the
# colors pop" (an edit).
_ASK_VERB = (r"(?:make|show\s+me|give\s+me|i(?:\s+want|\s+need|'d\s+like|\s+would\s+like)|"
             r"can\s+i\s+(?:get|have)|let\s+me\s+see|compose(?=\s+\w+\s+(?:picture|image|"
             r"painting|scene|poster)))")
_CREATE = r"(?:" + _ART_VERB + "|" + _ASK_VERB + ")"
_IMAGE_NOUN = (r"(?:pictures?|images?|paintings?|drawings?|illustrations?|photos?|photographs?|"
               r"covers?|ideas|"
               r"designs?|concepts?|"
               r"portraits?|renders?|artworks?|wallpapers?|posters?|scenes?|versions?)")
_NEW_THING = r"(?:a|an|some|one|two|three|four|\d+|another|new)\b(?!\s+(?:version|variation))"
_GENERATE = re.compile(
    r"^(?:please\s+)?(?:" + _ART_VERB + r"\s+(?:me\s+|us\s+)?(?!(?:it|that|this|them|all|my|"
    r"everything)\b|#|v\d|the\s+(?:versions?|history|last|first|second|third|same|previous|"
    r"one|edit)\b)\w|" + _ASK_VERB + r"\s+(?:me\s+|us\s+)?" + _NEW_THING + ")", I)
_BARE_PROMPT = re.compile(r"^(?:a|an)\s+(?!bit\b|little\b|lot\b|variation|version|couple\s+of"
                          r"\s+variations|few\s+variations)\w", I)


def _clean(text: str) -> str:
    return " ".join(text.strip(" ,.;:!?").split())


def _style_of(text: str) -> tuple[str | None, str]:
    style = None
    for _ in range(3):  # "sketch an owl in pencil": both say sketch
        m = _STYLE_RE.search(text)
        if not m:
            break
        phrase = m.group(0).lower()
        found = next(v for k, v in sorted(STYLE_WORDS.items(), key=lambda kv: -len(kv[0]))
                     if re.search(r"\b" + re.escape(k) + r"\b", phrase))
        if style is not None and found != style:
            break
        style = found
        text = text[: m.start()] + " " + text[m.end():]
    return style, text


def _aspect_of(text: str) -> tuple[str | None, str]:
    m = _RATIO_RE.search(text)
    if m and not _SIZE_RE.search(text):
        return f"{m.group(1)}:{m.group(2)}", _RATIO_RE.sub(" ", text)
    for pattern, aspect in ASPECT_WORDS:
        m2 = re.search(pattern, text, I)
        if m2:
            cut = re.sub(r"\b(?:in\s+)?(?:a\s+)?" + pattern + r"(?:\s+(?:format|ratio|"
                         r"aspect))?", " ", text, flags=I)
            return aspect, cut
    return None, text


def _count_of(text: str) -> tuple[int, str]:
    label = re.search(r"\b[a-z]{3,}s\s*:\s*([2-9])\b(?!\s*(?:[:/x.]\s*\d|bars?|bpm|px|%|seconds?))",
                      text, I)
    if label:  # "spaceship sprites: 4, pixel art": four of them
        return int(label.group(1)), text[: label.start(1)].rstrip(" :") + " " + \
            text[label.end(1):].lstrip(" ,")
    m = re.search(r"\b(?:x|×)\s*([2-9])\b|\b([2-9])\s*x\b(?!\s*\d)|\b" + NUM +
                  r"\s+(?:of\s+(?:them|em|those)|different|separate|distinct|options|versions\s+of|takes\s+on)\b|\b(a\s+pair|a\s+"
                  r"dozen|a\s+couple)\s+(?:of\s+(?:them|em))?", text, I)
    if m:
        word = next(g for g in m.groups() if g)
        n = language.to_number(word) or {"a pair": 2, "a dozen": 12, "a couple": 2}.get(
            " ".join(word.lower().split()), 1)
        if n and n >= 1:
            return int(n), text[: m.start()] + " " + text[m.end():]
    m = _MAKE_N.match(text)
    if m and (language.to_number(m.group(2)) or 0) >= 2:
        # "make 10 cats", "draw like 3 frogs pls": as many pictures (one of a cat each); a
        # number inside a scene ("3 cats on a sofa", "a picture of 3 cats") is what it shows
        return int(language.to_number(m.group(2)) or 1), text[: m.start(2)] + "a " \
            + _singular(m.group(3)) + text[m.end(3):]
    return _count_words(text)


def _singular(word: str) -> str:
    low = word.lower()
    if low.endswith("ies") and len(low) > 4:
        return word[:-3] + "y"
    if re.search(r"(?:x|ch|sh|ss)es$", low):
        return word[:-2]
    return word[:-1]


_MAKE_N = re.compile(r"^\s*(?:(?:pls|please|ok|now|and|lol|yo)[\s,]+)*(make|draw|paint|generate|"
                     r"create|gimme|give\s+me|do)\s+(?:me\s+|us\s+)?(?:like\s+)?" + NUM +
                     r"\s+([a-z]{3,}s)(?=\s*(?:$|[,.!?]|(?:pls|please|lol|rn|now)\b|in\s+"
                     r"(?:pixel|anime|watercolou?r|oil|neon|sketch)))", I)


def _count_words(text: str) -> tuple[int, str]:
    m = re.search(r"\b" + NUM + r"\s+(?:[a-z-]+\s+){0,2}?(?:" + _IMAGE_NOUN +
                  r"|options|takes|variants|variations|versions|watercolou?rs|sketches|oils)\b"
                  r"(?:\s+of)?", text, I)
    if m:
        n = language.to_number(m.group(1))
        if n is not None and n >= 1:
            # only the number goes: "4 dragon concept arts" keeps "dragon concept arts"
            return int(n), _without_count_noun(text, m.start(), m.end(1), m.end())
    m = re.search(r"\b(?:a\s+few|some|several)\s+(?:[a-z-]+\s+)?(?:" + _IMAGE_NOUN +
                  r"|options|watercolou?rs|sketches)\b(?:\s+of)?", text, I)
    if m:
        cut = re.match(r"(?:a\s+few|some|several)", m.group(0), I)
        end = m.start() + (cut.end() if cut else 0)
        return (4 if "several" in m.group(0).lower() else 3,
                _without_count_noun(text, m.start(), end, m.end()))
    return 1, text


_PLAIN_NOUN = re.compile(r"^\s*(?:" + _IMAGE_NOUN + r"|options|takes|variants|variations|"
                         r"versions)(?:\s+of)?\s*$", I)


def _without_count_noun(text: str, start: int, number_end: int, end: int) -> str:
    """The request without its count: "three pictures of a fox" loses "three pictures of",
    "4 dragon concept arts" only the "4" (the words between are the subject)."""
    if _PLAIN_NOUN.match(text[number_end:end]):
        return text[:start] + " " + text[end:]
    return text[:start] + " " + text[number_end:]


def _generate(text: str, _ctx: PlanContext) -> list[PlannedCall]:
    seeds = SEEDS_RE.search(text)
    if seeds:  # "a fox, seeds 1, 2 and 3": one picture a seed (a seed sweep)
        numbers = list(dict.fromkeys(int(n) for n in re.findall(r"\d+", seeds.group(0))))[:4]
        base = _generate(SEEDS_RE.sub(" ", text), _ctx)  # every list out at once: no recursion
        return [PlannedCall("generate_image", {**base[0].args, "seed": n}) for n in numbers]
    args: dict[str, object] = {}
    m = _INSPIRED_RE.search(text)
    if m:
        ref = language.natural_ref(m.group(1)) or _clean(m.group(1))
        args["inspired_by"] = ref
        text = text[: m.start()]
    seed = _SEED_RE.search(text)
    if seed:
        args["seed"] = int(seed.group(1))
        text = _SEED_RE.sub(" ", text)
    text = re.sub(r"\b(?:with|using|,)?\s*(?:a\s+)?seed\b", " ", text, flags=I)
    steps = _STEPS_RE.search(text)
    if steps:
        args["steps"] = int(steps.group(1))
        text = _STEPS_RE.sub(" ", text)
    size = _SIZE_RE.search(text)
    if size:
        args["width"], args["height"] = int(size.group(1)), int(size.group(2))
        text = _SIZE_RE.sub(" ", text)
    from museforge.assistant.rules import styles

    taught, strength, text = styles.picture_styles_in(text)  # "in my Aird style"
    if taught:
        args["learnt_style"] = taught
        if strength is not None:
            args["learnt_strength"] = strength
    count, _ = _count_of(text)  # before styles: "three widescreen watercolours of"
    style, text = _style_of(text)
    if style is None and re.match(r"^(?:please\s+)?(?:can\s+you\s+)?sketch\b", text.strip(), I):
        style = "sketch"
    aspect, text = _aspect_of(text)
    _, text = _count_of(text)
    if count > 1:
        text = re.sub(r"^\s*(?:\d+|two|three|four|five|six|a\s+few|some|several)\s+(?:of\s+)?",
                      " ", text, flags=I)
    keyed = _NEGATIVE_KEY.search(text)  # "negative prompt: text, watermark"
    if keyed:
        text = text[: keyed.start()] + " " + text[keyed.end():]
    negatives = [_clean(n) for n in _WITHOUT_RE.findall(text)]
    if keyed:
        negatives.insert(0, _clean(keyed.group(1)))
    text = _WITHOUT_RE.sub(" ", text)
    prompt = re.sub(r"^(?:please\s+)?" + _CREATE + r"\b\s*(?:me\b\s*|us\b\s*)?", "",
                    text.strip(), flags=I)
    lead = re.match(r"^(?:\d|two|three|four)\s+of\s+", prompt, I)
    if lead and count > 1:  # "paint two watercolours of a lighthouse": the style was the noun
        prompt = prompt[lead.end():]
    prompt = re.sub(r"^(?:a|an|one|some)?\s*(?:new\s+)?(?:" + _IMAGE_NOUN + r")\s+(?:of|with|"
                    r"showing)\s+", "", prompt.strip(), flags=I)
    prompt = re.sub(r"\b(?:in|with)\s*$|\bformat\b|\bplease\b", " ", prompt, flags=I)
    prompt = re.sub(r"^(?:a|an)\s+(?:of|with|showing)\s+", "", prompt.strip(), flags=I)
    prompt = _clean(re.sub(r"(?:\s*,){2,}", ",", re.sub(r"\s+,", ",", prompt)))
    if not prompt or prompt.lower() in ("something", "anything"):
        # "paint a picture that fits #1": the words come from what inspires it
        prompt = "a picture"
    args = {"prompt": prompt, **args}
    if style:
        args["style"] = style
    if aspect:
        args["aspect"] = aspect
    if count > 1:
        args["count"] = min(count, 4)
    if negatives:
        args["negative_prompt"] = ", ".join(negatives)
    return [PlannedCall("generate_image", args)]


# -- variations ------------------------------------------------------------------------------

_VARY = re.compile(
    r"\b((?:crazier|wilder|different|similar|varied|alternative|alternate|another)\s+(?:version|take|"
    r"one)s?|alternatives|alternates|(?:fresh|new|different)\s+take|remix|takes?\s+on|spins?\s+on|near[\s-]copies|similar\s+(?:of|to)|"
    r"re-?imagine|variations?|variants?|vary|riff\s+on|more\s+like\s+(?:this|that|it|#\d+)|"
    r"something\s+similar|similar\s+ones?|(?:another|different)\s+take|"
    r"another\s+version\s+of|reroll|re-roll|try\s+again|another\s+one\s+like|"
    r"(?:another|one\s+more|some\s+more|more)\s+(?:ones?\s+)?like\s+(?:that|this|it|them|#\s*\d+)|" + language.MORE_VERSIONS + r")\b", I)


def _vary(text: str, _ctx: PlanContext) -> list[PlannedCall]:
    low = text.lower()
    strong = language.STRONG_CHANGE.search(low) or re.search(r"\bloose\b", low)
    count, _ = _count_of(re.sub(r"\b(?:variations?|versions)\b", "pictures", text, flags=I))
    if count == 1:
        m = re.search(r"\b" + NUM + r"\s+(?:more|other)\b", low)
        if m and language.to_number(m.group(1)):
            count = int(language.to_number(m.group(1)) or 1)
    if count == 1:  # "4 takes on it", "vary it twice"
        m = re.search(r"\b" + NUM + r"\s+(?:takes|spins|goes|tries|options|alternatives)\b|"
                      r"\b(twice|thrice)\b", low)
        if m:
            count = int(language.TIMES.get(m.group(2) or "", 0)
                        or language.to_number(m.group(1) or "") or 1)
    ref = language.natural_ref(re.sub(r"\b(?:variations?|variants?)\b", " ", text, flags=I))
    args: dict[str, object] = {"artwork": ref or "it",
                               "strength": "strong" if strong else "subtle"}
    if count > 1:
        args["count"] = min(count, 4)
    return [PlannedCall("vary_image", args)]


# -- adjustments -----------------------------------------------------------------------------

_ADJUST_WORDS: list[tuple[str, str, float]] = [
    # (pattern, argument, amount at "normal" intensity; multipliers are 1 + amount)
    (r"less\s+(?:cold|cool|chilly|icy|blue|bluish|frosty)", "warmth", 0.3),
    (r"less\s+(?:warm|orange|yellow|golden|hot|red)", "warmth", -0.3),
    (r"warm(?:er|th)?|cozier|golden\s+hour\s+tones?", "warmth", 0.3),
    (r"cool(?:er)?|cold(?:er)?|chill(?:ier)?|bluer(?:\s+tones?)?", "warmth", -0.3),
    (r"redder|more\s+(?:orange|red|golden)", "warmth", 0.3),
    (r"bright(?:er|en|ness)?|light(?:er|en)|whiter", "brightness", 0.25),
    (r"dark(?:er|en)?|dimm?(?:er)?|moodier", "brightness", -0.25),
    (r"more\s+contrast|contrastier|punch(?:y|ier)|higher\s+contrast|increase\s+(?:the\s+)?"
     r"contrast|boost\s+(?:the\s+)?contrast", "contrast", 0.3),
    (r"less\s+contrast|lower\s+contrast|flatter|reduce\s+(?:the\s+)?contrast", "contrast", -0.25),
    (r"more\s+(?:saturated|colou?rful|vivid|vibrant|saturation)|saturate|vivid(?:er)?|"
     r"vibrant|colou?rful|pop", "saturation", 0.35),
    (r"less\s+(?:saturated|colou?rful|saturation|vivid|intense)|desat\w*|muted|washed\s+out|"
     r"duller|pastel|subdued", "saturation", -0.35),
    (r"sharp(?:er|en)?|crisp(?:er)?", "sharpness", 0.7),
    (r"blur(?:ry|rier|red)?|soft(?:er|en)|dreamier|out\s+of\s+focus", "blur", 2.0),
]
_FILTER_WORDS = [
    (r"black\s+and\s+white|b\s*&\s*w|gr[ae]y\s*scale|monochrome|colou?rless", "grayscale"),
    (r"sepia|vintage|old[\s-]+(?:timey|photo|fashioned)|antique", "sepia"),
    (r"invert(?:ed)?|negative", "invert"),
    (r"posteri[sz]e\w*", "posterize"),
    (r"vignette", "vignette"),
    (r"emboss(?:ed)?", "emboss"),
]
_INTENSITY = [
    (r"\b(?:a\s+(?:tiny|little)\s+bit|slightly|a\s+touch|a\s+tad|a\s+hair|subtly|"
     r"just\s+a\s+(?:bit|little))\b", 0.5),
    (r"\b(?:a\s+(?:bit|little)|somewhat|a\s+little\s+more)\b", 0.6),
    (r"\b(?:much|a\s+lot|way|far|really|very|significantly|considerably|even\s+more|"
     r"super|lots)\b", 2.0),
]
_PERCENT_RE = re.compile(r"\b(?:by\s+)?" + NUM + r"\s*(?:%|percent)", I)
_ADJUST_WORD = (r"(?:" + "|".join(p for p, _, _ in _ADJUST_WORDS) + "|" +
                "|".join(p for p, _ in _FILTER_WORDS) +
                r"|hue|brightness|contrast|saturation|sharpness|warmth)")
# An adjustment starts with the adjustment itself ("warmer", "black and white") or with an
# edit verb or intensifier ("make it warmer", "a bit darker", "increase the contrast"),
# so "tell me about pop music" is not a request to saturate a picture.
_ADJUST_LEAD = (r"(?:make|turn|get|give|add|apply|set|increase|decrease|raise|lower|boost|"
                r"reduce|shift|bump|crank|tone|put|change|can|could|a|slightly|much|way|far|"
                r"more|less|too|even|really|very|just|bit|little|it|its|it's|#\d+|on|for)")
_ADJUST = re.compile(r"^(?:" + _ADJUST_WORD + r"|" + _ADJUST_LEAD + r"\b.*?\b" +
                     _ADJUST_WORD + r")\b", I)


def _adjust(text: str, _ctx: PlanContext) -> list[PlannedCall]:
    low = text.lower()
    args: dict[str, object] = {}
    scale = 1.0
    for pattern, factor in _INTENSITY:
        if re.search(pattern, low):
            scale = factor
            break
    pct = _PERCENT_RE.search(low)
    for pattern, name, amount in _ADJUST_WORDS:
        if name in args or not re.search(r"\b(?:" + pattern + r")\b", low):
            continue
        if name == "saturation" and re.search(r"\b(?:less|de)\b", low) and amount > 0:
            continue
        if name == "contrast" and amount > 0 and re.search(r"less\s+contrast|lower", low):
            continue
        value = amount * scale
        if pct and name in ("brightness", "contrast", "saturation", "sharpness"):
            value = float(language.to_number(pct.group(1)) or 0) / 100 * (1 if amount > 0 else -1)
        if name == "warmth":
            args[name] = round(max(-1.0, min(1.0, value)), 2)
        elif name == "blur":
            args[name] = round(value, 1)
        else:
            args[name] = round(max(0.05, 1.0 + value), 2)
    m = re.search(r"\b(?:hue)\b.*?(-?\d+)\s*(?:°|degrees?)?|(-?\d+)\s*(?:°|degrees?)\s+hue", low)
    if m:
        args["hue_shift"] = float(m.group(1) or m.group(2))
    elif re.search(r"\bhue\b", low):
        args["hue_shift"] = 30.0
    for pattern, name in _FILTER_WORDS:
        if re.search(r"\b(?:" + pattern + r")\b", low):
            args["filter"] = name
            break
    explicit = re.findall(r"\b(brightness|contrast|saturation|sharpness)\s*(?:to|=|of|at)?\s*"
                          r"(\d+(?:\.\d+)?)\b", low)
    for name, value in explicit:
        args[name] = float(value)
    if not args:
        return []
    ref = language.natural_ref(text) or "it"
    return [PlannedCall("adjust_image", {"artwork": ref, **args})]


# -- reframing, upscaling ----------------------------------------------------------------------

_REFRAME = re.compile(
    r"\b(\d{2,4}\s*(?:px|pixels?)\s+(?:wide|tall|high|across)|(?:size|dimensions?)\s+(?:to|of)\s+\d|"
    r"(?:width|wide)\s*(?:of\s+|=|:)?\s*\d{3,4}|\d{3,4}\s*(?:px\s+|pixels?\s+)?(?:width|wide)|"
    r"\d{3,4}\s*[x×]\s*\d{3,4}|quarter[\s-]turn|half[\s-]turn|tilt|crop|show\s+(?:me\s+|us\s+)?more\s+(?:of\s+)?(?:the\s+)?(?:\w+\s+)?around|"
    r"breathing\s+room|more\s+(?:space|room)\s+around|wider\s+view|(?:to\s+)?be\s+square|rotate|turn\s+(?:it\s+)?(?:\d+|ninety)|flip(?:ped|s)?|mirror(?:ed|s)?|upside\s+down|resize|"
    r"(?:looking|facing|pointing|looks|faces|points)\s+the\s+(?:wrong|other)\s+way|"
    r"face\s+the\s+other\s+way|"
    r"zoom\s*out|zoom\s+back|pull\s+back|extend\s+(?:the\s+)?(?:canvas|frame|picture|image|"
    r"scene|borders?)|outpaint\w*|widen\s+the\s+(?:view|shot|frame)|show\s+(?:me\s+|us\s+)?more\s+of|"
    r"make\s+(?:it|#\d+|this|that)\s+(?:square|wider|widescreen|vertical|portrait|"
    r"landscape)|(?:into|to)\s+(?:a\s+)?(?:square|widescreen|16:9|9:16|4:3|3:2|21:9|1:1))\b",
    I)


def _dimension(low: str, names: str) -> int | None:
    """"width 1920" or "1920 width" (the name before its number wins: "width 1920 height
    1080" is 1920 wide)."""
    m = re.search(r"\b(?:" + names + r")\s*(?:of\s+|=|:)?\s*(\d{3,4})\b", low) or re.search(
        r"\b(\d{3,4})\s*(?:px\s+|pixels?\s+)?(?:in\s+)?(?:" + names + r")\b", low)
    return int(m.group(1)) if m else None


def _reframe(text: str, _ctx: PlanContext) -> list[PlannedCall]:
    low = text.lower()
    args: dict[str, object] = {}
    if re.search(r"\bhue\b|colou?r\s+wheel|\bflip\s+the\s+colou?rs|\bnegative\b", low):
        return []  # colours, not the frame: adjust_image
    turn = re.search(r"\b(?:turn|rotate|tilt|spin)\b.*?\b(?:a\s+)?(quarter|half)[\s-]turn|"
                     r"\b(?:tilt|turn|"
                     r"rotate|spin)\b.*?(-?\d+)\s*(?:°|degrees?|deg)\b", low)
    if turn:
        angle = 90.0 if turn.group(1) == "quarter" else 180.0 if turn.group(1) == "half" \
            else float(turn.group(2))
        if re.search(r"\b(?:counter[\s-]?clockwise|anti[\s-]?clockwise|left|ccw)\b", low):
            angle = -abs(angle)
        args["rotate"] = angle
    size = _SIZE_RE.search(low)
    if size and re.search(r"\b(?:resize|size|scale|set|make|dimensions?|crop)\b", low):
        args["width"], args["height"] = int(size.group(1)), int(size.group(2))
    w = _dimension(low, r"width|wide")
    h = _dimension(low, r"height|high|tall")
    if w and h:  # "width 1920 height 1080", "1920 width and 1080 height"
        args["width"], args["height"] = w, h
    px = re.search(r"\b(\d{2,4})\s*(?:px|pixels?)\s+(wide|tall|high|across)\b", low)
    if px:
        args["width" if px.group(2) in ("wide", "across") else "height"] = int(px.group(1))
    if args:
        unnumbered = re.sub(r"\b\d+\s*(?:°|degrees?|px|pixels?)\b", " ", text)
        ref = language.natural_ref(unnumbered) or "it"
        return [PlannedCall("reframe_image", {"artwork": ref, **args})]
    if re.search(r"zoom\s*out|zoom\s+back|pull\s+back|extend|outpaint|widen\s+the|"
                 r"show\s+(?:me\s+|us\s+)?more|"
                 r"breathing\s+room|more\s+(?:space|room)\s+around|wider\s+view", low):
        m = re.search(r"\b" + NUM + r"\s*(?:x|times)\b|(\d(?:\.\d+)?)x\b", low)
        factor = language.to_number(m.group(1) or m.group(2)) if m else None
        args["zoom_out"] = float(factor) if factor and factor > 1 else 1.5
    unref = re.sub(r"#\s*\d+(?:\s*v\s*\d+)?", " ", low)
    rot = re.search(r"\brotate\w*\b.*?(-?\d+)\s*(?:°|degrees?)?|\bturn\s+(?:it\s+)?(-?\d+)",
                    unref)
    if rot:
        args["rotate"] = float(rot.group(1) or rot.group(2))
        if re.search(r"\b(?:counter[\s-]?clockwise|anti[\s-]?clockwise|left|ccw|acw)\b", low):
            args["rotate"] = -abs(float(rot.group(1) or rot.group(2)))
    elif re.search(r"\brotate\w*\b.*\b(?:left|counter[\s-]?clockwise|anti[\s-]?clockwise)\b", low):
        args["rotate"] = -90.0
    elif re.search(r"\brotate\w*\b", low):
        args["rotate"] = 90.0
    if re.search(r"upside\s+down", low) and not re.search(r"\b(?:flip|mirror)\w*\b", low):
        args["rotate"] = 180.0  # "turn it upside down": a half turn (a flip mirrors it)
    elif re.search(r"upside\s+down", low):
        args["flip"] = "vertical"
    elif re.search(r"\b(?:flip|mirror)\w*\b|\b(?:wrong|other)\s+way\b", low):
        args["flip"] = "vertical" if re.search(r"vertical|top\s+to\s+bottom", low) else \
            "horizontal"
    if re.search(r"\bcrop|\bmake\s+(?:it|#\d+|this|that)\s+|\b(?:into|to)\s+(?:a\s+)?", low):
        aspect, _ = _aspect_of(text)
        if aspect:
            args["aspect"] = aspect
    size = _SIZE_RE.search(low)
    if re.search(r"\bresize|\bscale\s+(?:it\s+)?to", low):
        if size:
            args["width"], args["height"] = int(size.group(1)), int(size.group(2))
        else:
            wide = re.search(r"(\d{2,4})\s*(?:px|pixels?)?\s+wide|width\s+(?:of\s+)?(\d{2,4})", low)
            if wide:
                args["width"] = int(wide.group(1) or wide.group(2))
    if not args:
        return []
    cleaned = re.sub(r"\b\d+\s*(?:°|degrees?|x|times)\b|\b\d+\s*:\s*\d+\b", " ", text, flags=I)
    ref = language.natural_ref(cleaned) or "it"
    return [PlannedCall("reframe_image", {"artwork": ref, **args})]


_UPSCALE = re.compile(
    r"\b(upscale|up-scale|upres|enlarge|super[\s-]?resolution|higher[\s-]res(?:olution)?|"
    r"high[\s-]res|hi[\s-]res|in\s+hd|hd\s+version|4k|make\s+(?:it|#\d+|this|that)\s+"
    r"(?:bigger|larger|sharper\s+and\s+bigger)|more\s+pixels|(?:twice|\d+\s*(?:x|times))\s+"
    r"(?:as\s+)?(?:big|bigger|larger|large)|double\s+(?:the\s+)?(?:size|resolution)|"
    r"blow\s+(?:it\s+)?up|print\s+quality|bigger|larger|more\s+(?:big|large)|as\s+big\s+as\s+(?:you\s+can|possible|"
    r"it\s+(?:can|goes))|(?:the\s+)?size\s+of\s+a\s+(?:poster|billboard|wall)|poster[\s-]size|"
    r"(?<=,\s)(?:x\s*[234]|[234]\s*x)\s*$|(?<=\bat\s)(?:x\s*[234]|[234]\s*x)\s*$|"
    r"(?<![\w.])[234]\s*x\s+(?:it|this|that|them|#\s*\d+)\b|"
    r"^(?:x\s*[234]|[234]\s*x)(?:\s+(?:please|pls|plz))?\s*$|"
    r"(?:ready|good\s+enough|big\s+enough)\s+"
    r"(?:for|to)\s+(?:a\s+)?(?:big\s+|large\s+)?print(?:ing)?)\b", I)


def _upscale(text: str, _ctx: PlanContext) -> list[PlannedCall]:
    low = text.lower()
    part = re.search(r"\bthe\s+([a-z][\w'-]*)\s+(?:a\s+(?:bit|little)\s+|much\s+|way\s+)?(?:bigger|"
                     r"larger|more\s+big)\b|\bthe\s+([a-z][\w'-]*)\s+(?:should|could|needs\s+to)\s+be\s+"
                     r"(?:a\s+(?:bit|lot)\s+)?(?:bigger|larger)\b|\bthe\s+([a-z][\w'-]*)\s+is\s+too\s+"
                     r"small\b|\b(?:bigger|larger)\s+(?!(?:size|version|one|print|file|resolution|"
                     r"pic|picture|image|please|pls|plz|too|now|then|still|again|and|at|by|"
                     r"than|for|so|x\b|\d))([a-z][\w'-]*s)\b", low)  # "bigger waves"
    if part and next(g for g in part.groups() if g) not in (
            "picture", "image", "photo", "painting", "drawing", "whole", "thing", "file",
            "resolution", "one", "size", "pic", "print", "poster", "wallpaper", "last"):
        # "make the moon bigger": a thing in the picture, an edit in words
        return [PlannedCall("edit_image", {"artwork": language.natural_ref(text) or "it",
                                           "instruction": _clean(text)})]
    factor = 4 if re.search(r"\b(?:4\s*x|x\s*4|four\s*(?:times|x)|4\s*times|4k|quadruple|by\s+4|"
                            r"by\s+four|as\s+big\s+as|size\s+of\s+a\s+(?:poster|billboard)|"
                            r"poster[\s-]size|billboard|(?:the\s+)?(?:biggest|largest|max(?:imum)?)"
                            r"(?:\s+(?:size|you\s+can|possible))?)\b", low) else 2
    cleaned = re.sub(r"\b\d\s*x\b|\bx\s*\d\b|\b4k\b", " ", text, flags=I)
    return [PlannedCall("upscale_image", {"artwork": language.natural_ref(cleaned) or "it",
                                          "factor": factor})]


# -- inpainting, text, blending, instruction edits --------------------------------------------

_REGION_WORDS = (r"left\s+half|right\s+half|top\s+half|bottom\s+half|top\s+left(?:\s+corner)?|"
                 r"top\s+right(?:\s+corner)?|bottom\s+left(?:\s+corner)?|bottom\s+right(?:\s+"
                 r"corner)?|background|foreground|sky|ground|center|centre|middle|top|bottom|"
                 r"left(?:\s+side)?|right(?:\s+side)?")
_INPAINT = re.compile(
    r"\b(?:replace|repaint|redo|fill|inpaint|change|swap)\s+(?:the\s+)?(?:" + _REGION_WORDS +
    r")\b|\b(?:put|add|place|paint|draw|pop|stick|plonk|slip)\s+.+?\s+(?:in|into|on|at|to)\s+the\s+"
    r"(?:" + _REGION_WORDS + r")\b|\binpaint|"
    # "a butterfly in the top right corner" with a picture there: put one there
    r"^(?:a|an|some|two|three|little|tiny)\s+[\w' -]{2,40}?\s+(?:in|on|at|along)\s+the\s+(?:" +
    _REGION_WORDS + r")(?:\s+(?:corner|side|edge))?\s*[.!]*$", I)


def _inpaint(text: str, _ctx: PlanContext) -> list[PlannedCall]:
    low = text.lower()
    m = re.search(r"\b(?:replace|repaint|redo|fill|inpaint|change|swap)\s+(?:the\s+)?(" +
                  _REGION_WORDS + r")(?:\s+(?:of\s+(.+?)))?\s+(?:with|by|to|into|as)\s+(.+)$",
                  text, I)
    if m:
        region, where, prompt = m.group(1), m.group(2), m.group(3)
    else:
        m = re.search(r"(?:\b(?:put|add|place|paint|draw|pop|stick|plonk|slip)\s+|"
                      r"^(?=(?:a|an|some|two|three|little|tiny)\s))(.+?)\s+(?:in|into|on|at|to|"
                      r"along)\s+the\s+("
                      + _REGION_WORDS + r")(?:\s+of\s+(.+))?$", text, I)
        if not m:
            return []
        if not re.match(r"\s*(?:put|add|place|paint|draw|pop|stick|plonk|slip)\b", text, I) and (
                _ctx is None or not any(b.kind == "image" for b in _ctx.recent)):
            return []  # "a butterfly in the top corner" with no picture yet is a new one
        prompt, region, where = m.group(1), m.group(2), m.group(3)
    region = re.sub(r"\s+(?:corner|side)$", "", region.lower()).replace("centre", "center")
    ref = language.natural_ref(where) if where else None
    if ref is None:
        ref = language.natural_ref(re.sub(_REGION_WORDS, " ", text, flags=I)) or "it"
        if ref.lower() in ("the one", "it") or low.startswith(("put", "add")):
            ref = language.explicit_refs(text)[0] if language.explicit_refs(text) else "it"
    prompt = _clean(re.sub(r"#\d+(?:\s*v\d+)?|\b(?:of|in|on)\s+(?:it|that|this)\b", " ", prompt))
    return [PlannedCall("inpaint_image", {"artwork": ref, "region": region, "prompt": prompt})]


_QUOTED = re.compile(r"[\"“”'‘’]([^\"“”‘’]{1,300})[\"“”'‘’]")
_POSITIONS = (r"top\s+left|top\s+right|bottom\s+left|bottom\s+right|top|bottom|center|centre|"
              r"middle|left|right")
_MARKER = (r"(?:the\s+)?(?:text|words?|name|title|caption|date|phrase|slogan|tagline|letters)"
           r"(?:\s+(?:saying|that\s+says|reading))?\s*[:,-]?\s*|(?:her|his|my|our|their|the\s+\w+'s)\s+name\s*[:,]?\s*"
           r"|(?:a\s+)?(?:caption|title|label|heading)\s*[:,-]?\s*")
_WHERE = (r"(?:in\s+(?:big|large|small|bold|gold|white|black|red)?\s*(?:letters|text|font)\s+)?"
          r"(?:at|on|along|across|in|to|onto|over|near)\s+(?:the\s+)?(" + _POSITIONS + r")"
          r"(?:\s+(?:edge|corner|side|part|half))?(?:\s+(?:of|on)\s+(.+?))?")
# "add PRESS START at the bottom", "put Hazel's Bakery across the top", "write her name, Ava,
# at the bottom", "write in top Feliz Cumple Ana": words to write, said without quotes. A
# thing to paint starts with an article ("put a moon in the sky"); words to write are
# named as such, written, or capitalised as names and titles are.
_UNQUOTED = re.compile(
    r"^(?:(?:and|also|now|then|pls|please|ok|okay|oh)\s+)*(?:it\s*[,:]\s*)?"
    r"(add|put|write|print|stamp|place|type|"
    r"overlay|slap|letter)\s+(?:(" + _MARKER + r"))?(.+?)\s*,?\s+" + _WHERE +
    r"(?:\s+(?:please|pls|thanks|too))?(?:\s+and\s+(.+?)\s+" + _WHERE + r")?\s*[.!]*$", I)
_UNQUOTED_FIRST = re.compile(
    r"^(?:(?:and|also|now|then|pls|please)\s+)*(write|put|add|print)\s+(?:(?:the|some|a\s+bit\s+of)\s+)?"
    r"(?:(?:text|words|caption|title)\s+)?"
    r"(?:at|on|in|along|across)\s+(?:the\s+)?(" + _POSITIONS + r")\s*[:,-]?\s+(.+?)\s*[.!]*$", I)
_NOT_WORDS = re.compile(r"^(?:a|an|the|some|more|less|another|two|three|few|several|it|them|"
                        r"this|that|these|those|my|his|her|our|their|its|one|lots|something|of|for|to)\b",
                        I)


_UNDER = re.compile(r"\b(?:underneath|beneath|below|under)\s+(?:it|that|this|him|her|them|the\s+"
                    r"(?:picture|image|drawing|painting|photo))\s*([.!]*)$", I)
_ABOVE = re.compile(r"\babove\s+(?:it|that|this|him|her|them|the\s+(?:picture|image|drawing|"
                    r"painting|photo))\s*([.!]*)$", I)
_BIG_WORD = re.compile(r"^(?:a|an|the)\s+(?:(?:big|large|small|tiny|huge|bold|giant|little)\s+)+"
                       r"(\d+(?:st|nd|rd|th)?|[A-Z][\w'!&-]*)$")


def _where_said(text: str) -> str:
    """ "underneath it" is at the bottom, "above it" at the top."""
    return _ABOVE.sub(r"at the top\1", _UNDER.sub(r"at the bottom\1", text))


def unquoted_caption(text: str) -> list[PlannedCall]:
    """Captions said without quotes (see ``_UNQUOTED``); [] when the words look like a
    thing to paint."""
    text = _where_said(text.strip())
    m = _UNQUOTED_FIRST.match(text.strip())
    if m:
        return [PlannedCall("add_text", {"artwork": "it", "text": m.group(3).strip(" ,:"),
                                         "position": _position(m.group(2))})]
    m = _UNQUOTED.match(text.strip())
    if not m:
        return []
    verb, marker, words = m.group(1).lower(), m.group(2), m.group(3).strip(" ,:")
    big = _BIG_WORD.match(words)
    if big:  # "put a big 10 in the top right corner": the 10 is written
        words = big.group(1)
    # "put The Daily Grind at the top": a name in title case is written, "the moon" painted
    titled = re.fullmatch(r"The\s+[A-Z0-9][\w'&!.-]*(?:\s+[A-Z0-9&][\w'&!.-]*)*", words) is not None
    textlike = bool(marker) or verb in ("write", "print", "stamp", "type", "letter") or titled \
        or (not _NOT_WORDS.match(words) and (words[:1].isupper() or words[:1].isdigit()
                                             or any(c in words for c in "!&?")))
    if not textlike or not words or _NOT_WORDS.match(words) and not titled and (
            not marker or re.match(r"(?:of|for|to)\b", words, I)):
        return []
    ref = language.natural_ref(m.group(5)) if m.group(5) else None
    on = re.match(r"(.+?)\s+(?:on|onto|over)\s+((?:the|my)\s+[a-z][\w'-]*(?:\s+[a-z][\w'-]*)?|"
                  r"#\s*\d+|it)$", words)
    if on and ref is None and on.group(1)[:1].isupper() and not m.group(6):
        # "write Happy Halloween on the fox in the center": the fox is where, not what
        words, ref = on.group(1), on.group(2) if on.group(2) != "it" else None
    calls = [PlannedCall("add_text", {"artwork": ref or "it", "text": words,
                                      "position": _position(m.group(4))})]
    if m.group(6):
        calls.append(PlannedCall("add_text", {"artwork": ref or "it",
                                              "text": m.group(6).strip(" ,:"),
                                              "position": _position(m.group(7))}))
    return calls


def caption_spans(text: str) -> list[tuple[int, int]]:
    """Where the words to write are in ``text`` (so that "THE MOON" is not "the moon"
    picture); [] when there is no unquoted caption."""
    stripped = text.strip()
    offset = text.find(stripped)
    if not unquoted_caption(stripped):
        return []
    stripped = _where_said(stripped)  # the words come before "underneath it": same spans
    m = _UNQUOTED_FIRST.match(stripped)
    groups = (3,) if m else (3, 6)
    m = m or _UNQUOTED.match(stripped)
    assert m is not None
    return [(m.start(g) + offset, m.end(g) + offset) for g in groups if m.group(g)]


def _position(word: str) -> str:
    return " ".join(word.lower().split()).replace("centre", "center").replace("middle", "center")
_TEXT = re.compile(
    r"\b(?:add|write|put|caption|title|label|overlay|print|stamp)\b.*[\"“'‘].+[\"”'’]|"
    r"\b(?:caption|title)\s+(?:it|that|this|#\d+)\b|\b(?:add|put|write)\s+(?:a\s+)?"
    r"(?:caption|title|text|label)\b.*\b(?:saying|that\s+says|reading|with)\b|"
    r"^(?:(?:and|also|now|then|pls|please|ok|okay|oh)\s+)*(?:add|put|write|print|stamp|place|"
    r"type|overlay|slap|letter)\b.*\b(?:at|on|along|across|in|to|onto|over|near)\s+(?:the\s+)?"
    r"(?:" + _POSITIONS + r")\b|"
    r"^(?:(?:and|also|now|then|pls|please|ok|okay|oh)\s+)*(?:add|put|write|print|stamp|place|"
    r"type)\s+(?:the\s+)?(?:words?|text|name|title|caption)\b.*\b(?:underneath|beneath|below|under|"
    r"above)\s+(?:it|that|this|him|her|them|the\s+\w+)\s*[.!]*$|"
    r"^(?:text|caption|title|label)\s*(?::\s*|\s+(?:at\s+(?:the\s+)?)?(?:" + _POSITIONS +
    r")\s*:?\s*)"
    r"[\"“'‘].+[\"”'’]", I)


def _add_text(text: str, _ctx: PlanContext) -> list[PlannedCall]:
    if not _QUOTED.search(text):
        bare = unquoted_caption(text)
        if bare:
            return bare
    m = _QUOTED.search(text)
    if m:
        caption = m.group(1).strip()
        rest = text[: m.start()] + " " + text[m.end():]
    else:
        m2 = re.search(r"\b(?:saying|that\s+says|reading|with\s+the\s+(?:text|words))\s+(.+?)"
                       r"(?=\s+(?:at|on|in)\s+the\s+\w+|$)", text, I)
        if not m2:
            return []
        caption = m2.group(1).strip()
        rest = text[: m2.start()] + " " + text[m2.end():]
    position = "bottom"
    pm = re.search(r"\b(top\s+left|top\s+right|bottom\s+left|bottom\s+right|top|bottom|center|"
                   r"centre|middle)\b", rest, I)
    if pm:
        position = pm.group(1).lower().replace("centre", "center").replace("middle", "center")
    cleaned = re.sub(r"\b(?:top|bottom|left|right|center|centre|middle)\b", " ", rest, flags=I)
    ref = language.natural_ref(cleaned) or "it"
    return [PlannedCall("add_text", {"artwork": ref, "text": caption, "position": position})]


_BLEND = re.compile(r"\b(blend|mix|combine|merge|fuse|mash\s*up|cross)\b", I)


def _blend(text: str, _ctx: PlanContext) -> list[PlannedCall]:
    refs = language.explicit_refs(text)
    prompt = ""
    m = re.search(r"\b(?:into|as)\s+(?:a\s+|an\s+)?(.+)$", text, I)
    if m:
        prompt = _clean(m.group(1))
    else:  # "blend #1, #2 and #6, dreamlike": the words after the artworks say how
        tail = re.search(r"(?:#\s*\d+|\bthem|\bboth|\btogether)\s*,\s*"
                         r"([a-z][\w'-]*(?:\s+[a-z][\w'-]*){0,3})\s*[.!]*$", text, I)
        if tail and not re.search(r"\b(?:please|pls|thanks|then|now)\s*$", tail.group(1), I):
            prompt = _clean(tail.group(1))
    if len(refs) >= 2:
        artworks: list[str] = refs[:4]
    else:
        phrase = language.natural_ref(text[: m.start()] if m else text)
        if phrase is None or phrase.lower() in ("it", "that", "this"):
            phrase = "the last two"
        artworks = [phrase]
    args: dict[str, object] = {"artworks": artworks}
    if prompt:
        args["prompt"] = prompt
    return [PlannedCall("blend_images", args)]


_EDIT = re.compile(
    r"^(?:make|turn|change|transform|convert|give|add|remove|get\s+rid\s+of|put|replace|let|"
    r"now|can\s+it|have)\b|\b(?:make|turn)\s+(?:it|#\d+|this|that|the\s+\w+)\s+|"
    r"\binstead\b", I)


def _edit(text: str, _ctx: PlanContext) -> list[PlannedCall]:
    ref = language.natural_ref(text)
    instruction = text
    if ref and ref.startswith("#"):
        instruction = re.sub(r"#\s*\d+(?:\s*v\s*\d+)?", "it", text)
    return [PlannedCall("edit_image", {"artwork": ref or "it",
                                       "instruction": _clean(instruction)})]


_VERB_START = re.compile(
    r"^(?:please\s+)?(?:paint|draw|generate|create|render|imagine|illustrate|sketch|make|turn|"
    r"change|add|remove|put|crop|rotate|flip|mirror|resize|zoom|extend|upscale|enlarge|vary|"
    r"blend|mix|combine|merge|write|caption|replace|repaint|give|brighten|darken|sharpen|"
    r"blur|desaturate|invert|fix|sort\s+out)\b", I)

RULES = [
    Rule("add_text", _TEXT, _add_text, priority=8, starts=_VERB_START),
    Rule("blend_images", _BLEND, _blend, priority=7, starts=_VERB_START),
    Rule("inpaint_image", _INPAINT, _inpaint, priority=7, starts=_VERB_START),
    Rule("vary_image", _VARY, _vary, priority=6, starts=_VERB_START),
    Rule("upscale_image", _UPSCALE, _upscale, priority=6, starts=_VERB_START),
    Rule("generate_image", _GENERATE, _generate, priority=5, starts=_VERB_START),
    Rule("reframe_image", _REFRAME, _reframe, priority=5, starts=_VERB_START),
    Rule("adjust_image", _ADJUST, _adjust, priority=4, starts=_VERB_START),
    Rule("edit_image", _EDIT, _edit, priority=-1, starts=_VERB_START),
    Rule("generate_image", _BARE_PROMPT, _generate, priority=-2),
]
