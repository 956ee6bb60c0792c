"""OFD files (GB/T 33190-2016, the national format for official electronic documents): the text of every page.

Structure followed: a ZIP whose OFD.xml names, per DocBody, the document root (DocRoot, e.g. Doc_0/Document.xml);
Document.xml lists Pages/Page with BaseLoc (the page's Content.xml) and CommonData/TemplatePage; a page draws its
templates (ofd:Template TemplateID) and its Content/Layer/TextObject elements. A TextObject has Boundary "x y w h"
(mm, y downwards), Size (mm), an optional CTM "a b c d e f"; each TextCode has X, Y (the baseline, relative to the
Boundary; missing X/Y repeat the previous TextCode's), DeltaX (advances, with "g N d" meaning N times d) and text.

Reading: runs are grouped into lines by their baseline and ordered by X (Chinese needs no spaces between runs);
text at the same height with the same words (digits aside) on every page is running furniture (headers, footers,
page numbers) and is left out, whether it comes from a template or from the page; lines are joined into paragraphs:
a line that ends short of the right margin ends its paragraph, and an indented line, a change of font size, a
numbered heading (第X章/条 …) or a wide vertical gap starts a new one.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from bot.knowledge.cleaning import guess_title, is_heading_start, normalize_spaces
from bot.knowledge.types import Extracted, LoadError

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
_BAD_TITLES = re.compile(
    r"^(untitled|document|无标题|未命名|新建|microsoft word)|\.(docx?|wps|pdf|ofd)$", re.I
)
_DIGITS = re.compile(r"\d+")


@dataclass
class _Run:
    x: float
    y: float  # baseline, mm from the top of the page
    end: float  # x where the run's last character ends
    size: float
    text: str


@dataclass
class _Line:
    page: int
    x: float
    y: float
    end: float
    size: float
    text: str


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _child(el: etree._Element | None, name: str) -> etree._Element | None:
    if el is None:
        return None
    return next((c for c in el if _local(c) == name), None)


def _children(el: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in el.iter(etree.Element) if _local(c) == name]


def _floats(value: str | None) -> list[float]:
    try:
        return [float(v) for v in (value or "").split()]
    except ValueError as exc:
        raise LoadError("OFD 文件中的坐标数据有误，文件可能已损坏") from exc


def _deltas(value: str | None) -> list[float]:
    """DeltaX/DeltaY: numbers, where "g N d" stands for N times d (GB/T 33190-2016, 11.3)."""
    items, out, i = (value or "").split(), [], 0
    try:
        while i < len(items):
            if items[i] == "g" and i + 2 < len(items):
                out.extend([float(items[i + 2])] * int(float(items[i + 1])))
                i += 3
            else:
                out.append(float(items[i]))
                i += 1
    except ValueError as exc:
        raise LoadError("OFD 文件中的文字间距数据有误，文件可能已损坏") from exc
    return out


class _Package:
    """The ZIP package: XML parts by path, resolved relative to the part that names them."""

    def __init__(self, data: bytes) -> None:
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            self.names = {name.lstrip("/"): name for name in self.zip.namelist()}
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise LoadError("无法打开 OFD 文件，文件可能已损坏（不是有效的 OFD/ZIP 文件）") from exc

    def xml(self, path: str) -> etree._Element:
        name = self.names.get(path.lstrip("/"))
        if name is None:
            raise LoadError(f"OFD 文件不完整：缺少 {path}")
        try:
            return etree.fromstring(self.zip.read(name), _PARSER)
        except RuntimeError as exc:  # zipfile: an encrypted member
            raise LoadError("OFD 文件已加密，无法读取，请提供未加密的版本") from exc
        except (etree.XMLSyntaxError, zipfile.BadZipFile, OSError, ValueError, KeyError, EOFError) as exc:
            raise LoadError(f"OFD 文件已损坏：无法读取 {path}") from exc

    @staticmethod
    def resolve(base_dir: str, loc: str) -> str:
        loc = loc.strip().replace("\\", "/")
        return posixpath.normpath(loc.lstrip("/") if loc.startswith("/") else posixpath.join(base_dir, loc))


def _text_runs(content: etree._Element) -> list[_Run]:
    """Runs of text of one page or template content, in page coordinates (mm)."""
    runs: list[_Run] = []
    for obj in _children(content, "TextObject"):
        if (obj.get("Visible") or "true").lower() == "false":
            continue
        box = _floats(obj.get("Boundary")) or [0.0, 0.0]
        size = (_floats(obj.get("Size")) or [3.5])[0]
        ctm = _floats(obj.get("CTM"))
        a, b, c, d, e, f = ctm if len(ctm) == 6 else (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
        x = y = 0.0
        for code in (el for el in obj if _local(el) == "TextCode"):
            text = code.text or ""
            try:
                x = float(code.get("X", x))
                y = float(code.get("Y", y))
            except ValueError as exc:
                raise LoadError("OFD 文件中的坐标数据有误，文件可能已损坏") from exc
            if not text.strip():
                continue
            advances = _deltas(code.get("DeltaX"))[: max(len(text) - 1, 0)]
            width = sum(advances) + size if advances or len(text) == 1 else size * len(text)
            left, right = a * x + c * y + e, a * (x + width) + c * y + e
            base = b * x + d * y + f
            scale = abs(d) if ctm else 1.0
            runs.append(_Run(box[0] + left, box[1] + base, box[0] + right, size * scale, text))
    return runs


def _lines(runs: list[_Run], page: int) -> list[_Line]:
    """Runs grouped by baseline (within 40% of the font size) into lines, each ordered by X."""
    groups: list[list[_Run]] = []
    for run in sorted(runs, key=lambda r: (r.y, r.x)):
        if groups and abs(groups[-1][0].y - run.y) <= 0.4 * min(groups[-1][0].size, run.size):
            groups[-1].append(run)
        else:
            groups.append([run])
    lines = []
    for group in groups:
        group.sort(key=lambda r: r.x)
        text = group[0].text
        for prev, run in zip(group, group[1:], strict=False):
            gap = run.x - prev.end
            wordy = prev.text[-1:].isascii() and prev.text[-1:].isalnum() and run.text[:1].isascii()
            spaced = gap > 1.5 * run.size or (wordy and run.text[:1].isalnum() and gap > 0.2 * run.size)
            text += (
                " " if spaced else ""
            ) + run.text  # a wide gap (table cells, signature blocks) is a space
        text = normalize_spaces(text)
        if text:
            size = Counter(r.size for r in group).most_common(1)[0][0]
            lines.append(_Line(page, group[0].x, group[0].y, max(r.end for r in group), size, text))
    return lines


def _page_lines(pkg: _Package, doc_dir: str, document: etree._Element) -> list[list[_Line]]:
    templates: dict[str, str] = {}
    for tpl in _children(document, "TemplatePage"):
        if tpl.get("ID") and tpl.get("BaseLoc"):
            templates[tpl.get("ID")] = pkg.resolve(doc_dir, tpl.get("BaseLoc"))
    pages = []
    page_list = _child(document, "Pages")
    for number, page in enumerate(
        (el for el in page_list if _local(el) == "Page") if page_list is not None else []
    ):
        loc = page.get("BaseLoc")
        if not loc:
            raise LoadError(f"OFD 文件已损坏：第 {number + 1} 页没有内容位置（BaseLoc）")
        content = pkg.xml(pkg.resolve(doc_dir, loc))
        runs = _text_runs(content)
        for used in _children(content, "Template"):
            tpl_path = templates.get(used.get("TemplateID") or "")
            if tpl_path:
                runs.extend(_text_runs(pkg.xml(tpl_path)))
        pages.append(_lines(runs, number + 1))
    return pages


def _drop_running_furniture(pages: list[list[_Line]]) -> list[_Line]:
    """Lines with the same words (digits aside) at the same height on every page are headers, footers or page
    numbers; with a single page nothing can be told apart this way and all is kept."""

    def key(line: _Line) -> tuple[int, str]:
        return round(line.y / 2), _DIGITS.sub("#", line.text.replace(" ", ""))

    if len(pages) < 2:
        return [line for page in pages for line in page]
    counts = Counter(k for page in pages for k in {key(line) for line in page})
    return [line for page in pages for line in page if counts[key(line)] < len(pages)]


def _paragraphs(lines: list[_Line]) -> list[str]:
    """Lines joined into paragraphs; the right margin and left edge are those of the body text's font size."""
    if not lines:
        return []
    body_size = Counter(round(line.size, 1) for line in lines).most_common(1)[0][0]
    body = [line for line in lines if round(line.size, 1) == body_size]
    ends = sorted(line.end for line in body)
    right = ends[
        min(int(0.9 * len(ends)), len(ends) - 1)
    ]  # robust to a rare overlong line (a wide table row)
    left = min(line.x for line in body)
    paragraphs: list[str] = []
    prev: _Line | None = None
    for line in lines:
        new = (
            prev is None
            or prev.end < right - 1.5 * prev.size  # the previous line ended short of the margin
            or line.x > left + 0.9 * line.size  # an indented first line
            or abs(line.size - prev.size) > 0.1 * prev.size
            or is_heading_start(line.text)
            or (line.page == prev.page and line.y - prev.y > 2.5 * line.size)
        )
        if new:
            paragraphs.append(line.text)
        else:
            last = paragraphs[-1]
            wordy = (
                last[-1:].isascii()
                and last[-1:].isalnum()
                and line.text[:1].isascii()
                and line.text[:1].isalnum()
            )
            paragraphs[-1] = last + (" " if wordy else "") + line.text
        prev = line
    return paragraphs


