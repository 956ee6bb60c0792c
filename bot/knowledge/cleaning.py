"""Text cleaning: web-page boilerplate, preview lines, page numbers, lines broken mid-sentence."""

from __future__ import annotations

import re

from bot.textnorm import to_simplified, without_whitespace

CLEANING_VERSION = "2"

# A paragraph that ends with one of these is complete; anything else may continue on the next line.
_FINAL = set("。！？；：…!?;:.”’」』）)】》〕>")
_SENTENCE_INSIDE = re.compile(r"[。！？；!?;]")
_CN_NUM = "一二三四五六七八九十百千零〇两兩"
HEADING_RE = re.compile(
    rf"^(第[{_CN_NUM}\d]+(?:[章节節条條款编編篇]|部分)"
    rf"|[{_CN_NUM}]+[、.．]"
    rf"|[（(][{_CN_NUM}\d]+[)）]"
    r"|\d+(\.\d+)*[.．、](?!\d)|\d+\.\d+\s"
    r"|[①-⑳]|[-*•·●■◆▪]\s?|#|附件|附则|附录)"
)
_ARTICLE_RE = re.compile(rf"^第[{_CN_NUM}\d]+[条條]")
_HEADING_ONLY_MAX = 60
_TITLE_LIKE_MAX = 40

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PAGE_NUMBER = re.compile(
    r"^([-—–\s]*\d+[-—–\s]*|第\s*\d+\s*页(\s*[,，/]?\s*共\s*\d+\s*页)?|\d+\s*/\s*\d+|page\s*\d+(\s*of\s*\d+)?)$",
    re.IGNORECASE,
)
_BREADCRUMB_START = ("当前位置", "您的位置", "你的位置", "您现在的位置", "你现在的位置", "所在位置")
_META_KEYS = re.compile(
    r"(栏目|发布于|发布时间|发表时间|更新时间|人气|浏览次数|阅读次数|阅读量|点击数|点击量|来源|作者|字号)\s*[:：]"
)
_TRAILER_LINE = (
    "上一篇",
    "下一篇",
    "上一页",
    "下一页",
    "返回顶部",
    "返回列表",
    "版权所有",
    "版权声明",
    "copyright",
    "©",
    "免责声明",
    "本文链接",
    "原文链接",
    "扫一扫",
    "分享到",
    "责任编辑",
    "打印本页",
    "关闭窗口",
)
_TRAILER_SECTION = (
    "相关推荐",
    "相关文章",
    "相关阅读",
    "猜你喜欢",
    "热门推荐",
    "热门文章",
    "推荐阅读",
    "延伸阅读",
    "最新文章",
)


def normalize_spaces(line: str) -> str:
    """Collapse runs of spaces (incl. no-break and ideographic spaces) and drop invisible characters."""
    return _SPACES.sub(" ", _INVISIBLE.sub("", line)).strip()


def _is_nav_line(simple: str) -> bool:
    tokens = simple.split()
    if len(tokens) < 4 or _SENTENCE_INSIDE.search(simple) or "，" in simple:
        return False
    return "首页" in simple and all(len(t) <= 8 for t in tokens)


def _is_breadcrumb(simple: str) -> bool:
    if simple.startswith(_BREADCRUMB_START):
        return True
    return len(simple) <= 80 and (simple.count(">") >= 2 or simple.count("»") >= 2 or simple.count("›") >= 2)


def _is_meta_line(simple: str) -> bool:
    keys = _META_KEYS.findall(simple)
    return len(simple) <= 100 and (len(keys) >= 2 or simple.startswith(("栏目:", "栏目：")))


def _is_site_blurb(simple: str) -> bool:
    if "小编" in simple:
        return True
    return "本站" in simple and any(w in simple for w in ("整理", "欢迎", "分享", "收集", "转载"))


def is_junk_line(line: str) -> bool:
    """True for a line of web-page furniture rather than document content."""
    simple = to_simplified(line)
    return (
        _is_nav_line(simple)
        or _is_breadcrumb(simple)
        or _is_meta_line(simple)
        or _is_site_blurb(simple)
        or bool(_PAGE_NUMBER.match(simple))
    )


def _is_trailer_line(simple: str) -> bool:
    return simple.lower().startswith(_TRAILER_LINE)


def _is_trailer_section(simple: str) -> bool:
    bare = simple.strip(" :：-—【】[]")
    return bare in _TRAILER_SECTION


def _is_preview_line(first: str, rest: list[str]) -> bool:
    """A leading 'summary' line ending in ... that repeats the beginning of the text."""
    stripped = first.rstrip()
    if not stripped.endswith(("...", "…", "。。。")):
        return False
    head = without_whitespace(stripped.rstrip(".…。"))
    if len(head) < 10:
        return False
    following = without_whitespace("".join(rest))[: len(head) + 50]
    return following.startswith(head[: max(10, len(head) - 5)])


