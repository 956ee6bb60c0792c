"""The SVG bar chart of the campaign report: valid XML, escaped labels, zero counts, proportional bars."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from bot.campaigns.charts import LABEL_W, NUMBER_W, bar_chart, bar_length

SVG = "{http://www.w3.org/2000/svg}"


def _bars(svg: str) -> list[tuple[str, int, float, str]]:
    """(data-label, data-count, rect width, shown number) per bar."""
    root = ET.fromstring(svg)
    out = []
    for g in root.iter(f"{SVG}g"):
        rect = g.find(f"{SVG}rect")
        number = g.find(f"{SVG}text[@class='count']").text
        out.append((g.get("data-label"), int(g.get("data-count")), float(rect.get("width")), number))
    return out


def test_bars_are_proportional_and_labelled() -> None:
    svg = bar_chart("c1", "按界别", [("经济界", 10), ("教育界", 5), ("医药卫生界", 1)], width=500)
    span = 500 - LABEL_W - NUMBER_W
    bars = _bars(svg)
    assert [(label, n, number) for label, n, _, number in bars] == [
        ("经济界", 10, "10"),
        ("教育界", 5, "5"),
        ("医药卫生界", 1, "1"),
    ]
    assert [w for *_, w, _ in bars] == [span, span / 2, round(span / 10, 2)]
    root = ET.fromstring(svg)
    assert root.get("role") == "img" and root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.find(f"{SVG}title").text == "按界别（合计 16）"
    assert root.find(f"{SVG}desc").text == "经济界：10；教育界：5；医药卫生界：1"
    assert "<script" not in svg and "style=" not in svg  # the CSP allows neither


def test_labels_are_escaped() -> None:
    evil = '<script>alert("x")</script>&'
    svg = bar_chart('id"x', evil, [(evil, 3)])
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    root = ET.fromstring(svg)  # still well-formed XML
    assert root.get("id") == 'id"x'
    assert root.find(f"{SVG}title").text.startswith(evil)
    ((label, count, width, _),) = _bars(svg)
    assert label == evil and count == 3 and width > 0


def test_zero_counts_and_no_data() -> None:
    bars = _bars(bar_chart("z", "空", [("甲", 0), ("乙", 0)]))
    assert [(label, w, number) for label, _, w, number in bars] == [("甲", 0.0, "0"), ("乙", 0.0, "0")]
    empty = bar_chart("e", "无", [])
    assert "无数据" in empty and _bars(empty) == []
    ET.fromstring(empty)
    assert bar_length(0, 0, 100) == 0 and bar_length(3, 3, 100) == 100 and bar_length(1, 4, 100) == 25


def test_long_labels_are_shortened_but_kept_in_full() -> None:
    label = "建议打造山地旅游精品线路带动景区周边民宿发展"
    svg = bar_chart("l", "按主题", [(label, 2)])
    root = ET.fromstring(svg)
    shown = root.find(f".//{SVG}text[@class='label']").text
    assert shown.endswith("…") and len(shown) == 14 and label.startswith(shown[:-1])
    assert root.find(f".//{SVG}g/{SVG}title").text == f"{label}：2"
