"""PDF text layers read whole: page furniture removed by its place, lines joined across wraps and page breaks.

The PDFs are drawn with reportlab (STSong-Light, a CID font every PDF reader knows); the real regulation and the
BH-01 case come from the shared folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import SHARED_DIR
from pypdf import PdfReader
from reportlab.lib import pdfencrypt
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from bot.knowledge.loaders import load_document
from bot.knowledge.page_layout import is_page_number
from bot.knowledge.pdf_reader import load_pdf
from bot.knowledge.types import LoadError

FONT = "STSong-Light"
WIDTH, HEIGHT = A4
LEFT = 72
HEADER = "青川市政协办公室文件"
FOOTER = "青川市政协办公室 2026年1月印发"


@dataclass(frozen=True)
class Line:
    """A body line: its text, first-line indent in characters, font size, centred or not."""

    text: str
    indent: int = 0
    size: float = 12
    centred: bool = False


def _draw_pdf(
    path: Path,
    pages: list[list[Line | str]],
    *,
    header: str | None = HEADER,
    footer: str | None = FOOTER,
    number: str | None = "— {n} —",
    title: str = "",
    pitch: float = 24,
) -> Path:
    """A Word-like PDF: per page the header, the body lines from the top margin, the footer and the page number
    (number is a format with {n} and {total}); the text layer reads header, body, footer in that order."""
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setTitle(title)
    for n, lines in enumerate(pages, start=1):
        if header:
            pdf.setFont(FONT, 9)
            pdf.drawString(LEFT, 800, header)
        y = 740.0
        for item in lines:
            line = Line(item) if isinstance(item, str) else item
            pdf.setFont(FONT, line.size)
            if line.centred:
                pdf.drawCentredString(WIDTH / 2, y, line.text)
            else:
                pdf.drawString(LEFT + line.indent * line.size, y, line.text)
            y -= pitch
        if footer:
            pdf.setFont(FONT, 9)
            pdf.drawString(LEFT, 50, footer)
        if number:
            pdf.setFont(FONT, 9)
            pdf.drawCentredString(WIDTH / 2, 35, number.format(n=n, total=len(pages)))
        pdf.showPage()
    pdf.save()
    return path


def _read(path: Path):
    return load_pdf(path.read_bytes(), path)


THREE_PAGES = [
    [
        "青川市政协委员履职管理办法（示例）",
        "第一章 总则",
        "第一条 为加强委员履职管理，制定本办法。",
        "第二条 委员履职情况由市政协办公室记录，记录内容包括参加会议、",
    ],
    [
        "提交提案和反映社情民意信息等情况。",
        "第三条 履职档案按年度装订，封面统一印制下列字样：",
        "（一）封面第一行：",
        HEADER,  # a body line that reads like the running header, in the middle of the page
        "（二）封面第二行：委员姓名。",
        "第四条 委员因故不能参加会议的，应当在会议召开前向",
    ],
    [
        "市政协办公室请假。",
        "第五条 本办法自2026年1月1日起施行。",
    ],
]
THREE_PAGES_TEXT = [
    "青川市政协委员履职管理办法（示例）",
    "第一章 总则",
    "第一条 为加强委员履职管理，制定本办法。",
    "第二条 委员履职情况由市政协办公室记录，记录内容包括参加会议、提交提案和反映社情民意信息等情况。",
    "第三条 履职档案按年度装订，封面统一印制下列字样：",
    "（一）封面第一行：",
    HEADER,
    "（二）封面第二行：委员姓名。",
    "第四条 委员因故不能参加会议的，应当在会议召开前向市政协办公室请假。",
    "第五条 本办法自2026年1月1日起施行。",
]


@pytest.mark.parametrize("number", ["— {n} —", "- {n} -", "第 {n} 页 共 {total} 页", "{n}/{total}", "·{n}·"])
def test_three_pages_furniture_removed_and_articles_joined_across_pages(tmp_path: Path, number: str) -> None:
    extracted = _read(_draw_pdf(tmp_path / "办法.pdf", THREE_PAGES, number=number))
    assert extracted.text.split("\n") == THREE_PAGES_TEXT
    assert extracted.title == "青川市政协委员履职管理办法（示例）"
    assert extracted.meta == {}


def test_two_pages_header_and_footer_recognised_by_repetition(tmp_path: Path) -> None:
    # No page numbers: the header and the footer (whose digits are the same here) repeat at the same place.
    pages = [THREE_PAGES[0], THREE_PAGES[1][:2]]
    extracted = _read(_draw_pdf(tmp_path / "两页.pdf", pages, number=None))
    assert extracted.text.split("\n") == THREE_PAGES_TEXT[:5]


def test_footer_with_changing_digits_is_removed(tmp_path: Path) -> None:
    path = tmp_path / "两页.pdf"
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    pdf = canvas.Canvas(str(path), pagesize=A4)
    for n, lines in enumerate([THREE_PAGES[0], THREE_PAGES[1][:2]], start=1):
        pdf.setFont(FONT, 12)
        for i, line in enumerate(lines):
            pdf.drawString(LEFT, 740 - 24 * i, line)
        pdf.setFont(FONT, 9)
        pdf.drawString(LEFT, 40, f"青川市政协办公室 2026年1月{n + 4}日印发  第{n}页")
        pdf.showPage()
    pdf.save()
    assert _read(path).text.split("\n") == THREE_PAGES_TEXT[:5]


def test_one_page_only_page_number_lines_in_the_band_go(tmp_path: Path) -> None:
    # One page gives no repetition to see: the header stays (it cannot be told from a title), the page number
    # goes, and a number-only line in the body stays.
    lines = [
        "青川市政协委员视察工作规定（示例）",
        "第一条 视察名额如下：",
        "12",
        "第二条 本规定自印发之日起施行。",
    ]
    extracted = _read(_draw_pdf(tmp_path / "一页.pdf", [lines], footer=None))
    assert extracted.text.split("\n") == [HEADER, *lines]
    assert extracted.title == lines[0]  # the header, in small print above it, is not the title


def test_lines_repeated_in_the_body_are_kept(tmp_path: Path) -> None:
    # The same body lines on both pages at the same height, but outside the header and footer bands.
    page = ["第一条 委员应当按时参加会议。", "（一）无。", "二〇二六年一月", "附件", "2"]
    pages = [page, [line.replace("一条", "二条") for line in page]]
    extracted = _read(_draw_pdf(tmp_path / "重复.pdf", pages))
    assert extracted.text.split("\n") == pages[0] + pages[1]


def test_bh01_case_file(tmp_path: Path) -> None:
    path = SHARED_DIR / "cases" / "ingest" / "BH-01" / "视察工作规定.pdf"
    doc = load_document(path)
    lines = doc.text.split("\n")
    assert (
        "第三条 委员视察结束后，视察组应当在十五个工作日内向市政协办公室提交视察报告，报告一般不超过三千字。"
        in lines
    )
    assert "第四条 视察中发现的重大问题，经主席会议同意后，以市政协名义报送市委、市政府。" in lines
    for furniture in ("青川市政协办公室文件", "2026年1月印发", "— 1 —", "— 2 —", "—"):
        assert furniture not in doc.text
    assert doc.title == "青川市政协委员视察工作规定（示例）"
    assert lines[0] == doc.title


_ARTICLE = re.compile(r"^第[一二三四五六七八九十百千零〇两]+[条章节]")


def _articles(lines: list[str]) -> dict[str, str]:
    """第X条 → the article's text without whitespace, up to the next article or chapter heading."""
    articles: dict[str, str] = {}
    current = None
    for line in lines:
        compact = re.sub(r"\s+", "", line)
        heading = _ARTICLE.match(compact)
        if heading:
            current = heading.group(0) if heading.group(0).endswith("条") else None
            if current:
                assert current not in articles, f"{current} twice"
                articles[current] = ""
        if current:
            articles[current] += compact
    return articles


