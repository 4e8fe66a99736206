"""Arguments said in plain words that no single rule owns: complaints ("it's too dark"
brightens), properties up or down with amounts ("contrast up a bit", "half the
brightness"), filters and hue, moods per kind ("sadder" on music is the minor mode, on a
picture cooler and darker), regions to repaint, captions, and the strong cues that make a
request certain when the rules and the model are not."""

from __future__ import annotations

import re

from museforge.assistant.naming import IMAGE_NOUN, focus_kind
from museforge.assistant.planning import PlanContext, PlannedCall
from museforge.assistant.rules.music import _instrument_names

I = re.IGNORECASE  # noqa: E741

# Complaints about music: the edit goes the other way ("too gloomy" is the major mode).
MUSIC_COMPLAINTS: list[tuple[str, dict[str, object]]] = [
    (r"too\s+(?:gloomy|sad|dark|depressing|mournful|minor)", {"mode": "major"}),
    (r"too\s+(?:happy|cheerful|jolly|bright|sunny|sweet)", {"mode": "minor"}),
    (r"too\s+(?:sleepy|slow|sluggish|draggy|lazy)|nudge\s+it\s+along|drags", {"tempo_scale": 1.15}),
    (r"(?:too|a\s+(?:touch|bit|little)|rather|kinda)\s+(?:hurried|rushed|frantic|fast)",
     {"tempo_scale": 0.87}),
]
MOOD_MUSIC: list[tuple[str, dict[str, object]]] = [
    (r"sad(?:der)?|gloom(?:y|ier)|dark(?:er)?|moodier|melanchol\w*|minor|mournful|somber|"
     r"heartbr\w+|tragic|tearful|weepy|"
     r"sombre|spooky|spookier|eerie|ominous", {"mode": "minor"}),
    (r"happ(?:y|ier)|cheer(?:y|ier|ful)|joyful|brighter|sunnier|uplifting|major|jolly|jollier|"
     r"cheer\s+(?:it|the\s+\w+)\s+up|brighten|lighten\s+(?:it|the\s+\w+\s+)?\s*up|"
     r"less\s+(?:sad|gloomy|dark|mournful|depressing|scary|spooky|creepy)", {"mode": "major"}),
    (r"calm(?:er)?|relax(?:ed|ing)|chill(?:er)?|mellow(?:er)?|gentler|softer|peaceful|"
     r"dreamier|sleepier|laid[\s-]back|lazier", {"tempo_scale": 0.85}),
    (r"energetic|livelier|lively|liven\s+(?:it|the\s+\w+)?\s*up|punchier|exciting|more\s+energy|"
     r"upbeat|driving|intense|"
     r"bouncier|groovier|danceable", {"tempo_scale": 1.15}),
]
MOOD_IMAGE: list[tuple[str, dict[str, object]]] = [
    (r"sad(?:der)?|gloom(?:y|ier)|moodier|melanchol\w*|somber|sombre|bleak(?:er)?|"
     r"depressing|ominous|spookier|eerie|creepier|more\s+(?:moody|dramatic|brooding|somber|"
     r"sombre|mysterious)", {"warmth": -0.3,
                                                     "brightness": 0.85}),
    (r"happ(?:y|ier)|cheer(?:y|ier|ful)?|joyful|sunnier|uplifting|jolly|jollier|livelier|"
     r"cheer\s+(?:it|the\s+\w+)\s+up|brighten\s+(?:it|the\s+\w+)\s+up",
     {"warmth": 0.3, "brightness": 1.15}),
    (r"calm(?:er)?|peaceful|serene|gentler|dreamier", {"saturation": 0.8,
                                                              "blur": 1.0}),
]


