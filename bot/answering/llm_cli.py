"""The `lvzhi llm` sub-commands: daily usage sums and the follow-up rewriting evaluation."""

from __future__ import annotations

import argparse
from pathlib import Path


def run_usage(args: argparse.Namespace) -> int:
    """Print token and time sums per day."""
    from bot.answering.usage import UsageLog
    from bot.settings import Settings

    days = UsageLog(Settings().data_dir).daily()
    if not days:
        print("还没有大模型用量记录。")
        return 0
    print(
        f"{'日期':<12}{'回答数':>6}{'大模型':>6}{'回退':>6}{'输入词元':>10}{'输出词元':>10}{'总耗时(秒)':>11}{'平均(秒)':>9}"
    )
    for d in days[-args.days :]:
        print(
            f"{d.day:<12}{d.answers:>9}{d.llm:>9}{d.fallback:>8}{d.prompt_tokens:>14}"
            f"{d.completion_tokens:>14}{d.seconds:>15.1f}{d.mean_seconds:>12.2f}"
        )
    return 0


def run_followup_eval(args: argparse.Namespace) -> int:
    """Print R@k of the second turn with and without rewriting."""
    from bot.answering.followup_eval import evaluate, load
    from bot.services import build_services
    from bot.settings import Settings

    services = build_services(Settings())
    llm = services.answerer if args.llm and hasattr(services.answerer, "condense") else None
    if args.llm and llm is None:
        print("未配置大模型（LVZHI_LLM_BASE_URL / LVZHI_LLM_MODEL），只评测规则改写。")
    result = evaluate(services.knowledge, load(args.file), k=args.k, llm=llm)
    names = {"none": "不改写", "rules": "规则改写", "llm": "大模型改写", "oracle": "标准独立问题（上限）"}
    print(f"追问评测：{result.n} 组两轮对话，第二轮的检索效果")
    print(f"  {'方式':<14}{'R@1':>6}{'R@' + str(result.k):>6}{'MRR@' + str(result.k):>8}")
    for key, value in result.recall.items():
        print(
            f"  {names.get(key, key):<14}{result.recall_at_1[key]:>6.2f}{value:>6.2f}{result.mrr[key]:>8.2f}"
        )
    if args.verbose_queries:
        for i, item in enumerate(load(args.file)):
            print(item["id"], " | ".join(result.queries[k][i] for k in result.queries))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Register `lvzhi llm usage` and `lvzhi llm followup-eval`."""
    parser = subparsers.add_parser("llm", help="大模型：用量统计、追问改写评测")
    sub = parser.add_subparsers(dest="llm_command", required=True)
    usage = sub.add_parser("usage", help="按日汇总大模型词元用量和耗时")
    usage.add_argument("--days", type=int, default=31, help="显示最近几天（默认 31）")
    usage.set_defaults(func=run_usage)
    ev = sub.add_parser("followup-eval", help="评测追问改写：第二轮问题的 R@k（改写与不改写）")
    ev.add_argument("--file", type=Path, default=None, help="两轮对话评测集（默认 eval/followup_dev.jsonl）")
    ev.add_argument("-k", type=int, default=5)
    ev.add_argument("--llm", action="store_true", help="同时评测大模型改写（需已配置大模型）")
    ev.add_argument(
        "--show-queries", dest="verbose_queries", action="store_true", help="列出各方式的检索问题"
    )
    ev.set_defaults(func=run_followup_eval)
