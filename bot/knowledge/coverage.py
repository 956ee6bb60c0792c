"""The coverage check (`lvzhi kb check`): is every article of every document in the index, whole and unaltered?

For each document in the manifest the source file is read again; its articles (a line starting 第X条/條, up to the
next 编/章/节/条 heading) are compared, with whitespace removed, against the text of the index's chunks that carry
that article in their section path. Chunks longer than the size limit are listed too.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bot.knowledge.chunking import (
    ARTICLE_LEVEL,
    HARD_MAX_CHARS,
    STRUCTURE_LEVEL,
    article_label,
    heading_level,
)
from bot.knowledge.loaders import load_document
from bot.knowledge.manifest import Manifest
from bot.knowledge.types import LoadError
from bot.textnorm import without_whitespace


@dataclass
class DocumentCoverage:
    """What the check found for one document."""

    doc_id: str
    title: str
    source: str
    articles: list[str] = field(default_factory=list)  # article labels found in the file, in order
    not_intact: list[str] = field(default_factory=list)  # labels whose text differs in the index or is absent
    oversize: list[tuple[str, int]] = field(
        default_factory=list
    )  # (section, characters) of chunks over the limit
    error: str = ""  # why the file could not be read again

    @property
    def ok(self) -> bool:
        """True when every article is intact and no chunk is over the limit."""
        return not (self.not_intact or self.oversize or self.error)


def document_articles(text: str) -> list[tuple[str, str]]:
    """(label, text) of each article of a document's text: from its 第X条 line to the next 编/章/节/条 heading."""
    articles: list[tuple[str, list[str]]] = []
    for line in (ln.strip() for ln in text.split("\n")):
        if not line:
            continue
        level = heading_level(line)
        if level == ARTICLE_LEVEL:
            articles.append((article_label(line) or line, [line]))
        elif level is not None and level <= STRUCTURE_LEVEL:
            articles.append(("", []))  # a chapter or section heading closes the article
        elif articles and articles[-1][0]:
            articles[-1][1].append(line)
    return [(label, "\n".join(lines)) for label, lines in articles if label]


def check_document(manifest: Manifest, doc_id: str, title: str, source: str) -> DocumentCoverage:
    """Compare one document's articles in its file with its chunks in the index."""
    report = DocumentCoverage(doc_id, title, source)
    chunks = manifest.chunks(doc_id)
    report.oversize = [(c.section, len(c.text)) for c in chunks if len(c.text) > HARD_MAX_CHARS]
    try:
        doc = load_document(Path(source), doc_id=doc_id)
    except (LoadError, OSError) as exc:
        report.error = f"无法重新读取原文件：{exc}"
        return report
    indexed: dict[str, list[str]] = defaultdict(list)  # section → texts, in order
    for chunk in chunks:
        indexed[chunk.section].append(chunk.text)
    by_label: dict[str, list[str]] = defaultdict(list)
    for section, texts in indexed.items():
        label = section.rsplit(" > ", 1)[-1]
        if heading_level(label) == ARTICLE_LEVEL:
            by_label[label].append(without_whitespace("".join(texts)))
    for label, text in document_articles(doc.text):
        report.articles.append(label)
        if without_whitespace(text) not in by_label.get(label, []):
            report.not_intact.append(label)
    return report


def check_index(index_dir: Path) -> list[DocumentCoverage]:
    """The coverage of every document in the index at index_dir (its manifest), by source path."""
    from bot.knowledge.ingest import MANIFEST_FILE

    manifest = Manifest(Path(index_dir) / MANIFEST_FILE)
    try:
        return [check_document(manifest, e.doc_id, e.title, e.source) for e in manifest.entries()]
    finally:
        manifest.close()


def format_report(results: list[DocumentCoverage]) -> str:
    """The check's findings for people, in Simplified Chinese."""
    lines = []
    for r in results:
        state = "完整" if r.ok else "有问题"
        lines.append(f"《{r.title}》（{r.doc_id}）：找到 {len(r.articles)} 条，{state}")
        if r.error:
            lines.append(f"  - {r.error}")
        if r.not_intact:
            lines.append(f"  - 索引中不完整或缺失的条文：{'、'.join(r.not_intact)}")
        for section, size in r.oversize:
            lines.append(f"  - 片段过长（{size} 字，上限 {HARD_MAX_CHARS} 字）：{section or '（无章节）'}")
    total = sum(len(r.articles) for r in results)
    bad = sum(not r.ok for r in results)
    lines.append(f"共 {len(results)} 个文档、{total} 条；{bad} 个文档有问题。")
    return "\n".join(lines)
