"""The Word reader: list labels as Word shows them, content controls, text boxes, nested tables, tracked changes,
headers left out, titles, and old formats (.doc, .wps) through a real LibreOffice."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from collections import Counter
from pathlib import Path

import docx
import pytest
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

from bot.knowledge.cleaning import normalize_spaces
from bot.knowledge.loaders import check_file, load_document
from bot.knowledge.number_formats import format_number
from bot.knowledge.office_convert import convert_to_docx
from bot.knowledge.types import LoadError
from tests.conftest import SHARED_DIR

NS = nsdecls("w", "r")
MC = (
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:v="urn:schemas-microsoft-com:vml"'
)


def _add_numbering(document: docx.document.Document, abstract_xml: str, *nums_xml: str) -> None:
    numbering = document.part.numbering_part.element
    numbering.insert(0, parse_xml(abstract_xml))  # abstractNum elements come before num elements
    for num in nums_xml:
        numbering.append(parse_xml(num))


def _numbered(document: docx.document.Document, text: str, num_id: int, level: int, style: str | None = None):
    paragraph = document.add_paragraph(text, style=style)
    paragraph._p.get_or_add_pPr().append(
        parse_xml(f'<w:numPr {NS}><w:ilvl w:val="{level}"/><w:numId w:val="{num_id}"/></w:numPr>')
    )
    return paragraph


def _body_xml(document: docx.document.Document, xml: str) -> None:
    """Append raw block-level XML to the body (before the final section properties)."""
    body = document.element.body
    body.find(f"{{{body.nsmap['w']}}}sectPr").addprevious(parse_xml(xml))


def _lines(path: Path) -> list[str]:
    return load_document(path).text.split("\n")


@pytest.mark.parametrize(
    ("value", "number_format", "expected"),
    [
        (1, "chineseCounting", "一"),
        (10, "chineseCounting", "十"),
        (11, "chineseCounting", "十一"),
        (20, "chineseCounting", "二十"),
        (99, "chineseCounting", "九十九"),
        (101, "chineseCounting", "一○一"),
        (10, "chineseCountingThousand", "十"),
        (15, "chineseCountingThousand", "十五"),
        (100, "chineseCountingThousand", "一百"),
        (102, "chineseCountingThousand", "一百〇二"),
        (110, "chineseCountingThousand", "一百一十"),
        (1010, "chineseCountingThousand", "一千〇一十"),
        (1100, "chineseCountingThousand", "一千一百"),
        (3, "ideographTraditional", "丙"),
        (12, "ideographZodiac", "亥"),
        (4, "upperRoman", "IV"),
        (14, "lowerRoman", "xiv"),
        (28, "lowerLetter", "bb"),
        (3, "upperLetter", "C"),
        (3, "decimalEnclosedCircle", "③"),
        (21, "decimalEnclosedCircle", "21"),
        (2, "decimalEnclosedParen", "⑵"),
        (7, "decimalZero", "07"),
        (12, "decimalFullWidth", "１２"),
        (3, "ordinal", "3rd"),
        (5, "none", ""),
    ],
)
def test_number_formats_as_word_writes_them(value: int, number_format: str, expected: str) -> None:
    assert format_number(value, number_format) == expected


def test_list_numbering_labels_restarts_overrides_and_style_numbering(tmp_path: Path) -> None:
    document = docx.Document()
    style = document.styles.add_style("条款", docx.enum.style.WD_STYLE_TYPE.PARAGRAPH)
    style.element.get_or_add_pPr().append(
        parse_xml(f'<w:numPr {NS}><w:ilvl w:val="1"/><w:numId w:val="90"/></w:numPr>')
    )
    _add_numbering(
        document,
        f"""<w:abstractNum {NS} w:abstractNumId="90">
          <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="第%1章"/>
            <w:suff w:val="space"/></w:lvl>
          <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="第%2条"/>
            <w:suff w:val="space"/><w:lvlRestart w:val="0"/></w:lvl>
        </w:abstractNum>""",
        f'<w:num {NS} w:numId="90"><w:abstractNumId w:val="90"/></w:num>',
    )
    _add_numbering(
        document,
        f"""<w:abstractNum {NS} w:abstractNumId="91">
          <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCountingThousand"/>
            <w:lvlText w:val="%1、"/><w:suff w:val="nothing"/></w:lvl>
          <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%2."/></w:lvl>
          <w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%2.%3"/>
            <w:suff w:val="space"/><w:lvlRestart w:val="1"/></w:lvl>
        </w:abstractNum>""",
        f'<w:num {NS} w:numId="91"><w:abstractNumId w:val="91"/></w:num>',
        f"""<w:num {NS} w:numId="92"><w:abstractNumId w:val="91"/>
          <w:lvlOverride w:ilvl="0"><w:startOverride w:val="5"/></w:lvlOverride></w:num>""",
    )
    _add_numbering(
        document,
        f"""<w:abstractNum {NS} w:abstractNumId="93">
          <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="bullet"/><w:lvlText w:val="\uf0b7"/></w:lvl>
        </w:abstractNum>""",
        f'<w:num {NS} w:numId="93"><w:abstractNumId w:val="93"/></w:num>',
    )
    document.add_paragraph("青川市政协示例规则", style="Title")
    _numbered(document, "总则", 90, 0)
    _numbered(document, "条文甲。", 90, 1)
    document.add_paragraph("条文乙。", style="条款")  # numbering comes from the paragraph style
    _numbered(document, "学习", 90, 0)
    for i in range(9):
        document.add_paragraph(f"条文{i}。", style="条款")  # level 2 never restarts: 第三条 … 第十一条
    unnumbered = document.add_paragraph("不编号的段落。", style="条款")
    unnumbered._p.get_or_add_pPr().append(parse_xml(f'<w:numPr {NS}><w:numId w:val="0"/></w:numPr>'))
    _numbered(document, "调研", 91, 0)
    _numbered(document, "准备", 91, 1)
    _numbered(document, "细则甲", 91, 2)
    _numbered(document, "实施", 91, 1)
    _numbered(document, "细则乙", 91, 2)  # lvlRestart 1: only level 1 (ilvl 0) restarts it
    _numbered(document, "总结", 91, 0)
    _numbered(document, "归档", 91, 1)
    _numbered(document, "细则丙", 91, 2)
    _numbered(document, "另起", 92, 0)  # startOverride 5 on a second num of the same list
    _numbered(document, "再起", 92, 0)
    _numbered(document, "要点", 93, 0)  # a bullet: the glyph is not part of the text
    path = tmp_path / "numbered.docx"
    document.save(path)

    doc = load_document(path)
    assert doc.title == "青川市政协示例规则"
    assert doc.text.split("\n") == [
        "青川市政协示例规则",
        "第一章 总则",
        "第一条 条文甲。",
        "第二条 条文乙。",
        "第二章 学习",
        *[f"第{n}条 条文{i}。" for i, n in enumerate("三四五六七八九十", start=0)],
        "第十一条 条文8。",
        "不编号的段落。",
        "一、调研",
        "1. 准备",
        "1.1 细则甲",
        "2. 实施",
        "2.2 细则乙",
        "二、总结",
        "1. 归档",
        "1.1 细则丙",
        "五、另起",
        "六、再起",
        "要点",
    ]


def test_heading_numbering_linked_by_style_list_style_and_level_override(tmp_path: Path) -> None:
    document = docx.Document()
    for style_name in ("Heading 1", "Heading 2"):  # numPr without ilvl: the list level names the style
        document.styles[style_name].element.get_or_add_pPr().append(
            parse_xml(f'<w:numPr {NS}><w:numId w:val="96"/></w:numPr>')
        )
    list_style = document.styles.add_style("章节编号", docx.enum.style.WD_STYLE_TYPE.LIST)
    list_style.element.get_or_add_pPr().append(parse_xml(f'<w:numPr {NS}><w:numId w:val="95"/></w:numPr>'))
    style_id = list_style.style_id
    _add_numbering(
        document,
        f"""<w:abstractNum {NS} w:abstractNumId="95"><w:styleLink w:val="{style_id}"/>
          <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="第%1章"/>
            <w:pStyle w:val="Heading1"/><w:suff w:val="space"/></w:lvl>
          <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="第%2节"/>
            <w:pStyle w:val="Heading2"/><w:suff w:val="space"/></w:lvl>
          <w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%3."/>
            <w:rPr><w:vanish/></w:rPr></w:lvl>
        </w:abstractNum>""",
        f'<w:num {NS} w:numId="95"><w:abstractNumId w:val="95"/></w:num>',
    )
    _add_numbering(
        document,
        f'<w:abstractNum {NS} w:abstractNumId="96"><w:numStyleLink w:val="{style_id}"/></w:abstractNum>',
        f"""<w:num {NS} w:numId="96"><w:abstractNumId w:val="96"/>
          <w:lvlOverride w:ilvl="1"><w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimalEnclosedCircle"/>
            <w:lvlText w:val="%2"/><w:suff w:val="nothing"/></w:lvl></w:lvlOverride></w:num>""",
    )
    document.add_heading("总则", level=1)
    document.add_heading("一般规定", level=2)
    document.add_heading("特别规定", level=2)
    _numbered(document, "隐藏编号的段落。", 96, 2)  # the label's run is hidden: Word shows no label
    document.add_heading("附则", level=1)
    document.add_heading("施行", level=2)
    path = tmp_path / "headings.docx"
    document.save(path)
    doc = load_document(path)
    assert doc.text.split("\n") == [
        "第一章 总则",
        "①一般规定",
        "②特别规定",
        "隐藏编号的段落。",
        "第二章 附则",
        "①施行",
    ]
    assert doc.title == "第一章 总则"  # the first heading, as Word shows it


def test_bh02_word_numbering_case() -> None:
    path = SHARED_DIR / "cases" / "ingest" / "BH-02" / "会议工作规则.docx"
    doc = load_document(path)
    assert doc.title == "青川市政协常务委员会会议工作规则（示例）"
    assert doc.text.split("\n") == [
        "青川市政协常务委员会会议工作规则（示例）",
        "第一章 总则",
        "第一条 为规范常务委员会会议，制定本规则。",
        "第二条 常务委员会会议一般每季度举行一次，由主席召集并主持。",
        "第二章 会议的组织",
        "第三条 常务委员会会议须有常务委员过半数出席方能举行。",
        "第四条 常务委员因故不能出席会议的，应当在会前书面向主席请假。",
        "第三章 附则",
        "第五条 本规则自通过之日起施行。",
    ]


def _rich_document(path: Path) -> Path:
    document = docx.Document()
    section = document.sections[0]
    section.header.paragraphs[0].text = "青川市政协办公室文件页眉"
    section.footer.paragraphs[0].text = "页脚第1页"
    document.add_heading("青川市政协委员履职通知", level=1)
    _body_xml(
        document,
        f"""<w:sdt {NS}><w:sdtPr><w:alias w:val="文号"/></w:sdtPr><w:sdtContent>
          <w:p><w:r><w:t>青政办〔2026〕1号</w:t></w:r></w:p></w:sdtContent></w:sdt>""",
    )
    _body_xml(
        document,
        f"""<w:sdt {NS}><w:sdtPr><w:showingPlcHdr/></w:sdtPr><w:sdtContent>
          <w:p><w:r><w:t>单击或点击此处输入文字。</w:t></w:r></w:p></w:sdtContent></w:sdt>""",
    )
    _body_xml(
        document,
        f"""<w:p {NS}><w:r><w:t xml:space="preserve">提交人：</w:t></w:r>
          <w:sdt><w:sdtPr/><w:sdtContent><w:r><w:t>委员甲</w:t></w:r></w:sdtContent></w:sdt>
          <w:r><w:t>，联系人：</w:t></w:r>
          <w:smartTag w:uri="urn:schemas-microsoft-com:office:smarttags" w:element="PersonName">
            <w:r><w:t>委员乙</w:t></w:r></w:smartTag></w:p>""",
    )
    _body_xml(
        document,
        f"""<w:p {NS} {MC}><w:r><w:t>详见下框。</w:t></w:r><w:r><mc:AlternateContent>
          <mc:Choice Requires="wps"><w:drawing><wp:anchor><a:graphic><a:graphicData><wps:wsp><wps:txbx>
            <w:txbxContent><w:p><w:r><w:t>文本框：会议地点在三楼会议室。</w:t></w:r></w:p></w:txbxContent>
          </wps:txbx></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>
          <mc:Fallback><w:pict><v:shape><v:textbox>
            <w:txbxContent><w:p><w:r><w:t>文本框：会议地点在三楼会议室。</w:t></w:r></w:p></w:txbxContent>
          </v:textbox></v:shape></w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p>""",
    )
    _body_xml(
        document,
        f"""<w:p {NS}><w:r><w:t>会议</w:t></w:r>
          <w:del w:id="1" w:author="a"><w:r><w:delText>每月</w:delText></w:r></w:del>
          <w:ins w:id="2" w:author="a"><w:r><w:t>每季度</w:t></w:r></w:ins>
          <w:r><w:t>举行一次</w:t></w:r><w:r><w:rPr><w:vanish/></w:rPr><w:t>（隐藏的批注）</w:t></w:r>
          <w:r><w:t>，详见</w:t></w:r>
          <w:hyperlink w:anchor="rules"><w:r><w:t>会议规则</w:t></w:r></w:hyperlink><w:r><w:t>。</w:t></w:r></w:p>""",
    )
    _body_xml(
        document,
        f"""<w:p {NS}><w:r><w:t xml:space="preserve">印发日期：</w:t></w:r>
          <w:r><w:fldChar w:fldCharType="begin"/></w:r>
          <w:r><w:instrText xml:space="preserve"> DATE \\@ "yyyy年M月d日" </w:instrText></w:r>
          <w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>2026年3月1日</w:t></w:r>
          <w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>""",
    )
    _body_xml(
        document,
        f"""<w:p {NS}><w:r><w:t>第一行</w:t><w:br/><w:t>第二行</w:t></w:r></w:p>""",
    )
    _body_xml(document, f"""<w:p {NS}><w:r><w:t>姓名</w:t><w:tab/><w:t>委员丙</w:t></w:r></w:p>""")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "项目", "说明"
    table.cell(1, 0).text = "积分"
    inner_cell = table.cell(1, 1)
    inner_cell.text = "明细如下"
    inner = inner_cell.add_table(rows=2, cols=2)
    inner.cell(0, 0).text, inner.cell(0, 1).text = "提案", "2分"
    inner.cell(1, 0).text, inner.cell(1, 1).text = "社情民意", "3分"
    merged = document.add_table(rows=1, cols=3)
    merged.cell(0, 0).merge(merged.cell(0, 1)).text = "合并单元格"
    merged.cell(0, 2).text = "尾列"
    document.add_paragraph("以上内容自发布之日起施行。")
    document.save(path)
    return path


def test_content_controls_text_boxes_tables_and_tracked_changes(tmp_path: Path) -> None:
    doc = load_document(_rich_document(tmp_path / "rich.docx"))
    assert doc.text.split("\n") == [
        "青川市政协委员履职通知",
        "青政办〔2026〕1号",
        "提交人：委员甲，联系人：委员乙",
        "详见下框。",
        "文本框：会议地点在三楼会议室。",
        "会议每季度举行一次，详见会议规则。",
        "印发日期：2026年3月1日",
        "第一行",
        "第二行",
        "姓名 委员丙",
        "项目 | 说明",
        "积分",
        "明细如下",
        "提案 | 2分",
        "社情民意 | 3分",
        "合并单元格 | 尾列",
        "以上内容自发布之日起施行。",
    ]
    for absent in ("页眉", "页脚", "单击或点击", "每月", "隐藏的批注", "DATE"):
        assert absent not in doc.text
    assert doc.title == "青川市政协委员履职通知"


def test_damaged_field_does_not_hide_the_rest(tmp_path: Path) -> None:
    document = docx.Document()
    _body_xml(
        document,
        f"""<w:p {NS}><w:r><w:t xml:space="preserve">页码：</w:t></w:r><w:r><w:fldChar w:fldCharType="begin"/></w:r>
          <w:r><w:instrText> PAGE </w:instrText></w:r></w:p>""",  # neither "separate" nor "end"
    )
    document.add_paragraph("第一条 委员应当按时参加会议。")
    document.save(tmp_path / "field.docx")
    assert _lines(tmp_path / "field.docx") == ["页码：", "第一条 委员应当按时参加会议。"]


def test_title_from_core_properties_heading_or_first_line(tmp_path: Path) -> None:
    document = docx.Document()
    document.core_properties.title = "Microsoft Word - 旧模板.doc"  # a converter's leftover, not a title
    document.add_paragraph("青川市政协办公室")
    document.add_heading("委员请假规定", level=1)
    document.add_paragraph("第一条 委员因故不能出席会议的，应当请假。")
    document.save(tmp_path / "a.docx")
    assert load_document(tmp_path / "a.docx").title == "委员请假规定"
    document.core_properties.title = "青川市政协委员请假规定"
    document.save(tmp_path / "b.docx")
    assert load_document(tmp_path / "b.docx").title == "青川市政协委员请假规定"
    plain = docx.Document()
    plain.add_paragraph("青川市政协委员请假规定")
    plain.add_paragraph("第一条 委员因故不能出席会议的，应当请假。")
    plain.save(tmp_path / "c.docx")
    assert load_document(tmp_path / "c.docx").title == "青川市政协委员请假规定"


def _plain_reading(path: Path) -> list[str]:
    """An independent reading: every w:t of each paragraph of word/document.xml, joined."""
    xml = zipfile.ZipFile(path).read("word/document.xml").decode("utf-8")
    paragraphs = re.findall(r"<w:p[ >].*?</w:p>", xml, flags=re.DOTALL)
    lines = ["".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", p)) for p in paragraphs]
    return [normalize_spaces(line) for line in lines if normalize_spaces(line)]


@pytest.mark.parametrize(
    "name", ["浙江省实施代表法办法.docx", "上海市人民代表大会关于代表建议、批评和意见的规定.docx"]
)
def test_real_regulations_every_article_once(name: str) -> None:
    path = SHARED_DIR / "corpus" / "regulations" / name
    plain = _plain_reading(path)
    article = re.compile(r"^第[一二三四五六七八九十百零〇]+条")
    articles = Counter(m.group() for m in map(article.match, plain) if m)
    assert len(articles) > 20
    lines = load_document(path).text.split("\n")
    assert Counter(m.group() for m in map(article.match, lines) if m) == articles
    plain_counts = Counter(plain)
    assert all(count <= plain_counts[line] for line, count in Counter(lines).items())


@pytest.fixture(scope="module")
def old_word_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real Word 97 .doc, written by LibreOffice from a python-docx document."""
    folder = tmp_path_factory.mktemp("doc")
    document = docx.Document()
    document.add_heading("青川市政协委员视察工作规定", level=1)
    document.add_paragraph("第一条 为规范委员视察工作，制定本规定。")
    document.add_paragraph("第二条 视察结束后十五个工作日内提交视察报告。")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "视察报告", "三千字以内"
    document.add_paragraph("第三条 本规定自发布之日起施行。")
    source = folder / "rules.docx"
    document.save(source)
    subprocess.run(
        [
            shutil.which("soffice") or "soffice",
            f"-env:UserInstallation={(folder / 'profile').as_uri()}",
            "--headless",
            "--convert-to",
            "doc",
            "--outdir",
            str(folder),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    made = folder / "rules.doc"
    assert made.read_bytes().startswith(b"\xd0\xcf\x11\xe0")  # an OLE compound file, as Word 97 writes
    return made


OLD_WORD_LINES = [
    "青川市政协委员视察工作规定",
    "第一条 为规范委员视察工作，制定本规定。",
    "第二条 视察结束后十五个工作日内提交视察报告。",
    "视察报告 | 三千字以内",
    "第三条 本规定自发布之日起施行。",
]


def test_doc_is_converted_by_libreoffice(old_word_file: Path) -> None:
    doc = load_document(old_word_file)
    assert doc.text.split("\n") == OLD_WORD_LINES
    assert doc.title == "青川市政协委员视察工作规定"
    assert doc.meta["format"] == "doc" and doc.meta["converted_from"] == "doc"


def test_wps_office_file_reads_like_doc(old_word_file: Path, tmp_path: Path) -> None:
    wps = tmp_path / "rules.wps"  # WPS Office writes Word-97-like OLE files under this extension
    wps.write_bytes(old_word_file.read_bytes())
    assert load_document(wps).text.split("\n") == OLD_WORD_LINES


def test_doc_without_libreoffice_is_refused_with_reason(
    old_word_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a server without LibreOffice
    with pytest.raises(LoadError, match="需要 LibreOffice，服务器上未安装；请另存为 .docx"):
        load_document(old_word_file)
    assert check_file(old_word_file, 20) > 0  # the type is supported; only the tool is missing


def test_conversion_time_limit_and_garbage(old_word_file: Path, tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="超时"):
        convert_to_docx(old_word_file.read_bytes(), ".doc", timeout=0.01)
    garbage = tmp_path / "garbage.doc"
    garbage.write_bytes(b"\x00\x01 not a word file at all" * 10)
    with pytest.raises(LoadError, match="不是 Word 文档"):
        load_document(garbage)
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    damaged = tmp_path / "damaged.doc"  # an OLE file with a Word stream name but no readable Word content
    damaged.write_bytes(ole + b"\x00garbage" * 200 + "WordDocument".encode("utf-16-le") + b"\x00" * 64)
    with pytest.raises(LoadError, match="LibreOffice 无法转换"):
        load_document(damaged)
    works = (
        tmp_path / "works.wps"
    )  # an OLE file without a Word stream (e.g. Microsoft Works) is not imported as text
    works.write_bytes(ole + b"\x00garbage" * 200)
    with pytest.raises(LoadError, match="不是 Word 文档"):
        load_document(works)
