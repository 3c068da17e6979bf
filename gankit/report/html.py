"""The one HTML writer of gankit's reports (``gankit compare``, ``gankit reproduce``): a
self-contained page, its pictures embedded as data URIs so the file can be mailed or archived
alone."""
from __future__ import annotations

import base64
import html
from pathlib import Path

BASE_STYLE = """body{font-family:sans-serif;margin:1.5em;max-width:1400px} table{border-collapse:collapse}
td,th{border:1px solid #bbb;padding:.3em .6em;vertical-align:top}
img{max-width:360px;margin:.2em;image-rendering:pixelated}"""

esc = html.escape


def data_uri(path: Path) -> str:
    """A PNG file as a ``data:`` URI."""
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def img(path: Path | None, alt: str = "") -> str:
    """An embedded ``<img>``, or nothing for a picture that is missing."""
    if path is None or not Path(path).is_file():
        return ""
    return f'<img src="{data_uri(path)}" alt="{esc(alt)}">'


def table(header: list[str], rows: list[list[str]], cell_class=None) -> str:
    """A table of escaped text; ``cell_class(row, col) -> str | None`` may give a cell a class.
    A cell that is already HTML is passed as ``Markup(text)``."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cells = []
        for j, c in enumerate(row):
            cls = cell_class(i, j) if cell_class else None
            text = c if isinstance(c, Markup) else esc(str(c))
            cells.append(f'<td class="{cls}">{text}</td>' if cls else f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


class Markup(str):
    """Text that is already HTML (not escaped again by :func:`table`)."""


def document(title: str, body: str, style: str = "") -> str:
    """A whole page: ``title`` as ``<title>`` and ``<h1>``, then ``body`` (HTML)."""
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f"<style>{BASE_STYLE}\n{style}</style></head><body>\n<h1>{esc(title)}</h1>\n{body}\n</body></html>\n")