def load_ofd(data: bytes, path: Path) -> Extracted:
    """An OFD file: its text in reading order, one paragraph per line, and its title.

    data: the file's bytes; path: used for the fallback title. Title: OFD.xml DocInfo/Title when it is a real
    title, else the first line of the text. Raises LoadError (Chinese message) for a damaged or non-OFD file, or
    one without text (e.g. scanned pages)."""
    pkg = _Package(data)
    root = pkg.xml("OFD.xml")
    if _local(root) != "OFD":
        raise LoadError("不是有效的 OFD 文件（OFD.xml 的根元素不是 ofd:OFD）")
    paragraphs: list[str] = []
    meta_title = ""
    for body in (el for el in root if _local(el) == "DocBody"):
        doc_root = _child(body, "DocRoot")
        if doc_root is None or not (doc_root.text or "").strip():
            continue
        doc_path = pkg.resolve("", doc_root.text)
        document = pkg.xml(doc_path)
        lines = _drop_running_furniture(_page_lines(pkg, posixpath.dirname(doc_path), document))
        paragraphs.extend(_paragraphs(lines))
        title_el = _child(_child(body, "DocInfo"), "Title")
        if title_el is not None and not meta_title:
            meta_title = normalize_spaces(title_el.text or "")
    if not paragraphs and not any(_local(el) == "DocBody" for el in root):
        raise LoadError("不是有效的 OFD 文件（缺少 DocBody）")
    text = "\n".join(paragraphs)
    if sum(ch.isalnum() for ch in text) < 2:
        raise LoadError("OFD 中没有可提取的文字（可能是扫描件，需要先进行文字识别）")
    useful = 2 <= len(meta_title) <= 100 and not _BAD_TITLES.search(meta_title)
    return Extracted(text, meta_title if useful else guess_title(text, path.stem))