def test_real_law_every_article_whole_and_page_numbers_gone() -> None:
    path = SHARED_DIR / "corpus" / "regulations" / "各级人民代表大会常务委员会监督法.pdf"
    # An independent plain reading: pypdf's text, with its page-number lines taken out.
    plain = [
        line
        for page in PdfReader(path).pages
        for line in (page.extract_text() or "").split("\n")
        if not re.fullmatch(r"\s*—\s*\d+\s*—\s*", line)
    ]
    expected = _articles(plain)
    extracted = _read(path)
    lines = extracted.text.split("\n")
    got = _articles(lines)
    assert len(expected) == 65
    assert got == expected
    assert not [line for line in lines if "—" in line or is_page_number(line)]
    assert all(_ARTICLE.match(line) for line in lines if re.match(r"^\s*第.{1,6}条", line))
    assert extracted.title == "中华人民共和国各级人民代表大会常务委员会监督法"


def _paragraph_lines(text: str, width: int, indent: int = 2) -> list[Line]:
    """A paragraph set in lines of `width` characters with a first-line indent (all characters full-width)."""
    lines = [Line(text[: width - indent], indent=indent)]
    rest = text[width - indent :]
    while rest:
        lines.append(Line(rest[:width]))
        rest = rest[width:]
    return lines


