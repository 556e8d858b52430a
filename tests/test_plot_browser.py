"""Opt-in: open figures in a real headless Chromium and check the screenshots are not blank.

Run with ``COMPLEXLIB_BROWSER_TESTS=1 python -m pytest -m browser tests/test_plot_browser.py``
(needs ``chromium``, e.g. Debian's ``apt-get install chromium``).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest

import complexlib as cl

CHROMIUM = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser")) if p), None)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        os.environ.get("COMPLEXLIB_BROWSER_TESTS") != "1" or CHROMIUM is None,
        reason="opt-in: set COMPLEXLIB_BROWSER_TESTS=1 and install chromium",
    ),
]


def screenshot(html: Path, png: Path, user_dir: Path, size=(1000, 800)) -> None:
    cmd = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={user_dir}",
        "--hide-scrollbars",
        f"--window-size={size[0]},{size[1]}",
        "--virtual-time-budget=10000",
        f"--screenshot={png}",
        html.resolve().as_uri(),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert png.exists(), f"chromium wrote no screenshot (rc {res.returncode}): {res.stderr[-2000:]}"


def read_png(path: Path) -> np.ndarray:
    """Decode an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes) to ``(h, w, c)``."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
    assert header is not None
    w, h, depth, ctype, _, _, interlace = header
    assert depth == 8 and ctype in (2, 6) and interlace == 0, header
    c = 3 if ctype == 2 else 4
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(h, 1 + w * c)
    out = np.zeros((h, w * c), dtype=np.int32)
    prev = np.zeros(w * c, dtype=np.int32)
    for y in range(h):
        f, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        cur = np.zeros(w * c, dtype=np.int32)
        if f == 0:
            cur = line
        elif f == 2:
            cur = (line + prev) & 255
        else:  # 1 (sub), 3 (average), 4 (Paeth) depend on the pixel to the left
            for x in range(w * c):
                a = cur[x - c] if x >= c else 0
                b = prev[x]
                if f == 1:
                    cur[x] = (line[x] + a) & 255
                elif f == 3:
                    cur[x] = (line[x] + (a + b) // 2) & 255
                else:
                    cc = prev[x - c] if x >= c else 0
                    p = a + b - cc
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - cc)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else cc)
                    cur[x] = (line[x] + pred) & 255
        out[y] = cur
        prev = cur
    return out.reshape(h, w, c)[:, :, :3].astype(np.uint8)


def test_complex_figure_renders_in_chromium(tmp_path):
    cx = cl.Complex(cl.mlp([2, 8, 8, 1], seed=0), bound=2.0)
    cx.bfs(progress=False)
    html = cl.save(cl.plot_complex(cx), tmp_path / "complex.html")
    png = tmp_path / "complex.png"
    screenshot(html, png, tmp_path / "chromium-profile")
    img = read_png(png)
    assert img.shape[0] > 300 and img.shape[1] > 300
    non_white = np.any(img < 245, axis=2).mean()
    colours = len(np.unique(img.reshape(-1, 3) // 8, axis=0))
    # the cells fill a large square in many colours; a blank or error page does not
    assert non_white > 0.15, f"only {non_white:.1%} of the screenshot is drawn"
    assert colours > 50, f"only {colours} colours in the screenshot"
