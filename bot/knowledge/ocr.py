"""Optical character recognition of page images: Tesseract (Debian's tesseract-ocr) through pytesseract.

Tesseract reads Chinese (Simplified or Traditional, see OcrReader) with English, and gives each line with its box,
so that scanned pages go through the same page geometry as PDF text layers (bot.knowledge.page_layout).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image

from bot.knowledge.page_layout import BAND, TextLine
from bot.knowledge.types import LoadError

# Seconds Tesseract may spend on one page; a 300 dpi A4 page with three languages takes about 3-10 s on one core.
PAGE_TIMEOUT_S = 120.0
# Tesseract's page segmentation mode 4, "a single column of text of variable sizes": regulations are set in one
# column, and the automatic mode (3) cut "第一条 …" lines of sparse pages into separate blocks.
_PAGE_SEGMENTATION = 4
# The script (Simplified or Traditional) is chosen on the first page read with at least this many characters,
# Traditional when its confidence is at most this many points below Simplified's (see OcrReader).
_CHOOSING_CHARACTERS = 20
TRADITIONAL_MARGIN = 4.0
# Lines of at most this many characters read with a confidence below this, at the top or bottom of the page,
# are noise (see _reading). Well-read Chinese text scores 85-96; the misread page numbers scored 23-54.
_NOISE_MAX_CHARACTERS = 8
_NOISE_CONFIDENCE = 60.0


def _is_cjk(ch: str) -> bool:
    """A Chinese character, or punctuation of Chinese text (CJK symbols, full-width forms, curly quotes, dashes)."""
    code = ord(ch)
    return (
        0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3FFFF
        or 0x3000 <= code <= 0x303F
        or 0xFF00 <= code <= 0xFFEF
        or 0x2010 <= code <= 0x2027
    )


_OPENING = set("([{<（【《「『“‘")
_CLOSING = set(")]}>,.;:!?%）】》」』”’，。；：！？、")


def _tight(ch: str) -> bool:
    return _is_cjk(ch) or not ch.isalnum()


def join_words(words: list[str]) -> str:
    """The words Tesseract found on one line, as text.

    Tesseract cuts Chinese into many 'words', and the gaps between them are not spaces: no space is put between
    Chinese characters or punctuation, after an opening or before a closing bracket or mark; one space elsewhere,
    as between Latin words and Chinese (「2026年起施行 PDF 版本」).
    """
    text = ""
    for word in (w.strip() for w in words):
        if not word:
            continue
        a, b = (text[-1], word[0]) if text else ("", "")
        if text and not (a in _OPENING or b in _CLOSING or (_tight(a) and _tight(b))):
            text += " "
        text += word
    return text


@lru_cache(maxsize=4)
def _installed_languages(command: str) -> frozenset[str]:
    import pytesseract

    pytesseract.pytesseract.tesseract_cmd = command
    return frozenset(pytesseract.get_languages(config=""))


def require_tesseract(what: str = "扫描件") -> tuple[str, frozenset[str]]:
    """The Tesseract command found on PATH and its installed language models.

    Raises LoadError (Chinese reason, beginning with `what`) when Tesseract or its Simplified Chinese model is
    missing.
    """
    command = shutil.which("tesseract")
    if command is None:
        raise LoadError(f"{what}，需要 OCR：服务器未安装 Tesseract 文字识别，无法读取")
    try:
        installed = _installed_languages(command)
    except Exception as exc:  # a broken installation: pytesseract raises several kinds of errors
        raise LoadError(f"{what}，需要 OCR：服务器上的 Tesseract 文字识别无法运行（{exc}）") from exc
    if "chi_sim" not in installed:
        raise LoadError(f"{what}，需要 OCR：服务器上的 Tesseract 缺少简体中文识别数据（chi_sim），无法读取")
    return command, installed


def _grey(image: Image.Image) -> Image.Image:
    """The image as 8-bit grey on white (transparent parts become white)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return image.convert("L")


@dataclass(frozen=True)
class _Reading:
    lines: list[TextLine]
    confidence: float  # Tesseract's word confidence (0-100), weighted by the words' lengths
    characters: int


