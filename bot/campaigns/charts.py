"""Server-rendered bar charts: a pure function from (label, count) pairs to an accessible inline SVG."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

ROW = 26  # height of one bar row in px
LABEL_W = 170  # width reserved for the labels on the left
NUMBER_W = 60  # width reserved for the numbers on the right
MAX_LABEL = 14  # characters shown; the full label is in each bar's <title>


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def bar_length(count: int, biggest: int, span: float) -> float:
    """The length of a bar: proportional to count, the biggest count filling `span`; 0 for 0."""
    return 0.0 if biggest <= 0 or count <= 0 else round(span * count / biggest, 2)


def bar_chart(chart_id: str, title: str, items: Sequence[tuple[str, int]], width: int = 640) -> str:
    """A horizontal bar chart as inline SVG (no scripts, no style attributes), every label and number as text."""
    span = width - LABEL_W - NUMBER_W
    biggest = max((n for _, n in items), default=0)
    height = max(1, len(items)) * ROW + 4
    total = sum(n for _, n in items)
    cid = escape(chart_id, quote=True)
    summary = "；".join(f"{label}：{n}" for label, n in items) or "无数据"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{cid}" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" aria-labelledby="{cid}-title {cid}-desc">',
        f'<title id="{cid}-title">{escape(title)}（合计 {total}）</title>',
        f'<desc id="{cid}-desc">{escape(summary)}</desc>',
    ]
    if not items:
        out.append(f'<text x="4" y="{ROW - 8}" class="empty">无数据</text>')
    for i, (label, count) in enumerate(items):
        y = i * ROW + 2
        length = bar_length(count, biggest, span)
        out.append(
            f'<g class="bar" data-label="{escape(label, quote=True)}" data-count="{int(count)}">'
            f"<title>{escape(label)}：{int(count)}</title>"
            f'<text class="label" x="{LABEL_W - 6}" y="{y + ROW - 9}" text-anchor="end">'
            f"{escape(_short(label))}</text>"
            f'<rect x="{LABEL_W}" y="{y + 3}" width="{length}" height="{ROW - 8}" fill="#8b1a1a"/>'
            f'<text class="count" x="{LABEL_W + length + 6}" y="{y + ROW - 9}">{int(count)}</text></g>'
        )
    out.append("</svg>")
    return "".join(out)
