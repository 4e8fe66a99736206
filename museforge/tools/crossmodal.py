"""Cross-modal inspiration, in one deterministic module: a picture's palette, light,
contrast and words become a mood, key, mode, tempo and instrument for music; a piece's
mood, tempo, mode and instrument become palette, light and style words for a picture.
Every choice comes with its reason, and both land in the recipe.

Hues map to keys around the circle of fifths (red C, orange G, yellow D, ... as in
Scriabin's keyboard of light), so the mapping runs both ways with one table.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from PIL import Image

# Twelve hues (0..360 degrees, in steps of 30) to tonics around the circle of fifths.
CIRCLE = ["C", "G", "D", "A", "E", "B", "F#", "C#", "Ab", "Eb", "Bb", "F"]
HUE_NAMES = ["red", "orange", "yellow", "lime green", "green", "teal", "cyan", "azure",
             "blue", "violet", "purple", "magenta"]
WORD_MOODS: list[tuple[str, dict[str, Any]]] = [
    # (words in the picture's prompt, what they suggest)
    (r"night|dark|storm|gloom|shadow|rain|fog|mist", {"mode": "minor", "tempo": -12}),
    (r"sun|summer|beach|happy|joy|bright|spring|flowers?", {"mode": "major", "tempo": 8}),
    (r"snow|winter|ice|frost", {"instrument": "Celesta", "tempo": -8}),
    (r"sea|ocean|waves|lake|water|underwater", {"instrument": "Pad 2 (warm)", "tempo": -10}),
    (r"forest|woods|trees?|meadow|bird", {"instrument": "Flute"}),
    (r"city|neon|cyberpunk|street|robot", {"instrument": "Electric Piano 1", "tempo": 10}),
    (r"castle|knight|dragon|epic|battle", {"instrument": "String Ensemble 1", "tempo": 6}),
    (r"desert|campfire|western|cowboy", {"instrument": "Acoustic Guitar (nylon)"}),
    (r"space|stars?|galaxy|astronaut|cosmic", {"instrument": "Pad 3 (polysynth)",
                                                "tempo": -10}),
    (r"dance|party|festival|carnival", {"mode": "major", "tempo": 20}),
]
INSTRUMENT_LOOKS: list[tuple[str, str, str | None]] = [
    # (GM instrument name pattern, picture words, style)
    (r"piano|celesta|music box", "clean lines, quiet space", "minimal"),
    (r"string|violin|cello|viola|orchestra", "rich painterly textures", "oil"),
    (r"flute|recorder|pan|ocarina|whistle", "a meadow and trees, airy light", "watercolor"),
    (r"guitar|banjo|sitar", "warm wood and dusty light", None),
    (r"synth|pad|lead|electric", "neon glow, a city at night", "neon"),
    (r"organ|choir|voice", "a cathedral of light", None),
    (r"brass|trumpet|horn|trombone|tuba", "a bold golden fanfare of color", None),
]


@dataclass
class ImageLook:
    brightness: float  # 0..1 mean luminance
    saturation: float  # 0..1 mean saturation
    contrast: float  # 0..1 luminance standard deviation, scaled
    warmth: float  # -1..1, red over blue
    hue: float  # the dominant hue in degrees (saturation-weighted)


def look_of(image: Image.Image) -> ImageLook:
    small = image.convert("RGB").resize((64, 64), Image.Resampling.BILINEAR)
    rgb = np.asarray(small, dtype=np.float32) / 255.0
    lum = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    hsv = np.asarray(small.convert("HSV"), dtype=np.float32) / 255.0
    sat = hsv[..., 1] * hsv[..., 2]
    angles = hsv[..., 0] * 2 * np.pi
    weight = sat + 1e-6
    hue = float(np.degrees(np.arctan2((np.sin(angles) * weight).sum(),
                                      (np.cos(angles) * weight).sum())) % 360)
    warmth = float(np.clip((rgb[..., 0] - rgb[..., 2]).mean() * 2.5, -1, 1))
    return ImageLook(round(float(lum.mean()), 3), round(float(sat.mean()), 3),
                     round(float(min(1.0, lum.std() * 3.5)), 3), round(warmth, 3), round(hue, 1))


@dataclass
class MusicPlan:
    """What a picture suggests for a piece (every field with its reason)."""

    mood: str
    key: str
    tempo: int
    instrument: str
    why: dict[str, str] = field(default_factory=dict)
    look: dict[str, float] = field(default_factory=dict)

    def recipe(self) -> dict[str, Any]:
        return asdict(self)


def music_from_image(image: Image.Image, prompt: str = "") -> MusicPlan:
    look = look_of(image)
    words = prompt.lower()
    why: dict[str, str] = {}
    mode = "major" if look.brightness >= 0.45 else "minor"
    why["mode"] = f"{'bright' if mode == 'major' else 'dark'} picture (luminance " \
                  f"{look.brightness:.2f})"
    tempo = 60 + 50 * look.brightness + 40 * look.saturation + 30 * look.contrast
    why["tempo"] = (f"light {look.brightness:.2f}, color {look.saturation:.2f} and contrast "
                    f"{look.contrast:.2f}")
    instrument = ("Acoustic Guitar (nylon)" if look.warmth > 0.15 else
                  "Acoustic Grand Piano" if look.warmth > -0.15 else "Pad 2 (warm)")
    tone = "warm" if look.warmth > 0.15 else "cool" if look.warmth < -0.15 else "neutral"
    why["instrument"] = f"{tone} palette"
    for pattern, hints in WORD_MOODS:
        m = re.search(rf"\b(?:{pattern})\b", words)
        if not m:
            continue
        if "mode" in hints:
            mode = hints["mode"]
            why["mode"] = f"the word “{m.group(0)}”"
        if "instrument" in hints:
            instrument = hints["instrument"]
            why["instrument"] = f"the word “{m.group(0)}”"
        if "tempo" in hints:
            tempo += hints["tempo"]
            why["tempo"] += f", “{m.group(0)}”"
    step = int(((look.hue + 15) % 360) // 30)
    tonic = CIRCLE[step]
    # The spelling musicians use: Db major (not C#), G# minor (not Ab).
    tonic = {"major": {"C#": "Db"}, "minor": {"Ab": "G#"}}[mode].get(tonic, tonic)
    why["key"] = f"dominant hue {look.hue:.0f}° ({HUE_NAMES[step]}) → {tonic} on the " \
                 "circle of fifths"
    tempo_i = int(max(50, min(160, round(tempo))))
    energy = look.saturation + look.contrast
    mood = ("calm" if tempo_i < 85 and energy < 0.8 else
            "energetic" if tempo_i > 120 else
            "melancholic" if mode == "minor" else "bright")
    why["mood"] = f"tempo {tempo_i} in {mode}"
    return MusicPlan(mood, f"{tonic} {mode}", tempo_i, instrument, why, asdict(look))


@dataclass
class PictureWords:
    """What a piece suggests for a picture."""

    words: str
    style: str | None
    why: dict[str, str] = field(default_factory=dict)

    def recipe(self) -> dict[str, Any]:
        return asdict(self)


def image_from_music(*, key: str = "C major", tempo: float = 100, mood: str = "",
                     instrument: str = "") -> PictureWords:
    why: dict[str, str] = {}
    tonic, _, mode = key.partition(" ")
    mode = mode or "major"
    names = {n: i for i, n in enumerate(CIRCLE)}
    enharmonic = {"Db": "C#", "Gb": "F#", "G#": "Ab", "D#": "Eb", "A#": "Bb", "Cb": "B"}
    step = names.get(enharmonic.get(tonic, tonic), 0)
    color = HUE_NAMES[step]
    why["palette"] = f"{tonic} sits at {color} on the circle of fifths"
    light = "golden daylight" if mode == "major" else "blue dusk light"
    why["light"] = f"{mode} mode"
    pace = ("still, soft and spacious" if tempo < 80 else
            "lively, vivid and full of movement" if tempo > 130 else "gently flowing")
    why["pace"] = f"{tempo:g} bpm"
    scene, style = "", None
    for pattern, looks, look_style in INSTRUMENT_LOOKS:
        if instrument and re.search(pattern, instrument, re.I):
            scene, style = looks, look_style
            why["style"] = f"the {instrument}"
            break
    parts = [f"{mood} " if mood else "", f"{color} tones, {light}, {pace}"]
    if scene:
        parts.append(f", {scene}")
    return PictureWords("".join(parts).strip(), style, why)


def picture_words(image: Image.Image, prompt: str = "") -> PictureWords:
    """What a picture suggests for another picture: its palette, light and words."""
    look = look_of(image)
    step = int(((look.hue + 15) % 360) // 30)
    light = ("bright light" if look.brightness > 0.6 else
             "low light" if look.brightness < 0.35 else "soft light")
    why = {"palette": f"dominant hue {look.hue:.0f}° ({HUE_NAMES[step]})",
           "light": f"luminance {look.brightness:.2f}"}
    words = f"{HUE_NAMES[step]} tones, {light}" + (f", like {prompt}" if prompt else "")
    return PictureWords(words, None, why)
