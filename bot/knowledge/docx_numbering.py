"""Word's automatic list numbering: the label (第一章, 第三条, 1.2, ①) that Word shows before a numbered paragraph.

The rules are those of ECMA-376 Part 1, §17.9 (Numbering): a paragraph's w:numPr (or its style's, through w:basedOn)
names a w:num, which points to a w:abstractNum whose w:lvl gives w:start, w:numFmt, w:lvlText ("第%1章", "%1.%2"),
w:suff, w:lvlRestart and w:isLgl; a w:num's w:lvlOverride may replace a level or its start (w:startOverride).
Counters belong to the abstract numbering, so every w:num that points to it continues the same count (as Word
does); a level restarts when a higher level is used, unless w:lvlRestart says otherwise (0: never; n: only when
level n or a higher one is used). Number formats: bot.knowledge.number_formats.

Why own code: no Python library computes Word's list labels with lvlText, lvlRestart and the Chinese formats
(docx2python writes every label as "1)" from numFmt alone, python-docx and mammoth do not compute labels).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from bot.knowledge.number_formats import format_number

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W = f"{{{W_NS}}}"
_MAX_LEVELS = 9
_SUFFIXES = {"tab": " ", "space": " ", "nothing": ""}  # a tab after the label reads as one space


def w(tag: str) -> str:
    """Clark name of a WordprocessingML tag: w("p") -> "{http://…/main}p"."""
    return _W + tag


def w_val(el: etree._Element | None, tag: str | None = None) -> str | None:
    """The w:val attribute of `el` (or of its child `tag`); None when absent."""
    if el is not None and tag is not None:
        el = el.find(w(tag))
    return None if el is None else el.get(w("val"))


def is_on(el: etree._Element | None) -> bool:
    """A WordprocessingML on/off property (w:b, w:vanish …): present and not switched off."""
    return el is not None and el.get(w("val"), "true").lower() not in ("false", "0", "off")


def _attr_on(value: str | None) -> bool:
    return value is not None and value.lower() in ("true", "1", "on")


def _int(text: str | None, default: int | None = None) -> int | None:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


@dataclass(frozen=True)
class Level:
    """One w:lvl: how the label of this level is made."""

    start: int = 0  # §17.9.25: an absent w:start means 0
    number_format: str = "decimal"
    text: str | None = None  # w:lvlText; None: the level shows no label
    suffix: str = " "  # what follows the label: w:suff tab/space -> " ", nothing -> ""
    restart: int | None = None  # w:lvlRestart; None: restart whenever a higher level is used
    legal: bool = False  # w:isLgl: every number of the label in decimal
    hidden: bool = False  # the label's run properties hide it (w:vanish)
    style: str | None = None  # w:pStyle: the paragraph style that uses this level


def _level(el: etree._Element) -> Level:
    text_el = el.find(w("lvlText"))
    text = None
    if text_el is not None:
        text = "" if _attr_on(text_el.get(w("null"))) else text_el.get(w("val"))
    return Level(
        start=_int(w_val(el, "start"), 0) or 0,
        number_format=w_val(el, "numFmt") or "decimal",
        text=text,
        suffix=_SUFFIXES.get(w_val(el, "suff") or "tab", " "),
        restart=_int(w_val(el, "lvlRestart")),
        legal=is_on(el.find(w("isLgl"))),
        hidden=is_on(el.find(f"{w('rPr')}/{w('vanish')}")),
        style=w_val(el, "pStyle"),
    )


@dataclass
class _Num:
    abstract_id: str
    levels: dict[int, Level] = field(default_factory=dict)  # full w:lvl overrides
    start_overrides: dict[int, int] = field(default_factory=dict)


@dataclass
class _Style:
    based_on: str | None
    num_id: str | None
    ilvl: int | None


class Numbering:
    """The numbering definitions of one document and the running counters; labels are asked in reading order.

    Built from the root elements of word/numbering.xml (None when the document has none) and word/styles.xml.
    """

    def __init__(self, numbering: etree._Element | None, styles: etree._Element | None) -> None:
        self._abstract: dict[str, dict[int, Level]] = {}
        self._style_link: dict[str, str] = {}  # abstractNumId -> numbering style it takes its levels from
        self._nums: dict[str, _Num] = {}
        self._styles: dict[str, _Style] = {}
        self._default_style: str | None = None
        self._counts: dict[str, dict[int, int]] = {}
        self._overrides_used: set[tuple[str, int]] = set()
        if styles is not None:
            self._read_styles(styles)
        if numbering is not None:
            self._read_numbering(numbering)

    def _read_styles(self, styles: etree._Element) -> None:
        for style in styles.iter(w("style")):
            style_id = style.get(w("styleId"))
            if not style_id:
                continue
            num_pr = style.find(f"{w('pPr')}/{w('numPr')}")
            self._styles[style_id] = _Style(
                based_on=w_val(style, "basedOn"),
                num_id=w_val(num_pr, "numId"),
                ilvl=_int(w_val(num_pr, "ilvl")),
            )
            if style.get(w("type")) == "paragraph" and _attr_on(style.get(w("default"))):
                self._default_style = style_id

    def _read_numbering(self, numbering: etree._Element) -> None:
        for abstract in numbering.iter(w("abstractNum")):
            abstract_id = abstract.get(w("abstractNumId"))
            if abstract_id is None:
                continue
            levels = {}
            for lvl in abstract.iter(w("lvl")):
                ilvl = _int(lvl.get(w("ilvl")))
                if ilvl is not None:
                    levels[ilvl] = _level(lvl)
            self._abstract[abstract_id] = levels
            link = w_val(abstract, "numStyleLink")
            if link:
                self._style_link[abstract_id] = link
        for num in numbering.iter(w("num")):
            num_id, abstract_id = num.get(w("numId")), w_val(num, "abstractNumId")
            if num_id is None or abstract_id is None:
                continue
            entry = _Num(abstract_id)
            for override in num.iter(w("lvlOverride")):
                ilvl = _int(override.get(w("ilvl")))
                if ilvl is None:
                    continue
                start = _int(w_val(override, "startOverride"))
                if start is not None:
                    entry.start_overrides[ilvl] = start
                lvl = override.find(w("lvl"))
                if lvl is not None:
                    entry.levels[ilvl] = _level(lvl)
            self._nums[num_id] = entry

    def _abstract_of(self, num_id: str) -> str | None:
        """The abstract numbering that holds the levels of `num_id`, following w:numStyleLink once."""
        num = self._nums.get(num_id)
        if num is None:
            return None
        abstract_id = num.abstract_id
        link = self._style_link.get(abstract_id)
        if link is not None:
            style = self._styles.get(link)
            linked = self._nums.get(style.num_id) if style and style.num_id else None
            if linked is not None and linked.abstract_id in self._abstract:
                abstract_id = linked.abstract_id
        return abstract_id if abstract_id in self._abstract else None

    def _level_def(self, num_id: str, abstract_id: str, ilvl: int) -> Level | None:
        num = self._nums[num_id]
        return num.levels.get(ilvl) or self._abstract[abstract_id].get(ilvl)

    def paragraph_numbering(self, ppr: etree._Element | None, style_id: str | None) -> tuple[str, int] | None:
        """(numId, level) of a paragraph from its own w:numPr, else its style chain's; None if not numbered."""
        num_pr = ppr.find(w("numPr")) if ppr is not None else None
        num_id, ilvl = w_val(num_pr, "numId"), _int(w_val(num_pr, "ilvl"))
        style_id = style_id or self._default_style
        seen: set[str] = set()
        current = style_id
        while current and current not in seen and (num_id is None or ilvl is None):
            seen.add(current)
            style = self._styles.get(current)
            if style is None:
                break
            num_id = num_id if num_id is not None else style.num_id
            ilvl = ilvl if ilvl is not None else style.ilvl
            current = style.based_on
        if num_id is None or num_id == "0":  # numId 0 switches inherited numbering off
            return None
        if ilvl is None:
            ilvl = 0
            abstract_id = self._abstract_of(num_id)
            for level_no, level in (self._abstract.get(abstract_id, {}) if abstract_id else {}).items():
                if style_id and level.style == style_id:
                    ilvl = level_no
        return num_id, max(0, min(ilvl, _MAX_LEVELS - 1))

    def next_label(self, num_id: str, ilvl: int) -> str:
        """Advance the counter of (num_id, ilvl) and return the label Word shows, with what follows it.

        Returns "" for an unknown numbering, a bullet (bullet glyphs are font symbols, not words), a level
        without w:lvlText, or a hidden label. E.g. "第三条 " for lvlText "第%2条", chineseCounting, w:suff space.
        """
        abstract_id = self._abstract_of(num_id)
        if abstract_id is None:
            return ""
        level = self._level_def(num_id, abstract_id, ilvl)
        if level is None:
            return ""
        counts = self._counts.setdefault(abstract_id, {})
        start_override = self._nums[num_id].start_overrides.get(ilvl)
        if start_override is not None and (num_id, ilvl) not in self._overrides_used:
            self._overrides_used.add((num_id, ilvl))
            counts[ilvl] = start_override
        elif ilvl in counts:
            counts[ilvl] += 1
        else:
            counts[ilvl] = level.start
        for deeper in [lv for lv in counts if lv > ilvl]:
            deeper_level = self._level_def(num_id, abstract_id, deeper)
            restart = deeper_level.restart if deeper_level is not None else None
            if restart is None or (restart > 0 and ilvl <= restart - 1):
                del counts[deeper]
        if level.number_format == "bullet" or not level.text or level.hidden:
            return ""
        label = self._render(level.text, num_id, abstract_id, counts, legal=level.legal)
        return label + level.suffix if label else ""

    def _render(
        self, text: str, num_id: str, abstract_id: str, counts: dict[int, int], *, legal: bool
    ) -> str:
        out: list[str] = []
        i = 0
        while i < len(text):
            char = text[i]
            if char == "%" and i + 1 < len(text) and text[i + 1] in "123456789":
                ref = int(text[i + 1]) - 1
                ref_level = self._level_def(num_id, abstract_id, ref) or Level()
                value = counts.get(ref, ref_level.start)
                number_format = ref_level.number_format
                if legal and number_format != "decimalZero":
                    number_format = "decimal"
                out.append("" if number_format == "bullet" else format_number(value, number_format))
                i += 2
                continue
            out.append(char)
            i += 1
        return "".join(out)
