"""Optical character recognition of page images: Tesseract (Debian's tesseract-ocr) through pytesseract.

Tesseract reads Simplified and Traditional Chinese and English together (chi_sim+chi_tra+eng) and gives each line
with its box, so that scanned pages go through the same page geometry as PDF text layers (bot.knowledge.page_layout).
"""

from __future__ import annotations

import shutil
from functools import lru_cache

from PIL import Image

from bot.knowledge.page_layout import TextLine
from bot.knowledge.types import LoadError

# Language models, in Tesseract's names; chi_sim is required, the others are used when installed.
LANGUAGES = ("chi_sim", "chi_tra", "eng")
# Seconds Tesseract may spend on one page; a 300 dpi A4 page with three languages takes about 3-10 s on one core.
PAGE_TIMEOUT_S = 120.0


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


def join_words(words: list[str]) -> str:
    """The words Tesseract found on one line, as text: no space where either side is Chinese (Tesseract splits
    Chinese into many 'words' and the gaps between them are not spaces), one space between other words."""
    text = ""
    for word in (w.strip() for w in words):
        if not word:
            continue
        if text and not (_is_cjk(text[-1]) or _is_cjk(word[0])):
            text += " "
        text += word
    return text


@lru_cache(maxsize=4)
def _installed_languages(command: str) -> frozenset[str]:
    import pytesseract

    pytesseract.pytesseract.tesseract_cmd = command
    return frozenset(pytesseract.get_languages(config=""))


def require_tesseract(what: str = "扫描件") -> tuple[str, str]:
    """The Tesseract command found on PATH and the language string to use (e.g. "chi_sim+chi_tra+eng").

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
    return command, "+".join(lang for lang in LANGUAGES if lang in installed)


def _grey(image: Image.Image) -> Image.Image:
    """The image as 8-bit grey on white (transparent parts become white)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return image.convert("L")


def read_image(
    image: Image.Image, *, page: int = 1, timeout: float = PAGE_TIMEOUT_S, what: str = "扫描件"
) -> list[TextLine]:
    """The text lines Tesseract reads on one page image, in Tesseract's reading order.

    Boxes are in the image's pixels (TextLine.size is the line height). `page` (1-based) and `what` only word
    the errors. Raises LoadError when Tesseract is missing, takes longer than `timeout` seconds, or fails.
    """
    import pytesseract

    command, languages = require_tesseract(what)
    pytesseract.pytesseract.tesseract_cmd = command
    try:
        data = pytesseract.image_to_data(
            _grey(image), lang=languages, output_type=pytesseract.Output.DICT, timeout=timeout
        )
    except RuntimeError as exc:
        if "timeout" in str(exc).lower():
            raise LoadError(f"第 {page} 页文字识别（OCR）超时（超过 {timeout:g} 秒），无法读取") from exc
        raise LoadError(f"第 {page} 页文字识别（OCR）失败：{exc}") from exc
    except pytesseract.TesseractError as exc:
        raise LoadError(f"第 {page} 页文字识别（OCR）失败：{exc.message or exc.status}") from exc
    boxes: dict[tuple[int, int, int], tuple[int, int, int, int]] = {}
    words: dict[tuple[int, int, int], list[str]] = {}
    for i, level in enumerate(data["level"]):
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        if level == 4:  # a line: its box
            boxes[key] = (data["left"][i], data["top"][i], data["width"][i], data["height"][i])
            words[key] = []
        elif level == 5 and key in words:
            words[key].append(data["text"][i])
    lines = []
    for key, (left, top, width, height) in boxes.items():
        text = join_words(words[key])
        if text:
            lines.append(TextLine(text, left, left + width, top, top + height, max(height, 1)))
    return lines
