"""Loaders and encoding detection over real files of every supported format."""

from __future__ import annotations

import hashlib
import io
import time
import zipfile
from pathlib import Path

import docx
import pytest
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from bot.knowledge.encoding import decode_text
from bot.knowledge.loaders import load_document
from bot.knowledge.types import LoadError

SIMPLIFIED = "第五条 大会提案的截止时间为大会开幕后第二天下午六时，平时提案在闭会期间随时可以提交。"
TRADITIONAL = "第五條 大會提案的截止時間為大會開幕後第二天下午六時，平時提案在閉會期間隨時可以提交。"


@pytest.mark.parametrize(
    ("text", "encoding", "expected"),
    [
        (SIMPLIFIED, "gb18030", "gb18030"),
        (SIMPLIFIED, "gbk", "gb18030"),
        (SIMPLIFIED[:6], "gb18030", "gb18030"),  # short texts fool statistical detectors
        ("政协", "gb18030", "gb18030"),
        (TRADITIONAL, "big5", "big5"),
        (TRADITIONAL[:6], "big5", "big5"),
        ("政協", "big5", "big5"),
        (SIMPLIFIED, "utf-8", "utf-8"),
        (SIMPLIFIED, "utf-8-sig", "utf-8-sig"),
        (SIMPLIFIED, "utf-16", "utf-16"),
        (TRADITIONAL, "utf-16", "utf-16"),
    ],
)
def test_decode_text_detects_chinese_encodings(text: str, encoding: str, expected: str) -> None:
    decoded, detected = decode_text(text.encode(encoding))
    assert decoded == text
    assert detected == expected


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_gb18030_text_file(tmp_path: Path) -> None:
    body = f"青川市政协提案工作办法\n{SIMPLIFIED}\n第六条 委员可以在线提交提案。\n"
    path = _write(tmp_path / "办法.txt", body.encode("gb18030"))
    doc = load_document(path, doc_id="k/办法.txt")
    assert doc.doc_id == "k/办法.txt"
    assert doc.title == "青川市政协提案工作办法"
    assert SIMPLIFIED in doc.text.split("\n")
    assert doc.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()


def test_big5_text_file(tmp_path: Path) -> None:
    body = f"青川市政協提案工作辦法\r\n{TRADITIONAL}\r\n"
    doc = load_document(_write(tmp_path / "辦法.txt", body.encode("big5")))
    assert doc.title == "青川市政協提案工作辦法"
    assert doc.text.split("\n")[1] == TRADITIONAL
    assert doc.doc_id == (tmp_path / "辦法.txt").resolve().as_posix()


def test_markdown_headings_links_and_tables(tmp_path: Path) -> None:
    md = (
        "# 委员履职服务指南\n\n## 第一章 总则\n\n第一条 本指南由**市政协办公室**编写，"
        "详见[平台](https://example.org)。\n\n| 部门 | 电话 |\n| --- | --- |\n| 提案委员会 | 000-0101 |\n"
    )
    doc = load_document(_write(tmp_path / "guide.md", md.encode("utf-8")))
    lines = doc.text.split("\n")
    assert doc.title == "委员履职服务指南"
    assert "第一章 总则" in lines
    assert "第一条 本指南由市政协办公室编写，详见平台。" in lines
    assert "提案委员会 | 000-0101" in lines
    assert "https://" not in doc.text and "---" not in doc.text


def test_html_with_site_junk_declared_gbk(tmp_path: Path) -> None:
    html = (
        '<html><head><meta charset="gb2312"><title>提案工作办法 - 某某范文网</title>'
        "<style>p{color:red}</style><script>var x = '广告';</script></head><body>"
        "<div class='nav'>网站首页 实用文 书信 面试 实习 职场 励志</div>"
        "<div>当前位置:某某范文网 &gt; 实用文 &gt; 发言稿</div>"
        "<article><p>第一条 为做好<b>提案</b>工作，制定本办法。</p><p>第二条 提案应当一事一案。</p>"
        "<table><tr><td>类别</td><td>时限</td></tr><tr><td>提案答复</td><td>三个月</td></tr></table></article>"
        "<footer>版权所有 某某范文网</footer></body></html>"
    )
    doc = load_document(_write(tmp_path / "page.html", html.encode("gbk")))
    lines = doc.text.split("\n")
    assert doc.title == "提案工作办法"
    assert "第一条 为做好提案工作，制定本办法。" in lines
    assert "第二条 提案应当一事一案。" in lines
    assert "提案答复 | 三个月" in lines  # issue 8: a data table row is kept as "cell | cell"
    for junk in ("网站首页", "当前位置", "广告", "color", "版权所有"):
        assert junk not in doc.text


