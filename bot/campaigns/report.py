"""A campaign's report: answers, counts by day, sector, category and theme (clustering.py), and export rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.campaigns import service
from bot.storage.models import Member, Submission
from bot.suggestions.types import catalog

PUBLIC_SECTOR = "（公众）"
SNIPPET = 120
EXPORT_HEADER = ("受理编号", "提交时间", "委员", "界别", "类别", "意见内容", "联系方式", "状态")


@dataclass
class AnswerRow:
    """One answer as the report lists it."""

    receipt: str
    created_at: str
    day: str
    member: str
    sector: str
    category: str
    content: str
    contact: str
    status: str
    theme: int | None = None


@dataclass
class ThemeRow:
    """One theme: its label, size and representative answers."""

    label: str
    size: int
    keywords: list[str]
    representatives: list[dict]


@dataclass
class CampaignReport:
    """Everything the report shows for one campaign."""

    id: int
    title: str
    status: str
    audience: str
    starts_at: str
    ends_at: str
    total: int
    by_day: list[tuple[str, int]]
    by_sector: list[tuple[str, int]]
    by_category: list[tuple[str, int]]
    themes: list[ThemeRow] = field(default_factory=list)
    unclustered: int = 0
    answers: list[AnswerRow] = field(default_factory=list)

    def as_json(self) -> dict:
        """A JSON-ready dict (counts as [label, n] pairs)."""
        return asdict(self)


def _answers_query(campaign_id: int):
    return (
        select(Submission, Member)
        .outerjoin(Member, Member.id == Submission.member_id)
        .where(Submission.type == "campaign", Submission.campaign_id == campaign_id)
        .order_by(Submission.id)
    )


def _row(item: Submission, member: Member | None) -> AnswerRow:
    local = item.created_at.astimezone(service.TIMEZONE)
    return AnswerRow(
        receipt=item.receipt_no,
        created_at=local.strftime("%Y-%m-%d %H:%M"),
        day=local.strftime("%Y-%m-%d"),
        member=member.name if member else "",
        sector=(member.sector or PUBLIC_SECTOR) if member else PUBLIC_SECTOR,
        category=item.category or "",
        content=item.fields.get("content", ""),
        contact=item.fields.get("contact", ""),
        status=catalog().status_label(item.status),
    )


def _counts(values: list[str], ordered: bool = False) -> list[tuple[str, int]]:
    counts = Counter(values)
    if ordered:
        return sorted(counts.items())
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def build(session: Session, campaign_id: int | str, *, cluster: bool = True, seed: int = 0) -> CampaignReport:
    """The report of one campaign; themes come from clustering its answers' text."""
    campaign = service.get(session, campaign_id)
    rows = [_row(item, member) for item, member in session.execute(_answers_query(campaign.id))]
    report = CampaignReport(
        id=campaign.id,
        title=campaign.title,
        status=service.STATUS_LABELS.get(service.status_at(campaign), campaign.status),
        audience=service.audience_of(campaign).describe(),
        starts_at=service.local(campaign.starts_at),
        ends_at=service.local(campaign.ends_at),
        total=len(rows),
        by_day=_counts([r.day for r in rows], ordered=True),
        by_sector=_counts([r.sector for r in rows]),
        by_category=_counts([r.category for r in rows]),
        answers=rows,
    )
    if cluster and rows:
        # scikit-learn and SciPy are imported when a report is first clustered, not at every start
        from bot.campaigns.clustering import cluster_answers

        clustering = cluster_answers([r.content for r in rows], seed=seed)
        for number, theme in enumerate(clustering.themes, 1):
            for index in theme.members:
                rows[index].theme = number
            reps = [
                {"receipt": rows[i].receipt, "text": rows[i].content[:SNIPPET]} for i in theme.representatives
            ]
            report.themes.append(ThemeRow(theme.label, theme.size, list(theme.keywords), reps))
        report.unclustered = len(clustering.unclustered)
    return report


def export_rows(session: Session, campaign_id: int) -> Iterator[tuple]:
    """One row per answer (EXPORT_HEADER order), streamed from the database."""
    stmt = _answers_query(campaign_id).execution_options(yield_per=500)
    for item, member in session.execute(stmt):
        r = _row(item, member)
        yield (r.receipt, r.created_at, r.member, r.sector, r.category, r.content, r.contact, r.status)
