"""The campaign report as plain text for the terminal, from the report_* templates of prompts/campaigns.toml."""

from __future__ import annotations

from bot.campaigns.report import CampaignReport
from bot.prompts import render

BAR_WIDTH = 24
SECTIONS = (("日期", "by_day"), ("界别", "by_sector"), ("类别", "by_category"))


def bar(count: int, largest: int, width: int = BAR_WIDTH) -> str:
    """A bar of █ proportional to count (at least one block for a non-zero count)."""
    if largest <= 0 or count <= 0:
        return ""
    return "█" * max(1, round(width * count / largest))


def as_text(report: CampaignReport, answers: int = 20) -> str:
    """Header, counts with bars, themes with representatives, then the first answers."""
    lines = [
        render(
            "campaigns/report_header",
            id=report.id,
            title=report.title,
            status=report.status,
            audience=report.audience,
            starts=report.starts_at,
            ends=report.ends_at,
            total=report.total,
        )
    ]
    for name, attr in SECTIONS:
        counts = getattr(report, attr)
        if not counts:
            continue
        lines.append(render("campaigns/report_section", name=name))
        largest = max(n for _, n in counts)
        width = max(len(label) for label, _ in counts)
        for label, n in counts:
            padded = label + "　" * (width - len(label))
            lines.append(render("campaigns/report_count", label=padded, bar=bar(n, largest), count=n))
    for number, theme in enumerate(report.themes, 1):
        lines.append(
            render("campaigns/report_theme", number=number, label=theme.label or "—", size=theme.size)
        )
        for rep in theme.representatives:
            lines.append(render("campaigns/report_representative", receipt=rep["receipt"], text=rep["text"]))
    if report.unclustered:
        lines.append(render("campaigns/report_unclustered", count=report.unclustered))
    shown = report.answers[: max(0, answers)]
    if shown:
        lines.append(render("campaigns/report_answers", shown=len(shown), total=report.total))
        for a in shown:
            who = f"{a.member}（{a.sector}）" if a.member else a.sector
            text = a.content.replace("\n", " ")[:80]
            lines.append(
                render(
                    "campaigns/report_answer",
                    receipt=a.receipt,
                    created_at=a.created_at,
                    who=who,
                    category=a.category,
                    text=text,
                )
            )
    return "\n".join(lines)
