"""InternVL's dynamic tiling, as the InternVL3 model card (and LMDeploy, which copies it)
does it: the image is resized to an aspect-ratio-matched grid of 448-pixel tiles, 1 to
`max_num` of them, and a 448x448 thumbnail of the whole image is added when the grid has
more than one tile. Each tile costs the model a fixed number of image tokens (256 for
InternVL3). Pure functions, no torch: the app side uses them to prepare the image it
sends to the transformers worker, tests and messages use them to predict the token count.
"""

from __future__ import annotations

from functools import lru_cache

from PIL import Image

TILE = 448  # InternVL3's vision input side


@lru_cache(maxsize=64)
def target_ratios(min_num: int = 1, max_num: int = 12) -> tuple[tuple[int, int], ...]:
    """Every (columns, rows) grid with min_num..max_num tiles, fewest tiles first.

    Built as the model card builds it (a set of pairs sorted by tile count); the order
    among grids of equal count decides ties in `tile_grid`, so it is kept exactly.
    """
    ratios = {(i, j) for n in range(min_num, max_num + 1) for i in range(1, n + 1)
              for j in range(1, n + 1) if min_num <= i * j <= max_num}
    return tuple(sorted(ratios, key=lambda r: r[0] * r[1]))


def tile_grid(width: int, height: int, max_num: int = 12, min_num: int = 1,
              tile: int = TILE) -> tuple[int, int]:
    """(columns, rows) of the grid the model card picks for a width x height image.

    The grid whose aspect ratio is closest to the image's wins; between grids of equal
    ratio (1x1, 2x2, 3x3, ...) the larger one wins while the image has more than half the
    pixels that grid holds, so a small image is not blown up into many tiles.
    """
    if width <= 0 or height <= 0:
        raise ValueError("the image has no pixels")
    max_num = max(1, int(max_num))
    min_num = max(1, min(int(min_num), max_num))
    aspect = width / height
    area = width * height
    best_diff = float("inf")
    best = (1, 1)
    for cols, rows in target_ratios(min_num, max_num):
        diff = abs(aspect - cols / rows)
        if diff < best_diff:
            best_diff, best = diff, (cols, rows)
        elif diff == best_diff and area > 0.5 * tile * tile * cols * rows:
            best = (cols, rows)
    return best


def tile_count(width: int, height: int, max_num: int = 12, *, use_thumbnail: bool = True,
               min_num: int = 1) -> int:
    """How many 448x448 inputs the model sees: the grid, plus the thumbnail when > 1."""
    cols, rows = tile_grid(width, height, max_num, min_num)
    n = cols * rows
    return n + 1 if use_thumbnail and n > 1 else n


def image_tokens(width: int, height: int, max_num: int = 12, tokens_per_tile: int = 256) -> int:
    """The image's <IMG_CONTEXT> tokens (the <img> and </img> markers not counted)."""
    return tile_count(width, height, max_num) * tokens_per_tile


def fit_to_grid(img: Image.Image, max_num: int = 12) -> Image.Image:
    """The image resized to its grid's canvas (columns*448 x rows*448), as the model card
    resizes it before cutting tiles. Sending this instead of the original bounds what
    crosses the pipe (at most max_num tiles of pixels) and pins the grid: for a canvas
    the processor's own choice can only be this grid again."""
    cols, rows = tile_grid(img.width, img.height, max_num)
    size = (cols * TILE, rows * TILE)
    if img.size == size:
        return img
    # BICUBIC is Pillow's default for RGB, which the model card's `image.resize` uses.
    return img.resize(size, Image.Resampling.BICUBIC)