# Complaints say what is wrong, so the edit goes the other way: "it's too dark" brightens.
COMPLAINTS: list[tuple[str, dict[str, object]]] = [
    (r"(?:looks?|is|seems?|feels?|gone|got)\s+(?:a\s+(?:bit|little)\s+|so\s+|very\s+|too\s+|"
     r"rather\s+|kind\s+of\s+|kinda\s+|quite\s+|really\s+|all\s+)?(?:gloomy|sad|depressing|bleak|"
     r"dreary|miserable|grim|glum|dismal)\b(?!\s+enough)(?![^.]*\b(?:can|could|make|give|add|"
     r"put|should|would)\b)", {"warmth": 0.3, "brightness": 1.15}),
    (r"too\s+(?:dark|dim|murky|gloomy|shadowy)|(?:not|isn't|isnt)\s+bright\s+enough|"
     r"(?:it'?s|it\s+is|looks|seems|is)\s+(?:a\s+(?:bit|little)\s+|rather\s+|quite\s+|kind\s+of\s+|"
     r"kinda\s+|so\s+|very\s+|really\s+)(?:dark|dim|murky)\b|"
     r"under[\s-]?exposed|can'?t\s+see\s+(?:anything|much|nothin\w*)|lights?\s+(?:off|out)|"
     r"less\s+dark|more\s+light|too\s+much\s+dark", {"brightness": 1.25}),
    (r"too\s+(?:bright|light|washed\s+with\s+light|glaring)|over[\s-]?exposed|blown\s+out|"
     r"glaring|(?:dial|bring|turn)\s+(?:the\s+)?exposure\s+(?:back|down)|less\s+bright|"
     r"(?:not|isn't|isnt)\s+dark\s+enough", {"brightness": 0.8}),
    (r"too\s+(?:warm|orange|yellow|red|hot)|(?:not|isn't|isnt)\s+(?:cool|cold)\s+enough|"
     r"(?:gone|turned|looks?|is|feels?)\s+(?:a\s+bit\s+|kind\s+of\s+|kinda\s+|very\s+|so\s+|too\s+|"
     r"all\s+)?(?:orange|yellow)|cool\s+(?:it|the\s+\w+)?\s*down\s+colou?r",
     {"warmth": -0.3}),
    (r"too\s+(?:cold|cool|blue|icy)|(?:not|isn't|isnt)\s+warm\s+enough|(?:looks?|feels?|is)\s+"
     r"(?:so\s+|very\s+|a\s+bit\s+)?(?:freezing|icy|frosty|chilly)|(?:give|add)\s+.{0,20}warmth",
     {"warmth": 0.3}),
    (r"too\s+(?:saturated|colou?rful|vivid|garish|intense|loud|bright\s+colou?rs?|neon)|"
     r"over[\s-]?saturated", {"saturation": 0.7}),
    (r"washed[\s-]out|too\s+(?:dull|muted|grey|gray|pale|flat\s+colou?rs?|faded)|lifeless|"
     r"(?:colou?rs?|it)\s+(?:are|is|look|looks)\s+(?:kinda\s+|a\s+bit\s+|so\s+|really\s+)?"
     r"(?:faded|dull|drab|lifeless)|"
     r"drab|colou?rs?\s+(?:are|look)\s+(?:dull|flat|muted)|needs?\s+(?:more\s+)?(?:colou?r|pop)|"
     r"(?:not|isn't|isnt)\s+(?:colou?rful|vivid)\s+enough", {"saturation": 1.35}),
    (r"too\s+(?:blurry|soft|fuzzy)|(?:is|looks|are)\s+(?:blurry|fuzzy|out\s+of\s+focus)|"
     r"(?:not|isn't|isnt)\s+sharp\s+enough", {"sharpness": 1.7}),
    (r"over[\s-]?sharpened|crunchy", {"sharpness": 0.6}),
    (r"too\s+(?:sharp|crisp|grainy|noisy)|soft[\s-]focus|smudge|dreamy\s+look", {"blur": 1.0}),
    (r"too\s+flat|(?:looks|is)\s+(?:muddy\s+and\s+)?flat|(?:not|isn't|isnt)\s+enough\s+contrast|"
     r"too\s+little\s+contrast|muddy|punch\s+between\s+light\s+and\s+dark", {"contrast": 1.3}),
    (r"too\s+(?:contrasty|contrast|much\s+contrast)|contrast\s+is\s+(?:way\s+)?too\s+(?:strong|high|"
     r"much)", {"contrast": 0.8}),
]


