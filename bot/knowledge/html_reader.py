"""Web pages: the main content of a saved HTML page, read whole, with the page's headline as title.

How the content is found (all by the page's structure, never by a line recurring elsewhere):
1. readability-lxml picks the content block(s) of the page; its choice is mapped back to the original elements,
   which are then read whole (its own pruning of short tables and paragraphs is not applied to the text).
2. If it finds nothing, the page body is used; if prose or numbered articles (第X条) lie outside its choice, the
   choice is widened to the smallest element that holds them too.
3. Inside the content, link lists (≥ 2 links, mostly link text) and their short captions are left out; before the
   first paragraph of body text (breadcrumbs, the publication line, anything before the headline) and after the
   last one (上一篇/下一篇, 打印本页, 版权所有, share bars) lines that are mostly links or have the shape of page
   furniture are left out.
"""

from __future__ import annotations

import codecs
import logging
import re
from pathlib import Path

from lxml import etree

from bot.knowledge.cleaning import guess_title, is_junk_line, normalize_spaces
from bot.knowledge.encoding import decode_text
from bot.knowledge.html_lines import Line, render_lines
from bot.knowledge.types import Extracted, LoadError
from bot.textnorm import to_simplified, without_whitespace

_DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "iframe",
    "object",
    "embed",
    "select",
    "button",
    "textarea",
    "input",
    "nav",
    "map",
)
_DECLARED_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_-]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_TITLE_SEPARATORS = re.compile(r"\s*(?:[-_|｜–—]+|::|»)\s*")
_CN_NUM = "一二三四五六七八九十百千零〇两"
_NUMBERED = re.compile(rf"^第[{_CN_NUM}\d]+[条條章编編节節]")
_SENTENCE = re.compile(r"[。；！？;!?]")
_PUBLICATION = re.compile(
    r"^(发布时间|发布日期|发表时间|更新时间|信息来源|文章来源|来源|作者|浏览次数|点击数|阅读次数|字号|日期)\s*[:：]"
)
_ID = "data-lvzhi-id"
_LINK_LIST_DENSITY = 0.6
_EDGE_LINK_DENSITY = 0.3
_LOST_SHARE = (
    0.1  # prose outside the extractor's choice beyond this share of the chosen prose widens the choice
)
_TRAILER_MARKERS = (
    "上一篇",
    "下一篇",
    "上一条",
    "下一条",
    "上一页",
    "下一页",
    "打印",
    "关闭",
    "返回",
    "收藏",
    "分享",
    "版权所有",
    "版权声明",
    "copyright",
    "©",
    "责任编辑",
    "扫一扫",
    "相关文章",
    "相关阅读",
    "相关链接",
    "相关新闻",
    "推荐阅读",
    "技术支持",
    "网站标识码",
    "备案号",
)
_CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb18030": "gb18030",
    "big5": "cp950",
}

log = logging.getLogger(__name__)


def decode_html(data: bytes) -> str:
    """The page's text: a BOM wins, then the charset the page declares, then detection (encoding.decode_text).

    Raises LoadError (Chinese message) when the bytes cannot be decoded at all."""
    if data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return decode_text(data)[0]
    declared = _DECLARED_CHARSET.search(data[:4096])
    if declared:
        name = declared.group(1).decode("ascii").lower()
        try:
            return data.decode(_CHARSET_ALIASES.get(name, name))
        except (LookupError, UnicodeDecodeError):
            pass
    return decode_text(data)[0]


def _parse(text: str) -> etree._Element:
    import lxml.html

    text = _XML_DECLARATION.sub("", text)  # lxml refuses str input that declares an encoding
    if not text.strip():
        raise LoadError("网页文件中没有内容")
    try:
        return lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise LoadError("无法解析网页文件，文件可能已损坏") from exc


def _strip_non_content(root: etree._Element) -> None:
    etree.strip_elements(root, etree.Comment, etree.ProcessingInstruction, *_DROP_TAGS, with_tail=False)
    hidden = [
        el
        for el in root.iter(etree.Element)
        if el.get("hidden") is not None or _HIDDEN_STYLE.search(el.get("style") or "")
    ]
    for el in hidden:
        if el.getparent() is not None:
            el.drop_tree()


