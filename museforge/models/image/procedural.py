"""The procedural painter: a real, non-neural image generator that needs nothing
downloaded. It reads the prompt's words for palette and light (named colors, moods, times
of day, seasons), weather (clouds, storms, rain, snow, fog, rainbows), composition (sky and
sea, mountains, forest, city, abstract shapes, a centred figure) and a finish per style
(watercolor, oil, pixel art, sketch, neon, minimal). Same prompt + seed + size = same
pixels. The demo default, not the product: ``unknown_words`` says which things a prompt
names that it cannot draw.
"""

from __future__ import annotations

import colorsys
import re
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps

from museforge.models.image.base import (
    STYLES,
    GenerateRequest,
    ImageBackendError,
    ImageResult,
    LearntData,
    RunControl,
    TrainRequest,
)

VERSION = 2  # bump when the pixels a recipe makes change
# Versions this painter can still paint exactly (replay of older recipes):
# 1: no weather (clouds, storms, rain, fog, rainbows were not painted; "stars" was no light word)
# 2: weather words paint weather; prompts without them paint as version 1 did
VERSIONS = (1, 2)

COLORS: dict[str, tuple[int, int, int]] = {
    "red": (200, 40, 40), "crimson": (170, 20, 50), "scarlet": (220, 40, 30),
    "orange": (240, 140, 40), "amber": (240, 170, 50), "gold": (230, 185, 60),
    "golden": (230, 185, 60), "yellow": (240, 215, 60), "lime": (160, 220, 60),
    "green": (60, 160, 70), "emerald": (30, 150, 100), "olive": (120, 130, 50),
    "teal": (30, 140, 140), "cyan": (50, 200, 220), "turquoise": (60, 200, 190),
    "blue": (40, 80, 200), "azure": (60, 140, 230), "navy": (25, 35, 100),
    "indigo": (70, 50, 150), "purple": (130, 60, 170), "violet": (150, 90, 210),
    "lavender": (180, 160, 220), "magenta": (210, 50, 170), "pink": (240, 140, 180),
    "rose": (225, 100, 130), "brown": (120, 80, 50), "beige": (220, 200, 170),
    "white": (240, 240, 240), "black": (20, 20, 25), "gray": (128, 128, 128),
    "grey": (128, 128, 128), "silver": (190, 195, 200),
}
# (sky top, sky bottom) per time of day
LIGHT: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    "dawn": ((90, 110, 170), (250, 190, 150)), "sunrise": ((100, 120, 180), (255, 180, 110)),
    "morning": ((120, 170, 230), (210, 230, 245)), "day": ((70, 140, 220), (190, 220, 245)),
    "noon": ((60, 130, 220), (180, 215, 245)), "sunset": ((80, 60, 140), (250, 140, 70)),
    "dusk": ((50, 50, 110), (210, 110, 100)), "evening": ((40, 50, 100), (170, 110, 120)),
    "night": ((8, 10, 30), (30, 40, 80)), "midnight": ((5, 5, 20), (20, 25, 60)),
}
LIGHT_WORDS = {"sunrise": "sunrise", "dawn": "dawn", "morning": "morning", "noon": "noon",
               "midday": "noon", "day": "day", "daytime": "day", "afternoon": "day",
               "sunset": "sunset", "dusk": "dusk", "twilight": "dusk", "evening": "evening",
               "night": "night", "nighttime": "night", "starry": "night", "midnight": "midnight",
               "moonlit": "night", "moon": "night"}
SEASONS = {"spring": (120, 190, 90), "summer": (70, 160, 60), "autumn": (200, 110, 40),
           "fall": (200, 110, 40), "winter": (225, 232, 240), "snow": (235, 240, 248),
           "snowy": (235, 240, 248), "desert": (215, 180, 120)}
MOODS = {  # (saturation factor, brightness factor)
    "calm": (0.8, 1.0), "peaceful": (0.8, 1.02), "serene": (0.8, 1.03), "warm": (1.1, 1.05),
    "cozy": (1.05, 1.0), "cold": (0.7, 0.95), "cool": (0.85, 1.0), "dark": (0.9, 0.6),
    "gloomy": (0.5, 0.7), "moody": (0.7, 0.75), "bright": (1.2, 1.2), "happy": (1.3, 1.15),
    "cheerful": (1.3, 1.15), "dreamy": (0.7, 1.1), "vivid": (1.5, 1.05),
    "vibrant": (1.5, 1.05), "pastel": (0.45, 1.2), "muted": (0.5, 0.95),
}
SUBJECTS = {  # word -> layout element
    "sea": "sea", "ocean": "sea", "beach": "sea", "lake": "sea", "water": "sea",
    "river": "sea", "harbor": "sea", "coast": "sea", "waves": "sea",
    "mountain": "mountains", "mountains": "mountains", "hills": "mountains",
    "peak": "mountains", "peaks": "mountains", "volcano": "mountains", "alps": "mountains",
    "forest": "forest", "woods": "forest", "tree": "forest", "trees": "forest",
    "jungle": "forest", "pine": "forest", "pines": "forest",
    "city": "city", "town": "city", "skyline": "city", "buildings": "city",
    "street": "city", "village": "city", "cyberpunk": "city",
    "abstract": "abstract", "shapes": "abstract", "geometric": "abstract",
    "pattern": "abstract", "circles": "abstract",
}
FIGURES = ("fox cat dog wolf bear deer rabbit bird owl horse lion tiger dragon whale fish "
           "person man woman girl boy child knight wizard robot astronaut castle house "
           "lighthouse tower cabin ship boat tree flower rose sunflower mushroom").split()
FINISHES = ("watercolor", "oil", "pixel art", "sketch", "neon", "minimal")
# Weather (painted from version 2): word -> effects
WEATHER: dict[str, frozenset[str]] = {
    w: frozenset(kinds.split()) for w, kinds in {
        "cloud": "clouds", "clouds": "clouds", "cloudy": "clouds", "overcast": "overcast",
        "storm": "storm", "storms": "storm", "stormy": "storm", "tempest": "storm",
        "stormclouds": "storm", "thunderclouds": "storm", "thundercloud": "storm",
        "hurricane": "storm rain", "typhoon": "storm rain",
        "thunderstorm": "storm rain lightning", "thunderstorms": "storm rain lightning",
        "thunder": "storm lightning", "lightning": "storm lightning",
        "rain": "rain", "rains": "rain", "rainy": "rain", "raining": "rain",
        "rainfall": "rain", "raindrops": "rain", "drizzle": "rain", "downpour": "rain",
        "showers": "rain",
        "snowing": "snow", "snowfall": "snow", "snowflakes": "snow",
        "blizzard": "snow storm", "snowstorm": "snow storm",
        "fog": "fog", "foggy": "fog", "mist": "fog", "misty": "fog", "haze": "fog",
        "hazy": "fog",
        "rainbow": "rainbow", "rainbows": "rainbow",
    }.items()}
