"""Hostile images: the CPU seconds `load_image` spends on the worst file of each kind,
against loading a normal file of the same pixel size through the same `load_image`; and
hostile scores: the same for `load_abc` and `load_musicxml`, against a normal tune.

    .venv/bin/python bench/hostile.py [--repeats N] [--quick] [--only images|scores]

Each hostile file is small or within every size limit, and costs from seconds to minutes
in a bare Pillow decode (a 4000x4000 progressive JPEG with its last scan repeated: about
11 ms a scan here, so 20,000 repeats are minutes). The ratio is hostile ÷ normal: below 1,
refusing costs less than accepting an honest file would. A walk that refuses a 30 MB file
still reads all of it (CRCs, searches), so next to a tiny normal file the ratio is large
while the seconds stay small. The last row is the worst JPEG that is accepted.

CPU is this process's (time.process_time) plus the decode process's, which is warm, as
between two uploads: read from /proc/PID/task/*/schedstat (so Linux only) before and after,
or, when the CPU limit ended it, from RUSAGE_CHILDREN once it has been waited for. Medians
of N runs; the machine is noisy, so read the ratios.
"""

from __future__ import annotations

import argparse
import io
import platform
import random
import resource
import statistics
import struct
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image  # noqa: E402

from museforge.models import media  # noqa: E402
from museforge.models.media import MediaError, load_image  # noqa: E402

TINY = b""  # set in main: an 8x8 PNG, to start a decode process


@dataclass
class Case:
    name: str
    hostile: bytes
    normal: bytes
    pixels: str  # what "the same pixel size" is


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def chunk(kind: bytes, payload: bytes = b"") -> bytes:
    crc = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def photo(width: int, height: int) -> Image.Image:
    """Smooth random colour, like a photo's content to an encoder (cheap to make)."""
    w, h = max(width // 32, 2), max(height // 32, 2)
    small = Image.frombytes("RGB", (w, h), random.Random(0).randbytes(w * h * 3))
    return small.resize((width, height), Image.Resampling.BICUBIC)


def cases() -> list[Case]:
    out = []

    # Flat colour, as in the probe that found it: each repeated scan is a few dozen bytes.
    jpeg = encode(Image.new("RGB", (4000, 4000), (120, 80, 200)), "JPEG", progressive=True)
    last_scan = jpeg[jpeg.rindex(b"\xff\xda") : -2]  # SOS header and data, up to EOI
    bomb = jpeg[:-2] + last_scan * 20_000 + jpeg[-2:]
    out.append(Case("JPEG, last scan repeated 20,000 times", bomb, jpeg, "4000x4000"))

    png = encode(photo(1024, 1024), "PNG")
    bomb = png[:33] + chunk(b"prVt") * 2_400_000 + png[33:]  # after IHDR
    out.append(Case("PNG, 2.4 million empty private chunks", bomb, png, "1024x1024"))

    ihdr = struct.pack(">IIBBBBB", 65535, 65535, 8, 2, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b""))
    bomb += chunk(b"IEND")
    gradient = Image.linear_gradient("L").resize((7700, 5190)).convert("RGB")
    largest = encode(gradient, "PNG", compress_level=1)
    out.append(Case("PNG, a 65535x65535 header", bomb, largest, "40 MP, the largest accepted"))

    small = encode(photo(64, 48), "JPEG")
    bomb = small[:2] + b"\xff\xfe\x00\x02" * 7_000_000 + small[2:]
    out.append(Case("JPEG, 7 million empty comments", bomb, small, "64x48"))

    at = small.index(b"\xff\xdb")
    bomb = small[:at] + b"\xff" * 25_000_000 + small[at:]
    out.append(Case("JPEG, 25 MB of 0xFF padding in the header", bomb, small, "64x48"))

    gif = encode(photo(64, 64).convert("P"), "GIF")
    table = 3 << ((gif[10] & 7) + 1) if gif[10] & 0x80 else 0
    bomb = gif[: 13 + table] + b"\x21\xfe\x01X\x00" * 5_000_000 + gif[13 + table :]
    out.append(Case("GIF, 5 million one-byte comments", bomb, gif, "64x64"))

    # Parsed by Pillow in Python before the first scan.
    resources = b"Photoshop 3.0\x00" + b"8BIM\x04\x04\x00\x00\x00\x00\x00\x00" * 5459
    segment = b"\xff\xed" + struct.pack(">H", len(resources) + 2) + resources
    bomb = small[:2] + segment * 480 + small[2:]
    out.append(Case("JPEG, 480 segments of empty Photoshop resources", bomb, small, "64x48"))

    tables = (b"\x00" + bytes(range(1, 65))) * 1008
    segment = b"\xff\xdb" + struct.pack(">H", len(tables) + 2) + tables
    bomb = small[:at] + segment * 480 + small[at:]
    out.append(Case("JPEG, 480 segments of quantization tables", bomb, small, "64x48"))

    # The worst that passes the scan count at the largest size: accepted, not refused.
    flat = encode(Image.new("RGB", (7700, 5190), (120, 80, 200)), "JPEG", progressive=True)
    allowed = media.MAX_JPEG_SCAN_MEGAPIXELS * 10**6 // (7700 * 5190)
    last_scan = flat[flat.rindex(b"\xff\xda") : -2]
    bomb = flat[:-2] + last_scan * (allowed - flat.count(b"\xff\xda")) + flat[-2:]
    out.append(Case(f"JPEG, {allowed} scans (accepted)", bomb, flat, "40 MP"))
    return out


