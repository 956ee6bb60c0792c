"""Web pages read whole and exactly: the main content of government page shapes, without page chrome."""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
import pytest
from conftest import SHARED_DIR
from readability import Document as Readability

from bot.knowledge.html_reader import load_html
from bot.knowledge.loaders import load_document
from bot.knowledge.types import LoadError

FORM_PAGE = """<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<title>青川市政协提案办理协商办法（示例）_青川政协网</title>
<link href="/css/style.css" rel="stylesheet" type="text/css" /><script type="text/javascript">function show(){}</script></head>
<body><form name="form1" method="post" action="./ArticleShow.aspx?id=2048" id="form1">
<div class="aspNetHidden"><input type="hidden" name="__VIEWSTATE" id="__VIEWSTATE" value="/wEPDwULLTE2MTY2ODcyMjlkZA==" /></div>
<table width="1000" border="0" align="center" cellpadding="0" cellspacing="0">
<tr><td><img src="/images/banner.jpg" alt="青川政协网" /></td></tr>
<tr><td class="nav"><a href="/">首页</a> | <a href="/zxyw">政协要闻</a> | <a href="/tagz">提案工作</a> | <a href="/wyfc">委员风采</a> | <a href="/xxgk">信息公开</a> | <a href="/lxwm">联系我们</a></td></tr>
<tr><td><table width="100%"><tr>
<td width="220" valign="top" class="left">
  <table width="100%"><tr><td class="lmtitle">栏目导航</td></tr>
  <tr><td><a href="/tzgg">通知公告</a></td></tr><tr><td><a href="/zxyw">政协要闻</a></td></tr><tr><td><a href="/tagz">提案工作</a></td></tr></table>
  <table width="100%"><tr><td class="lmtitle">通知公告</td></tr>
  <tr><td><a href="/a/1">关于召开市政协十届三次常委会议的通知</a></td></tr>
  <tr><td><a href="/a/2">市政协机关2026年度政府信息公开工作年度报告</a></td></tr></table>
  <input type="text" name="kw" value="请输入关键字" /><input type="submit" value="搜索" />
</td>
<td valign="top">
  <table width="100%"><tr><td class="position">当前位置：<a href="/">首页</a> &gt; <a href="/tagz">提案工作</a> &gt; 正文</td></tr>
  <tr><td align="center"><h2>青川市政协提案办理协商办法（示例）</h2></td></tr>
  <tr><td align="center" class="info">发布时间：2026-04-10 09:30　来源：提案委员会　作者：办公室　浏览次数：<span id="hits">1024</span></td></tr>
  <tr><td class="content" id="zoom">
    <p align="center"><strong>第一章 总则</strong></p>
    <p>第一条 为加强提案办理协商，提高提案办理质量，根据《政协青川市委员会提案工作条例》，制定本办法。</p>
    <p>第二条 提案办理协商应当坚持实事求是、注重实效的原则。</p>
    <p align="center"><strong>第二章 协商方式</strong></p>
    <p>第三条 提案办理协商可以采取以下方式：<br />（一）座谈协商；<br />（二）现场协商；<br />（三）网络协商。</p>
    <p>第四条 承办单位应当在协商后十五个工作日内将办理结果书面答复提案人。</p>
    <table border="1" cellspacing="0"><tr><td>协商方式</td><td>组织单位</td><td>时限</td></tr>
    <tr><td><p>座谈协商</p></td><td><p>提案委员会</p></td><td><p>每季度一次</p></td></tr>
    <tr><td>现场协商</td><td>承办单位</td><td>办理期内</td></tr></table>
    <p>第五条 本办法自印发之日起施行。</p>
  </td></tr>
  <tr><td align="center">【<a href="javascript:window.print()">打印本页</a>】【<a href="javascript:window.close()">关闭窗口</a>】</td></tr>
  </table>
</td></tr></table></td></tr>
<tr><td class="footer">版权所有：政协青川市委员会办公室　地址：青川市人民路1号　电话：0000-0000000<br />备案号：青ICP备00000000号　技术支持：某某网络公司</td></tr>
</table></form></body></html>"""