SNOW_WORDS = ("snow", "snowy", "winter", "blizzard")
# Words that make clouds heavy and dark ("dark clouds", "grey clouds")
DARK_CLOUD_WORDS = {"dark", "darker", "grey", "gray", "black", "heavy", "ominous", "thick",
                    "angry", "gloomy", "moody", "menacing", "brooding", "dramatic"}


@dataclass
class Scene:
    sky: tuple[tuple[int, int, int], tuple[int, int, int]]
    ground: tuple[int, int, int]
    accent: tuple[int, int, int]
    tint: tuple[int, int, int] | None
    elements: list[str] = field(default_factory=list)
    figure: str | None = None
    light: str = "day"
    snow: bool = False
    saturation: float = 1.0
    brightness: float = 1.0
    style: str | None = None
    weather: frozenset[str] = frozenset()  # painted from version 2
    dark_clouds: bool = False


def read_prompt(prompt: str, style: str | None = None, version: int = VERSION) -> Scene:
    words = re.findall(r"[a-z]+", prompt.lower())
    text = " ".join(words)
    lights = LIGHT_WORDS if version < 2 else {**LIGHT_WORDS, "stars": "night", "star": "night"}
    light = next((lights[w] for w in words if w in lights), "day")
    sky = LIGHT[light]
    ground = next((SEASONS[w] for w in words if w in SEASONS), (90, 140, 70))
    if light in ("night", "midnight"):
        ground = _mix(ground, (15, 20, 35), 0.7)
    named = [COLORS[w] for w in words if w in COLORS]
    tint = named[0] if named else None
    accent = named[0] if named else _accent_for(words)
    sat, bright = 1.0, 1.0
    for w in words:
        if w in MOODS:
            s, b = MOODS[w]
            sat, bright = sat * s, bright * b
    elements = []
    for w in words:
        el = SUBJECTS.get(w)
        if el and el not in elements:
            elements.append(el)
    figure = next((w for w in words if w in FIGURES and SUBJECTS.get(w) != "forest"), None)
    if figure is None and "tree" in words and "forest" not in elements:
        figure = "tree"
    if not style:
        style = next((s for s in FINISHES if s in text), None)
        if style is None and "pixel" in words:
            style = "pixel art"
        if style is None and ("painting" in words or "oil" in words):
            style = "oil"
    weather: frozenset[str] = frozenset()
    if version >= 2:
        weather = frozenset().union(*(WEATHER[w] for w in words if w in WEATHER))
    return Scene(sky, ground, accent, tint, elements, figure, light,
                 snow=any(w in SNOW_WORDS for w in words) or "snow" in weather,
                 saturation=sat, brightness=bright, style=style, weather=weather,
                 dark_clouds=any(w in DARK_CLOUD_WORDS for w in words))


def weather_only(prompt: str) -> bool:
    """Whether the prompt asks for weather and nothing else the painter draws ("storm
    clouds", "dark clouds", "rain", "a thunderstorm", "fog"): such an inpainting paints
    the weather over the picture that is there instead of a new scene."""
    words = re.findall(r"[a-z]+", prompt.lower())
    if not any(w in WEATHER or w in ("snow", "snowy") for w in words):
        return False
    scene_words = (set(SUBJECTS) | set(FIGURES) | set(LIGHT_WORDS) | set(SEASONS)
                   | {"star", "stars", "sun", "moon"}) - {"snow", "snowy"}
    return not any(w in scene_words for w in words)