def decode_process_cpu(pid: int) -> float:
    """CPU seconds of a live process, all its threads, from the scheduler (Linux)."""
    tasks = Path(f"/proc/{pid}/task")
    return sum(int((task / "schedstat").read_text().split()[0]) for task in tasks.iterdir()) / 1e9


def reaped_cpu() -> float:
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    return reaped.ru_utime + reaped.ru_stime


def attempt(data: bytes) -> str:
    try:
        image = load_image(data)
    except MediaError as exc:
        return str(exc)
    return f"loaded, {image.width}x{image.height}"


def cost(data: bytes) -> tuple[float, str]:
    """CPU seconds of one `load_image(data)`, this process's and the decode process's."""
    if media._DECODER._process is None:
        attempt(TINY)  # a warm decode process, as between two uploads
    process = media._DECODER._process
    assert process is not None
    before, reaped_before, own_before = (
        decode_process_cpu(process.pid),
        reaped_cpu(),
        time.process_time(),
    )
    outcome = attempt(data)
    own = time.process_time() - own_before
    if media._DECODER._process is process:
        return own + decode_process_cpu(process.pid) - before, outcome
    # Stopped at its CPU limit and waited for: the kernel has added its CPU to ours.
    return own + reaped_cpu() - reaped_before - before, outcome


def median_cost(data: bytes, repeats: int) -> tuple[float, str]:
    runs = [cost(data) for _ in range(repeats)]
    return statistics.median(seconds for seconds, _ in runs), runs[-1][1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one run of each")
    parser.add_argument("--only", choices=("images", "scores"))
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    if args.only != "scores":
        images(repeats)
    if args.only != "images":
        if args.only is None:
            print()
        scores(repeats)


def images(repeats: int) -> None:

    global TINY
    TINY = encode(Image.new("RGB", (8, 8)), "PNG")
    started = time.perf_counter()
    made = cases()
    setup = time.perf_counter() - started
    print(
        f"hostile images through load_image: {repeats} run(s) each, medians; "
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    print(
        f"limits: {media.MAX_JPEG_SCANS} JPEG scans and {media.MAX_JPEG_SCAN_MEGAPIXELS:,} "
        f"scan-megapixels, {media.MAX_JPEG_SEGMENTS:,} JPEG segments, "
        f"{media.MAX_PNG_CHUNKS:,} PNG chunks, {media.MAX_GIF_BLOCKS:,} GIF blocks; "
        f"decode CPU {media.MAX_DECODE_CPU_SECONDS:g} s "
        f"+ {media.MAX_DECODE_CPU_SECONDS_PER_MEGAPIXEL:g} s/MP"
    )
    print()
    head = ("hostile file", "MB", "hostile CPU s", "normal CPU s", "ratio", "normal file")
    rows = []
    outcomes = []
    for case in made:
        hostile, outcome = median_cost(case.hostile, repeats)
        normal, normal_outcome = median_cost(case.normal, repeats)
        assert normal_outcome.startswith("loaded"), normal_outcome
        rows.append(
            (
                case.name,
                f"{len(case.hostile) / 2**20:.1f}",
                f"{hostile:.4f}",
                f"{normal:.4f}",
                f"{hostile / normal:.3g}",
                case.pixels,
            )
        )
        outcomes.append(f"{case.name}: {outcome}")
    widths = [max(len(str(row[i])) for row in [head, *rows]) for i in range(len(head))]
    line = "  ".join(f"{{:{'<' if i in (0, 5) else '>'}{w}}}" for i, w in enumerate(widths))
    print(line.format(*head))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line.format(*row))
    print()
    for outcome in outcomes:
        print(outcome)
    print()
    print(f"setup {setup:.1f} s, total {time.perf_counter() - started:.1f} s")



# ---------------------------------------------------------------- ABC and MusicXML
# music21 reads them in this process (pure Python), so CPU is time.process_time alone.

JIG = """X:1
T:The Test Jig
M:6/8
L:1/8
Q:3/8=120
K:D
|:A|dfa afd|g2e c2A|dfa agf|e3 d{last}:|
"""


def musicxml(notes: int, per_bar: int = 8, attributes: int = 0) -> bytes:
    from museforge.models.music.engrave import to_musicxml
    from museforge.models.music.piece import Note, Part, Piece

    step = 4 / per_bar
    melody = [Note(60 + i % 12, i * step, (i + 1) * step, 80) for i in range(notes)]
    text = to_musicxml(Piece([Part("melody", 0, False, melody)], 400.0, (4, 4), "C major",
                             "bench")).text
    data = text if isinstance(text, bytes) else text.encode()
    if attributes:
        at, end = data.index(b"<attributes>"), data.index(b"</attributes>") + 13
        data = data[:end] + data[at:end] * attributes + data[end:]
    return data


def score_cases() -> list[tuple[str, str, bytes | str, str, bytes | str]]:
    """(loader, hostile file, its bytes, normal file, its bytes)."""
    import zipfile

    jig = JIG.format(last="2")
    largest_abc = "X:1\nM:6/8\nL:1/8\nK:D\n" + "|".join(["dfa z3"] * 150) + "|]\n"
    rests = "X:1\nM:4/4\nL:1/8\nK:D\nc8|" + "|".join(["z8"] * 1990) + "|]\n"
    small_xml, large_xml = musicxml(16), musicxml(3000, per_bar=4)
    laughs = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' + b"".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 or "")) * 10}">'.encode() for i in range(1, 10)
    ) + b"]><score-partwise>&lol9;</score-partwise>"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("score.musicxml", "w", force_zip64=True) as member:
            for _ in range(1024):  # 1 GB of spaces after a score's first bytes
                member.write(b" " * 2**20)
    return [
        ("abc", "ABC, one note 125 bars long (music21: 52 s)", JIG.format(last="1000"),
         "the jig", jig),
        ("abc", "ABC, 1,990 bars of rest (music21: 18 s)", rests, "the jig", jig),
        ("abc", "ABC, a billion bars of rest in one Z", "X:1\nM:4/4\nK:C\nCDEF|Z1000000000|\n",
         "the jig", jig),
        ("abc", "ABC, 600 notes and rests (accepted)", largest_abc, "the jig", jig),
        ("xml", "MusicXML, 1,000 attribute changes (music21: 4.5 s)",
         musicxml(16, attributes=1000), "16 notes", small_xml),
        ("xml", "MusicXML, 1,990 bars (music21: 6 s)", musicxml(1990, per_bar=1), "16 notes",
         small_xml),
        ("xml", "MusicXML, nine levels of entities", laughs, "16 notes", small_xml),
        ("xml", ".mxl, a member that inflates to 1 GB", buffer.getvalue(), "16 notes",
         small_xml),
        ("xml", "MusicXML, 3,000 notes (accepted)", large_xml, "16 notes", small_xml),
    ]