def strip_boilerplate(lines: list[str]) -> list[str]:
    """Drop navigation, breadcrumbs, meta lines, site blurbs, page-number lines, preview lines and trailers.

    Each line is judged by its own shape, never by whether the same words occur elsewhere: a list item or a section
    heading that recurs in a document is content where it stands. Empty lines are kept (paragraph breaks).
    """
    content = [i for i, line in enumerate(lines) if line]
    if content and _is_preview_line(lines[content[0]], [lines[i] for i in content[1:6]]):
        lines = lines[content[0] + 1 :]
    cut = len(lines)
    for i in range(len(lines) - 1, int(len(lines) * 0.6) - 1, -1):
        if lines[i] and _is_trailer_section(to_simplified(lines[i])):
            cut = i
    kept: list[str] = []
    for line in lines[:cut]:
        if line and (is_junk_line(line) or _is_trailer_line(to_simplified(line))):
            continue
        kept.append(line)
    return _drop_title_repeats(kept)


def _drop_title_repeats(lines: list[str]) -> list[str]:
    """A saved web page repeats its title at the top (page title, headline): keep the first of those lines.

    Only repeats of the first line, and only in the head of the text (before the first line of body text, i.e. a
    line longer than a title) are dropped; a recurring line further down is content.
    """
    content = [line for line in lines if line]
    if not content or len(content[0]) > _TITLE_LIKE_MAX * 2:
        return lines
    title, seen, out = without_whitespace(content[0]), False, []
    in_head = True
    for line in lines:
        if in_head and line and without_whitespace(line) == title:
            if seen:
                continue
            seen = True
        elif line and len(line) > _TITLE_LIKE_MAX * 2:
            in_head = False
        out.append(line)
    return out


def is_heading_start(line: str) -> bool:
    """True when the line starts like a heading or list item (第X条, 一、, （一）, 1., bullets)."""
    return bool(HEADING_RE.match(line))


def _is_heading_only(line: str) -> bool:
    return is_heading_start(line) and len(line) <= _HEADING_ONLY_MAX and not _SENTENCE_INSIDE.search(line)


def _ends_complete(line: str) -> bool:
    return line[-1] in _FINAL


def _wrap_width(lines: list[str]) -> int:
    """The typical length of a full line: large for one-paragraph-per-line text, ~40 for PDF lines."""
    lengths = sorted(len(line) for line in lines)
    return lengths[int(len(lengths) * 0.9)] if lengths else 0


def join_broken_lines(lines: list[str]) -> list[str]:
    """Join lines broken in the middle of a sentence; headings, short title lines and blank lines end a paragraph.

    Returns the paragraphs without empty lines.
    """
    width = _wrap_width([line for line in lines if line])
    spaced = _double_spaced(lines)
    out: list[str] = []
    open_paragraph = False
    for line in lines:
        if not line:
            open_paragraph = open_paragraph and spaced  # a blank line is a paragraph break...
            continue
        if open_paragraph and out and _continues(out[-1], line, width):
            prev = out[-1]
            sep = (
                " "
                if prev[-1].isascii() and prev[-1].isalnum() and line[0].isascii() and line[0].isalnum()
                else ""
            )
            out[-1] = prev + sep + line
        else:
            out.append(line)
        open_paragraph = True
    return out


def _double_spaced(lines: list[str]) -> bool:
    """True when a blank line follows nearly every line: then blank lines are line spacing, not breaks."""
    filled = [i for i, line in enumerate(lines[:-1]) if line]
    if len(filled) < 4:
        return False
    followed = sum(1 for i in filled if not lines[i + 1])
    return followed >= 0.8 * len(filled)


def _continues(prev: str, line: str, width: int) -> bool:
    if _ends_complete(prev) or is_heading_start(line):
        return False
    if len(prev) >= 0.85 * width:
        return True  # a full-width line of wrapped (PDF-like) text
    if _is_heading_only(prev) and not _ARTICLE_RE.match(prev):
        return False
    title_like = len(prev) <= _TITLE_LIKE_MAX and not _SENTENCE_INSIDE.search(prev)
    return not title_like or bool(_ARTICLE_RE.match(prev))


def clean_text(text: str, *, join_lines: bool = True) -> str:
    """Clean extracted text; paragraphs come out separated by a single newline."""
    lines = [normalize_spaces(line) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = strip_boilerplate(lines)
    if join_lines:
        lines = join_broken_lines(lines)
    return "\n".join(line for line in lines if line)


def guess_title(text: str, fallback: str) -> str:
    """The document title: the first short line of the cleaned text, else the fallback (file name)."""
    for line in text.split("\n")[:3]:
        line = line.strip().lstrip("#").strip()
        if 2 <= len(line) <= 60 and not line.endswith((":", "：")) and not is_junk_line(line):
            return line
        break
    return fallback