class ProceduralPainter:
    """An ``ImageBackend`` that paints from words. Needs only numpy and Pillow.
    ``version`` paints as that painter version did (replay of older recipes)."""

    name = "procedural"
    version = VERSION

    def __init__(self, version: int = VERSION) -> None:
        if version not in VERSIONS:
            raise ValueError(f"procedural painter v{version} is not known (this is v{VERSION})")
        self.version = version

    def generate(self, req: GenerateRequest, run: RunControl | None = None) -> ImageResult:
        run = run or RunControl()
        images = []
        for i in range(req.count):
            run.step(i + 1, req.count)
            images.append(self._styled(paint(req.prompt, req.seed + i, req.width,
                                             req.height, req.style, self.version), req))
        return ImageResult(images, [req.seed + i for i in range(req.count)],
                           self._recipe(req, "text2img"))

    def img2img(self, image: Image.Image, req: GenerateRequest, strength: float,
                run: RunControl | None = None) -> ImageResult:
        run = run or RunControl()
        base = image.convert("RGB").resize((req.width, req.height), Image.Resampling.LANCZOS)
        images = []
        for i in range(req.count):
            run.step(i + 1, req.count)
            fresh = self._styled(paint(req.prompt, req.seed + i, req.width, req.height,
                                       req.style, self.version), req)
            images.append(Image.blend(base, fresh, float(strength)))
        recipe = self._recipe(req, "img2img", strength=strength)
        return ImageResult(images, [req.seed + i for i in range(req.count)], recipe)

    def edit(self, image: Image.Image, instruction: str, req: GenerateRequest,
             strength: float, run: RunControl | None = None) -> ImageResult:
        folded = req.with_(prompt=f"{req.prompt}, {instruction}" if req.prompt else instruction)
        out = self.img2img(image, folded, strength, run)
        out.recipe.update(mode="edit", prompt=folded.prompt,
                          notes=["procedural painter: re-rendered with the instruction folded "
                                 "into the prompt, blended with the original"])
        return out

    def inpaint(self, image: Image.Image, mask: Image.Image, req: GenerateRequest,
                run: RunControl | None = None) -> ImageResult:
        """Repaint the masked region: a prompt of weather alone ("storm clouds", "rain",
        "fog") is painted over the picture that is there, as weather would be; anything
        else paints a fresh scene from the prompt there."""
        run = run or RunControl()
        base = image.convert("RGB")
        hard = mask.convert("L").resize(base.size)
        soft = hard.filter(ImageFilter.GaussianBlur(max(1, min(base.size) // 64)))
        over = self.version >= 2 and weather_only(req.prompt)
        images = []
        for i in range(req.count):
            run.step(i + 1, req.count)
            if over:
                fresh = paint_weather_over(base, req.prompt, req.seed + i,
                                           hard.getbbox() or (0, 0, *base.size))
            else:
                fresh = paint(req.prompt, req.seed + i, base.width, base.height, req.style,
                              self.version)
            images.append(Image.composite(self._styled(fresh, req), base, soft))
        return ImageResult(images, [req.seed + i for i in range(req.count)],
                           self._recipe(req.with_(width=base.width, height=base.height),
                                        "inpaint"))

    def upscale(self, image: Image.Image, factor: int, req: GenerateRequest,
                run: RunControl | None = None) -> ImageResult:
        (run or RunControl()).step(1, 1)
        big = image.convert("RGB").resize((image.width * factor, image.height * factor),
                                          Image.Resampling.LANCZOS)
        big = big.filter(ImageFilter.UnsharpMask(radius=2, percent=60, threshold=2))
        recipe = self._recipe(req.with_(width=big.width, height=big.height), "upscale",
                              factor=factor)
        recipe["notes"] = ["Lanczos resampling with an unsharp mask (no upscaler model)"]
        return ImageResult([big], [req.seed], recipe)

    def train_style(self, req: TrainRequest, run: RunControl | None = None) -> LearntData:
        """What the painter can learn from pictures: their palette, light and finish
        (models/image/painter_style.py); it cannot learn shapes, subjects or a
        character, and says so."""
        from museforge.models.image import painter_style

        (run or RunControl()).step(1, 1)
        stats = painter_style.learn(req.images)
        learnt = ("the built-in painter learnt what it can from pictures: "
                  + painter_style.describe(stats) + "; it paints its own scenes in those "
                  "colours and that finish, but cannot learn shapes, subjects or a "
                  "character (a diffusers model learns those, as a LoRA)")
        recipe = {"trainer": self.name, "method": "painter statistics",
                  "base": {"model": "procedural painter", "painter_version": self.version,
                           "format": painter_style.FORMAT},
                  "trigger": req.trigger, "statistics": stats, "numpy": np.__version__}
        return LearntData(painter_style.to_bytes(stats), painter_style.MIME, learnt, recipe)

    def _styled(self, image: Image.Image, req: GenerateRequest) -> Image.Image:
        """``image`` with the request's learnt styles applied, each at its weight."""
        if not req.learnt:
            return image
        from museforge.models.image import painter_style

        for style in req.learnt:
            if style.trainer != self.name:
                raise ImageBackendError(
                    f"the style '{style.name}' is a LoRA learnt on a diffusers model; the "
                    "built-in painter cannot paint with it (MUSEFORGE_IMAGE_BACKEND picks "
                    "the backend)")
            image = painter_style.apply(image, painter_style.from_bytes(
                style.path.read_bytes()), style.weight)
        return image

    def _recipe(self, req: GenerateRequest, mode: str, **extra: object) -> dict[str, object]:
        recipe: dict[str, object] = {
            "backend": "procedural", "painter_version": self.version, "mode": mode,
            "prompt": req.prompt, "style": req.style, "width": req.width,
            "height": req.height, "seed": req.seed, "numpy": np.__version__, **extra}
        if req.learnt:
            recipe["learnt_styles"] = [s.record() for s in req.learnt]
        return recipe


# -- painting ------------------------------------------------------------------------------


def paint(prompt: str, seed: int, width: int, height: int, style: str | None = None,
          version: int = VERSION) -> Image.Image:
    scene = read_prompt(prompt, style if style in FINISHES else None, version)
    if style and style not in FINISHES and style in STYLES:
        scene.style = None  # "photo", "anime": no procedural finish of their own
    rng = np.random.default_rng(seed & 0xFFFFFFFF)
    # Weather draws from its own generator, so the layout is the one without it.
    wrng = _weather_rng(seed)
    if scene.weather:
        _weather_light(scene)
    img = _sky(scene, width, height)
    draw = ImageDraw.Draw(img, "RGBA")
    horizon = int(height * rng.uniform(0.55, 0.7))
    _celestial(draw, scene, rng, width, height, horizon)
    if scene.weather:
        _sky_weather(img, scene, wrng, (0, 0, width, horizon), _sky_light(scene))
    if "abstract" in scene.elements:
        _abstract(draw, scene, rng, width, height)
    if "mountains" in scene.elements:
        _mountains(draw, scene, rng, width, height, horizon)
    if "sea" in scene.elements:
        _sea(img, draw, scene, rng, width, height, horizon)
    else:
        _ground(draw, scene, rng, width, height, horizon)
    if "city" in scene.elements:
        _city(draw, scene, rng, width, height, horizon)
    if "forest" in scene.elements:
        _forest(draw, scene, rng, width, height, horizon)
    if scene.figure:
        _figure(draw, scene, rng, width, height, horizon)
    if "fog" in scene.weather:
        img = _fog(img, (0, 0, width, height))
    img = _finish(_grade(img, scene), scene, rng)
    if scene.snow:  # after the finish, so flakes stay crisp
        _snowfall(ImageDraw.Draw(img, "RGBA"), rng, width, height)
    if scene.weather:
        img = _falling_weather(img, scene, wrng, (0, 0, width, height), horizon, snow=False)
    return img


def _sky(scene: Scene, w: int, h: int) -> Image.Image:
    top, bottom = scene.sky
    if scene.tint:
        top, bottom = _mix(top, scene.tint, 0.45), _mix(bottom, scene.tint, 0.35)
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    grad = np.array(top, np.float32) * (1 - t) + np.array(bottom, np.float32) * t
    arr = np.broadcast_to(grad, (h, w, 3)).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(arr), "RGB")


def _celestial(draw: ImageDraw.ImageDraw, scene: Scene, rng: np.random.Generator, w: int,
               h: int, horizon: int) -> None:
    night = scene.light in ("night", "midnight")
    if night:
        for _ in range(int(w * h / 2500)):
            x, y = rng.uniform(0, w), rng.uniform(0, horizon * 0.9)
            r = rng.uniform(0.4, 1.4) * max(1, w / 512)
            draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 230, 220))
    r = min(w, h) * (0.06 if night else 0.08)
    cx = w * rng.uniform(0.15, 0.85)
    low = scene.light in ("sunset", "sunrise", "dawn", "dusk")
    cy = horizon - r * 1.2 if low else h * rng.uniform(0.12, 0.3)
    day = (255, 200, 90, 255) if low else (255, 245, 200, 255)
    color = (245, 245, 225, 255) if night else day
    for k in range(4, 0, -1):  # glow
        rr = r * (1 + k * 0.5)
        draw.ellipse((cx - rr, cy - rr, cx + rr, cy + rr), fill=color[:3] + (18,))
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=color)


def _ground(draw: ImageDraw.ImageDraw, scene: Scene, rng: np.random.Generator, w: int, h: int,
            horizon: int) -> None:
    base = _mix(scene.ground, scene.tint, 0.35) if scene.tint else scene.ground
    pts: list[tuple[float, float]] = [(0, horizon)]
    for i in range(1, 9):
        pts.append((w * i / 8, horizon + rng.uniform(-0.03, 0.03) * h))
    pts += [(w, h), (0, h)]
    draw.polygon(pts, fill=base)
    top = int(horizon - 0.03 * h)
    for y in range(max(0, top), h):  # darker towards the viewer, one row at a time
        depth = (y - top) / max(1, h - top)
        draw.line((0, y, w, y), fill=(0, 0, 0, int(50 * depth)))


