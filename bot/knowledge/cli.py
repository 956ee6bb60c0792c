"""The `lvzhi ingest` sub-command (also used by the top-level ingest.py)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

log = logging.getLogger(__name__)


def add_ingest_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments shared by `lvzhi ingest` and `python ingest.py`."""
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="要导入的文件或文件夹（递归）")
    parser.add_argument(
        "--index", type=Path, default=None, metavar="DIR", help="知识库索引目录（默认取设置中的位置）"
    )
    parser.add_argument("--prune", action="store_true", help="移除这些路径下已被删除的文件对应的文档")
    parser.add_argument("--no-progress", action="store_true", help="不显示进度条")


def run_ingest(args: argparse.Namespace) -> int:
    """Run an ingest from parsed arguments; prints the summary; 0 when the knowledge base is usable."""
    from bot.knowledge.ingest import ingest_paths
    from bot.settings import Settings

    try:
        settings = Settings()
        if args.index is not None:
            settings = settings.model_copy(update={"index_dir": args.index})
        report = ingest_paths(args.paths, settings, prune=args.prune, progress=not args.no_progress)
    except Exception as exc:  # never a traceback for the user; details go to the debug log
        log.debug("导入失败", exc_info=True)
        print(f"导入失败：{type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    print(report.summary_zh())
    return 0 if report.ok else 1


def run_check(args: argparse.Namespace) -> int:
    """`lvzhi kb check`: articles found and intact per document; 0 when all are intact, 1 otherwise."""
    from bot.knowledge.coverage import check_index, format_report
    from bot.settings import Settings

    index_dir = args.index or Settings().resolved_index_dir
    if not (index_dir / "manifest.sqlite3").exists():
        print(f"知识库为空（{index_dir}）。请先导入文档，例如：lvzhi ingest knowledge/", file=sys.stderr)
        return 1
    results = check_index(index_dir)
    print(format_report(results))
    return 0 if all(r.ok for r in results) else 1


def register(subparsers: argparse._SubParsersAction) -> None:
    """Register `lvzhi ingest` and `lvzhi kb check`."""
    kb = subparsers.add_parser("kb", help="知识库维护", description="知识库维护")
    kb_commands = kb.add_subparsers(dest="kb_command", required=True)
    check = kb_commands.add_parser(
        "check",
        help="核对每个文档的条文是否完整收入索引",
        description="逐个文档列出找到的条文、不完整的条文和过长的片段",
    )
    check.add_argument("--index", type=Path, default=None, metavar="DIR", help="知识库索引目录")
    check.set_defaults(func=run_check)
    parser = subparsers.add_parser(
        "ingest", help="把文档导入知识库", description="把文档（txt/md/html/docx/pdf）导入知识库"
    )
    add_ingest_arguments(parser)
    parser.set_defaults(func=run_ingest)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the top-level ingest.py."""
    parser = argparse.ArgumentParser(
        prog="ingest.py", description="把文档（txt/md/html/docx/pdf）导入履职助手知识库"
    )
    add_ingest_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return run_ingest(args)
