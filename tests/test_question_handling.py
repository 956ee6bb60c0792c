"""Questions as members type them: article numbers, places and bodies, colloquial words, input that is no question."""

from __future__ import annotations

import json

import pytest

from bot.answering.intake import classify
from bot.knowledge.articles import find_article_ref, numeral_value
from bot.knowledge.lexicon import formalize, lexicon

SHANGHAI = """上海市人民代表大会代表建议办理规定（示例）

第一章 总则

第一条 为了规范代表建议的办理，制定本规定。

第二章 办理

第五条 承办单位应当自交办之日起三个月内答复代表。涉及面广、处理难度大的，应当在六个月内答复。

第六条 代表要求辞去代表职务的，应当书面提出。
"""

BEIJING = """北京市人民代表大会代表建议办理条例（示例）

第一章 总则

第一条 为了做好代表建议的办理工作，制定本条例。

第五条 承办单位应当自收到代表建议之日起两个月内办理完毕并答复代表。有下列情形之一的，可以延长一个月：
（一）涉及多个部门，需要协调的；
（二）需要进行专门调查研究的；
（三）因客观原因不能按期办结的，承办单位应当向代表说明情况，并在延长期限内将办理进展书面告知代表，听取代表对办理工作的意见和建议，做好沟通解释工作，争取代表的理解和支持，确保办理质量和效果，办理结果应当在答复前征求领衔代表的意见，代表不满意的应当重新研究办理并再次答复代表。

第一百〇二条 本条例自公布之日起施行。
"""


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    from bot.knowledge.ingest import ingest_paths
    from bot.services import build_services
    from bot.settings import Settings

    root = tmp_path_factory.mktemp("questions")
    docs = root / "docs"
    docs.mkdir()
    (docs / "上海.txt").write_text(SHANGHAI, encoding="utf-8")
    (docs / "北京.txt").write_text(BEIJING, encoding="utf-8")
    settings = Settings(_env_file=None, data_dir=root / "data", index_dir=root / "index", dense_index=False)
    assert ingest_paths([docs], settings, progress=False).ok
    return build_services(settings).answerer


@pytest.mark.parametrize(
    ("numeral", "value"),
    [
        ("五", 5),
        ("5", 5),
        ("５", 5),
        ("十六", 16),
        ("１６", 16),
        ("一百〇二", 102),
        ("一百零二", 102),
        ("102", 102),
    ],
)
def test_article_numerals(numeral: str, value: int) -> None:
    assert numeral_value(numeral) == value


def test_article_reference_with_and_without_a_document() -> None:
    ref = find_article_ref("《北京市人民代表大会代表建议办理条例（示例）》第５条是怎么规定的")
    assert (ref.number, ref.title_hint) == (5, "北京市人民代表大会代表建议办理条例（示例）")
    ref = find_article_ref("请问办理条例第一百零二条讲什么")
    assert (ref.number, ref.title_hint) == (102, "办理条例")
    assert find_article_ref("第五條是什麼").number == 5
    assert find_article_ref("代表建议多久答复") is None


@pytest.mark.parametrize(
    "question", ["第一百零二条是怎么规定的？", "第102条是怎么规定的？", "第一百〇二条讲什么"]
)
def test_an_article_named_in_any_numerals_is_quoted(answerer, question: str) -> None:
    answer = answerer.answer(question)
    assert not answer.declined
    assert answer.citations[0].section.endswith("第一百〇二条")
    assert "第一百〇二条 本条例自公布之日起施行。" in answer.text


def test_a_named_article_is_quoted_whole_and_other_documents_are_listed(answerer) -> None:
    answer = answerer.answer("北京的办理条例第5条是怎么规定的？")
    first = answer.citations[0]
    assert first.title == "北京市人民代表大会代表建议办理条例（示例）" and first.section.endswith("第五条")
    assert (
        first.quote == first.text and len(first.quote) > 220
    )  # the whole article, longer than an ordinary quote
    assert "并再次答复代表。" in answer.text and "（一）涉及多个部门" in answer.text
    answer = answerer.answer("第五条是怎么规定的？")
    assert answer.citations[0].section.endswith("第五条")
    others = {"上海市人民代表大会代表建议办理规定（示例）", "北京市人民代表大会代表建议办理条例（示例）"}
    other = (others - {answer.citations[0].title}).pop()
    assert f"其他文件中也有这一条：《{other}》" in answer.text


def test_the_place_named_decides_whose_rule_answers(answerer) -> None:
    beijing = answerer.answer("北京的代表建议多长时间内要答复？")
    assert beijing.citations[0].title.startswith("北京市")
    shanghai = answerer.answer("上海的代表建议多长时间内要答复？")
    assert shanghai.citations[0].title.startswith("上海市")


