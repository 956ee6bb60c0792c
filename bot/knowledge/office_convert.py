"""Old Word formats (.doc, .wps) converted to .docx by LibreOffice, then read by the .docx reader.

LibreOffice is optional on a server: without `soffice` on PATH these files are refused with a Chinese reason.
Each conversion runs `soffice --headless --convert-to docx` in a private temporary folder with its own user
profile (-env:UserInstallation), so parallel conversions do not share a profile lock, and is stopped (with its
child processes) after a time limit.

A .wps file from WPS Office (Kingsoft) is an OLE compound file laid out like a Word 97 .doc (its text is in a
"WordDocument" stream); LibreOffice's Word 97 import reads it like a .doc whatever the extension (checked with a
.doc renamed .wps). A Microsoft Works .wps has no such stream; LibreOffice's Works import reads it only partly,
so it is refused with the advice to save it as .docx. RTF, Word's HTML/XML and a .docx saved as .doc convert too.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from bot.knowledge.docx_reader import load_docx
from bot.knowledge.types import Extracted, LoadError

CONVERT_TIMEOUT_S = 120.0
_KIND = {".doc": "旧版 Word（.doc）", ".wps": "WPS（.wps）"}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_WORD_STREAM = "WordDocument".encode("utf-16-le")


def soffice_path() -> str | None:
    """The LibreOffice executable found on PATH (soffice or libreoffice), or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def _import_filter(data: bytes) -> str | None:
    """LibreOffice's import filter for the content, "" to let LibreOffice detect it (Word's HTML/XML), or None
    for content that is not a Word document. A filter is named because LibreOffice imports a file it cannot read
    as plain text, which would turn a damaged file into garbage."""
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(_OLE_MAGIC):
        # Word 97–2003 and WPS Office keep the text in an OLE stream named "WordDocument".
        return "MS Word 97" if _WORD_STREAM in data else None
    if head.startswith(b"{\\rtf"):
        return "Rich Text Format"
    if head.startswith(b"PK\x03\x04"):
        return "MS Word 2007 XML"  # a .docx saved under an old extension
    return "" if head.startswith(b"<") else None


def convert_to_docx(data: bytes, suffix: str, *, timeout: float = CONVERT_TIMEOUT_S) -> bytes:
    """The bytes of a .docx made by LibreOffice from an old-format file's `data` (`suffix` like ".doc").

    Raises LoadError (Chinese reason) when LibreOffice is not installed, the file is not a Word-like document,
    the conversion fails or takes longer than `timeout` seconds.
    """
    kind = _KIND.get(suffix, suffix)
    soffice = soffice_path()
    if soffice is None:
        raise LoadError(f"读取{kind}需要 LibreOffice，服务器上未安装；请另存为 .docx 后再导入")
    import_filter = _import_filter(data)
    if import_filter is None:
        raise LoadError(f"无法读取{kind}文件，文件可能已损坏或不是 Word 文档；请另存为 .docx 后再导入")
    with tempfile.TemporaryDirectory(prefix="lvzhi-convert-") as tmp:
        folder = Path(tmp)
        source = folder / f"document{suffix}"
        source.write_bytes(data)
        out_dir = folder / "out"
        command = [
            soffice,
            f"-env:UserInstallation={(folder / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            *([f"--infilter={import_filter}"] if import_filter else []),
            "--convert-to",
            "docx:MS Word 2007 XML",
            "--outdir",
            str(out_dir),
            str(source),
        ]
        env = {**os.environ, "HOME": str(folder)}
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group, so a timeout stops LibreOffice's children too
        )
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise LoadError(f"转换{kind}超时（超过 {timeout:g} 秒）；请另存为 .docx 后再导入") from None
        result = out_dir / "document.docx"
        if process.returncode != 0 or not result.is_file():
            detail = output.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            raise LoadError(
                f"LibreOffice 无法转换此{kind}文件，文件可能已损坏；请另存为 .docx 后再导入（{detail[0][:200]}）"
            )
        return result.read_bytes()


def load_old_word(data: bytes, path: Path) -> Extracted:
    """A .doc or .wps file: converted by LibreOffice, then read like a .docx; meta notes the conversion."""
    suffix = path.suffix.lower()
    extracted = load_docx(convert_to_docx(data, suffix), path)
    extracted.meta["converted_from"] = suffix.lstrip(".")
    return extracted
