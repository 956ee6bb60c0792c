"""`lvzhi ask` and `lvzhi eval`: questions to the knowledge base from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.answering.types import Answer


def _services(index: Path | None):
    from bot.services import build_services
    from bot.settings import Settings

    settings = Settings()
    if index is not None:
        settings = settings.model_copy(update={"index_dir": index})
    return build_services(settings)


def _check_index(services) -> bool:
    if len(services.knowledge) == 0:
        print(
            f"知识库为空（{services.knowledge.index_dir}）。请先导入文档，例如：lvzhi ingest knowledge/",
            file=sys.stderr,
        )
        return False
    return True


def format_for_person(answer: Answer, show_passages: bool = False) -> str:
    """The answer as a person reads it in a terminal."""
    lines = [answer.text]
    if show_passages:
        lines.append("")
        for i, p in enumerate(answer.passages, 1):
            lines.append(f"[{i}] {p.score:.3f} 《{p.title}》{p.section}\n    {p.text[:120]}")
    return "\n".join(lines)


def run_ask(args: argparse.Namespace) -> int:
    """`lvzhi ask`: one question, or a JSONL batch with --batch."""
    services = _services(args.index)
    if not _check_index(services):
        return 1
    answerer = services.answerer
    if args.batch:
        try:
            lines = Path(args.batch).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            print(f"无法读取批量问题文件：{exc}", file=sys.stderr)
            return 1
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                question = str(row["q"])
            except (json.JSONDecodeError, KeyError, TypeError):
                print(
                    json.dumps(
                        {"line": number, "error": "无法解析：每行应为含 id 和 q 的 JSON 对象"},
                        ensure_ascii=False,
                    )
                )
                continue
            out = {"id": row.get("id"), **answerer.answer(question).to_json()}
            print(json.dumps(out, ensure_ascii=False), flush=True)
        return 0
    question = " ".join(args.question).strip()
    if not question:
        print('请提供问题，例如：lvzhi ask "提案的截止时间是什么时候？"', file=sys.stderr)
        return 1
    answer = answerer.answer(question)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        print(format_for_person(answer, args.passages))
    return 0


def run_eval(args: argparse.Namespace) -> int:
    """`lvzhi eval FILE.jsonl`: retrieval and answer metrics as a table."""
    from bot.answering.evaluation import judge, load_items, summarize

    try:
        items = load_items(args.file)
    except (OSError, json.JSONDecodeError, KeyError) as exc:
        print(f"无法读取评测文件：{exc}", file=sys.stderr)
        return 1
    services = _services(args.index)
    if not _check_index(services):
        return 1
    answerer = services.answerer
    answerer.answer("预热")  # first-call costs are start-up, not query time
    results = [judge(item, answerer.answer(item.q)) for item in items]
    metrics = summarize(results)
    if args.json:
        print(json.dumps(metrics.__dict__, ensure_ascii=False))
    else:
        print(metrics.table())
    if args.verbose_items:
        for r in results:
            status = "declined" if r.declined else f"rank={r.rank}"
            print(f"{r.item.id}\t{status}\tevidence={r.evidence:.3f}\t{r.item.q}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Register `lvzhi ask` and `lvzhi eval`."""
    ask = subparsers.add_parser("ask", help="向知识库提问", description="向知识库提问，回答附原文出处")
    ask.add_argument("question", nargs="*", help="问题")
    ask.add_argument("--json", action="store_true", help="输出一个 JSON 对象")
    ask.add_argument(
        "--batch", type=Path, metavar="FILE.jsonl", help="批量提问：每行一个含 id 和 q 的 JSON 对象"
    )
    ask.add_argument("--passages", action="store_true", help="同时列出检索到的段落")
    ask.add_argument("--index", type=Path, default=None, metavar="DIR", help="知识库索引目录")
    ask.set_defaults(func=run_ask)

    ev = subparsers.add_parser("eval", help="评测检索与回答", description="按 shared/eval 的指标评测")
    ev.add_argument("file", type=Path, metavar="FILE.jsonl")
    ev.add_argument("--index", type=Path, default=None, metavar="DIR", help="知识库索引目录")
    ev.add_argument("--json", action="store_true", help="输出 JSON")
    ev.add_argument("--items", dest="verbose_items", action="store_true", help="逐题列出结果")
    ev.set_defaults(func=run_eval)
