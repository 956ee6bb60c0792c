"""Plain-text rendering of a score report, line by line, from the prompts/records.toml catalogue."""

from __future__ import annotations

from bot.prompts import render
from bot.records.engine import ScoreReport, format_points


def render_report(report: ScoreReport) -> str:
    """The explanation a member or staff reads: one line per activity and rule, then the total."""
    lines = [render("records/report_header", year=report.year, version=report.version)]
    for line in report.lines:
        lines.append(
            render(
                "records/report_line",
                date=line.on.isoformat(),
                activity=line.activity_name,
                reference=line.reference or "—",
                rule=f"{line.rule_id} {line.rule_name}" if line.rule_id else "—",
                points=format_points(line.points),
                note=f"（{line.note}）" if line.note else "",
            )
        )
    if not report.lines:
        lines.append(render("records/report_empty"))
    lines.append(render("records/report_total", total=format_points(report.total)))
    return "\n".join(lines)