def complaint_args(text: str) -> dict[str, object]:
    return _mood_args(text, COMPLAINTS)


_PROPS = [(r"brightness|bright|light(?:ness)?|exposure|highlights?|whites?|glare", "brightness"),
          (r"contrast", "contrast"),
          (r"saturation|saturated|colou?rs?|colou?rfulness|vibrance|vibrancy", "saturation"),
          (r"sharpness|sharp|detail|crispness", "sharpness"),
          (r"warmth|warm", "warmth")]
_UP = (r"up|increase|increased|raise|boost|crank(?:ed)?(?:\s+up)?|more|higher|"
       r"bump(?:ed)?(?:\s+up)?|"
       r"add|give|some|push|turn\s+up|amp(?:ed)?\s+up|pump(?:ed)?\s+up|enhance|stronger")
_DOWN = (r"down|decrease|decreased|reduce|reduced|lower|lowered|less|tone(?:d)?\s+down|soften|"
         r"cut|drop|dial(?:led)?\s+(?:back|down)|turn\s+down|weaker|too\s+strong|too\s+much|"
         r"knock(?:ed)?\s+(?:back|down)|pull(?:ed)?\s+(?:back|down)|rein\s+in|tame|"
         r"bring\s+down|back\s+off|blowing\s+out|blown\s+out|hurts?")


_CLAUSE = re.compile(r"[,;]|\b(?:and|but|then|plus|while)\b")


def property_args(text: str) -> dict[str, object]:
    """"crank up the contrast", "contrast up a bit", "less bright", "reduce the saturation by
    20%", "half the brightness", "twice as bright", "tone the colours down"."""
    low = text.lower()
    args: dict[str, object] = {}
    pct = re.search(r"(\d+(?:\.\d+)?)\s*(?:%|percent|per\s+cent)", low)
    for words, name in _PROPS:
        prop = re.search(r"\b(?:" + words + r")\b", low)
        if not prop:
            continue
        near = low[max(0, prop.start() - 40):prop.end() + 40]
        # the direction said in the property's own clause: "knock back the saturation and
        # warm it" lowers the saturation and raises the warmth
        a = max([m.end() for m in _CLAUSE.finditer(low, 0, prop.start())], default=0)
        b = next((m.start() for m in _CLAUSE.finditer(low, prop.end())), len(low))
        if a > max(0, prop.start() - 40) or b < prop.end() + 40:
            near = low[max(a, prop.start() - 40):min(b, prop.end() + 40)]
        if re.search(r"\b(?:half|halve)\b", near):
            args[name] = 0.5
            continue
        if re.search(r"\b(?:twice|double)\b", near):
            args[name] = 2.0
            continue
        up = re.search(r"\b(?:" + _UP + r")\b", near)
        down = re.search(r"\b(?:" + _DOWN + r")\b", near)
        if not up and not down and name == "warmth" and re.match(
                r"warm\s+(?:it|this|that|them|#\d+)\b", low[prop.start():]) and re.search(
                r"(?:^|[,;]|\band|\bthen|\bplease|\bnow)\s*$", low[:prop.start()]):
            up = re.match(r"warm", low[prop.start():])  # "…, and warm it": the verb says up
        if not up and not down:
            continue
        sign = -1 if down and (not up or down.start() < up.start() or "too" in down.group(0)) \
            else 1
        amount = float(pct.group(1)) / 100 if pct else (
            0.15 if re.search(r"\b(?:bit|little|touch|tad|slightly|notch)\b", near) else
            0.5 if re.search(r"\b(?:lot|much|way|really|loads|heaps|crank)", near) else 0.3)
        if name == "warmth":
            args[name] = round(sign * min(1.0, amount), 2)
        else:
            args[name] = round(max(0.05, 1 + sign * amount), 3)
    return args


