"""Every article of the real regulations is in the index whole, under the right 章/节/条 path; quotes are verbatim.

The articles are found by an independent plain reading of each file (raw text, HTML text, the XML of a .docx, pypdf for
the PDF), not by the project's loaders, and compared with what `lvzhi kb check` and the index say.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from conftest import SHARED_DIR

from bot.knowledge.chunking import HARD_MAX_CHARS

REGULATIONS = SHARED_DIR / "corpus" / "regulations"
REPO = Path(__file__).resolve().parents[1]
_NUM = "零〇一二三四五六七八九十百千两兩"
_ARTICLE_AT_START = re.compile(rf"^\s*(第[{_NUM}]+[条條])")
_CHAPTER_AT_START = re.compile(rf"^\s*#*\s*(第[{_NUM}]+章)")
_WS = re.compile(r"\s+")


def _plain_paragraphs(path: Path) -> list[str]:
    """The file's paragraphs, read without the project's loaders."""
    data = path.read_bytes()
    if path.suffix in (".md", ".txt"):
        for encoding in ("utf-8", "gb18030"):
            try:
                return data.decode(encoding).splitlines()
            except UnicodeDecodeError:
                continue
    if path.suffix == ".html":
        import lxml.html

        tree = lxml.html.fromstring(data)
        return [el.text_content() for el in tree.iter("p", "div", "td", "h1", "h2", "h3", "li")]
    if path.suffix == ".docx":
        ns = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
        from lxml import etree

        root = etree.fromstring(zipfile.ZipFile(path).read("word/document.xml"))
        return ["".join(t.text or "" for t in p.iter(f"{ns}t")) for p in root.iter(f"{ns}p")]
    if path.suffix == ".pdf":
        from pypdf import PdfReader

        return [line for page in PdfReader(path).pages for line in (page.extract_text() or "").splitlines()]
    raise AssertionError(f"no plain reading for {path}")


def _plain_articles(path: Path) -> list[tuple[str, str, str]]:
    """(chapter, article label, first 12 characters after the label) per article, in document order."""
    found, chapter = [], ""
    for para in _plain_paragraphs(path):
        if m := _CHAPTER_AT_START.match(para):
            chapter = m.group(1)
        if m := _ARTICLE_AT_START.match(para):
            found.append((chapter, m.group(1), _WS.sub("", para[m.end() :])[:12]))
    return found


@pytest.fixture(scope="module")
def regulations_index(tmp_path_factory):
    """The ten regulations ingested once (dense index off) into a new index; returns its settings."""
    from bot.knowledge.ingest import ingest_paths
    from bot.settings import Settings

    tmp = tmp_path_factory.mktemp("regulations")
    settings = Settings(_env_file=None, data_dir=tmp / "data", index_dir=tmp / "index", dense_index=False)
    report = ingest_paths([REGULATIONS], settings, progress=False)
    assert len(report.added) == 10, report.summary_zh()
    return settings


def test_kb_check_reports_every_article_present_and_intact(regulations_index) -> None:
    from bot.knowledge.coverage import check_index
    from bot.knowledge.manifest import Manifest

    results = {Path(r.source).name: r for r in check_index(regulations_index.resolved_index_dir)}
    assert len(results) == 10
    manifest = Manifest(regulations_index.resolved_index_dir / "manifest.sqlite3")
    try:
        for name, result in results.items():
            plain = _plain_articles(REGULATIONS / name)
            assert plain, name
            assert result.ok, (name, result.not_intact, result.oversize, result.error)
            assert result.articles == [label for _, label, _ in plain], name
            chunks = manifest.chunks(result.doc_id)
            for chapter, label, head in plain:
                mine = [c for c in chunks if c.section.rsplit(" > ", 1)[-1] == label]
                assert mine, (name, label)
                text = _WS.sub("", "".join(c.text for c in mine))
                assert head in text, (name, label, head)  # the article's own words, from the plain reading
                if chapter:
                    assert all(c.section.startswith(chapter) for c in mine), (name, label, mine[0].section)
    finally:
        manifest.close()


def test_no_chunk_over_the_limit(regulations_index) -> None:
    from bot.knowledge.lexical import LexicalIndex

    lexical = LexicalIndex.open(regulations_index.resolved_index_dir / "lexical")
    assert max(len(c.text) for c in lexical.chunks.values()) <= HARD_MAX_CHARS


def _questions(path: Path) -> list[str]:
    return [json.loads(line)["q"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _assert_quotes_verbatim(settings, questions: list[str]) -> int:
    """Every quote, title and section path of every answer is the document's own text; returns the quote count."""
    from bot.knowledge.loaders import load_document
    from bot.knowledge.manifest import Manifest
    from bot.services import build_services

    manifest = Manifest(settings.resolved_index_dir / "manifest.sqlite3")
    texts = {e.doc_id: load_document(Path(e.source), doc_id=e.doc_id) for e in manifest.entries()}
    manifest.close()
    answerer = build_services(settings).answerer
    quotes = 0
    for question in questions:
        answer = answerer.answer(question)
        for citation in answer.citations:
            doc = texts[citation.doc]
            assert citation.quote and citation.quote in doc.text, (question, citation.quote)
            assert citation.title == doc.title
            for part in filter(None, citation.section.split(" > ")):
                assert part in doc.text, (question, part)
            assert f"“{citation.quote}”" in answer.text  # the answer shows the quote character for character
            quotes += 1
    return quotes


def test_quotes_over_the_regulations_are_verbatim(regulations_index) -> None:
    questions = _questions(REPO / "eval" / "regulations_tune.jsonl") + _questions(
        REPO / "eval" / "regulations_check.jsonl"
    )
    assert _assert_quotes_verbatim(regulations_index, questions) > 100


def test_quotes_over_the_seeds_are_verbatim(seeds_settings) -> None:
    questions = _questions(SHARED_DIR / "eval" / "dev_qa.jsonl") + _questions(
        REPO / "eval" / "seeds_extra_qa.jsonl"
    )
    assert _assert_quotes_verbatim(seeds_settings, questions) > 20