def _sea(img: Image.Image, draw: ImageDraw.ImageDraw, scene: Scene, rng: np.random.Generator,
         w: int, h: int, horizon: int) -> None:
    top, bottom = scene.sky
    water = _mix(_mix(top, bottom, 0.5), (20, 60, 120), 0.45)
    if scene.tint:
        water = _mix(water, scene.tint, 0.3)
    draw.rectangle((0, horizon, w, h), fill=water)
    for _ in range(int(h / 6)):
        y = rng.uniform(horizon + 2, h)
        x = rng.uniform(0, w)
        length = rng.uniform(0.03, 0.15) * w * (y - horizon) / (h - horizon + 1)
        draw.line((x, y, x + length, y), fill=_mix(water, (255, 255, 255), 0.35) + (120,),
                  width=max(1, int(h / 300)))
    if "mountains" not in scene.elements:
        shore = horizon + (h - horizon) * rng.uniform(0.55, 0.8)
        draw.polygon([(0, shore), (w * 0.4, shore + h * 0.03), (w * 0.7, h), (0, h)],
                     fill=_mix(SEASONS["desert"], scene.ground, 0.3))


def _mountains(draw: ImageDraw.ImageDraw, scene: Scene, rng: np.random.Generator, w: int,
               h: int, horizon: int) -> None:
    far = _mix(scene.sky[1], (60, 70, 100), 0.5)
    for layer in range(3):
        color = _mix(far, scene.ground, 0.25 * layer)
        if scene.tint:
            color = _mix(color, scene.tint, 0.2)
        peaks = int(rng.integers(2, 5))
        pts: list[tuple[float, float]] = [(0, horizon)]
        for i in range(peaks * 2 + 1):
            x = w * i / (peaks * 2)
            up = i % 2 == 1
            y = horizon - (h * rng.uniform(0.15, 0.38) * (1 - 0.25 * layer) if up
                           else h * rng.uniform(0.0, 0.08))
            pts.append((x, y))
        pts.append((w, horizon + h * 0.02 * layer))
        draw.polygon(pts, fill=color)
        if scene.snow or layer == 0:
            for i in range(1, len(pts) - 1, 2):
                x, y = pts[i]
                cap = h * 0.05
                draw.polygon([(x, y), (x - cap * 0.9, y + cap), (x + cap * 0.9, y + cap)],
                             fill=(240, 244, 250))


def _forest(draw: ImageDraw.ImageDraw, scene: Scene, rng: np.random.Generator, w: int, h: int,
            horizon: int) -> None:
    leaf = _mix(scene.ground, (20, 70, 35), 0.6)
    if scene.tint:
        leaf = _mix(leaf, scene.tint, 0.3)
    count = int(w / 18)
    for i in range(count):
        depth = i / count
        x = rng.uniform(-0.05, 1.05) * w
        base_y = horizon + (h - horizon) * depth * 0.8
        tall = h * (0.12 + 0.25 * depth) * rng.uniform(0.8, 1.2)
        half = tall * 0.28
        color = _mix(leaf, (0, 0, 0), 0.3 * depth)
        draw.rectangle((x - half * 0.12, base_y - tall * 0.15, x + half * 0.12, base_y),
                       fill=(80, 55, 35))
        draw.polygon([(x, base_y - tall), (x - half, base_y - tall * 0.15),
                      (x + half, base_y - tall * 0.15)], fill=color)
        if scene.snow:
            draw.polygon([(x, base_y - tall), (x - half * 0.35, base_y - tall * 0.7),
                          (x + half * 0.35, base_y - tall * 0.7)], fill=(240, 244, 250))


def _city(draw: ImageDraw.ImageDraw, scene: Scene, rng: np.random.Generator, w: int, h: int,
          horizon: int) -> None:
    night = scene.light in ("night", "midnight", "evening", "dusk")
    body = _mix((50, 55, 70), scene.tint, 0.3) if scene.tint else (50, 55, 70)
    x = 0.0
    while x < w:
        bw = w * rng.uniform(0.05, 0.11)
        bh = h * rng.uniform(0.15, 0.45)
        draw.rectangle((x, horizon - bh, x + bw, horizon + 2), fill=body)
        for wy in np.arange(horizon - bh + 6, horizon - 4, max(6, h / 50)):
            for wx in np.arange(x + 4, x + bw - 4, max(6, w / 60)):
                if rng.random() < (0.45 if night else 0.2):
                    draw.rectangle((wx, wy, wx + 2, wy + 3),
                                   fill=(255, 220, 120) if night else (170, 190, 210))
        x += bw + w * rng.uniform(0.0, 0.02)


def _abstract(draw: ImageDraw.ImageDraw, scene: Scene, rng: np.random.Generator, w: int, h: int
              ) -> None:
    base = scene.tint or scene.accent
    for _ in range(int(rng.integers(8, 16))):
        hue_shift = rng.uniform(-0.12, 0.12)
        color = _shift_hue(base, hue_shift) + (int(rng.integers(110, 210)),)
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(0.05, 0.22) * min(w, h)
        if rng.random() < 0.5:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=color)
        else:
            draw.rectangle((x - r, y - r * 0.6, x + r, y + r * 0.6), fill=color)