_FILTERS = [
    (r"black\s*(?:&|and|n)\s*white|b\s*&\s*w|\bb/w\b|gr[ae]y\s*scale|monochrome|colou?rless|"
     r"no\s+colou?rs?|noir|without\s+(?:any\s+)?colou?rs?", "grayscale"),
    (r"sepia|old[\s-]+(?:timey|photo|fashioned)|antique|vintage\s+photo|old\s+brown\s+photo|"
     r"look\s+older|faded\s+photo\w*|old\s+photograph|aged\s+photo\w*|"
     r"18\d\d|19[0-4]\d", "sepia"),
    (r"invert(?:ed)?|negative|flip\s+the\s+colou?rs|reverse\s+the\s+colou?rs", "invert"),
    (r"posteri[sz]e\w*|poster\s+effect|chunky\s+bands|screen\s*print|flatten\s+the\s+colou?rs",
     "posterize"),
    (r"vignett\w*|darken\s+the\s+(?:corners|edges)|dark\s+(?:corners|edges)", "vignette"),
    (r"emboss(?:ed)?|pressed\s+into\s+metal|stamp(?:ed)?\s+(?:it\s+)?(?:like|into)", "emboss"),
]


def adjustments(text: str) -> dict[str, object]:
    """Every adjustment a request states in words: filters, properties up or down, the
    look asked for ("more pastel", "colder colours"), and complaints (which win where
    they overlap)."""
    return {**filter_args(text), **property_args(text), **_mood_args(text, QUALITIES),
            **complaint_args(text)}


# A look asked for by name: the word says the direction ("more muted" is less saturated,
# "colour more cold" cooler), whatever "more" would say of the word "colour".
QUALITIES: list[tuple[str, dict[str, object]]] = [
    (r"(?:more|bit|little|touch|go|make\s+it|keep\s+it)\s+(?:muted|pastel|subdued|desaturated|"
     r"understated)|(?:muted|pastel|subdued|softer)\s+(?:colou?rs?|tones?|palette|look)|"
     r"less\s+(?:intense|strong|saturated|vivid|bright|loud|punchy)\s+colou?rs?|"
     r"colou?rs?\s+(?:a\s+)?(?:little|bit|lot|more)?\s*(?:soft|softer|gentler|calmer)|"
     r"not\s+so\s+(?:strong|intense|vivid|saturated)|tone\s+(?:down\s+)?the\s+colou?rs|"
     r"tone\s+the\s+colou?rs\s+down", {"saturation": 0.75}),
    (r"more\s+(?:cold|cool|icy|chilly|wintry|frosty)|colder|cool(?:er)?\s+(?:tones?|colou?rs?)|"
     r"colou?rs?\s+(?:\w+\s+){0,2}(?:cold|colder|cooler|icier)", {"warmth": -0.3}),
    (r"tone\s+(?:it|this|that|them|#\d+)\s+down|tone\s+down\s+(?:it|the\s+(?:picture|image|"
     r"painting|whole\s+thing))\b", {"saturation": 0.8}),
    (r"more\s+(?:warm|cosy|cozy|golden|sunny)\s+colou?rs?|warm(?:er)?\s+(?:tones?|colou?rs?)|"
     r"colou?rs?\s+(?:\w+\s+){0,2}(?:warm|warmer)", {"warmth": 0.3}),
    # the trade's words: "crush the blacks", "deeper blacks", "more punch"
    (r"crush(?:ed|ing)?\s+(?:the\s+)?(?:blacks|shadows)|(?:deeper|richer|inkier)\s+blacks|"
     r"more\s+punch(?:y)?|punch\s+it\s+up", {"contrast": 1.3}),
    (r"lift(?:ed)?\s+(?:the\s+)?(?:blacks|shadows)|milky\s+blacks|fade(?:d)?\s+the\s+blacks",
     {"contrast": 0.8}),
]


