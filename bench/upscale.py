"""The GAN upscaler against a bare spandrel call, and tiled against untiled, on a tiny
random-weight Real-ESRGAN (tests/models/image/tiny_esrgan.py) on the CPU: a 512² picture
upscaled ×4 to a 2048² output. Prints ratios (goal: backend ÷ bare ≤ 1.05); peak memory
is each phase's max RSS, measured in a child process of its own.

    .venv/bin/python bench/upscale.py
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "models" / "image"))
SIDE, REPEATS = 512, 3


def phase(name: str, weights: Path) -> tuple[float, float]:
    import numpy as np
    import torch
    from PIL import Image

    from museforge.models.image.upscalers import GanUpscaler, spandrel_module

    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 256, (SIDE, SIDE, 3), dtype=np.uint8))
    if name == "bare":
        model = spandrel_module().ModelLoader().load_from_file(weights).eval()
        x = torch.from_numpy(np.array(image)).permute(2, 0, 1)[None].float() / 255

        def once() -> None:
            with torch.inference_mode():
                y = model(x)
                (y[0] * 255).round().byte().permute(1, 2, 0).numpy()
    else:
        tile = 0 if name == "untiled" else 128
        upscaler = GanUpscaler(str(weights), tile=tile, overlap=16)

        def once() -> None:
            upscaler.upscale(image, 4)
    once()  # load and warm up
    start = time.perf_counter()
    for _ in range(REPEATS):
        once()
    seconds = (time.perf_counter() - start) / REPEATS
    return seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    if len(sys.argv) == 3:
        seconds, mb = phase(sys.argv[1], Path(sys.argv[2]))
        print(f"{seconds} {mb}")
        return
    from tiny_esrgan import save, tiny_rrdbnet

    with tempfile.TemporaryDirectory() as folder:
        weights = save(tiny_rrdbnet(4), Path(folder) / "tiny_x4.pth")
        got = {}
        for name in ("bare", "untiled", "tiled"):
            out = subprocess.run([sys.executable, __file__, name, str(weights)],
                                 capture_output=True, text=True, check=True)
            got[name] = tuple(float(v) for v in out.stdout.split())
            print(f"{name:8s} {got[name][0]:.3f} s  peak RSS {got[name][1]:.0f} MB")
    print(f"backend (untiled) ÷ bare spandrel: {got['untiled'][0] / got['bare'][0]:.3f} "
          "(goal ≤ 1.05)")
    print(f"tiled (128 px, overlap 16) ÷ untiled: time {got['tiled'][0] / got['untiled'][0]:.2f}, "
          f"peak RSS {got['tiled'][1] / got['untiled'][1]:.2f}")


if __name__ == "__main__":
    main()
