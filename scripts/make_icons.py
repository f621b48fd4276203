"""Draw the web app's PNG icons (static/icons/) from favicon.svg's shapes, with Pillow.

The manifest needs PNGs (192 and 512 px) that phones show on the home screen; an SVG
rasteriser would be one more dependency for three shapes, so they are drawn here at 4× and
scaled down (antialiased). The icon is "maskable": the pin sits inside the safe circle on a
full red square, so launchers may crop it to any shape.

Usage: python scripts/make_icons.py   (writes static/icons/icon-192.png and icon-512.png)
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

RED, WHITE = (183, 28, 28, 255), (255, 255, 255, 255)
OUT = Path(__file__).resolve().parent.parent / "static" / "icons"


def icon(size: int) -> Image.Image:
    """The pin of favicon.svg (a 32-unit box), white on red, inside the maskable safe zone."""
    big = size * 4
    image = Image.new("RGBA", (big, big), RED)
    draw = ImageDraw.Draw(image)
    unit = big * 0.6 / 32                      # the pin fills the central 60 % (safe zone: 80 %)
    ox = oy = big * 0.2

    def at(x: float, y: float) -> tuple[float, float]:
        return ox + x * unit, oy + y * unit

    draw.ellipse([at(7, 4), at(25, 22)], fill=WHITE)
    draw.polygon([at(16, 31), at(9, 19), at(23, 19)], fill=WHITE)
    draw.ellipse([at(12, 9), at(20, 17)], fill=RED)
    return image.resize((size, size), Image.LANCZOS)


def main() -> None:
    """Write the icons, optimised (each is a few kilobytes)."""
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        icon(size).convert("P", palette=Image.ADAPTIVE, colors=32).save(OUT / f"icon-{size}.png", optimize=True)


if __name__ == "__main__":
    main()