def filter_args(text: str) -> dict[str, object]:
    for pattern, name in _FILTERS:
        if re.search(r"\b(?:" + pattern + r")", text, I):
            return {"filter": name}
    m = re.search(r"\bhue\b.*?(-?\d+)\s*(?:°|degrees?)?|(?:colou?r\s+wheel|colou?rs?\s+round|"
                  r"hue)\D{0,40}?(-?\d+)\s*(?:°|degrees?)|(-?\d+)\s*(?:°|degrees?)\s+(?:hue|round\s+"
                  r"the\s+colou?r\s+wheel)", text, I)
    if m:
        return {"hue_shift": float(m.group(1) or m.group(2) or m.group(3))}
    if re.search(r"\b(?:hue|colou?r\s+wheel)\b", text, I):
        return {"hue_shift": 30.0}
    return {}


_REGIONS = (r"top\s+left|top\s+right|bottom\s+left|bottom\s+right|left\s+half|right\s+half|"
            r"top\s+half|bottom\s+half|background|backdrop|foreground|sky|ground|center|centre|"
            r"middle|top|bottom|left|right")


def inpaint(text: str, ctx: PlanContext) -> list[PlannedCall]:
    """"swap the sky for a rainbow", "make the background a jungle", "give it a desert
    background", "background -> a wheat field", "put a boat in the middle"."""
    m = re.search(r"(?<!\bon\s)\b(" + _REGIONS + r")\b(?!\s+(?:music|track|"
                  r"song|tune|noise|sound))", text, I)
    if not m or re.search(r"\bon\s+top\s+of\b", text, I):
        return []
    region = m.group(1).lower().replace("centre", "center").replace("middle", "center") \
        .replace("backdrop", "background")
    after = re.sub(r"^\s+(?:of|in|on)\s+(?:it|this|that|#\d+|the\s+\w+(?:\s+(?:picture|image|"
                   r"painting|pic|one))?)\b", "", text[m.end():], flags=I)
    before = text[: m.start()]
    prompt = None
    for pattern in (r"^(?:\s+(?:in|of|on)\s+(?:it|#\d+|the\s+\w+(?:\s+\w+)?))?\s*(?:with|for|to|"
                    r"into|"
                    r"->|=>|:|should\s+be|be(?:\s+full\s+of)?|as|is)\s+(?:a\s+|an\s+|some\s+)?(.+)$",
                    r"^(?:\s+(?:in|of|on)\s+(?:it|#\d+|the\s+\w+(?:\s+\w+)?))?\s+(?!with\b)"
                    r"(?:a\s+|an\s+)?(.+)$"):
        pm = re.search(pattern, after, I) if after.strip() else None
        if pm and region not in ("top", "bottom", "left", "right", "center") or (
                pm and re.match(r"\s*(?:with|to|into|->|:)", after)):
            prompt = pm.group(1) if pm else None
            break
    if prompt is None:
        bm = re.search(r"\b(?:put|add|place|paint|draw|give\s+(?:it|#\d+|the\s+\w+))\s+(.+?)\s*"
                       r"(?:(?:in|into|on|at|to|along|across)\s+the\s*)?$", before, I)
        if bm:
            prompt = bm.group(1)
    if not prompt:
        return []
    prompt = re.sub(r"\s+(?:instead|please|pls|thanks)\b.*$", "", prompt, flags=I)
    prompt = " ".join(re.sub(r"^(?:a|an|the|some)\s+", "", prompt.strip(" .,!?"), flags=I)
                      .split())
    if not prompt or re.fullmatch(r"(?:it|#\d+)", prompt):
        return []
    return [PlannedCall("inpaint_image", {"artwork": "it", "region": region, "prompt": prompt})]