TABLE_PAGE_GBK = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>青川市政协委员视察工作规则（示例）--青川市政协</title></head>
<body bgcolor="#FFFFFF">
<table width="778" border="0" align="center" cellpadding="0" cellspacing="0">
<tr><td height="25" class="nav"><a href="/">网站首页</a>&nbsp;&nbsp;<a href="/zxgk/">政协概况</a>&nbsp;&nbsp;<a href="/zxyw/">政协要闻</a>&nbsp;&nbsp;<a href="/wyzj/">委员之家</a>&nbsp;&nbsp;<a href="/tzgg/">通知公告</a></td></tr>
<tr><td height="25">您现在的位置：<a href="/">首页</a> &gt;&gt; <a href="/tzgg/">通知公告</a> &gt;&gt; 正文</td></tr>
</table>
<table width="778" border="0" align="center" cellpadding="0" cellspacing="0">
<tr><td width="180" valign="top">
<table width="100%"><tr><td><b>热点文章</b></td></tr>
<tr><td>·<a href="/a/11.html">市政协召开主席会议</a></td></tr>
<tr><td>·<a href="/a/12.html">委员视察城区污水处理厂建设</a></td></tr>
<tr><td>·<a href="/a/13.html">市政协机关开展志愿服务活动</a></td></tr></table>
</td>
<td width="598" valign="top">
<table width="100%" border="0" cellspacing="0" cellpadding="0">
<tr><td height="40" align="center"><font size="4"><b>青川市政协委员视察工作规则（示例）</b></font></td></tr>
<tr><td align="center">作者：市政协办公室&nbsp;&nbsp;来源：本站原创&nbsp;&nbsp;点击数：88&nbsp;&nbsp;更新时间：2026-1-5</td></tr>
<tr><td class="zw">
&nbsp;&nbsp;&nbsp;&nbsp;第一条 为规范委员视察工作，制定本规则。<br>
&nbsp;&nbsp;&nbsp;&nbsp;第二条 委员视察由市政协办公室统一组织，一般每年安排两次。<br>
&nbsp;&nbsp;&nbsp;&nbsp;第三条 视察结束后，视察组应当在十五个工作日内提交视察报告，报告一般不超过三千字。<br>
&nbsp;&nbsp;&nbsp;&nbsp;第四条 本规则自公布之日起施行。
</td></tr>
<tr><td align="right">【<a href="#" onclick="window.print()">打印本页</a>】【<a href="#" onclick="window.close()">关闭窗口</a>】</td></tr>
<tr><td>上一篇：<a href="/a/9.html">青川市政协委员履职档案管理办法</a><br>下一篇：<a href="/a/11.html">市政协召开主席会议</a></td></tr>
</table>
</td></tr></table>
<table width="778" align="center"><tr><td align="center">Copyright &copy; 2026 青川市政协 All Rights Reserved　版权所有</td></tr></table>
</body></html>"""

ARTICLE_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>关于加强委员履职服务的意见（示例） - 青川市政协</title></head>
<body>
<header class="site-header"><div class="logo">青川市政协</div>
<nav><ul><li><a href="/">首页</a></li><li><a href="/news/">政协要闻</a></li><li><a href="/ta/">提案工作</a></li><li><a href="/wy/">委员风采</a></li><li><a href="/ll/">理论研究</a></li></ul></nav></header>
<div class="breadcrumb"><a href="/">首页</a> &gt; <a href="/news/">政协要闻</a> &gt; 正文</div>
<main><article>
<h1>关于加强委员履职服务的意见（示例）</h1>
<div class="info"><div>发布时间：2026-05-18</div> <div>来源：市政协办公室</div> <div>字号：<a href="#">大</a> <a href="#">中</a> <a href="#">小</a></div></div>
<div class="content">
<p>为进一步做好委员履职服务工作，现提出如下意见。</p>
<h3>一、总体要求</h3>
<p>坚持以人民为中心，围绕中心、服务大局，不断提高履职服务的针对性和实效性。</p>
<h3>二、主要任务</h3>
<p>（一）完善委员联络机制。各专门委员会每半年至少召开一次委员座谈会。</p>
<p>（二）健全履职档案。委员履职情况按年度记入履职档案，作为评先评优的重要依据。</p>
<p>（三）加强学习培训。每年组织委员集中学习不少于两次。</p>
</div>
<div class="share">分享到：<a href="#">微信</a> <a href="#">微博</a></div>
<div class="pager"><p>上一篇：<a href="/a/100.html">市政协召开十届十次主席会议</a></p><p>下一篇：<a href="/a/102.html">市政协开展“委员进社区”活动</a></p></div>
</article>
<section class="related"><h3>相关文章</h3><ul>
<li><a href="/a/90.html">市政协召开委员履职服务工作座谈会</a><span>2026-04-02</span></li>
<li><a href="/a/91.html">委员履职档案管理办法解读</a><span>2026-03-15</span></li>
<li><a href="/a/92.html">市政协举办新任委员培训班</a><span>2026-02-20</span></li></ul></section>
</main>
<footer><p>版权所有 © 2026 青川市政协　青ICP备00000000号</p><p>主办：政协青川市委员会办公室</p></footer>
</body></html>"""