class OcrReader:
    """Reads the page images of one document with Tesseract.

    Tesseract given chi_sim+chi_tra at once reads a Traditional scan mostly in Simplified characters (measured on
    the scans of tests/test_ocr.py), which would change the document's words. So each document is read with one
    script: the first page with text is read with chi_sim+eng and with chi_tra+eng, and the script is chosen by
    Tesseract's confidence. chi_tra reading a Simplified scan scored 7-9 points below chi_sim there, while on a
    Traditional scan chi_tra scored from 1 point below to 7 points above chi_sim; so Traditional is chosen when
    its confidence is at most TRADITIONAL_MARGIN points below. The chosen languages read the remaining pages.
    Raises LoadError (Chinese reason, beginning with `what`) at construction when Tesseract is missing.
    """

    def __init__(self, *, what: str = "扫描件", timeout: float = PAGE_TIMEOUT_S) -> None:
        self.what = what
        self.timeout = timeout  # seconds per Tesseract run
        self.command, installed = require_tesseract(what)
        extra = "+eng" if "eng" in installed else ""
        scripts = ("chi_sim", "chi_tra") if "chi_tra" in installed else ("chi_sim",)
        self.candidates = [script + extra for script in scripts]
        self.languages: str | None = None  # chosen on the first page with text

    def read(self, image: Image.Image, page: int = 1) -> list[TextLine]:
        """The text lines of one page image (1-based `page` words the errors), in Tesseract's reading order.

        Boxes are in the image's pixels; TextLine.size is the line height. Raises LoadError when Tesseract takes
        longer than the timeout or fails.
        """
        grey = _grey(image)
        if self.languages:
            return self._run(grey, page, self.languages).lines
        readings = [(languages, self._run(grey, page, languages)) for languages in self.candidates]
        languages, best = readings[0]
        if len(readings) > 1 and readings[1][1].confidence >= best.confidence - TRADITIONAL_MARGIN:
            languages, best = readings[1]
        if best.characters >= _CHOOSING_CHARACTERS:
            self.languages = languages
        return best.lines

    def _run(self, image: Image.Image, page: int, languages: str) -> _Reading:
        import pytesseract

        pytesseract.pytesseract.tesseract_cmd = self.command
        try:
            data = pytesseract.image_to_data(
                image,
                lang=languages,
                config=f"--psm {_PAGE_SEGMENTATION}",
                output_type=pytesseract.Output.DICT,
                timeout=self.timeout,
            )
        except RuntimeError as exc:
            if "timeout" in str(exc).lower():
                raise LoadError(
                    f"{self.what}第 {page} 页文字识别（OCR）超时（超过 {self.timeout:g} 秒），无法读取"
                ) from exc
            raise LoadError(f"{self.what}第 {page} 页文字识别（OCR）失败：{exc}") from exc
        except pytesseract.TesseractError as exc:
            raise LoadError(
                f"{self.what}第 {page} 页文字识别（OCR）失败：{exc.message or exc.status}"
            ) from exc
        return _reading(data, image.height)


def _reading(data: dict[str, list], height: int) -> _Reading:
    """Lines (from Tesseract's level-4 boxes and level-5 words) and the weighted confidence of the words.

    A short line read with low confidence in the top or bottom band of the page (page_layout.BAND) is dropped:
    there, such readings are page numbers and edges Tesseract cannot read (「— 2 —」 came out as 「aD |」).
    """
    boxes: dict[tuple[int, int, int], tuple[int, int, int, int]] = {}
    words: dict[tuple[int, int, int], list[tuple[str, float]]] = {}
    for i, level in enumerate(data["level"]):
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        if level == 4:
            boxes[key] = (data["left"][i], data["top"][i], data["width"][i], data["height"][i])
            words[key] = []
        elif level == 5 and key in words and data["text"][i].strip():
            words[key].append((data["text"][i].strip(), max(float(data["conf"][i]), 0.0)))
    lines = []
    weighted = characters = 0.0
    for key, (left, top, width, height_px) in boxes.items():
        text = join_words([word for word, _ in words[key]])
        if not text:
            continue
        size = sum(len(word) for word, _ in words[key])
        confidence = sum(len(word) * conf for word, conf in words[key]) / size
        centre = top + height_px / 2
        in_band = centre <= height * BAND or centre >= height * (1 - BAND)
        if in_band and size <= _NOISE_MAX_CHARACTERS and confidence < _NOISE_CONFIDENCE:
            continue
        weighted += size * confidence
        characters += size
        lines.append(TextLine(text, left, left + width, top, top + height_px, max(height_px, 1)))
    return _Reading(lines, weighted / characters if characters else 0.0, int(characters))