def _mood_args(text: str, table: list[tuple[str, dict[str, object]]]) -> dict[str, object]:
    args: dict[str, object] = {}
    if table is MOOD_IMAGE or table is MOOD_MUSIC:
        # "the sheep looks sad, can he smile": how it is now, not what to make it
        text = re.sub(r"\b(?:looks?|sounds?|seems?|feels?)\s+(?:a\s+(?:bit|little)\s+|so\s+|"
                      r"very\s+|kind\s+of\s+|kinda\s+|rather\s+|quite\s+|really\s+)?"
                      r"[a-z]+\b(?=[^.]*\b(?:can|could|make|give|add|put|should|would)\b)",
                      " ", text, flags=I)
    for pattern, values in table:
        if re.search(r"\b(?:" + pattern + r")\b", text, I):
            for k, v in values.items():
                args.setdefault(k, v)
    return args


# -- strong cues, for when neither the rules nor the model are sure ----------------------

_TEXT_CUE = re.compile(
    r"^(?:write|caption(?:\s+it)?|add\s+(?:the\s+)?(?:text|caption|words?|title)|text|title|"
    r"overlay(?:\s+text)?|"
    r"label(?:\s+it)?|put\s+(?:the\s+)?(?:text|words?|caption))\s*(?::|-|saying|that\s+says|"
    r"reading)?\s+(.+?)\s*(?:(?:at|in|on|to)\s+(?:the\s+)?(top\s+left|top\s+right|bottom\s+left|"
    r"bottom\s+right|top|bottom|center|centre|middle)(?:\s+corner)?|(?:on|across)\s+(?:it|the\s+"
    r"(?:picture|image|painting)|#\d+))?\s*(?:(?:at|in)\s+the\s+(top|bottom|center|middle))?$", I)
_CONTENT_EDIT = re.compile(
    r"^(?:replace|swap)\s+(?:the\s+)?(\w[\w\s]*?)\s+(?:with|for)\s+(.+)$|"
    r"^(?:put|add|place|paint|draw|stick)\s+(.+?)\s+(?:in|into|on|onto)\s+(?:it|the\s+(?:picture|image|"
    r"painting|scene))$|^(?:turn|change|transform|"
    r"make)\s+(?:the\s+)?(\w[\w\s]*?)\s+into\s+(.+)$", I)


def strong_cue(text: str, ctx: PlanContext) -> list[PlannedCall]:
    """Calls that the words alone make certain, whatever the model says."""
    if focus_kind(ctx) == "music" and not re.search(IMAGE_NOUN, text, I):
        return []
    m = _TEXT_CUE.match(text.strip())
    if m:
        words = m.group(1).strip(" '\"“”‘’")
        position = (m.group(2) or m.group(3) or ("center" if re.search(
            r"\bcent(?:er|re)d\b", text, I) else "bottom")).lower().replace(
            "centre", "center").replace("middle", "center")
        words = re.sub(r"\s*\bcent(?:er|re)d\b\s*$", "", words, flags=I)
        if words:
            return [PlannedCall("add_text", {"artwork": "it", "text": words,
                                             "position": position})]
    if re.search(r"\b(?:" + _REGIONS + r")\b", text, I) and re.search(
            r"\b(?:replace|swap|repaint|redo|put|add|place|paint|draw|make|give|fill|change|be|"
            r"should|->)\b|->", text, I):
        painted = inpaint(text, ctx)
        if painted:
            return painted
    if _CONTENT_EDIT.match(text.strip()):
        return [PlannedCall("edit_image", {"artwork": "it", "instruction": text.strip()})]
    return []


# -- values said outright ("humanize .25", "warmth -0.3", "hue shift 30", "10 steps") -----------

