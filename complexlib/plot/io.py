"""Writing figures: self-contained HTML, or static images through kaleido."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["save"]

IMAGE_FORMATS = ("png", "jpg", "jpeg", "webp", "svg", "pdf")


def save(fig: Any, path: str | Path, scale: float = 2.0) -> Path:
    """Write a figure to ``path``, the format taken from its suffix.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
    path : str or Path
        ``.html``: a self-contained page (plotly.js embedded, no network
        needed to open it).  ``.png``, ``.jpg``, ``.webp``, ``.svg``,
        ``.pdf``: a static image through kaleido (``pip install kaleido``).
    scale : float
        Pixel scale of raster images.

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    ValueError
        For a suffix that is neither ``.html`` nor an image format.
    RuntimeError
        For an image when kaleido is not installed or cannot run, with the fix.

    Examples
    --------
    >>> import tempfile, plotly.graph_objects as go
    >>> fig = go.Figure(go.Scatter(x=[0, 1], y=[1, 0]))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = save(fig, Path(tmp) / "fig.html")
    ...     html = p.read_text()
    >>> "<script src=" in html, len(html) > 1_000_000  # plotly.js is inside the page
    (False, True)
    """
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("html", "htm"):
        fig.write_html(str(path), include_plotlyjs=True, full_html=True)
        return path
    if suffix not in IMAGE_FORMATS:
        raise ValueError(
            f"cannot tell the format of {path}: use .html or one of "
            f"{', '.join('.' + f for f in IMAGE_FORMATS)}"
        )
    import importlib.util

    if importlib.util.find_spec("kaleido") is None:
        raise RuntimeError(
            f"cannot write {path}: static images need kaleido (pip install kaleido); "
            "or save as .html, which needs nothing"
        )
    try:
        fig.write_image(str(path), scale=scale)
    except Exception as exc:  # kaleido fails in many ways (no browser, sandbox, timeouts)
        raise RuntimeError(
            f"cannot write {path}: kaleido failed ({type(exc).__name__}: {exc}); kaleido >= 1 "
            "needs Chrome or Chromium (plotly_get_chrome installs one); or save as .html"
        ) from exc
    return path
