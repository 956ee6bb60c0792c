"""Structure-aware chunking: section paths, whole sentences, short citable chunks, stable ids."""

from __future__ import annotations

import statistics

from bot.knowledge.chunking import HARD_MAX_CHARS, MAX_CHARS, chunk_document, heading_level, split_sentences
from bot.knowledge.loaders import load_document
from bot.knowledge.types import Document

REGULATION = """第一章 总则
第一条 为了规范提案工作，制定本办法。
第二条 提案应当一事一案。
第二章 提案的提出
第三条 提案包括以下内容：
（一）案由；
（二）情况分析；
（三）具体建议。
第四条 提案人可以联名提出提案。"""

SPEECH = """一、提高认识，加强领导
（一）强化政治意识。机关干部要讲政治。政协机关是政治机关，首要的是提高政治站位。
（二）强化学习意识。要把学习作为第一需要。
二、突出重点，抓好落实
1. 抓好文稿。起草中反复推敲，做到文经我手无差错。"""


def doc(text: str, title: str = "示例办法") -> Document:
    return Document("d1", "d1.txt", title, text)


def test_heading_levels():
    assert heading_level("第三章 监督") < heading_level("第二节 审查") < heading_level("一、总体要求")
    assert heading_level("一、总体要求") < heading_level("（一）工作目标") < heading_level("1. 细则")
    assert heading_level("第十二条 提案人") == heading_level("第一百条 附则")
    assert heading_level("政协机关是政治机关。") is None


def test_articles_are_chunks_with_chapter_and_article_in_the_section_path():
    chunks = chunk_document(doc(REGULATION))
    sections = [c.section for c in chunks]
    assert sections == [
        "第一章 总则 > 第一条",
        "第一章 总则 > 第二条",
        "第二章 提案的提出 > 第三条",
        "第二章 提案的提出 > 第四条",
    ]
    third = chunks[2]
    assert "（一）案由" in third.text and "（三）具体建议" in third.text  # items stay with their article
    assert all(c.title == "示例办法" for c in chunks)


def test_speech_headings_form_the_section_path():
    chunks = chunk_document(doc(SPEECH, "讲话"))
    by_text = {c.text.split("。")[0]: c.section for c in chunks}
    first = next(c for c in chunks if "政协机关是政治机关" in c.text)
    assert first.section == "一、提高认识，加强领导 > （一）强化政治意识"
    assert first.text.startswith("（一）强化政治意识。")  # a heading's own sentences are kept as text
    last = next(c for c in chunks if "文经我手无差错" in c.text)
    assert last.section.startswith("二、突出重点，抓好落实 > 1. 抓好文稿")
    assert by_text  # every chunk has text


def test_sentences_are_never_cut_and_chunks_stay_short(seeds_dir):
    lengths = []
    for path in sorted(seeds_dir.glob("*.txt")):
        document = load_document(path)
        chunks = chunk_document(document)
        assert chunks
        joined = "".join(c.text.replace("\n", "") for c in chunks)
        for chunk in chunks:
            lengths.append(len(chunk.text))
            sentences = split_sentences(chunk.text.replace("\n", ""))
            # every sentence of a chunk is a whole sentence of the document
            for sentence in sentences:
                assert sentence in document.text.replace("\n", "") or sentence in joined
            # a chunk grows past MAX_CHARS only when one sentence alone is that long
            if len(chunk.text) > MAX_CHARS + 60:
                assert len(sentences) == 1 or max(map(len, sentences)) > MAX_CHARS / 2, chunk.text
    assert statistics.mean(lengths) <= 300


def test_split_sentences_keeps_closing_quotes():
    assert split_sentences("他说：“要抓落实。”然后走了。") == ["他说：“要抓落实。”", "然后走了。"]


def test_chunk_ids_are_stable_and_change_with_text():
    a = chunk_document(doc(REGULATION))
    b = chunk_document(doc(REGULATION))
    assert [c.chunk_id for c in a] == [c.chunk_id for c in b]
    changed = chunk_document(doc(REGULATION.replace("一事一案", "一事一议")))
    assert a[1].chunk_id != changed[1].chunk_id
    assert a[0].chunk_id == changed[0].chunk_id


def test_no_text_is_lost(seeds_dir):
    """Every sentence of every paragraph that is not a bare heading ends up in some chunk."""
    from bot.knowledge.chunking import _is_bare_heading

    for path in sorted(seeds_dir.glob("*.txt")):
        document = load_document(path)
        chunk_text = "".join(c.text.replace("\n", "") for c in chunk_document(document))
        for para in document.text.split("\n"):
            para = para.strip()
            if not para or _is_bare_heading(para):
                continue
            for sentence in split_sentences(para):
                assert sentence.strip() in chunk_text, (path.name, sentence)


def test_a_first_line_that_is_also_the_title_keeps_its_text():
    text = "第一条 委员可以通过掌上履职平台提交微建议。\n第二条 微建议篇幅不超过五百字。"
    chunks = chunk_document(doc(text, title="第一条 委员可以通过掌上履职平台提交微建议。"))
    assert [c.section for c in chunks] == ["第一条", "第二条"]
    assert "掌上履职平台" in chunks[0].text


def test_a_paragraph_without_sentence_ends_is_cut_at_clause_marks():
    clause = "委员应当密切联系界别群众，"
    text = "第一条 " + clause * 300 + "依法履行职责"  # about 4,000 characters and no 。
    chunks = chunk_document(doc(text))
    assert len(chunks) > 1
    assert all(len(c.text) <= HARD_MAX_CHARS for c in chunks)
    assert all(c.section == "第一条" for c in chunks)  # every piece of the article carries its path
    assert "".join(c.text for c in chunks) == text  # nothing lost, nothing added
    assert all(c.text.endswith("，") for c in chunks[:-1])  # cut after a clause mark, not inside a word


def test_the_adoption_note_is_the_documents_note_not_a_section():
    from bot.knowledge.chunking import document_note

    text = (
        "信访工作条例\n2022年1月24日 中共中央政治局会议审议批准\n2022年2月25日 中共中央、国务院发布\n"
        "第一章 总则\n第一条 为了做好新时代信访工作，制定本条例。\n"
    )
    document = doc(text, title="信访工作条例")
    chunks = chunk_document(document)
    assert (
        document_note(document)
        == "2022年1月24日 中共中央政治局会议审议批准\n2022年2月25日 中共中央、国务院发布"
    )
    assert chunks[0].section == "" and "审议批准" in chunks[0].text
    assert chunks[1].section == "第一章 总则 > 第一条"
    assert not any("审议批准" in c.section for c in chunks)


def test_traditional_structure_words_and_items_stay_in_their_article():
    text = "第一章 總則\n第一節 一般規定\n第三條 委員有下列情形之一的：\n（一）甲；\n（二）乙。\n第二章 附則\n第四條 本規定自印發之日起施行。"
    chunks = chunk_document(doc(text, "規定"))
    assert [c.section for c in chunks] == ["第一章 總則 > 第一節 一般規定 > 第三條", "第二章 附則 > 第四條"]
    assert chunks[0].text.endswith("（二）乙。")


def test_a_numbered_sentence_is_content_and_its_label_is_document_text():
    text = "一、报名截止时间为6月30日，逾期不再受理。\n二、报名材料交市政协办公室。"
    chunks = chunk_document(doc(text, "通知"))
    assert chunks[0].text == "一、报名截止时间为6月30日，逾期不再受理。"
    assert chunks[0].section == "一、报名截止时间为6月30日"
    assert all(part in text for c in chunks for part in c.section.split(" > "))
