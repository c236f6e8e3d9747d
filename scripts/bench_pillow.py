#!/usr/bin/env python3
"""Pillow peer of the ID-photo benchmark (crates/core/benches/id_photo.rs runs it).

Decodes the JPEG, applies its EXIF orientation, crops the given window (upright pixels), resizes it
to 358x441 with LANCZOS and encodes a JPEG (q 92, like the pipeline's first try), all in memory.
Prints {"ms": median, "runs": [...]} as JSON on stdout, after one warm-up run.
"""

import argparse
import io
import json
import statistics
import time

from PIL import Image, ImageOps

WIDTH, HEIGHT = 358, 441


def once(data: bytes, crop: tuple[int, int, int, int] | None) -> None:
    img = Image.open(io.BytesIO(data))
    img.load()
    img = ImageOps.exif_transpose(img)
    if crop:
        x, y, w, h = crop
        img = img.crop((x, y, x + w, y + h))
    img = img.convert("RGB").resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)
    img.save(io.BytesIO(), format="JPEG", quality=92)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("jpeg")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--crop", help="x,y,w,h in upright pixels (default: the whole image)")
    args = parser.parse_args()
    crop = tuple(int(v) for v in args.crop.split(",")) if args.crop else None
    with open(args.jpeg, "rb") as f:
        data = f.read()
    once(data, crop)  # warm-up
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        once(data, crop)
        times.append((time.perf_counter() - start) * 1e3)
    print(json.dumps({"ms": round(statistics.median(times), 2), "runs": [round(t, 2) for t in times]}))


if __name__ == "__main__":
    main()