def score_cost(loader: str, data: bytes | str) -> tuple[float, str]:
    from museforge.models.music.base import MusicError
    from museforge.models.music.scorefiles import load_abc, load_musicxml

    started = time.process_time()
    try:
        reading = load_abc(data) if loader == "abc" else load_musicxml(data)  # type: ignore[arg-type]
        outcome = "loaded, " + reading.echo[8:60]
    except MusicError as exc:
        outcome = str(exc)
    return time.process_time() - started, outcome


def scores(repeats: int) -> None:
    from museforge.models.music import scorefiles

    limits = scorefiles.LIMITS
    score_cost("abc", JIG.format(last="2"))  # music21 imported before anything is timed
    print(f"hostile scores through load_abc / load_musicxml: {repeats} run(s) each, medians")
    print(f"limits: ABC {limits.max_abc_notes:,} notes and rests, {limits.max_abc_bars} bars; "
          f"MusicXML {limits.max_notes:,} notes, {limits.max_bars:,} bars a part")
    print()
    head = ("hostile file", "KB", "hostile CPU s", "normal CPU s", "ratio", "normal file")
    rows, outcomes = [], []
    for loader, name, hostile, normal_name, normal in score_cases():
        runs = [score_cost(loader, hostile) for _ in range(repeats)]
        spent = statistics.median(seconds for seconds, _ in runs)
        normal_spent = statistics.median(score_cost(loader, normal)[0] for _ in range(repeats))
        size = len(hostile.encode() if isinstance(hostile, str) else hostile)
        rows.append((name, f"{size / 1024:,.0f}", f"{spent:.4f}", f"{normal_spent:.4f}",
                     f"{spent / normal_spent:.3g}", normal_name))
        outcomes.append(f"{name}: {runs[-1][1]}")
    widths = [max(len(str(row[i])) for row in [head, *rows]) for i in range(len(head))]
    line = "  ".join(f"{{:{'<' if i in (0, 5) else '>'}{w}}}" for i, w in enumerate(widths))
    print(line.format(*head))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line.format(*row))
    print()
    for outcome in outcomes:
        print(outcome)


if __name__ == "__main__":
    main()