def test_geometry_joins_wrapped_lines_and_splits_at_indents(tmp_path: Path) -> None:
    width = 37
    first = "委员履职档案由市政协办公室统一建立，实行一人一档、动态管理、年度归集。"  # fills line 1 exactly
    second = "履职档案的内容包括出席会议、视察调研、提交提案、反映社情民意信息、参加专题协商和联系界别群众等情况，由委员本人确认后存档。"
    unfinished = (
        "委员本人可以查阅自己的履职档案，发现记录有误的，可以提出更正"  # no full stop, not at the edge
    )
    reply = "市政协办公室应当在五个工作日内核实并答复。"
    body = [
        Line("青川市人民政治协商会议委员会关于加强和改进委员履职档案", size=16, centred=True),
        Line("管理工作的实施办法", size=16, centred=True),
        Line("（二〇二六年一月主席会议通过）", size=10, centred=True),
        *_paragraph_lines(first + second, width),
        *_paragraph_lines(unfinished, width),
        *_paragraph_lines(reply, width),
    ]
    assert len(first) == width - 2 and body[3].text == first
    extracted = _read(_draw_pdf(tmp_path / "档案.pdf", [body], header=None, footer=None, number=None))
    assert extracted.text.split("\n") == [
        "青川市人民政治协商会议委员会关于加强和改进委员履职档案管理工作的实施办法",
        "（二〇二六年一月主席会议通过）",
        first + second,
        unfinished,
        reply,
    ]
    assert extracted.title == "青川市人民政治协商会议委员会关于加强和改进委员履职档案管理工作的实施办法"


def test_rotated_watermark_is_not_spliced_into_the_text(tmp_path: Path) -> None:
    path = tmp_path / "水印.pdf"
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setFont(FONT, 12)
    body = ["青川市政协提案工作细则", "第一条 提案应当一事一案。", "第二条 提案者应当如实填写联系方式。"]
    for i, line in enumerate(body):
        pdf.drawString(LEFT, 700 - 24 * i, line)
    pdf.saveState()
    pdf.translate(200, 500)
    pdf.rotate(45)
    pdf.setFont(FONT, 40)
    pdf.drawString(0, 0, "内部资料注意保密")
    pdf.restoreState()
    pdf.save()
    assert _read(path).text.split("\n") == body


def test_justified_line_gets_no_spaces_between_characters(tmp_path: Path) -> None:
    path = tmp_path / "两端对齐.pdf"
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    pdf = canvas.Canvas(str(path), pagesize=A4)
    lines = ["第一条 为规范委员视察工作，制定本规定。", "第二条 委员视察由市政协办公室统一组织。"]
    for i, (line, spacing) in enumerate(zip(lines, (4, 0), strict=True)):
        text = pdf.beginText(LEFT, 700 - 24 * i)
        text.setFont(FONT, 12)
        text.setCharSpace(spacing)  # justification spreads the characters of a line
        text.textLine(line)
        pdf.drawText(text)
    pdf.save()
    assert _read(path).text.split("\n") == lines


@pytest.mark.parametrize(
    ("meta_title", "expected"),
    [
        ("青川市政协提案工作细则", "青川市政协提案工作细则"),
        ("Microsoft Word - 细则.docx", "细则"),
        ("Untitled", "细则"),
        ("细则.pdf", "细则"),
        ("", "细则"),
    ],
)
def test_metadata_title_only_when_meaningful(tmp_path: Path, meta_title: str, expected: str) -> None:
    # The first line is a long sentence, not a title: the metadata title is the only candidate.
    body = _paragraph_lines("为做好政协委员提案工作，提高提案质量和办理实效，根据有关规定，制定本细则。", 37)
    path = _draw_pdf(tmp_path / "细则.pdf", [body], header=None, footer=None, number=None, title=meta_title)
    assert _read(path).title == expected


def test_first_body_line_beats_the_metadata_title(tmp_path: Path) -> None:
    pages = [THREE_PAGES[0], THREE_PAGES[1]]
    path = _draw_pdf(tmp_path / "办法.pdf", pages, title="Microsoft Word - 办法（定稿）")
    assert _read(path).title == "青川市政协委员履职管理办法（示例）"


def test_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "加密.pdf"
    pdf = canvas.Canvas(str(path), encrypt=pdfencrypt.StandardEncryption("secret"))
    pdf.drawString(72, 700, "confidential")
    pdf.save()
    with pytest.raises(LoadError, match="已加密"):
        _read(path)


def test_page_without_text_or_image_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "空白.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.rect(100, 100, 300, 300, fill=1)
    pdf.save()
    with pytest.raises(LoadError, match="没有可提取的文字"):
        _read(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("— 1 —", True),
        ("- 12 -", True),
        ("第 2 页 共 5 页", True),
        ("共5页 第2页", True),
        ("3/5", True),
        ("Page 4 of 9", True),
        ("iv", True),
        ("第二条", False),
        ("2026年1月", False),
        ("（一）", False),
    ],
)
def test_page_number_shapes(text: str, expected: bool) -> None:
    assert is_page_number(text) is expected
