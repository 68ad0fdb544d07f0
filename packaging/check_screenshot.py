"""Checks that a ``scythe --screenshot`` PNG shows a rendered globe, not just the docks around a blank canvas.

Used by packaging/smoke_test.sh on the build machine (with .venv's PySide6). The globe canvas sits in the middle
of the console window; without working GL the docks still draw but the canvas stays one flat colour, so only
the central region is sampled. Exit 0 with one line when it passes, 1 with the reason otherwise.
"""

from __future__ import annotations

import sys

from PySide6.QtGui import QImage

#: Distinct colours the sampled canvas region must show (a lit globe with borders and swarm shows hundreds).
MIN_COLOURS = 30


def canvas_colours(path: str, step: int = 5) -> int:
    img = QImage(path)
    if img.isNull():
        raise ValueError(f"{path} is not a readable image")
    w, h = img.width(), img.height()
    xs = range(int(0.30 * w), int(0.62 * w), step)
    ys = range(int(0.15 * h), int(0.70 * h), step)
    return len({img.pixel(x, y) for x in xs for y in ys})


def main(argv: list[str]) -> int:
    try:
        colours = canvas_colours(argv[1])
    except (ValueError, IndexError) as exc:
        print(f"check_screenshot: {exc}", file=sys.stderr)
        return 1
    if colours < MIN_COLOURS:
        print(f"check_screenshot: {argv[1]}: the globe canvas is (nearly) blank ({colours} colours)", file=sys.stderr)
        return 1
    print(f"check_screenshot: {argv[1]}: globe canvas shows {colours} distinct colours (sampled)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
