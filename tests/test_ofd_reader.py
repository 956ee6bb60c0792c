"""OFD files (GB/T 33190-2016) built here as the standard lays them out, read back line for line."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import pytest

from bot.knowledge.loaders import load_document
from bot.knowledge.ofd_reader import load_ofd
from bot.knowledge.types import LoadError

NS = "http://www.ofdspec.org/2016"
LEFT, SIZE, PER_LINE, LEADING = 30.0, 5.0, 30, 9.0  # mm; a line of 30 characters ends at x = 180
TOP, BOTTOM = 40.0, 105.0  # body lines are placed from TOP down to BOTTOM, then a new page starts
TITLE = "青川市政协委员视察工作规定（示例）"
HEADER = "青川市政协办公室文件"
PARAGRAPHS = [
    "第一章 总则",
    "第一条 为规范委员视察工作，增强视察实效，根据《政协青川市委员会章程》，结合本市实际，制定本规定。",
    "第二条 委员视察由市政协办公室统一组织，一般每年安排两次，每次视察的人数和路线由主席会议确定。",
    "第三条 委员视察结束后，视察组应当在十五个工作日内向市政协办公室提交视察报告，报告一般不超过三千字。"
    "视察报告应当客观反映情况，提出有针对性的意见建议。",
    "第二章 附则",
    "第四条 本规定自印发之日起施行。",
]


def _xml(body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}'


class _Page:
    """Text objects of one page: every line split into several runs, some as separate TextObjects, some as
    several TextCodes of one TextObject (both occur in files from real producers)."""

    def __init__(self) -> None:
        self.objects: list[str] = []
        self.texts: list[str] = []
        self.next_id = 100

    def line(self, x: float, baseline: float, text: str, size: float = SIZE) -> None:
        self.texts.append(text)
        pieces = [text[i : i + 7] for i in range(0, len(text), 7)]
        if len(pieces) >= 3:  # the first two runs share one TextObject, the rest get one each
            first, second = pieces[0], pieces[1]
            width = (len(first) + len(second)) * size
            codes = (
                f'<ofd:TextCode X="0" Y="{size}" DeltaX="g {len(first) - 1} {size}">{first}</ofd:TextCode>'
                f'<ofd:TextCode X="{len(first) * size}" DeltaX="g {len(second) - 1} {size}">{second}</ofd:TextCode>'
            )
            self._object(x, baseline, width, size, codes)
            x += width
            pieces = pieces[2:]
        for piece in pieces:
            delta = f' DeltaX="g {len(piece) - 1} {size}"' if len(piece) > 1 else ""
            codes = f'<ofd:TextCode X="0" Y="{size}"{delta}>{piece}</ofd:TextCode>'
            self._object(x, baseline, len(piece) * size, size, codes)
            x += len(piece) * size

    def _object(self, x: float, baseline: float, width: float, size: float, codes: str) -> None:
        self.next_id += 1
        self.objects.append(
            f'<ofd:TextObject ID="{self.next_id}" Boundary="{x} {baseline - size} {width} {size * 1.2}" '
            f'Font="3" Size="{size}"><ofd:FillColor Value="0 0 0"/>{codes}</ofd:TextObject>'
        )

    def content(self, template_id: str | None, shuffle: random.Random | None = None) -> str:
        objects = list(self.objects)
        if shuffle:
            shuffle.shuffle(objects)  # reading order must come from positions, not from the XML order
        template = f'<ofd:Template TemplateID="{template_id}" ZOrder="Background"/>' if template_id else ""
        return _xml(
            f'<ofd:Page xmlns:ofd="{NS}">{template}<ofd:Area><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox>'
            f'</ofd:Area><ofd:Content><ofd:Layer ID="2">{"".join(objects)}</ofd:Layer></ofd:Content></ofd:Page>'
        )


def _typeset(paragraphs: list[str], title: str) -> list[_Page]:
    """Lay out a title (larger, centred), centred chapter headings and indented paragraphs wrapped at 30
    characters, with page numbers at the foot, over as many pages as needed."""
    pages = [_Page()]
    y = TOP

    def place(x: float, text: str, size: float = SIZE) -> None:
        nonlocal y
        if y > BOTTOM:
            pages.append(_Page())
            y = TOP
        pages[-1].line(x, y, text, size)
        y += LEADING if size == SIZE else 14.0

    place(105 - len(title) * 3.5, title, size=7.0)
    for text in paragraphs:
        if text.startswith("第") and "章" in text[:4]:
            place(105 - len(text) * SIZE / 2, text)
            continue
        first = PER_LINE - 2
        place(LEFT + 2 * SIZE, text[:first])
        for i in range(first, len(text), PER_LINE):
            place(LEFT, text[i : i + PER_LINE])
    for number, page in enumerate(pages, start=1):
        page.line(96.0, 285.0, f"— {number} —", size=4.0)
    return pages


def _ofd(
    pages: list[_Page],
    *,
    doc_title: str | None = TITLE,
    template_header: str | None = HEADER,
    absolute_second_page: bool = False,
) -> bytes:
    buffer = io.BytesIO()
    rng = random.Random(8)
    info = f"<ofd:Title>{doc_title}</ofd:Title>" if doc_title is not None else ""
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "OFD.xml",
            _xml(
                f'<ofd:OFD xmlns:ofd="{NS}" Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocInfo>'
                f"<ofd:DocID>0C1D4F7159954EEEDE517F7285E84DC4</ofd:DocID>{info}"
                "<ofd:CreationDate>2026-01-05</ofd:CreationDate></ofd:DocInfo>"
                "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
            ),
        )
        template_ref = (
            '<ofd:TemplatePage ID="9" BaseLoc="Tpls/Tpl_0/Content.xml"/>' if template_header else ""
        )
        page_refs = []
        for i, page in enumerate(pages):
            loc = f"Pages/Page_{i}/Content.xml"
            page_refs.append(
                f'<ofd:Page ID="{i + 1}" BaseLoc="{"/Doc_0/" + loc if absolute_second_page and i == 1 else loc}"/>'
            )
            archive.writestr(f"Doc_0/{loc}", page.content("9" if template_header else None, rng))
        archive.writestr(
            "Doc_0/Document.xml",
            _xml(
                f'<ofd:Document xmlns:ofd="{NS}"><ofd:CommonData><ofd:MaxUnitID>500</ofd:MaxUnitID>'
                "<ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea>"
                f"<ofd:PublicRes>PublicRes.xml</ofd:PublicRes>{template_ref}</ofd:CommonData>"
                f"<ofd:Pages>{''.join(page_refs)}</ofd:Pages></ofd:Document>"
            ),
        )
        archive.writestr(
            "Doc_0/PublicRes.xml",
            _xml(
                f'<ofd:Res xmlns:ofd="{NS}" BaseLoc="Res"><ofd:Fonts>'
                '<ofd:Font ID="3" FontName="仿宋" FamilyName="仿宋"/></ofd:Fonts></ofd:Res>'
            ),
        )
        if template_header:
            header = _Page()
            header.line(105 - len(template_header) * 3, 22.0, template_header, size=6.0)
            tpl = header.content(None).replace("<ofd:Page ", "<ofd:Page ")
            archive.writestr("Doc_0/Tpls/Tpl_0/Content.xml", tpl)
    return buffer.getvalue()


def test_two_pages_with_template_header_runs_and_page_numbers(tmp_path: Path) -> None:
    pages = _typeset(PARAGRAPHS, TITLE)
    assert len(pages) == 2
    third = PARAGRAPHS[3]  # the premise: 第三条 is broken across the page break
    assert pages[0].texts[-2] in third and pages[1].texts[0] in third
    path = tmp_path / "视察工作规定.ofd"
    path.write_bytes(_ofd(pages, absolute_second_page=True))
    doc = load_document(path)
    assert doc.title == TITLE
    assert doc.text.split("\n") == [TITLE, *PARAGRAPHS]
    for furniture in (HEADER, "— 1 —", "— 2 —", "—"):
        assert furniture not in doc.text
    assert doc.meta["format"] == "ofd"


def test_title_from_first_line_when_doc_info_has_none() -> None:
    for doc_title in (None, "Microsoft Word - 新建文档.docx", ""):
        ofd = _ofd(_typeset(PARAGRAPHS, TITLE), doc_title=doc_title, template_header=None)
        extracted = load_ofd(ofd, Path("x.ofd"))
        assert extracted.title == TITLE
        assert extracted.text.split("\n") == [TITLE, *PARAGRAPHS]


def test_single_page_keeps_its_template_text() -> None:
    # With one page nothing repeats, so a template's text cannot be told from content and is kept, in place.
    extracted = load_ofd(_ofd(_typeset(PARAGRAPHS[:2], TITLE)), Path("x.ofd"))
    assert extracted.text.split("\n") == [HEADER, TITLE, *PARAGRAPHS[:2], "— 1 —"]


def _zip(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"PK\x03\x04 this is not really a zip", "无法打开 OFD 文件"),
        (_zip({"hello.txt": "hi"}), "缺少 OFD.xml"),
        (_zip({"OFD.xml": "<ofd:OFD xmlns:ofd='http://www.ofdspec.org/2016'><ofd:DocBody>"}), "已损坏"),
        (_zip({"OFD.xml": "<html/>"}), "不是有效的 OFD 文件"),
        (
            _zip(
                {
                    "OFD.xml": f"<ofd:OFD xmlns:ofd='{NS}'><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml"
                    "</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
                }
            ),
            "缺少 Doc_0/Document.xml",
        ),
    ],
)
def test_damaged_or_foreign_files_are_refused_in_chinese(tmp_path: Path, data: bytes, reason: str) -> None:
    path = tmp_path / "bad.ofd"
    path.write_bytes(data)
    with pytest.raises(LoadError, match=reason):
        load_document(path)


def test_ofd_without_text_is_refused() -> None:
    empty = _Page()
    with pytest.raises(LoadError, match="没有可提取的文字"):
        load_ofd(_ofd([empty], template_header=None), Path("scan.ofd"))


def test_cells_on_one_line_are_spaced_and_a_bad_coordinate_is_refused() -> None:
    page = _Page()
    full = "视察报告应当客观反映情况，提出有针对性的意见建议，报送市政协"  # 30 characters: the full measure
    page.line(LEFT, 31.0, full)
    page.line(LEFT, 40.0, "办公室。")
    page.line(LEFT, 49.0, "提交视察报告")
    page.line(110.0, 49.0, "十五个工作日")
    page.line(LEFT, 58.0, "视察组")
    page.line(LEFT + 3 * SIZE, 58.0, "提交")
    extracted = load_ofd(_ofd([page], template_header=None), Path("table.ofd"))
    assert extracted.text.split("\n") == [full + "办公室。", "提交视察报告 十五个工作日", "视察组提交"]
    page.objects[-1] = page.objects[-1].replace('X="0"', 'X="左"', 1)
    with pytest.raises(LoadError, match="坐标数据有误"):
        load_ofd(_ofd([page], template_header=None), Path("bad.ofd"))