def test_docx_paragraphs_headings_and_tables(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_heading("青川市政协履职积分规则", level=1)
    document.add_heading("第一章 计分项目", level=2)
    document.add_paragraph("第一条 提交提案每件计2分，被立案的另加3分。")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "项目", "分值"
    table.cell(1, 0).text, table.cell(1, 1).text = "社情民意信息被采用", "3分"
    document.add_paragraph("第二条 委员可以随时查看积分明细。")
    path = tmp_path / "rules.docx"
    document.save(path)
    doc = load_document(path)
    lines = doc.text.split("\n")
    assert doc.title == "青川市政协履职积分规则"
    assert lines[:3] == [
        "青川市政协履职积分规则",
        "第一章 计分项目",
        "第一条 提交提案每件计2分，被立案的另加3分。",
    ]
    assert "社情民意信息被采用 | 3分" in lines
    assert lines[-1] == "第二条 委员可以随时查看积分明细。"


def test_docx_core_title_wins(tmp_path: Path) -> None:
    document = docx.Document()
    document.core_properties.title = "履职服务指南"
    document.add_paragraph("第一条 本指南适用于全体委员。")
    path = tmp_path / "guide.docx"
    document.save(path)
    assert load_document(path).title == "履职服务指南"


def _pdf(path: Path, lines: list[str]) -> Path:
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    pdf = canvas.Canvas(str(path))
    pdf.setFont("STSong-Light", 12)
    y = 800
    for line in lines:
        pdf.drawString(50, y, line)
        y -= 18
    pdf.save()
    return path


def test_pdf_chinese_round_trip_and_broken_lines_joined(tmp_path: Path) -> None:
    lines = [
        "青川市政协提案办理规定",
        "第一章 总则",
        "第一条 承办单位应当自收到交办的提案之日起三个月内书面答复",
        "提案人。情况复杂、确需延期的，应当向提案委员会说明原因，",
        "延期一般不超过一个月。",
        "第二条 提案应当一事一案。",
    ]
    doc = load_document(_pdf(tmp_path / "rules.pdf", lines))
    assert doc.text.split("\n") == [
        "青川市政协提案办理规定",
        "第一章 总则",
        "第一条 承办单位应当自收到交办的提案之日起三个月内书面答复提案人。情况复杂、确需延期的，"
        "应当向提案委员会说明原因，延期一般不超过一个月。",
        "第二条 提案应当一事一案。",
    ]
    assert doc.title == "青川市政协提案办理规定"


def test_pdf_without_text_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.rect(100, 100, 300, 300, fill=1)  # an image-like page with no text
    pdf.save()
    with pytest.raises(LoadError, match="没有可提取的文字"):
        load_document(path)


def test_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="空"):
        load_document(_write(tmp_path / "empty.txt", b""))


def test_whitespace_only_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="没有可用的文字"):
        load_document(_write(tmp_path / "blank.md", "  \n\u3000\n".encode()))


def test_binary_named_txt_is_refused(tmp_path: Path) -> None:
    data = bytes(range(256)) * 64  # contains NUL and control bytes
    with pytest.raises(LoadError, match="不是文本"):
        load_document(_write(tmp_path / "photo.txt", data))


def test_huge_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:  # sparse: instant to create, 50 MB in size
        handle.truncate(50 * 1024 * 1024)
    started = time.perf_counter()
    with pytest.raises(LoadError, match="文件过大"):
        load_document(path, max_file_mb=20)
    assert time.perf_counter() - started < 0.5


def test_unknown_extension_and_old_word_format(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="不支持的文件类型「.xyz」"):
        load_document(_write(tmp_path / "a.xyz", "内容".encode()))
    with pytest.raises(LoadError, match="另存为 .docx"):
        load_document(_write(tmp_path / "old.doc", b"\xd0\xcf\x11\xe0 old word"))


def test_corrupt_docx_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="无法打开 Word 文件"):
        load_document(_write(tmp_path / "bad.docx", b"PK\x03\x04 this is not really a zip"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:  # a valid zip that is not a Word document
        archive.writestr("hello.txt", "hi")
    with pytest.raises(LoadError, match="无法打开 Word 文件"):
        load_document(_write(tmp_path / "zip.docx", buffer.getvalue()))


def test_corrupt_pdf_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="无法读取 PDF"):
        load_document(_write(tmp_path / "bad.pdf", b"%PDF-1.4\n garbage garbage"))