def _title_parts(root: etree._Element) -> list[str]:
    title = root.find(".//title")
    text = normalize_spaces(title.text_content()) if title is not None else ""
    return [p for p in _TITLE_SEPARATORS.split(text) if p] if text else []


def _extractor_choice(root: etree._Element, index: dict[str, etree._Element]) -> list[etree._Element]:
    """The original elements that readability-lxml takes as the article (top-most ones, in document order)."""
    import lxml.html
    from readability import Document as Readability

    logging.getLogger("readability.readability").setLevel(logging.CRITICAL)  # it logs pages it cannot read
    try:
        summary = Readability(etree.tostring(root, encoding="unicode", method="html")).summary(
            html_partial=True
        )
        tree = lxml.html.fragment_fromstring(summary, create_parent="div")
    except Exception as exc:  # readability raises Unparseable and lxml errors for odd pages
        log.info("readability could not read the page: %s", exc)
        return []
    chosen = []
    for el in tree.iter(etree.Element):
        original = index.get(el.get(_ID) or "")
        if original is not None and not any(a.get(_ID) in index for a in el.iterancestors()):
            chosen.append(original)
    return chosen


def _is_prose(line: Line) -> bool:
    """Body text: a numbered article or chapter, or a sentence of some length that is not link text."""
    if line.link_density >= 0.2:
        return False
    return bool(_NUMBERED.match(line.text)) or (len(line.text) >= 20 and bool(_SENTENCE.search(line.text)))


def _link_lists(root: etree._Element) -> set[etree._Element]:
    """Blocks that are lists of links (menus, 相关文章, 通知公告 columns) and the short caption just before each."""
    found: set[etree._Element] = set()
    for el in root.iter(
        "ul", "ol", "dl", "table", "div", "section", "p", "td", "tr", "span", "header", "footer"
    ):
        links = el.findall(".//a")
        if len(links) < 2:
            continue
        link_len = sum(len("".join(a.text_content().split())) for a in links)
        total = len("".join(el.text_content().split()))
        if total and link_len / total >= _LINK_LIST_DENSITY:
            found.add(el)
            caption = el.getprevious()
            if caption is not None and caption.find(".//a") is None:
                text = normalize_spaces(caption.text_content())
                if text and len(text) <= 12 and not _SENTENCE.search(text) and not _NUMBERED.match(text):
                    found.add(caption)
    return found


def _inside(lines: list[Line], nodes: list[etree._Element]) -> list[bool]:
    members: set[etree._Element] = set()
    for node in nodes:
        members.update(node.iter())
    return [line.block in members for line in lines]


def _lowest_common_ancestor(nodes: list[etree._Element]) -> etree._Element:
    paths = [[*reversed(list(n.iterancestors())), n] for n in nodes]
    common = paths[0][0]
    for level in zip(*paths, strict=False):
        if all(el is level[0] for el in level):
            common = level[0]
        else:
            break
    return common


def _content_lines(
    root: etree._Element, body: etree._Element, index: dict[str, etree._Element]
) -> tuple[list[Line], list[Line]]:
    """All rendered lines of the body, and those of its main content."""
    skip = _link_lists(body)
    lines = render_lines(body, skip)
    chosen = [el for el in _extractor_choice(root, index) if el is not body]
    inside = _inside(lines, chosen) if chosen else [True] * len(lines)
    kept = [line for line, ok in zip(lines, inside, strict=True) if ok]
    if sum(len(line.text) for line in kept) < 10:
        return lines, lines
    lost = [line for line, ok in zip(lines, inside, strict=True) if not ok and _is_prose(line)]
    kept_prose = sum(len(line.text) for line in kept if _is_prose(line))
    lost_prose = sum(len(line.text) for line in lost)
    if lost and (lost_prose > _LOST_SHARE * kept_prose or any(_NUMBERED.match(line.text) for line in lost)):
        widened = _lowest_common_ancestor([*chosen, *(line.block for line in lost)])
        kept = [line for line, ok in zip(lines, _inside(lines, [widened]), strict=True) if ok]
    return lines, kept


