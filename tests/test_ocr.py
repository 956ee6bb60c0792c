"""Scanned PDFs and image files read by the real Tesseract (installed by scripts/setup.sh).

The scans are drawn with Pillow in a Debian CJK font (fonts-wqy-zenhei) at 300 dpi and wrapped in PDFs by Pillow
or reportlab. OCR makes mistakes, so the assertions use phrases Tesseract reads reliably in these images.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from bot.knowledge.ingest import ingest_paths
from bot.knowledge.loaders import load_document
from bot.knowledge.ocr import OcrReader, join_words
from bot.knowledge.page_layout import is_page_number
from bot.knowledge.report import IngestReport
from bot.knowledge.types import LoadError
from bot.settings import Settings

FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")  # Debian fonts-wqy-zenhei
DPI = 300
PAGE = (2480, 1460)  # 300 dpi: A4 wide, 42 % of its height (less to read, same geometry)

PAGE_1 = [
    "青川市政协委员视察工作规定（示例）",
    "第一条 为规范委员视察工作，根据有关规定，制定本规定。",
    "第二条 委员视察由市政协办公室统一组织。",
    "第三条 委员视察结束后，视察组应当在十五个工作日内向",
]
PAGE_2 = [
    "市政协办公室提交视察报告，报告一般不超过三千字。",
    "第四条 视察中发现的重大问题，经主席会议同意后，以市政协名义",
    "报送市委、市政府。",
]
TRADITIONAL = [
    "青川市政協委員視察工作規定（示例）",
    "第三條 委員視察結束後，視察組應當在十五個工作日內向市政協辦公室提交視察報告。",
]
HEADER = "青川市政协办公室文件"
# Phrases Tesseract reads in these scans every time (the rest may carry an error such as 三千 → 三干).
ACROSS_PAGES = "视察组应当在十五个工作日内向市政协办公室提交"
ARTICLE_4 = "第四条视察中发现的重大问题，经主席会议同意后，以市政协名义报送市委、市政府。"


def _scan(lines: list[str], *, header: str | None = None, number: str | None = None) -> Image.Image:
    """A clean 'scanned' page: 12 pt text at 300 dpi, the header at the top, the page number at the bottom."""
    assert FONT.exists(), "the CJK font of fonts-wqy-zenhei is missing (scripts/setup.sh installs it)"
    image = Image.new("L", PAGE, 255)
    draw = ImageDraw.Draw(image)
    body, small = ImageFont.truetype(str(FONT), 50), ImageFont.truetype(str(FONT), 38)
    if header:
        draw.text((300, 60), header, font=small, fill=0)
    for i, line in enumerate(lines):
        draw.text((300, 260 + 100 * i), line, font=body, fill=0)
    if number:
        draw.text((PAGE[0] // 2, PAGE[1] - 90), number, font=small, fill=0, anchor="mm")
    return image


def _scanned_pdf(path: Path, pages: list[Image.Image]) -> Path:
    pages[0].save(path, "PDF", resolution=DPI, save_all=True, append_images=pages[1:])
    return path


@pytest.fixture(scope="module")
def two_page_scan(tmp_path_factory) -> Path:
    pages = [
        _scan(PAGE_1, header=HEADER, number="— 1 —"),
        _scan(PAGE_2, header=HEADER, number="— 2 —"),
    ]
    return _scanned_pdf(tmp_path_factory.mktemp("scan") / "视察工作规定.pdf", pages)


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_scanned_pdf_read_whole_by_ocr(two_page_scan: Path) -> None:
    doc = load_document(two_page_scan)
    assert doc.meta["ocr_pages"] == [1, 2]
    lines = doc.text.split("\n")
    # The article broken by the page break is one line, without the furniture between its halves.
    assert any(ACROSS_PAGES in _compact(line) for line in lines), doc.text
    assert ARTICLE_4 in [_compact(line) for line in lines]
    assert "办公室文件" not in doc.text
    assert not [line for line in lines if is_page_number(line)]
    assert "视察" in doc.title and doc.title == lines[0]
    assert not set("視組應當") & set(doc.text)  # a Simplified scan stays Simplified


def test_traditional_scan_is_read_in_traditional(tmp_path: Path) -> None:
    path = tmp_path / "規定.png"
    _scan(TRADITIONAL).save(path)
    doc = load_document(path)
    assert "視察組應當在十五個工作日內向市政協" in _compact(doc.text), doc.text
    assert not set("视组应当") & set(doc.text)


def test_only_pages_without_text_layer_go_to_ocr(tmp_path: Path) -> None:
    path = tmp_path / "混合.pdf"
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setFont("STSong-Light", 12)
    for i, line in enumerate(PAGE_1[:3]):
        pdf.drawString(72, 740 - 24 * i, line)
    pdf.showPage()
    sheet = Image.new("L", (2480, 3508), 255)  # a whole A4 sheet scanned at 300 dpi
    sheet.paste(_scan(PAGE_2), (0, 0))
    scan = io.BytesIO()
    sheet.save(scan, "PNG")
    pdf.drawImage(ImageReader(scan), 0, 0, *A4)
    pdf.setFont("STSong-Light", 9)
    pdf.drawString(72, 400, "扫描时间 2026-01-05 10:32")  # a scanner's stamp in the text layer
    pdf.showPage()
    pdf.save()
    doc = load_document(path)
    assert doc.meta["ocr_pages"] == [2]
    lines = doc.text.split("\n")
    assert lines[:3] == PAGE_1[:3]  # the text layer, exactly
    assert ARTICLE_4 in [_compact(line) for line in lines]


def test_image_file_read_by_ocr(tmp_path: Path) -> None:
    path = tmp_path / "规定扫描.png"
    _scan(PAGE_2, number="3").save(path)
    doc = load_document(path)
    assert doc.meta["format"] == "png"
    assert doc.meta["ocr_pages"] == [1]
    assert ARTICLE_4 in [_compact(line) for line in doc.text.split("\n")]
    assert not re.search(r"^\W*3\W*$", doc.text, re.MULTILINE)


def test_misread_page_number_at_the_page_edge_is_dropped(tmp_path: Path) -> None:
    # A 150 dpi A4 scan (rendered at 300 dpi for OCR): Tesseract reads 「— 2 —」 here as 「aD |」, with low
    # confidence; one page gives no repetition to go by.
    image = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(image)
    body = ImageFont.truetype(str(FONT), 36)
    for i, line in enumerate(PAGE_2):
        draw.text((150, 220 + 70 * i), line, font=body, fill=0)
    draw.text((620, 1660), "— 2 —", font=ImageFont.truetype(str(FONT), 26), fill=0, anchor="mm")
    path = tmp_path / "一页.pdf"
    image.save(path, "PDF", resolution=150)
    doc = load_document(path)
    assert ARTICLE_4 in [_compact(line) for line in doc.text.split("\n")]
    assert len(doc.text.split("\n")) == 2, doc.text


def test_multipage_tiff_every_frame_read(tmp_path: Path) -> None:
    path = tmp_path / "扫描.tif"
    frames = [_scan(PAGE_2[:1]), _scan(PAGE_2[1:])]
    frames[0].save(path, save_all=True, append_images=frames[1:], compression="tiff_lzw")
    doc = load_document(path)
    assert doc.meta["ocr_pages"] == [1, 2]
    lines = [_compact(line) for line in doc.text.split("\n")]
    assert lines[1] == ARTICLE_4
    assert lines[0].startswith("市政协办公室提交视察报告")


def _without_tesseract(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def test_without_tesseract_scans_are_refused_in_chinese(
    two_page_scan: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = tmp_path / "扫描.png"
    _scan(PAGE_2).save(image)
    text_pdf = tmp_path / "文字.pdf"
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    pdf = canvas.Canvas(str(text_pdf))
    pdf.setFont("STSong-Light", 12)
    pdf.drawString(72, 700, PAGE_1[1])
    pdf.save()
    _without_tesseract(monkeypatch, tmp_path)
    with pytest.raises(LoadError, match="^扫描件，需要 OCR：服务器未安装 Tesseract 文字识别，无法读取$"):
        load_document(two_page_scan)
    with pytest.raises(LoadError, match="^图片文件，需要 OCR：服务器未安装 Tesseract 文字识别，无法读取$"):
        load_document(image)
    assert load_document(text_pdf).text == PAGE_1[1]  # a PDF with a text layer needs no Tesseract


def test_ocr_timeout_per_page() -> None:
    reader = OcrReader(timeout=0.001)
    with pytest.raises(LoadError, match="第 2 页文字识别（OCR）超时"):
        reader.read(_scan(PAGE_2), page=2)


def test_damaged_image_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "坏.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(LoadError, match="无法读取图片文件"):
        load_document(path)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["第", "三", "条", "委员", "视察", "，", "报告"], "第三条委员视察，报告"),
        (["规定", "(示例", ")"], "规定(示例)"),
        (["2026年起施行", "PDF", "版本"], "2026年起施行 PDF 版本"),
        (["Page", "4", "of", "9"], "Page 4 of 9"),
        (["“三个", "代表”", "重要思想"], "“三个代表”重要思想"),
    ],
)
def test_join_words_spaces(words: list[str], expected: str) -> None:
    assert join_words(words) == expected


def test_ingest_report_names_documents_read_by_ocr(tmp_path: Path) -> None:
    source = tmp_path / "docs"
    source.mkdir()
    _scan(PAGE_2).save(source / "扫描.png")
    (source / "须知.txt").write_text("提案须知\n第一条 提案应当一事一案。\n", encoding="utf-8")
    settings = Settings(
        _env_file=None, data_dir=tmp_path / "data", index_dir=tmp_path / "index", dense_index=False
    )
    report = ingest_paths([source], settings, progress=False)
    assert not report.skipped, report.summary_zh()
    assert len(report.added) == 2
    assert report.ocr == [doc_id for doc_id in report.added if doc_id.endswith(".png")]
    assert "其中 1 个文件经文字识别（OCR）导入，请核对原文" in report.summary_zh()
    # a quote from the scan is marked as read by OCR, in the JSON and in the answer
    from bot.services import build_services

    answer = build_services(settings).answerer.answer("视察中发现的重大问题怎么处理？")
    assert answer.citations and answer.citations[0].doc.endswith(".png")
    assert answer.citations[0].to_json()["ocr"] is True
    assert "此段来自扫描件的文字识别" in answer.text
    other = build_services(settings).answerer.answer("提案应当一事一案吗？")
    assert other.citations[0].to_json()["ocr"] is False and "文字识别" not in other.text


def test_report_summary_without_ocr_has_no_ocr_line() -> None:
    assert "OCR" not in IngestReport(added=["a.txt"]).summary_zh()
