"""HTML of the campaign pages: the list rows, the create form, and the report body with its charts."""

from __future__ import annotations

import math
from html import escape

from bot.campaigns import charts, service
from bot.campaigns.report import CampaignReport
from bot.channels.web.staff.pages import web_page
from bot.staff.texts import t

ANSWERS_PER_PAGE = 50
STATES = ("pending", "sending", "sent", "failed", "blocked", "unknown")


def audience_options(selected: str) -> str:
    """The <option>s of the audience select."""
    return "".join(
        f'<option value="{key}"{" selected" if key == selected else ""}>{escape(label)}</option>'
        for key, label in service.AUDIENCES.items()
    )


def create_form(csrf: str, known: list[str], form: dict, errors: dict[str, str] | None = None) -> str:
    """The create form, filled with what was typed when a submission was refused, the error next to its field."""
    from bot.channels.web.staff.forms import field_vars

    return web_page(
        "campaign_form", csrf=csrf, title=form.get("title", ""), description=form.get("description", ""),
        audiences_html=audience_options(form.get("audience", "members")), sectors=form.get("sectors", ""),
        known_sectors="、".join(known) or "（暂无）", start=form.get("start", ""), end=form.get("end", ""),
        **field_vars(errors or {}, "title", "audience", "sectors", "start", "end"),
    )  # fmt: skip


def list_rows(rows: list[dict]) -> str:
    """One table row per campaign."""
    return "\n".join(web_page("campaign_row", **row) for row in rows)


def links_html(links: dict[str, str]) -> str:
    """The campaign's t.me deep link and web-chat link."""
    names = {"telegram": "Telegram 链接", "web": "网页链接"}
    return (
        "".join(
            f'<li>{names[k]}：<a id="link-{k}" href="{escape(url, quote=True)}">{escape(url)}</a></li>'
            for k, url in links.items()
        )
        or f"<li>{t('web_none')}</li>"
    )


def actions_html(campaign_id: int, raw_status: str, csrf: str, until: str = "") -> str:
    """The open and close buttons (open also reopens with a new end)."""
    out = [web_page("campaign_open", id=campaign_id, csrf=csrf, until=until)]
    if raw_status != "closed":
        out.append(web_page("campaign_close", id=campaign_id, csrf=csrf))
    return "\n".join(out)


def broadcast_html(campaign_id: int, counts: dict[str, int], csrf: str, bcast) -> str:
    """Recipients per state, what the background run is doing, and the button (or the CLI command)."""
    if bcast.running(campaign_id):
        state = t("web_campaign_b_running")
    elif campaign_id in bcast.errors:
        state = t("web_campaign_b_error", error=bcast.errors[campaign_id])
    elif not counts:
        state = t("web_campaign_b_none")
    else:
        state = t("web_campaign_b_idle")
    if counts.get("unknown"):
        state += "<br>" + t("web_campaign_b_unknown", n=counts["unknown"])
    if bcast.available:
        control = web_page("campaign_broadcast_button", id=campaign_id, csrf=csrf)
    else:
        control = web_page("campaign_broadcast_cli", command=f"lvzhi campaigns broadcast {campaign_id}")
    numbers = {state_: counts.get(state_, 0) for state_ in STATES}
    return web_page(
        "campaign_broadcast", total=sum(counts.values()), state_html=state, control_html=control, **numbers
    )


def themes_html(rep: CampaignReport) -> str:
    """Each theme with its keyword label, size and representative answers."""
    out = []
    for number, theme in enumerate(rep.themes, 1):
        reps = "".join(
            f'<li><a href="/staff/item/{escape(r["receipt"], quote=True)}">{escape(r["receipt"])}</a> '
            f"{escape(r['text'])}</li>"
            for r in theme.representatives
        )
        out.append(web_page("campaign_theme", number=number, label=theme.label, size=theme.size,
                            representatives_html=reps))  # fmt: skip
    if rep.unclustered:
        out.append(f'<p id="unclustered">{t("web_campaign_unclustered")}：{rep.unclustered} 条</p>')
    return "\n".join(out) or f"<p>{t('web_campaign_no_answers')}</p>"


def theme_counts(rep: CampaignReport) -> list[tuple[str, int]]:
    """(label, size) per theme for the chart, 未归类 last when there are such answers."""
    items = [(f"{n}. {theme.label}", theme.size) for n, theme in enumerate(rep.themes, 1)]
    if rep.unclustered:
        items.append((t("web_campaign_unclustered"), rep.unclustered))
    return items


def answers_html(rep: CampaignReport, page_no: int) -> tuple[str, str]:
    """One page of the answer list and its pager."""
    pages = max(1, math.ceil(len(rep.answers) / ANSWERS_PER_PAGE))
    page_no = min(max(1, page_no), pages)
    chunk = rep.answers[(page_no - 1) * ANSWERS_PER_PAGE : page_no * ANSWERS_PER_PAGE]
    rows = "\n".join(
        web_page("campaign_answer_row", receipt=a.receipt, created=a.created_at, member=a.member or "—",
                 sector=a.sector, category=a.category, theme=a.theme or "—", content=a.content,
                 contact=a.contact, status=a.status)
        for a in chunk
    )  # fmt: skip
    links = []
    base = f"/staff/campaigns/{rep.id}"
    if page_no > 1:
        links.append(f'<a id="prev" href="{base}?page={page_no - 1}#answers">{t("web_prev")}</a>')
    links.append(f"{page_no}/{pages}")
    if page_no < pages:
        links.append(f'<a id="next" href="{base}?page={page_no + 1}#answers">{t("web_next")}</a>')
    return rows, " ".join(links)


def report_body(rep: CampaignReport, description: str, parts: dict[str, str], page_no: int) -> str:
    """The report page: summary, links, actions, broadcast, four charts, themes and the answer list."""
    rows, pager = answers_html(rep, page_no)
    return web_page(
        "campaign_report", id=rep.id, status=rep.status, audience=rep.audience, starts=rep.starts_at,
        ends=rep.ends_at, total=rep.total, description=description,
        links_html=parts["links"], actions_html=parts["actions"], broadcast_html=parts["broadcast"],
        day_chart_html=charts.bar_chart("chart-day", "按日期统计的意见数", rep.by_day),
        sector_chart_html=charts.bar_chart("chart-sector", "按界别统计的意见数", rep.by_sector),
        category_chart_html=charts.bar_chart("chart-category", "按类别统计的意见数", rep.by_category),
        theme_chart_html=charts.bar_chart("chart-theme", "按主题统计的意见数", theme_counts(rep)),
        themes_html=themes_html(rep), answers_html=rows, pager_html=pager,
    )  # fmt: skip
