"""Benchmark: the server's photo pipeline on a 12-megapixel JPEG, beside a bare Pillow decode.

Run: .venv/bin/python bench/photo_pipeline.py [--runs 10]
Prints median and best times; copy the figures into docs/benchmarks.md.
"""

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.services.field.photos import process_upload  # noqa: E402


def twelve_megapixel_jpeg() -> bytes:
    """A 4000 x 3000 JPEG with sensor-like noise, so it is as large as a phone's (~5 MB)."""
    noise = [Image.effect_noise((4000, 3000), sigma) for sigma in (30, 40, 50)]
    base = Image.linear_gradient("L").resize((4000, 3000))
    image = Image.merge("RGB", [Image.blend(base, n, 0.5) for n in noise])
    draw = ImageDraw.Draw(image)
    for i in range(0, 4000, 97):
        draw.ellipse((i, (i * 7) % 3000, i + 300, (i * 7) % 3000 + 200), fill=(i % 255, 120, 255 - i % 255))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def timed(function, data: bytes, runs: int) -> list[float]:
    """Wall-clock seconds of each run."""
    results = []
    for _ in range(runs):
        start = time.perf_counter()
        function(data)
        results.append(time.perf_counter() - start)
    return results


def bare_decode(data: bytes) -> None:
    """What any server must at least do: decode the full image."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()


def main() -> None:
    """Time both and print a small table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    data = twelve_megapixel_jpeg()
    timed(process_upload, data, 1)  # warm up imports and caches
    pipeline = timed(process_upload, data, runs)
    decode = timed(bare_decode, data, runs)
    print(f"input: 4000x3000 JPEG, {len(data) / 1e6:.1f} MB, {runs} runs")
    print(f"{'what':<46}{'median ms':>10}{'best ms':>10}")
    print(f"{'pipeline (check, EXIF, 1600 px + 320 px, no EXIF)':<46}"
          f"{statistics.median(pipeline) * 1000:>10.0f}{min(pipeline) * 1000:>10.0f}")
    print(f"{'bare Pillow full decode':<46}{statistics.median(decode) * 1000:>10.0f}{min(decode) * 1000:>10.0f}")


if __name__ == "__main__":
    main()