def _figure(draw: ImageDraw.ImageDraw, scene: Scene, rng: np.random.Generator, w: int, h: int,
            horizon: int) -> None:
    """A centred figure: a simple silhouette in the accent color."""
    cx = w * rng.uniform(0.42, 0.58)
    ground_y = horizon + (h - horizon) * 0.55
    size = min(w, h) * 0.22
    color = scene.accent
    shade = _mix(color, (0, 0, 0), 0.35)
    draw.ellipse((cx - size * 0.7, ground_y - size * 0.12, cx + size * 0.7, ground_y + size * 0.12),
                 fill=(0, 0, 0, 60))  # shadow
    fig = scene.figure or ""
    if fig in ("castle", "house", "lighthouse", "tower", "cabin"):
        top = ground_y - size * (1.8 if fig in ("lighthouse", "tower") else 1.0)
        draw.rectangle((cx - size * 0.35, top, cx + size * 0.35, ground_y), fill=color)
        draw.polygon([(cx - size * 0.45, top), (cx, top - size * 0.45), (cx + size * 0.45, top)],
                     fill=shade)
        draw.rectangle((cx - size * 0.08, ground_y - size * 0.3, cx + size * 0.08, ground_y),
                       fill=(40, 30, 25))
    elif fig in ("ship", "boat"):
        draw.polygon([(cx - size, ground_y - size * 0.2), (cx + size, ground_y - size * 0.2),
                      (cx + size * 0.7, ground_y + size * 0.1),
                      (cx - size * 0.7, ground_y + size * 0.1)], fill=shade)
        draw.polygon([(cx, ground_y - size * 1.2), (cx, ground_y - size * 0.25),
                      (cx + size * 0.6, ground_y - size * 0.25)], fill=(245, 240, 230))
    elif fig in ("tree", "flower", "rose", "sunflower", "mushroom"):
        draw.rectangle((cx - size * 0.06, ground_y - size, cx + size * 0.06, ground_y),
                       fill=(90, 65, 40) if fig == "tree" else (60, 130, 60))
        r = size * (0.55 if fig == "tree" else 0.3)
        draw.ellipse((cx - r, ground_y - size - r, cx + r, ground_y - size + r), fill=color)
    else:  # an animal or a person: body, head, ears/tail hints
        upright = fig in ("person", "man", "woman", "girl", "boy", "child", "knight", "wizard",
                          "robot", "astronaut")
        if upright:
            draw.rounded_rectangle((cx - size * 0.22, ground_y - size * 1.1, cx + size * 0.22,
                                    ground_y), radius=size * 0.15, fill=color)
            draw.ellipse((cx - size * 0.18, ground_y - size * 1.5, cx + size * 0.18,
                          ground_y - size * 1.12), fill=shade)
        else:
            draw.ellipse((cx - size * 0.6, ground_y - size * 0.55, cx + size * 0.45, ground_y),
                         fill=color)
            hx = cx + size * 0.45
            draw.ellipse((hx - size * 0.25, ground_y - size * 0.85, hx + size * 0.2,
                          ground_y - size * 0.4), fill=color)
            draw.polygon([(hx - size * 0.18, ground_y - size * 0.78),
                          (hx - size * 0.1, ground_y - size * 1.0),
                          (hx - size * 0.02, ground_y - size * 0.8)], fill=shade)
            draw.polygon([(hx + size * 0.02, ground_y - size * 0.8),
                          (hx + size * 0.1, ground_y - size * 1.0),
                          (hx + size * 0.16, ground_y - size * 0.76)], fill=shade)
            draw.ellipse((cx - size * 1.0, ground_y - size * 0.45, cx - size * 0.45,
                          ground_y - size * 0.2), fill=shade)  # tail


# -- weather (version 2) -------------------------------------------------------------------

# Cloud palettes (body, shadow) and the share of the sky they cover
CLOUDS_FAIR = ((248, 248, 250), (196, 202, 214))
CLOUDS_GREY = ((165, 168, 176), (95, 99, 110))
CLOUDS_STORM = ((118, 122, 132), (46, 49, 58))


def _weather_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng([seed & 0xFFFFFFFF, 0x57E4])


def _heaviness(scene: Scene) -> tuple[float, float, float]:
    """(how much darker the air gets, how much of it goes grey, saturation) for the
    scene's weather: a storm darkest, rain and overcast grey, fair clouds none."""
    w = scene.weather
    if "storm" in w:
        return (0.55, 0.8, 0.55) if "snow" not in w else (0.8, 0.7, 0.5)
    if "rain" in w or "overcast" in w:
        return 0.75, 0.65, 0.7
    if "clouds" in w and scene.dark_clouds:
        return 0.7, 0.6, 0.7
    if "snow" in w:
        return 0.95, 0.35, 0.8
    return 1.0, 0.0, 1.0


def _greyed(rgb: tuple[int, int, int], darker: float) -> tuple[int, int, int]:
    lum = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    return tuple(int(min(255, lum * darker * k)) for k in (0.95, 0.98, 1.08))  # type: ignore[return-value]


def _weather_light(scene: Scene) -> None:
    """Grey and darken the sky and the whole picture as the weather says."""
    darker, grey, sat = _heaviness(scene)
    if grey:
        top, bottom = scene.sky
        scene.sky = (_mix(top, _greyed(top, darker), grey),
                     _mix(bottom, _greyed(bottom, darker), grey))
        scene.saturation *= sat
        scene.brightness *= 0.85 + 0.15 * darker


def _sky_light(scene: Scene) -> float:
    top, bottom = scene.sky
    mid = _mix(top, bottom, 0.5)
    return float(np.clip((0.299 * mid[0] + 0.587 * mid[1] + 0.114 * mid[2]) / 170, 0.15, 1.0))


def _cloud_palette(scene: Scene, light: float, glow: tuple[int, int, int] | None
                   ) -> tuple[tuple[int, int, int], tuple[int, int, int], float]:
    """(body, shadow, coverage) of the clouds the weather brings."""
    w = scene.weather
    if "storm" in w:
        body, shadow, cover = *CLOUDS_STORM, 0.9
    elif "rain" in w or "overcast" in w:
        body, shadow, cover = *CLOUDS_GREY, 0.8
    elif "clouds" in w and scene.dark_clouds:
        body, shadow, cover = *CLOUDS_STORM, 0.7
    elif "clouds" in w:
        body, shadow, cover = *CLOUDS_FAIR, 0.38
    elif "snow" in w:
        body, shadow, cover = *CLOUDS_FAIR, 0.6
        shadow = _mix(shadow, (150, 155, 165), 0.5)
    else:
        return (0, 0, 0), (0, 0, 0), 0.0
    if scene.tint:
        body = _mix(body, scene.tint, 0.3)
    if glow and "storm" not in w:
        body = _mix(body, glow, 0.25)
    k = 0.1 + 0.9 * light  # clouds at night are dark too
    return _scaled(body, k), _scaled(shadow, k), cover


def _scaled(rgb: tuple[int, int, int], k: float) -> tuple[int, int, int]:
    return tuple(int(min(255, c * k)) for c in rgb)  # type: ignore[return-value]


def _noise(rng: np.random.Generator, w: int, h: int, cells: int = 3, octaves: int = 5
           ) -> np.ndarray:
    """Smooth fractal noise in 0..1, wider than tall, like clouds."""
    out = np.zeros((h, w), np.float32)
    total = 0.0
    for o in range(octaves):
        n = cells * 2 ** o
        grid = (rng.random((max(2, n), max(2, n * 2))) * 255).astype(np.uint8)
        up = Image.fromarray(grid, "L").resize((w, h), Image.Resampling.BICUBIC)
        weight = 0.55 ** o
        out += np.asarray(up, np.float32) / 255 * weight
        total += weight
    out /= total
    lo, hi = float(out.min()), float(out.max())
    return (out - lo) / max(1e-6, hi - lo)