def test_a_body_the_documents_do_not_cover_is_declined(answerer) -> None:
    answer = answerer.answer("政协委员的提案多长时间内要答复？")
    assert answer.declined and not answer.citations
    assert answer.meta["signals"]["log_penalty"] < 0


def test_colloquial_words_find_the_formal_text(answerer) -> None:
    assert "辞去" in formalize("人大代表不想干了怎么办") and "答复" in formalize("多久能给个说法")
    assert len(lexicon()) >= 300
    answer = answerer.answer("上海的人大代表不想干了要怎么弄")
    assert not answer.declined
    assert answer.citations[0].section.endswith("第六条")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("<b>test</b> & <script>", "not_a_question"),
        ("😀😀😀", "not_a_question"),
        ("？？", "not_a_question"),
        ("asdf qwer", "not_a_question"),
        ("你好", "greeting"),
        ("谢谢！", "thanks"),
        ("第5条", "question"),
        ("<b>提案</b>什么时候截止", "question"),
    ],
)
def test_input_kinds(text: str, kind: str) -> None:
    assert classify(text) == kind


def test_markup_and_greetings_never_get_a_quote(answerer) -> None:
    for text in ("<b>test</b> & <script>", "🙂", "您好"):
        answer = answerer.answer(text)
        assert answer.declined and not answer.citations and "相关原文如下" not in answer.text
    assert "您好" in answerer.answer("您好").text


def test_json_carries_the_decision_and_why(answerer) -> None:
    data = json.loads(
        json.dumps(answerer.answer("北京的代表建议多长时间内要答复？").to_json(), ensure_ascii=False)
    )
    assert data["mode"] == "extractive" and not data["declined"] and data["why"] == "证据充分"
    assert {"evidence", "coverage", "log_penalty"} <= set(data["signals"])
    declined = answerer.answer("政协委员的提案多长时间内要答复？").to_json()
    assert (
        declined["declined"] and declined["confidence"] < data["confidence"] and declined["why"] != "证据充分"
    )


DAIBIAO_LAW = """中华人民共和国代表法（示例）

第一条 为保证代表依法行使职权，制定本法。

第二条 代表依照法律规定选举产生。
"""

ZHEJIANG = """浙江省实施《中华人民共和国代表法（示例）》办法

第一条 根据《中华人民共和国代表法》，结合本省实际，制定本办法。

第二条 本省各级人民代表大会代表依法执行代表职务。

第三条 代表应当与原选区选民保持密切联系。
"""


@pytest.fixture(scope="module")
def law_answerer(tmp_path_factory):
    """A national law and a province's implementing rules whose title contains the law's name."""
    from bot.knowledge.ingest import ingest_paths
    from bot.services import build_services
    from bot.settings import Settings

    root = tmp_path_factory.mktemp("laws")
    docs = root / "docs"
    docs.mkdir()
    (docs / "代表法.txt").write_text(DAIBIAO_LAW, encoding="utf-8")
    (docs / "浙江办法.txt").write_text(ZHEJIANG, encoding="utf-8")
    (docs / "上海.txt").write_text(SHANGHAI, encoding="utf-8")
    settings = Settings(_env_file=None, data_dir=root / "data", index_dir=root / "index", dense_index=False)
    assert ingest_paths([docs], settings, progress=False).ok
    return build_services(settings).answerer


@pytest.mark.parametrize("question", ["代表法第二条", "代表法第2条是怎么规定的", "《代表法》第二条"])
def test_a_short_name_names_the_law_not_the_rules_that_quote_it(law_answerer, question: str) -> None:
    answer = law_answerer.answer(question)
    assert answer.citations[0].title == "中华人民共和国代表法（示例）"
    assert answer.citations[0].section == "第二条"


def test_a_named_law_without_the_article_says_so(law_answerer) -> None:
    answer = law_answerer.answer("代表法第三条是怎么规定的")  # only the 浙江 rules have a 第三条
    assert answer.declined and not answer.citations
    assert "《中华人民共和国代表法（示例）》中没有第三条" in answer.text
    assert answer.meta["mode"] == "article_missing"


def test_every_numeral_form_orders_the_documents_alike(law_answerer) -> None:
    firsts = {
        q: (law_answerer.answer(q).citations[0].title, law_answerer.answer(q).text)
        for q in ("第二条是什么", "第2条是什么", "第２条是什么", "第二條是什麼")
    }
    assert len({title for title, _ in firsts.values()}) == 1
    assert (
        len({text.split("其他文件中也有这一条")[-1] for q, (_, text) in firsts.items() if "是什么" in q}) == 1
    )


def test_thanks_get_thanks(answerer) -> None:
    answer = answerer.answer("谢谢！")
    assert answer.meta["mode"] == "thanks" and "不客气" in answer.text and not answer.citations


