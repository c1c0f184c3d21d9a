"""InternVL's dynamic tiling (engines/internvl_tiling.py) against the model card's rule,
worked out by hand for several aspect ratios, and against transformers' own processor."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest
from PIL import Image

from desktop_ocr.engines.internvl_tiling import (
    TILE,
    fit_to_grid,
    image_tokens,
    target_ratios,
    tile_count,
    tile_grid,
)


@pytest.mark.parametrize("size, max_num, grid, count", [
    ((448, 448), 12, (1, 1), 1),        # one tile, so no thumbnail
    ((896, 448), 12, (2, 1), 3),        # 2:1 -> two tiles side by side + thumbnail
    ((448, 896), 12, (1, 2), 3),        # 1:2 -> stacked
    ((2480, 3508), 12, (2, 3), 7),      # A4 portrait at 300 dpi: 0.707 is nearest 2:3 (0.667)
    ((3508, 2480), 12, (4, 3), 13),     # A4 landscape: 1.414 is nearer 4:3 (0.081) than 3:2 (0.086)
    ((2480, 3508), 6, (2, 3), 7),       # the same grid fits in 6
    ((2480, 3508), 4, (1, 2), 3),       # within 4: |0.707-0.5| (1x2) beats |0.707-1| (1x1, 2x2)
    ((1000, 3000), 12, (2, 6), 13),     # 1:3, large: 1x3 ties with 2x6 and the bigger grid wins
    ((300, 900), 12, (1, 3), 4),        # 1:3, small: fewer than half the pixels of 2x6 -> 1x3
    ((4000, 400), 12, (10, 1), 11),     # a 10:1 strip
    ((2000, 2000), 12, (3, 3), 10),     # square and large: 3x3
    ((2000, 2000), 6, (2, 2), 5),       # square at detail 6
    ((600, 600), 12, (1, 1), 1),        # 360,000 px: not more than half of 2x2's 802,816
    ((700, 700), 12, (2, 2), 5),        # 490,000 px: more than half of 2x2, less than half of 3x3
    ((5000, 700), 1, (1, 1), 1),        # detail 1: always one tile
])
def test_grid_and_tile_count_follow_the_model_card(size, max_num, grid, count):
    # GIVEN an image of this size and a detail level
    # WHEN the grid is chosen
    # THEN it is the model card's grid, and the thumbnail is added only to a multi-tile grid
    assert tile_grid(*size, max_num) == grid
    assert tile_count(*size, max_num) == count
    assert image_tokens(*size, max_num) == 256 * count


def test_the_candidate_grids_are_every_grid_up_to_max_fewest_tiles_first():
    grids = target_ratios(1, 12)
    # every (cols, rows) with cols*rows <= 12: the sum of the divisor counts of 1..12
    assert len(grids) == 35 and len(set(grids)) == 35
    counts = [c * r for c, r in grids]
    assert counts == sorted(counts) and counts[0] == 1 and counts[-1] == 12
    assert (12, 1) in grids and (1, 12) in grids and (5, 3) not in grids


def test_a_picture_with_no_pixels_is_refused():
    with pytest.raises(ValueError):
        tile_grid(0, 100)


@pytest.mark.parametrize("max_num", [1, 6, 12])
def test_fitting_to_the_grid_keeps_the_grid(max_num):
    # GIVEN images of many shapes and sizes
    for w in (37, 300, 448, 999, 1600, 2480, 4000):
        for h in (41, 300, 448, 1200, 3508):
            img = Image.new("RGB", (w, h), "white")
            # WHEN the image is resized to its grid's canvas
            canvas = fit_to_grid(img, max_num)
            cols, rows = tile_grid(w, h, max_num)
            # THEN the canvas is exactly cols x rows tiles, and its own grid is the same one
            assert canvas.size == (cols * TILE, rows * TILE)
            assert tile_grid(*canvas.size, max_num) == (cols, rows)


def test_fitting_an_image_already_on_its_grid_returns_it_unchanged():
    img = Image.new("RGB", (896, 448))
    assert fit_to_grid(img, 12) is img


@pytest.mark.skipif(importlib.util.find_spec("transformers") is None, reason="needs transformers")
def test_the_transformers_processor_picks_the_same_grids():
    # GIVEN a sweep of image sizes at three detail levels
    sizes = [(w, h) for w in range(60, 4200, 173) for h in range(60, 4200, 211)]
    code = (
        "import json, sys\n"
        "from transformers.models.got_ocr2 import image_processing_pil_got_ocr2 as m\n"
        "get_optimal_tiled_canvas = m.get_optimal_tiled_canvas\n"
        "sizes, levels = json.loads(sys.stdin.read())\n"
        "print(json.dumps([[list(get_optimal_tiled_canvas((h, w), (448, 448), 1, m)) for w, h in sizes]"
        " for m in levels]))\n"
    )
    levels = [1, 6, 12]
    # WHEN transformers' own tiling (GotOcr2, which InternVL's -hf processor uses) decides
    done = subprocess.run([sys.executable, "-c", code], input=json.dumps([sizes, levels]),
                          capture_output=True, text=True, timeout=300, check=True)
    theirs = json.loads(done.stdout)
    # THEN ours agrees on every size (compared in a fresh interpreter: no torch in this one)
    for level, grids in zip(levels, theirs, strict=True):
        ours = [list(tile_grid(w, h, level)) for w, h in sizes]
        assert ours == grids, f"detail {level}"