def _is_edge_chrome(line: Line) -> bool:
    simple = to_simplified(line.text).lower().lstrip("【[（(·• ")
    return (
        line.link_density >= _EDGE_LINK_DENSITY
        or is_junk_line(line.text)
        or simple.startswith(_TRAILER_MARKERS)
    )


def _trim_edges(lines: list[Line], title: str | None) -> list[str]:
    """Drop page furniture before the first and after the last line of body text."""
    prose = [i for i, line in enumerate(lines) if _is_prose(line)]
    first, last = (prose[0], prose[-1]) if prose else (len(lines), len(lines) - 1)  # no prose: all is "head"
    head = lines[:first]
    title_at = next(
        (
            i
            for i, line in enumerate(head)
            if title and without_whitespace(line.text) == without_whitespace(title)
        ),
        None,
    )
    if title_at is not None:
        head = head[title_at + 1 :]  # before the headline: breadcrumbs, banners, columns
    kept_head = [line.text for line in head if not _is_edge_chrome(line)]
    if title:
        kept_head = [text for text in kept_head if without_whitespace(text) != without_whitespace(title)]
    tail: list[str] = []
    for line in lines[last + 1 :]:
        simple = to_simplified(line.text).lower().lstrip("【[（(·• ")
        if (
            simple.startswith(("相关", "版权", "copyright", "©", "技术支持", "网站标识码", "备案号"))
            or "icp备" in simple
        ):
            break  # a trailer section: everything after it is page furniture
        if not _is_edge_chrome(line):
            tail.append(line.text)
    return kept_head + [line.text for line in lines[first : last + 1]] + tail


def _headline(root: etree._Element, lines: list[Line], title_parts: list[str]) -> str | None:
    """The page's headline: an h1/h2 that carries the main part of <title>; else an h1/h2 of the content before
    its first paragraph; else a content line equal to a part of <title>; else the longest part of <title> (the
    document's title is longer than the site's name in "标题_站名" / "标题 - 栏目 - 站名")."""
    main_part = without_whitespace(max(title_parts, key=len)) if title_parts else ""
    headings = [(h, normalize_spaces(h.text_content())) for h in root.iter("h1", "h2")]
    headings = [(h, t) for h, t in headings if 2 <= len(t) <= 100 and not is_junk_line(t)]
    for _, text in headings:
        if main_part and (
            main_part in without_whitespace(text) or without_whitespace(text) in main_part and len(text) > 4
        ):
            return text
    first_prose = next((i for i, line in enumerate(lines) if _is_prose(line)), len(lines))
    head_blocks = {line.block for line in lines[:first_prose]}
    for h, text in headings:
        if any(el in head_blocks for el in h.iter()):
            return text
    for part in sorted(title_parts, key=len, reverse=True):
        for line in lines[:first_prose]:
            if without_whitespace(line.text) == without_whitespace(part):
                return line.text
    return max(title_parts, key=len) if title_parts else None


def load_html(data: bytes, path: Path) -> Extracted:
    """A saved web page: the text of its main content, one line per paragraph, heading or table row.

    data: the file's bytes (charset from BOM, <meta>, or detection); path: used for the fallback title.
    Returns Extracted(text, title): text starts with the headline line when the page has one; data-table rows are
    "cell | cell" lines. Raises LoadError (Chinese message) for undecodable or unparsable files."""
    root = _parse(decode_html(data))
    title_parts = _title_parts(root)
    _strip_non_content(root)
    body = root.find("body")
    if body is None:
        body = root
    index: dict[str, etree._Element] = {}
    for i, el in enumerate(root.iter(etree.Element)):
        el.set(_ID, str(i))
        index[str(i)] = el
    all_lines, lines = _content_lines(root, body, index)
    title = _headline(root, lines, title_parts)
    texts = _trim_edges(lines, title)
    in_page = title and any(without_whitespace(line.text) == without_whitespace(title) for line in all_lines)
    if in_page and texts and without_whitespace(texts[0]) != without_whitespace(title):
        texts.insert(0, title)  # the headline opens the text once, wherever the page puts it
    text = "\n".join(texts)
    return Extracted(text, title or guess_title(text, path.stem))