def _clouds(img: Image.Image, scene: Scene, rng: np.random.Generator,
            box: tuple[int, int, int, int], light: float) -> None:
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    if bw < 4 or bh < 4:
        return
    body, shadow, cover = _cloud_palette(scene, light, scene.sky[1] if scene.light in (
        "sunset", "sunrise", "dawn", "dusk") else None)
    if not cover:
        return
    field_ = _noise(rng, bw, bh)
    cut = float(np.quantile(field_, 1 - cover))
    depth = np.clip((field_ - cut) / max(1e-6, 1 - cut), 0, 1)
    alpha = np.clip((field_ - cut) / 0.08, 0, 1)
    fade = np.clip((1 - np.linspace(0, 1, bh, dtype=np.float32)) / 0.2, 0, 1)[:, None]
    # Heavy clouds are an overcast: no clear gaps, the sun or moon behind them at most a glow
    alpha = fade * (0.82 + 0.15 * alpha if cover > 0.5 else 0.92 * alpha)
    texture = _noise(rng, bw, bh, cells=6, octaves=3)
    b, s = np.array(body, np.float32), np.array(shadow, np.float32)
    if cover > 0.5:  # heavy clouds: the thicker, the darker, with lighter rims
        t = np.clip(0.85 * depth + 0.6 * texture - 0.3, 0, 1)[..., None]
        rgb = b * (1 - t) + s * t
    else:  # fair clouds: white cores, grey undersides
        lower = np.clip(np.linspace(0, 1, bh, dtype=np.float32), 0, 1)[:, None, None]
        t = np.clip(np.sqrt(depth)[..., None] * 1.2 - 0.3 * lower, 0, 1)
        rgb = s * (1 - t) + b * t
    layer = Image.fromarray(rgb.clip(0, 255).astype(np.uint8), "RGB")
    mask = Image.fromarray((alpha * 255).astype(np.uint8), "L")
    img.paste(layer, (x0, y0), mask)


def _rainbow(img: Image.Image, rng: np.random.Generator, box: tuple[int, int, int, int]
             ) -> None:
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    if bw < 8 or bh < 8:
        return
    cx = x0 + bw * rng.uniform(0.35, 0.65)
    cy = y1 + bh * 0.25
    r = max(bw * rng.uniform(0.4, 0.55), bh * 0.9)
    band = max(1.5, r * 0.03)
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    bands = [(230, 40, 40), (245, 140, 30), (250, 225, 50), (60, 190, 70), (50, 120, 230),
             (80, 60, 190), (150, 70, 200)]
    for i, color in enumerate(bands):
        rr = r - i * band
        draw.ellipse((cx - rr, cy - rr, cx + rr, cy + rr), outline=color + (150,),
                     width=int(np.ceil(band)))
    layer = layer.filter(ImageFilter.GaussianBlur(max(1, band * 0.4)))
    clip = Image.new("L", img.size, 0)
    ImageDraw.Draw(clip).rectangle((x0, y0, x1, y1), fill=255)
    alpha = ImageChops.multiply(layer.getchannel("A"), clip)
    img.paste(layer.convert("RGB"), (0, 0), alpha)


def _sky_weather(img: Image.Image, scene: Scene, rng: np.random.Generator,
                 box: tuple[int, int, int, int], light: float) -> None:
    """Clouds (fair, grey or stormy) and rainbows, in the sky's ``box``."""
    _clouds(img, scene, rng, box, light)
    if "rainbow" in scene.weather:
        _rainbow(img, rng, box)


def _fog(img: Image.Image, box: tuple[int, int, int, int]) -> Image.Image:
    x0, y0, x1, y1 = box
    arr = np.asarray(img, np.float32).copy()
    region = arr[y0:y1, x0:x1]
    lum = float((region @ np.array([0.299, 0.587, 0.114], np.float32)).mean())
    mist = np.array(_scaled((208, 211, 216), 0.15 + 0.85 * min(1.0, lum / 140)), np.float32)
    t = np.linspace(0.45, 0.7, y1 - y0, dtype=np.float32)[:, None, None]
    arr[y0:y1, x0:x1] = region * (1 - t) + mist * t
    out = Image.fromarray(arr.clip(0, 255).astype(np.uint8), "RGB")
    soft = out.crop(box).filter(ImageFilter.GaussianBlur(max(1, (x1 - x0) // 160)))
    out.paste(soft, (x0, y0))
    return out


def _falling_weather(img: Image.Image, scene: Scene, rng: np.random.Generator,
                     box: tuple[int, int, int, int], ground: int, snow: bool) -> Image.Image:
    """Rain, lightning (and snow, when ``snow``) over ``box``; lightning reaches ``ground``."""
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    w = scene.weather
    if not ({"rain", "lightning"} & w or snow) or bw < 4 or bh < 4:
        return img
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    scale = max(1.0, img.width / 512)
    if "lightning" in w:
        x, y = x0 + bw * rng.uniform(0.25, 0.75), float(y0 + bh * 0.12)
        end = max(y + bh * 0.3, min(float(y1), float(ground)))
        pts = [(x, y)]
        while y < end:
            y += (end - y0) * rng.uniform(0.05, 0.12)
            x += bw * rng.uniform(-0.05, 0.05)
            pts.append((x, min(y, end)))
        draw.line(pts, fill=(200, 210, 255, 70), width=int(6 * scale))
        draw.line(pts, fill=(250, 250, 255, 255), width=max(2, int(2 * scale)))
    if "rain" in w:
        heavy = "storm" in w
        slant = rng.uniform(0.15, 0.35)
        for _ in range(int(bw * bh / (160 if heavy else 260))):
            x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
            n = img.height * rng.uniform(0.03, 0.07)
            draw.line((x, y, x - n * slant, y + n),
                      fill=(205, 212, 225, int(rng.integers(60, 130))),
                      width=max(1, int(scale)))
    if snow:
        for _ in range(int(bw * bh / 900)):
            x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
            r = rng.uniform(0.6, 2.0) * scale
            draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 255, 200))
    clip = Image.new("L", img.size, 0)
    ImageDraw.Draw(clip).rectangle((x0, y0, x1, y1), fill=255)
    layer.putalpha(ImageChops.multiply(layer.getchannel("A"), clip))
    return Image.alpha_composite(img.convert("RGBA"), layer).convert("RGB")


def paint_weather_over(image: Image.Image, prompt: str, seed: int,
                       box: tuple[int, int, int, int]) -> Image.Image:
    """The weather of ``prompt`` painted over ``image`` inside ``box``: the air greys and
    darkens as the weather is heavy, clouds gather in the upper part (grey and dark for
    "storm", "rain", "dark clouds"), then fog, rain, lightning, snow, rainbows."""
    scene = read_prompt(prompt)
    rng = _weather_rng(seed)
    img = image.convert("RGB").copy()
    x0, y0, x1, y1 = (int(v) for v in box)
    region = np.asarray(img.crop((x0, y0, x1, y1)), np.float32)
    lum = region @ np.array([0.299, 0.587, 0.114], np.float32)
    darker, grey, sat = _heaviness(scene)
    if grey:  # the light under the weather
        greyed = lum[..., None] * darker * np.array([0.95, 0.98, 1.08], np.float32)
        mixed = region * (1 - grey) + greyed * grey
        mean = mixed.mean(axis=2, keepdims=True)
        mixed = mean + (mixed - mean) * sat
        img.paste(Image.fromarray(mixed.clip(0, 255).astype(np.uint8), "RGB"), (x0, y0))
    # Clouds belong in the sky: a region reaching down from the top ends them above the
    # usual horizon.
    cloud_bottom = min(y1, int(img.height * 0.6)) if y0 < img.height * 0.3 else y1
    light = float(np.clip(lum.mean() / 170, 0.15, 1.0))
    _sky_weather(img, scene, rng, (x0, y0, x1, cloud_bottom), light)
    if "fog" in scene.weather:
        img = _fog(img, (x0, y0, x1, y1))
    return _falling_weather(img, scene, rng, (x0, y0, x1, y1), cloud_bottom,
                            snow="snow" in scene.weather or scene.snow)


def _snowfall(draw: ImageDraw.ImageDraw, rng: np.random.Generator, w: int, h: int) -> None:
    for _ in range(int(w * h / 900)):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(0.6, 2.0) * max(1, w / 512)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 255, 200))


