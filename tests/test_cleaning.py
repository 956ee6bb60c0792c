"""Cleaning of web boilerplate and broken lines, on the shared seed documents and small cases."""

from __future__ import annotations

from pathlib import Path

from bot.knowledge.cleaning import clean_text, guess_title
from bot.knowledge.loaders import load_document


def _seed(seeds_dir: Path, prefix: str) -> Path:
    return next(seeds_dir.glob(f"{prefix}_*.txt"))


def test_seed_001_traditional_web_junk_removed_content_kept(seeds_dir: Path) -> None:
    doc = load_document(_seed(seeds_dir, "001"))
    lines = doc.text.split("\n")
    title = "加強政協機關幹部隊伍建設在全市政協系統祕書長(辦公室主任)工作會上的的講話"
    assert doc.title == title
    assert lines[0] == title
    assert lines.count(title) == 1  # the repeated title lines are gone
    for junk in ("網站首頁", "當前位置", "欄目:", "發佈於", "人氣", "本站小編", "歡迎大家閲讀"):
        assert junk not in doc.text, junk
    assert lines[1] == "同志們:"
    assert lines[2].startswith("經市政協黨組同意,今天我們召開全市政協系統祕書長(辦公室主任)工作會議")
    assert "一、提高政治站位,增強政治定力,準確把握政協機關的基本屬性和工作定位。" in lines
    assert lines[-1].startswith("同志們,政協機關工作責任重大")
    assert "\n\n" not in doc.text and "\u00a0" not in doc.text


def test_seed_003_mid_sentence_breaks_joined_headings_kept(seeds_dir: Path) -> None:
    lines = load_document(_seed(seeds_dir, "003")).text.split("\n")
    joined = [
        "二是提升协商议政质效,优化协商环节。",
        "组建自治区政协宣教中心,构建政协机关大宣传格局。",
        "二是委员培训有力有效。",
        "落实中央八项规定及其实施细则精神。",
        "用团结联合汇聚双向发力合力。牢牢把握团结民主两大主题,积极推进横向联动、纵深联谊。",
        "建立办公厅、专委会处(室)牵头重要工作制度。",
    ]
    for phrase in joined:
        assert any(phrase in line for line in lines), phrase
    for fragment in ("协商议政质效", "心,构建政协机关大宣传格局。", "实施细则精神。", "联谊。"):
        assert not any(line.startswith(fragment) for line in lines), fragment
    # headings and speaker lines stay on their own
    for own_line in (
        "加强政协机关党的建设,提升服务专门协商机构工作效能",
        "把准职能定位 打造模范机关",
        "山西省政协秘书长 张岐云",
        "一、筑牢政治机关之魂,确保政治坚定“过得硬”",
        "三、健全制度机制,坚持守正创新,推动服务工作全面提质增效",
        "编者按:",
    ):
        assert own_line in lines, own_line


def test_seed_000_preview_line_dropped(seeds_dir: Path) -> None:
    doc = load_document(_seed(seeds_dir, "000"))
    lines = doc.text.split("\n")
    assert doc.title == "在全市政协系统办公室工作会议上的讲话"
    assert lines[:3] == ["在全市政协系统办公室工作会议上的讲话", "同志们：", lines[2]]
    assert lines[2].startswith("今天，市政协召开全市政协系统办公室工作会议。")
    assert not any(line.endswith("...") for line in lines)


def test_seed_002_title_and_paragraphs(seeds_dir: Path) -> None:
    doc = load_document(_seed(seeds_dir, "002"))
    assert doc.title == "增强政治意识 提升服务效能"
    assert doc.text.split("\n")[1] == "——在全省市州政协秘书长工作会议上的发言"


def test_headings_numbering_and_short_lines_not_joined() -> None:
    text = "\n".join(
        [
            "第一章 总则",
            "第一条 为了规范提案工作",
            "制定本办法。",
            "（一）案由",
            "（二）具体建议",
            "1. 在线提交",
            "2. 纸质提交",
            "附件",
            "联系电话 000-0101",
            "一、工作要求",
            "各单位要按照本办法的要求，认真做好提案办理工作，办理结果要及时反馈给提案人，做到件件有着落",
            "事事有回音。",
        ]
    )
    assert clean_text(text).split("\n") == [
        "第一章 总则",
        "第一条 为了规范提案工作制定本办法。",
        "（一）案由",
        "（二）具体建议",
        "1. 在线提交",
        "2. 纸质提交",
        "附件",
        "联系电话 000-0101",
        "一、工作要求",
        "各单位要按照本办法的要求，认真做好提案办理工作，办理结果要及时反馈给提案人，做到件件有着落事事有回音。",
    ]


def test_trailing_web_junk_and_page_numbers_removed() -> None:
    body = [f"第{n}段内容，这是正文的一句话。" for n in "一二三四五六七八"]
    text = "\n".join(
        ["提案工作简报", *body[:4], "- 2 -", "第 3 页 共 9 页", *body[4:], "上一篇：关于召开会议的通知", "相关推荐",
         "2023年政协工作总结范文", "政协委员述职报告", "Copyright © 2024 范文网"]
    )  # fmt: skip
    assert clean_text(text).split("\n") == ["提案工作简报", *body]


def test_spaces_normalised_paragraphs_single_newline() -> None:
    text = "标题\u3000\u3000一\n\n\n  正文\u00a0第一句， \t 第二句。  \r\n\r\n结尾。"
    assert clean_text(text) == "标题 一\n正文 第一句， 第二句。\n结尾。"


def test_guess_title_falls_back_to_file_name() -> None:
    assert guess_title("同志们：\n今天开会。", "讲话稿") == "讲话稿"
    assert guess_title("这是一段很长的正文" * 10, "讲话稿") == "讲话稿"
    assert guess_title("关于加强委员服务的意见\n正文。", "x") == "关于加强委员服务的意见"


def test_recurring_lines_are_content_and_blank_lines_break_paragraphs() -> None:
    text = (
        "第一章 委员的增补\n第一节 一般规定\n第二条 不得增补的情形：\n（三）法律、法规规定的其他情形。\n"
        "第二章 委员的撤销\n第一节 一般规定\n第三条 应当撤销的情形：\n（三）法律、法规规定的其他情形。"
    )
    lines = clean_text(text).split("\n")
    assert lines.count("第一节 一般规定") == 2
    assert lines.count("（三）法律、法规规定的其他情形。") == 2
    first = "委员应当按时参加全体会议和常委会议并认真履行委员职责不得无故缺席有关会议活动"
    second = "因故不能参加的应当事先向秘书长书面请假并说明理由经批准后方可不参加有关会议"
    assert clean_text(f"{first}\n{second}") == first + second  # a line broken mid-sentence is joined...
    # ...a blank line ends a paragraph
    assert clean_text(f"{first}\n\n{second}").split("\n") == [first, second]
