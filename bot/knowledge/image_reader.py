"""Image files (.png .jpg .jpeg .tif .tiff .bmp): scanned pages read by OCR, one page per frame."""

from __future__ import annotations

import io
from pathlib import Path

from bot.knowledge.ocr import PAGE_TIMEOUT_S, OcrReader
from bot.knowledge.page_layout import PageText, paragraphs, small_print_at_top, strip_furniture
from bot.knowledge.pdf_reader import first_line_title
from bot.knowledge.types import Extracted, LoadError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
# A multi-page TIFF with more frames than this is refused rather than read for hours.
MAX_FRAMES = 200


def load_image(data: bytes, path: Path, *, ocr_timeout: float = PAGE_TIMEOUT_S) -> Extracted:
    """Read an image file by OCR; every frame of a multi-page TIFF is a page.

    Returns the paragraphs (headers, footers and page numbers removed by their place, as for PDFs), the title
    (first line, else the file name) and meta {"ocr_pages": [1-based frames with text]}. `ocr_timeout` is in
    seconds per frame. Raises LoadError (Chinese reason) for unreadable images, a missing Tesseract, a timeout,
    or an image without recognisable text.
    """
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
        if getattr(image, "n_frames", 1) > MAX_FRAMES:
            raise LoadError(f"图片页数过多（超过 {MAX_FRAMES} 页），请拆分后再导入")
        frames = [frame.copy() for frame in ImageSequence.Iterator(image)]
    except LoadError:
        raise
    except Image.DecompressionBombError as exc:
        raise LoadError("图片尺寸过大，无法读取") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise LoadError("无法读取图片文件，文件可能已损坏或格式不受支持") from exc
    reader = OcrReader(what="图片文件", timeout=ocr_timeout)
    pages = [
        PageText(number, frame.width, frame.height, tuple(reader.read(frame, page=number)), ocr=True)
        for number, frame in enumerate(frames, start=1)
    ]
    ocr_pages = [page.number for page in pages if page.lines]
    pages = strip_furniture(pages)
    body = paragraphs(pages)
    text = "\n".join(body)
    if sum(ch.isalnum() for ch in text) < 2:
        raise LoadError("图片中没有识别出文字")
    return Extracted(
        text, first_line_title(body, path.stem, small_print_at_top(pages)), {"ocr_pages": ocr_pages}
    )
