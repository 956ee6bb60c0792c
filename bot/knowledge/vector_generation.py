"""The vectors' generation stamp: how a process that reads an index learns that another one changed its vectors.

Chroma's persistent client keeps what it read in memory, so a serving process does not see vectors that another
process (`lvzhi vectors` after an upload, `lvzhi ingest`) wrote after it opened the collection. Every process that
changes an index's vectors or the manifest's record of them replaces `<index>/vectors.generation` once its manifest
is committed (an ingest at its end, a vectors run after each document), never mid-way, when the collection and the
manifest disagree; a reader compares the file's stamp (one `stat`, a few microseconds) at each search and re-reads
the manifest when it changed. No Chroma import here: readers check the stamp before they open anything.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

GENERATION_FILE = "vectors.generation"

Stamp = tuple[int, int, int] | None  # (inode, mtime in ns, size) of the file; None when there is none yet


def bump(index_dir: Path) -> None:
    """Replace the generation file of the index at `index_dir` (atomically: a new file renamed over the old one, so
    its inode and mtime change); raises OSError when the folder is not writable."""
    path = Path(index_dir) / GENERATION_FILE
    tmp = path.with_name(f"{GENERATION_FILE}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(f"{time.time_ns()} {os.getpid()}\n", encoding="ascii")
    os.replace(tmp, path)


def stamp(index_dir: Path) -> Stamp:
    """The current stamp of the index's generation file: (inode, mtime ns, size), or None when no writer has
    written one (an index made before this file existed: its vectors are read once)."""
    try:
        st = os.stat(Path(index_dir) / GENERATION_FILE)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)
