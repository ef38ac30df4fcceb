"""Draw the field app's icons (static/m/icons): 192 and 512 px, and a maskable 512 px.

The mark is a map pin standing on a line (第一线, "the first line") in white on the desk's
green. Run with the project's Python: ``.venv/bin/python scripts/make_icons.py``.
"""

from pathlib import Path

from PIL import Image, ImageDraw

GREEN = (11, 110, 79, 255)
WHITE = (255, 255, 255, 255)
OUT = Path(__file__).resolve().parent.parent / "static" / "m" / "icons"
SUPERSAMPLE = 4


def draw_mark(draw: ImageDraw.ImageDraw, size: int, scale: float) -> None:
    """The pin and the line, filling ``scale`` of the canvas around its centre."""
    unit = size * scale
    left = (size - unit) / 2
    top = (size - unit) / 2
    cx = size / 2
    radius = unit * 0.22
    head_y = top + unit * 0.33
    draw.ellipse((cx - radius, head_y - radius, cx + radius, head_y + radius), fill=WHITE)
    draw.polygon([(cx - radius * 0.86, head_y + radius * 0.5), (cx + radius * 0.86, head_y + radius * 0.5),
                  (cx, top + unit * 0.74)], fill=WHITE)
    hole = radius * 0.42
    draw.ellipse((cx - hole, head_y - hole, cx + hole, head_y + hole), fill=GREEN)
    bar = unit * 0.07
    draw.rounded_rectangle((left + unit * 0.1, top + unit * 0.80, left + unit * 0.9, top + unit * 0.80 + bar),
                           radius=bar / 2, fill=WHITE)


def icon(size: int, maskable: bool) -> Image.Image:
    """One icon; a maskable icon is full-bleed with the mark inside the 80 % safe zone."""
    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable:
        draw.rectangle((0, 0, big, big), fill=GREEN)
        draw_mark(draw, big, 0.56)
    else:
        draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 0.18, fill=GREEN)
        draw_mark(draw, big, 0.74)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    """Write the three PNG files."""
    OUT.mkdir(parents=True, exist_ok=True)
    icon(192, maskable=False).save(OUT / "icon-192.png", optimize=True)
    icon(512, maskable=False).save(OUT / "icon-512.png", optimize=True)
    icon(512, maskable=True).save(OUT / "maskable-512.png", optimize=True)
    print(f"icons written to {OUT}")


if __name__ == "__main__":
    main()