def test_emoji_and_markup_do_not_change_the_answer(answerer) -> None:
    from bot.answering.intake import searchable

    assert searchable("代表任期几年？😀👍🏻") == "代表任期几年？"
    assert searchable("<b>北京</b>的代表建议&amp;答复") == "北京 的代表建议&答复"
    plain = answerer.answer("北京的代表建议多长时间内要答复？")
    decorated = answerer.answer("北京的代表建议多长时间内要答复？😀🙏")
    assert [c.chunk_id for c in decorated.citations] == [c.chunk_id for c in plain.citations]


@pytest.mark.parametrize(
    ("question", "unit"),
    [("委员年度履职报告要写多少字？", "字"), ("每年要参加多少学时的培训", "学时"), ("几天内要答复", "天"),
     ("听证会每人发多少补贴", "元"), ("最多去几个人", "人"), ("提案的截止时间是什么时候", None),
     # money named before the question word; the question's own 「一个月」 is not what is asked
     ("政协委员一个月工资多少", "元"), ("委员一个月有多少工资", "元"), ("委员的补贴标准是多少？", "元"),
     ("参加视察一年能拿多少钱", "元"), ("一个月内要答复几件", "件")],
)  # fmt: skip
def test_the_unit_a_question_asks_in(question: str, unit: str | None) -> None:
    from bot.knowledge.retrieval import asked_unit

    assert asked_unit(question) == unit


def test_a_number_in_an_answering_unit_counts() -> None:
    from bot.knowledge.retrieval import has_unit_answer

    assert has_unit_answer("天", "应当自交办之日起十五日内答复")  # 日 answers 几天
    assert has_unit_answer("人", "代表人数不得超过5人")
    assert has_unit_answer("学时", "每年培训不少于40课时")
    assert not has_unit_answer("字", "应当自交办之日起三个月内答复代表")
    assert not has_unit_answer("天", "代表要求辞去代表职务的，应当书面提出")


def test_a_quantity_no_passage_gives_is_declined(answerer) -> None:
    """The passages share the question's words (代表建议, 答复) but none gives a count in 字: decline, say why."""
    answer = answerer.answer("上海的代表建议答复要写多少字？")
    assert answer.declined and not answer.citations
    assert answer.meta["signals"]["unit_miss"] == 1.0 and "字" in answer.meta["why"]
    assert not answerer.answer("上海的代表建议几个月内要答复？").declined  # 三个月 answers it
    # 「三个月内」「一个月」 are no amount of money: the salary question is declined, not answered with a deadline
    salary = answerer.answer("代表一个月工资多少？")
    assert salary.declined and salary.meta["signals"]["unit_miss"] == 1.0 and "元" in salary.meta["why"]


def test_a_date_does_not_answer_how_long() -> None:
    """「多长时间内」 asks a span: an adoption note's dates (「1995年9月22日…通过」) are no answer to it (over the ten
    regulations its article was quoted beside the one that gives the span); 「什么时候」 is answered by a date."""
    from bot.knowledge.retrieval import answer_type_bonus

    note = (
        "第三十四条 本条例自公布之日起施行。1995年9月22日北京市第十届人民代表大会常务委员会第二十次会议通过"
    )
    assert answer_type_bonus("代表建议应当在多长时间内办理完毕？", note) == 0.0
    assert answer_type_bonus("代表建议应当在多长时间内办理完毕？", "自交办之日起三个月内答复代表") == 1.0
    assert answer_type_bonus("这个条例是什么时候通过的？", note) == 1.0


def test_a_named_thing_no_passage_names_is_declined(answerer) -> None:
    answer = answerer.answer("上海的代表建议通过哪个网上系统提交？")
    assert answer.declined and answer.meta["signals"]["thing_miss"] == 1.0


def test_a_law_quoted_in_another_title_names_the_law(tmp_path) -> None:
    """「代表法规定…」 asks the law, not the province's rules whose title quotes it (浙江省实施《…代表法》办法)."""
    from bot.knowledge.ingest import ingest_paths
    from bot.services import build_services
    from bot.settings import Settings

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "law.txt").write_text(
        "中华人民共和国代表法（示例）\n\n第五条 代表建议由有关机关研究办理，并自交办之日起三个月内答复。\n",
        encoding="utf-8",
    )
    (docs / "zj.txt").write_text(
        "浙江省实施《中华人民共和国代表法（示例）》办法\n\n"
        "第九条 代表建议的答复时间：代表建议应当自交办之日起三个月内答复，代表对答复不满意的，可以要求再次答复。\n",
        encoding="utf-8",
    )
    settings = Settings(
        _env_file=None, data_dir=tmp_path / "data", index_dir=tmp_path / "index", dense_index=False
    )
    assert ingest_paths([docs], settings, progress=False).ok
    answer = build_services(settings).answerer.answer("代表法规定代表建议多长时间内答复？")
    assert answer.citations[0].title == "中华人民共和国代表法（示例）"