_ACCEPTS = {
    "adjust_image": {"brightness", "contrast", "saturation", "warmth", "hue_shift", "sharpness",
                     "blur"},
    "edit_music": {"transpose", "tempo", "humanize", "bars", "tempo_scale", "instrument"},
    "reframe_image": {"rotate", "zoom_out", "width", "height"},
    "interpolate_music": {"steps"},
    "continue_music": {"bars"},
    "vary_music": {"amount", "count"},
    "vary_image": {"count"},
    "generate_image": {"seed", "steps", "count"},
    "compose_music": {"seed", "tempo", "bars"},
}
_NAMED_VALUE = [
    ("brightness", r"brightness|exposure"), ("contrast", r"contrast"),
    ("saturation", r"saturation|sat"), ("sharpness", r"sharpness|sharpen"),
    ("warmth", r"warmth|temperature"), ("hue_shift", r"hue(?:[\s_-]*shift)?"), ("blur", r"blur"),
    ("humanize", r"humani[sz]e(?:\s+it)?(?:\s+by)?"),
    ("transpose", r"transpose(?:\s+it)?(?:\s+by)?"),
    ("zoom_out", r"zoom[\s_-]*out"), ("amount", r"amount"), ("seed", r"seed"),
]
_VALUE = (r"\s*(?:to|=|:|of|at)?\s*([+-]?(?:\d+(?:\.\d+)?|\.\d+))"
          r"(?![\d.]|\s*(?:%|x\b|px|bars?|bpm|steps?|semitones?))")


def explicit_values(name: str, text: str) -> dict[str, object]:
    """The values a request gives outright for the arguments of tool ``name``; they win
    over what the words suggest ("a bit warmer" is a guess, "warmth 0.4" is not)."""
    accepts = _ACCEPTS.get(name, set())
    out: dict[str, object] = {}
    for arg, words in _NAMED_VALUE:
        if arg not in accepts:
            continue
        m = re.search(r"\b(?:" + words + r")\b" + _VALUE, text, I)
        if m:
            value = float(m.group(1))
            out[arg] = int(value) if arg in ("seed", "transpose") else value
    m = re.search(r"\b(\d{1,2})\s+steps?\b|\bsteps?\s*[:=]?\s*(\d{1,2})\b", text, I)
    if m and "steps" in accepts and name == "interpolate_music":
        out["steps"] = int(m.group(1) or m.group(2))
    m = re.search(r"\b(?:continue|extend|keep\s+going)\s+(?:it\s+)?(?:for\s+|by\s+)?(\d{1,2})\b"
                  r"(?!\s*(?:%|bpm|steps))", text, I)
    if m and name == "continue_music":
        out["bars"] = int(m.group(1))
    if name == "edit_music":  # "jig at 1.25x", "0.8x"; "transpose +7, fiddle"
        m = re.search(r"(?:^|\s|,)(?:at\s+)?(\d(?:\.\d+)?|\.\d+)\s*x\b(?!\s*\d)", text, I)
        if m and 0.25 <= float(m.group(1)) <= 4:
            out["tempo_scale"] = float(m.group(1))
            out.pop("tempo", None)
        for piece in re.split(r"\s*[,;]\s*|\s+and\s+", text):
            word = " ".join(piece.lower().split())
            if word in _instrument_names() and word not in ("bass", "lead", "pad", "voice"):
                out["instrument"] = word
    pct = re.search(r"\b(?:desat(?:urate)?)\s*(?:by\s+)?(\d{1,2})\s*%", text, I)
    if pct and "saturation" in accepts:
        out["saturation"] = round(1 - int(pct.group(1)) / 100, 2)
    for m in re.finditer(r"([+-])\s*(\d{1,3})\s*%\s*(brightness|contrast|saturation|sharpness)\b",
                         text, I):
        if m.group(3).lower() in accepts:
            sign = 1 if m.group(1) == "+" else -1
            out[m.group(3).lower()] = round(1 + sign * int(m.group(2)) / 100, 2)
    return out