DIV_CONTENT_BIG5 = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=big5">
<title>青川市政協委員請假規定（示例）｜青川市政協</title></head>
<body>
<div id="top"><ul class="menu"><li><a href="/">首頁</a></li><li><a href="/news">政協要聞</a></li><li><a href="/law">法規制度</a></li><li><a href="/contact">聯絡我們</a></li></ul></div>
<div class="wrap">
<div class="left"><div class="lm">欄目導航</div><ul><li><a href="/law/1">法規制度</a></li><li><a href="/law/2">規範性文件</a></li><li><a href="/law/3">工作規則</a></li></ul></div>
<div class="right">
<div class="location">當前位置：<a href="/">首頁</a> &raquo; <a href="/law">法規制度</a> &raquo; 正文</div>
<div class="title"><h2>青川市政協委員請假規定（示例）</h2></div>
<div class="meta">發布時間：2026-02-01　來源：秘書處　瀏覽次數：56</div>
<div class="TRS_Editor">
<p>第一條　為規範委員請假，制定本規定。</p>
<p>第二條　委員因故不能出席全體會議的，應當提前三日向秘書長書面請假。<br/>因病請假的，應當附醫療機構證明。</p>
<div>第三條　委員請假超過兩次的，由秘書處通報。</div>
<p>第四條　本規定自印發之日起施行。</p>
</div>
<div class="bottom">上一篇：<a href="/law/8">青川市政協委員履職規則</a>　下一篇：沒有了</div>
</div></div>
<div id="footer">版權所有：青川市政協辦公室　技術支持：某某資訊</div>
</body></html>"""


def _read(html: str, encoding: str = "utf-8", name: str = "page.html"):
    return load_html(html.encode(encoding), Path(name))


def _assert_page(extracted, title: str, present: list[str], absent: list[str]) -> list[str]:
    lines = extracted.text.split("\n")
    assert extracted.title == title
    assert lines[0] == title and lines.count(title) == 1  # the headline opens the text once, never repeats
    for line in present:
        assert line in lines, line
    for junk in absent:
        assert junk not in extracted.text, junk
    return lines


def test_body_inside_one_form_with_layout_tables() -> None:
    lines = _assert_page(
        _read(FORM_PAGE),
        "青川市政协提案办理协商办法（示例）",
        [
            "第一章 总则",
            "第一条 为加强提案办理协商，提高提案办理质量，根据《政协青川市委员会提案工作条例》，制定本办法。",
            "第二章 协商方式",
            "第三条 提案办理协商可以采取以下方式：",
            "（一）座谈协商；",
            "（三）网络协商。",
            "协商方式 | 组织单位 | 时限",
            "座谈协商 | 提案委员会 | 每季度一次",
            "第五条 本办法自印发之日起施行。",
        ],
        [
            "栏目导航",
            "通知公告",
            "首页",
            "政协要闻",
            "发布时间",
            "浏览次数",
            "版权所有",
            "当前位置",
            "打印本页",
            "搜索",
            "备案号",
            "关于召开",
            "__VIEWSTATE",
        ],
    )
    assert lines.index("（三）网络协商。") + 1 == lines.index(
        "第四条 承办单位应当在协商后十五个工作日内将办理结果书面答复提案人。"
    )
    assert lines[-1] == "第五条 本办法自印发之日起施行。"


def test_old_table_layout_gbk_with_br_lines_and_trailer() -> None:
    lines = _assert_page(
        _read(TABLE_PAGE_GBK, "gbk"),
        "青川市政协委员视察工作规则（示例）",
        [
            "第一条 为规范委员视察工作，制定本规则。",
            "第三条 视察结束后，视察组应当在十五个工作日内提交视察报告，报告一般不超过三千字。",
        ],
        [
            "网站首页",
            "您现在的位置",
            "热点文章",
            "点击数",
            "打印本页",
            "上一篇",
            "下一篇",
            "版权所有",
            "Copyright",
            "主席会议",
            "履职档案",
        ],
    )
    assert lines[1:] == [
        "第一条 为规范委员视察工作，制定本规则。",
        "第二条 委员视察由市政协办公室统一组织，一般每年安排两次。",
        "第三条 视察结束后，视察组应当在十五个工作日内提交视察报告，报告一般不超过三千字。",
        "第四条 本规则自公布之日起施行。",
    ]


def test_article_page_with_related_list_and_previous_next_trailer() -> None:
    lines = _assert_page(
        _read(ARTICLE_PAGE),
        "关于加强委员履职服务的意见（示例）",
        [],
        [
            "首页",
            "政协要闻",
            "发布时间",
            "来源：",
            "字号",
            "分享到",
            "上一篇",
            "下一篇",
            "相关文章",
            "新任委员培训班",
            "版权所有",
            "主办",
        ],
    )
    assert lines[1:] == [
        "为进一步做好委员履职服务工作，现提出如下意见。",
        "一、总体要求",
        "坚持以人民为中心，围绕中心、服务大局，不断提高履职服务的针对性和实效性。",
        "二、主要任务",
        "（一）完善委员联络机制。各专门委员会每半年至少召开一次委员座谈会。",
        "（二）健全履职档案。委员履职情况按年度记入履职档案，作为评先评优的重要依据。",
        "（三）加强学习培训。每年组织委员集中学习不少于两次。",
    ]


def test_div_content_page_declared_big5() -> None:
    lines = _assert_page(
        _read(DIV_CONTENT_BIG5, "big5"),
        "青川市政協委員請假規定（示例）",
        [],
        ["首頁", "欄目導航", "當前位置", "發布時間", "瀏覽次數", "上一篇", "版權所有", "規範性文件"],
    )
    assert lines[1:] == [
        "第一條 為規範委員請假，制定本規定。",
        "第二條 委員因故不能出席全體會議的，應當提前三日向秘書長書面請假。",
        "因病請假的，應當附醫療機構證明。",
        "第三條 委員請假超過兩次的，由秘書處通報。",
        "第四條 本規定自印發之日起施行。",
    ]


def test_shared_case_bh04_form_page() -> None:
    path = SHARED_DIR / "cases" / "ingest" / "BH-04" / "政协新闻_ArticleShow.html"
    doc = load_document(path)
    assert doc.title == "青川市政协委员联系群众制度（示例）"
    assert doc.text.split("\n") == [
        "青川市政协委员联系群众制度（示例）",
        "第一条 为密切委员与界别群众的联系，制定本制度。",
        "第二条 每位委员每年至少联系界别群众十人，每季度至少开展一次走访。",
        "第三条 委员收集的群众意见，应当在三十日内整理报送市政协办公室。",
    ]
    for junk in ("栏目导航", "通知公告", "首页", "政协要闻", "发布时间", "浏览次数", "版权所有"):
        assert junk not in doc.text


def test_real_regulation_page_keeps_every_article_whole() -> None:
    path = SHARED_DIR / "corpus" / "regulations" / "重大行政决策程序暂行条例.html"
    extracted = load_html(path.read_bytes(), path)
    # An independent plain reading: all text of the body, articles found at line starts.
    plain = lxml.html.document_fromstring(path.read_text("utf-8")).find("body").text_content()
    articles = re.findall(r"^\s*(第[一二三四五六七八九十百零〇]+条.*)$", plain, re.MULTILINE)
    assert len(articles) == 44
    compact = re.sub(r"\s+", "", extracted.text)
    missing = [a[:12] for a in articles if re.sub(r"\s+", "", a) not in compact]
    assert missing == []
    lines = extracted.text.split("\n")
    assert extracted.title == "重大行政决策程序暂行条例" == lines[0]
    assert "第二章 决策草案的形成" in lines and "第一节 决策启动" in lines
    assert lines[-1] == "第四十四条 本条例自2019年9月1日起施行。"
    assert "国务院令第713号</title>" not in extracted.text and "_国务院令" not in extracted.text


LOST_BY_EXTRACTOR = """<html><head><meta charset="utf-8"><title>青川市政协委员培训办法（示例）_青川政协网</title></head>
<body><div class="nav"><a href="/">首页</a> <a href="/n">政协要闻</a> <a href="/t">提案工作</a></div>
<div class="main"><h1>青川市政协委员培训办法（示例）</h1>
<div class="text">
<p>第一条 为提高委员履职能力，规范委员培训工作，根据有关规定，结合本市实际，制定本办法。</p>
<p>第二条 委员培训坚持学用结合、按需施教、注重实效的原则，每届任期内对每位委员至少轮训一次。</p>
<p>第三条 新任委员应当在任期第一年内参加市政协组织的履职培训，培训时间一般不少于三天。</p>
</div>
<div class="end">第四条 本办法自印发之日起施行。</div>
</div>
<div class="foot">版权所有：青川市政协办公室</div></body></html>"""


def test_article_text_the_extractor_leaves_out_is_recovered() -> None:
    chosen = Readability(LOST_BY_EXTRACTOR).summary(html_partial=True)
    assert "第四条" not in chosen  # the premise: readability alone loses the last article
    lines = _assert_page(
        _read(LOST_BY_EXTRACTOR),
        "青川市政协委员培训办法（示例）",
        ["第三条 新任委员应当在任期第一年内参加市政协组织的履职培训，培训时间一般不少于三天。"],
        ["首页", "政协要闻", "版权所有"],
    )
    assert lines[-1] == "第四条 本办法自印发之日起施行。"


def test_short_page_without_paragraphs_falls_back_to_the_body() -> None:
    html = (
        "<html><head><meta charset='utf-8'><title>会议通知_青川政协网</title></head><body>"
        "<div class='top'><a href='/'>首页</a> <a href='/a'>通知公告</a> <a href='/b'>政协要闻</a></div>"
        "<div><b>会议通知</b></div><div>定于五月十日召开主席会议。</div><div>请准时参加。</div>"
        "<div>市政协办公室</div><div>版权所有 青川政协网</div></body></html>"
    )
    extracted = _read(html)
    assert extracted.title == "会议通知"
    assert extracted.text.split("\n") == [
        "会议通知",
        "定于五月十日召开主席会议。",
        "请准时参加。",
        "市政协办公室",
    ]


def test_title_is_the_headline_not_the_site_logo() -> None:
    html = (
        "<html><head><meta charset='utf-8'><title>关于做好提案办理工作的通知 - 通知公告 - 青川政协网</title></head>"
        "<body><header><h1 class='logo'>青川政协网</h1></header>"
        "<div class='article'><div class='title'>关于做好提案办理工作的通知</div>"
        "<p>各承办单位：为做好今年提案办理工作，现将有关事项通知如下，请认真贯彻落实。</p>"
        "<p>一、提高认识，加强领导，确保按时办结全部提案。</p></div></body></html>"
    )
    extracted = _read(html)
    assert extracted.title == "关于做好提案办理工作的通知"
    assert extracted.text.split("\n")[0] == "关于做好提案办理工作的通知"
    assert "青川政协网" not in extracted.text


def test_xhtml_with_xml_declaration_pre_block_and_hidden_parts() -> None:
    html = (
        '<?xml version="1.0" encoding="gb2312"?>\n<html><head><title>议事规则（示例）</title></head><body>'
        "<div style='display:none'>隐藏的统计代码</div><h2>议事规则（示例）</h2>"
        "<pre>第一条 本规则适用于主席会议。\n第二条 主席会议由主席召集。</pre></body></html>"
    )
    extracted = load_html(html.encode("gb18030"), Path("rules.xhtml"))
    assert extracted.text.split("\n") == [
        "议事规则（示例）",
        "第一条 本规则适用于主席会议。",
        "第二条 主席会议由主席召集。",
    ]


def test_htm_file_and_bad_html_files(tmp_path: Path) -> None:
    page = tmp_path / "page.htm"
    page.write_bytes(FORM_PAGE.encode("utf-8"))
    assert load_document(page).title == "青川市政协提案办理协商办法（示例）"
    binary = tmp_path / "binary.html"
    binary.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(LoadError, match="不是文本"):
        load_document(binary)
    blank = tmp_path / "blank.html"
    blank.write_bytes(b"<html><body><script>var a=1;</script></body></html>")
    with pytest.raises(LoadError, match="没有可用的文字"):
        load_document(blank)


def test_link_box_inside_the_article_is_left_out_with_its_caption() -> None:
    html = (
        "<html><head><meta charset='utf-8'><title>市政协开展委员视察活动_青川政协网</title></head><body>"
        "<div class='main'><h1>市政协开展委员视察活动</h1><div class='content'>"
        "<p>4月15日，市政协组织部分委员视察城区老旧小区改造工作，实地察看了三个小区的改造情况。</p>"
        "<div class='box'><h4>相关阅读</h4><ul><li><a href='/a/1'>市政协召开主席会议</a></li>"
        "<li><a href='/a/2'>委员视察污水处理厂</a></li><li><a href='/a/3'>市政协举办委员培训班</a></li></ul></div>"
        "<p>委员们建议，要加快推进加装电梯工作，切实解决群众出行难问题，并做好后续管理。</p>"
        "<p>详见<a href='/f/1.doc'>改造项目清单</a>，各承办单位应当认真研究办理委员提出的意见建议。</p>"
        "</div></div></body></html>"
    )
    lines = _read(html).text.split("\n")
    assert lines == [
        "市政协开展委员视察活动",
        "4月15日，市政协组织部分委员视察城区老旧小区改造工作，实地察看了三个小区的改造情况。",
        "委员们建议，要加快推进加装电梯工作，切实解决群众出行难问题，并做好后续管理。",
        "详见改造项目清单，各承办单位应当认真研究办理委员提出的意见建议。",
    ]


def test_table_cell_with_running_text_keeps_its_lines() -> None:
    article = "".join(
        f"第{n}条 委员应当按照规定参加本委员会组织的视察、调研和协商活动，认真履行职责，不得无故缺席。<br>"
        for n in "一二三四"
    )
    html = (
        "<html><head><meta charset='utf-8'><title>委员履职规则（示例）</title></head><body>"
        "<table><tr><td>作者：办公室</td><td>来源：本站</td></tr>"
        f"<tr><td colspan='2'>{article}</td></tr>"
        "<tr><td>上一篇：<a href='/1'>甲</a></td><td>下一篇：<a href='/2'>乙</a></td></tr></table></body></html>"
    )
    assert _read(html).text.split("\n") == [
        f"第{n}条 委员应当按照规定参加本委员会组织的视察、调研和协商活动，认真履行职责，不得无故缺席。"
        for n in "一二三四"
    ]