def _grade(img: Image.Image, scene: Scene) -> Image.Image:
    if scene.saturation == 1.0 and scene.brightness == 1.0:
        return img
    from PIL import ImageEnhance

    img = ImageEnhance.Color(img).enhance(scene.saturation)
    return ImageEnhance.Brightness(img).enhance(scene.brightness)


def _finish(img: Image.Image, scene: Scene, rng: np.random.Generator) -> Image.Image:
    w, h = img.size
    style = scene.style
    if style == "watercolor":
        soft = img.filter(ImageFilter.GaussianBlur(max(1, w // 200)))
        edges = ImageOps.invert(soft.convert("L").filter(ImageFilter.FIND_EDGES)
                                .point(lambda v: min(255, v * 3)))
        soft = ImageChops.multiply(soft, Image.merge("RGB", [edges] * 3))
        paper = Image.fromarray((rng.normal(240, 10, (h, w))).clip(0, 255).astype(np.uint8), "L")
        paper = Image.merge("RGB", [paper] * 3).filter(ImageFilter.GaussianBlur(1))
        washed = Image.blend(soft, Image.new("RGB", img.size, (250, 247, 240)), 0.18)
        return ImageChops.multiply(washed, paper.point(lambda v: 255 - (255 - v) // 2))
    if style == "oil":
        return img.filter(ImageFilter.ModeFilter(max(3, w // 90))).filter(
            ImageFilter.EDGE_ENHANCE_MORE).filter(ImageFilter.SMOOTH_MORE)
    if style == "pixel art":
        small = img.resize((max(8, w // 8), max(8, h // 8)), Image.Resampling.BILINEAR)
        small = small.quantize(16, method=Image.Quantize.MEDIANCUT).convert("RGB")
        return small.resize((w, h), Image.Resampling.NEAREST)
    if style == "sketch":
        gray = ImageOps.grayscale(img)
        lines = gray.filter(ImageFilter.FIND_EDGES).point(lambda v: min(255, v * 4))
        edges = ImageOps.invert(lines)
        shade = gray.point(lambda v: 200 + v // 5)
        out = ImageChops.multiply(edges, shade)
        return Image.merge("RGB", [out, out, out.point(lambda v: max(0, v - 6))])
    if style == "neon":
        dark = img.point(lambda v: v // 5)
        edges = img.filter(ImageFilter.FIND_EDGES).point(lambda v: min(255, v * 4))
        glow = edges.filter(ImageFilter.GaussianBlur(max(2, w // 100)))
        return ImageChops.add(ImageChops.add(dark, glow), edges)
    if style == "minimal":
        return ImageOps.posterize(img.filter(ImageFilter.GaussianBlur(max(2, w // 60))), 2)
    return img.filter(ImageFilter.SMOOTH)


def _mix(a: tuple[int, int, int], b: tuple[int, int, int] | None, t: float) -> tuple[int, int, int]:
    if b is None:
        return a
    return tuple(int(round(x * (1 - t) + y * t)) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def _shift_hue(rgb: tuple[int, int, int], shift: float) -> tuple[int, int, int]:
    h, l, s = colorsys.rgb_to_hls(*(c / 255 for c in rgb))  # noqa: E741
    r, g, b = colorsys.hls_to_rgb((h + shift) % 1.0, l, s)
    return int(r * 255), int(g * 255), int(b * 255)


def _accent_for(words: list[str]) -> tuple[int, int, int]:
    natural = {"fox": (215, 110, 40), "cat": (90, 80, 75), "dog": (150, 110, 70),
               "wolf": (120, 120, 130), "bear": (95, 65, 45), "deer": (160, 110, 70),
               "rabbit": (200, 190, 180), "bird": (60, 110, 190), "owl": (140, 110, 80),
               "horse": (120, 80, 55), "lion": (210, 160, 80), "tiger": (230, 130, 40),
               "dragon": (60, 150, 80), "whale": (60, 80, 120), "fish": (240, 140, 60),
               "castle": (170, 165, 160), "house": (190, 120, 90), "lighthouse": (235, 235, 230),
               "robot": (160, 170, 185), "astronaut": (235, 235, 240),
               "sunflower": (240, 200, 40), "rose": (200, 30, 60), "flower": (230, 90, 140),
               "mushroom": (200, 60, 50), "tree": (60, 130, 60), "ship": (150, 100, 70),
               "boat": (150, 100, 70)}
    for w in words:
        if w in natural:
            return natural[w]
    return (200, 90, 60)


# -- what the painter cannot draw -----------------------------------------------------------

# Things every picture has, so naming them asks for nothing the painter lacks
SCENERY = set("""sky skies ground land grass grassy field fields meadow meadows horizon landscape
    landscapes scenery nature world sun sunny sunshine sunlight sunbeam sunbeams moon moonlight
    star stars light lights glow shadow shadows shore sand sandy wave waves hill valley
    seaside lakeside countryside outdoors outside""".split())
# Words that name no thing to draw: grammar, requests, counts, sizes and looks, styles
NOT_THINGS = set("""a an the and or but nor of in on at by for with without from to into onto
    over under above below beneath behind near beside besides next between among amongst
    across through around along against toward towards during while as like than then there
    here this that these those it its is are was were be being been has have had do does did
    some any all every each no not very so too just only also more most less least much many
    few lots lot one two three four five six seven eight nine ten eleven twelve dozen hundred
    couple pair single first second third last other another me my mine you your we our us
    they them their he she his her him who whose which what where when how why please let
    lets can could would should will may might must up down out off away back again still
    now today yet ever even almost about maybe perhaps own same such something anything
    someone somewhere everything everywhere nothing
    make makes made making add adds put puts place places change changes turn turns replace
    remove give gives show shows draw draws paint paints painted create creates generate
    render renders imagine depict depicts want wants need needs look looks keep keeps get
    gets become becomes try see sees seen use using let instead version
    sit sits sat stand stands stood run runs ran walk walks walked fly flies flew swim swims
    swam watch watches play plays sleep sleeps slept rest rests hold holds held wear wears
    wore ride rides rode eat eats ate read reads jump jumps dance dances sing sings lie lies
    lay leap leaps climb climbs chase chases hunt hunts float floats glide glides soar soars
    roam roams wander wanders gaze gazes stare stares perch perches sail sails rise rises
    rose set sets shine shines fall falls fell grow grows bloom blooms hang hangs meet meets
    fight fights hide hides peek peeks wait waits stay stays live lives go goes went come
    comes came
    style styles styled art artwork artistic illustration illustrated drawing drawn image
    picture photo photograph photography photographic photorealistic realistic realism
    hyperrealistic hyperrealism rendered digital concept cinematic cinema film filmic shot
    shots closeup close portrait wide angle macro lens bokeh hd uhd resolution quality
    masterpiece detail details intricate trending artstation octane unreal engine lighting lit
    composition scene scenes view views vibe vibes aesthetic aesthetics kind sort type tone
    tones color colors colour colours palette texture textured finish mood atmosphere
    atmospheric background foreground center centre middle left right top bottom side sides
    corner edge frame framing wallpaper poster cover card icon logo sticker design simple
    flat lowpoly poly isometric cartoon cartoony comic anime manga cel shaded shading ink
    pencil graphite charcoal pastel acrylic gouache canvas paper brush strokes stroke washes
    wash thick crisp glowing glow synthwave retrowave vaporwave pixelated bit limited clean
    lines hand dreamy moody lofi
    big bigger biggest small smaller smallest tiny huge giant large larger little tall short
    long wide narrow high low deep shallow old older ancient young new modern futuristic
    retro vintage classic beautiful pretty lovely gorgeous stunning cute adorable majestic
    epic dramatic magical magic mystical mysterious fantasy fantastical surreal whimsical
    lonely alone quiet silent loud wild fierce gentle soft hard strong sleepy tired sad angry
    funny silly lazy brave proud hungry curious friendly playful fluffy furry fuzzy shiny
    sparkly heavy thin round square sleek smooth rough rusty wooden stone metal metallic
    glass crystal icy frozen hot wet dry fresh sunlit distant far faraway nearby massive
    enormous elegant fancy royal rich poor famous lone double empty full open closed hidden
    secret lost abandoned ruined broken quaint rustic tranquil idyllic lush dense sparse
    endless vast rolling snowcapped dreamlike ethereal nice good great cool awesome amazing
    fantastic incredible perfect ideal main tiny mini huge colorful colourful bold light
    lighter darker brighter warmer colder softer stronger clear cloudless sunny blue""".split())
NOUNS_IN_ING = set("""king kings ring rings wing wings swing swings string strings building
    buildings ceiling pudding viking vikings wedding clothing sibling duckling ducklings
    earring earrings dumpling dumplings sling icing frosting sapling saplings sterling
    herring spring springs thing things painting paintings""".split())
NOUNS_IN_ED = set("""seed seeds steed steeds shed sled weed weeds reed reeds bed beds speed
    breed creed tweed sacred""".split())
ADVERB_ENDINGS = ("ously", "fully", "ically", "ingly", "edly", "ately", "ently", "antly",
                  "ively", "ishly", "ually", "ily", "ly")


def _known_words() -> set[str]:
    known = (set(COLORS) | set(LIGHT_WORDS) | set(SEASONS) | set(MOODS) | set(SUBJECTS)
             | set(FIGURES) | set(WEATHER) | set(DARK_CLOUD_WORDS) | SCENERY)
    known |= {w for s in FINISHES for w in s.split()} | {"painting", "pixel", "sea"}
    known |= {w for text in STYLES.values() for w in re.findall(r"[a-z]+", text)}
    known |= set(STYLES) | {w for s in STYLES for w in s.split()}
    return known


_KNOWN: set[str] = set()


def _forms(word: str) -> set[str]:
    """The word, its singular and its plural (for "foxes", "wolves", "cities", "hill")."""
    forms = {word, word + "s", word + "es"}
    if word.endswith("ies"):
        forms.add(word[:-3] + "y")
    if word.endswith("ves"):
        forms |= {word[:-3] + "f", word[:-3] + "fe"}
    if word.endswith("es"):
        forms.add(word[:-2])
    if word.endswith("s"):
        forms.add(word[:-1])
    return forms


def _names_a_thing(word: str) -> bool:
    """Whether ``word`` (lower case) may name something to draw: not grammar, a count, a
    request, a look or a style, nor a verb or adverb by its ending."""
    if len(word) <= 2 or word in NOT_THINGS:
        return False
    if word.endswith("ing") and len(word) > 4:
        return word in NOUNS_IN_ING
    if word.endswith("ed") and len(word) > 4:
        return word in NOUNS_IN_ED
    if word.endswith(ADVERB_ENDINGS) and len(word) > 5 and word not in (
            "butterfly", "dragonfly", "firefly", "family", "lily", "lilies", "jelly", "belly",
            "holly", "trolley", "alley", "valley", "turkey", "italy", "sicily", "ally"):
        return False
    return True


def unknown_words(prompt: str) -> list[str]:
    """The words of ``prompt`` that name things the painter cannot draw ("pelican", "pier",
    "tram", "Lisbon"), as written and in order, each once. Grammar, counts, looks, styles
    and the words it knows are left out; an empty list means it can paint all it was asked."""
    if not _KNOWN:
        _KNOWN.update(_known_words())
    out: list[str] = []
    seen: set[str] = set()
    for raw in re.findall(r"[A-Za-z]+(?:['’][A-Za-z]+)?", prompt):
        word = re.sub(r"['’]s$", "", raw).lower()
        if "'" in word or "’" in word or word in seen:
            continue
        seen.add(word)
        if not _names_a_thing(word) or _forms(word) & _KNOWN:
            continue
        out.append(re.sub(r"['’]s$", "", raw))
    return out
