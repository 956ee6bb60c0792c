"""The `lvzhi ingest` (also used by the top-level ingest.py) and `lvzhi vectors` sub-commands."""

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
    from bot.knowledge.ingest import ingest_service
    from bot.settings import Settings

    settings = Settings()  # a setting that cannot be read is explained by bot.cli.run_command
    try:
        if args.index is not None:
            settings = settings.model_copy(update={"index_dir": args.index})
        report, vectors_message = ingest_service(
            args.paths, settings, prune=args.prune, progress=not args.no_progress
        )
    except Exception as exc:  # never a traceback for the user; details go to the debug log
        log.debug("导入失败", exc_info=True)
        print(f"导入失败：{type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    print(report.summary_zh())
    if vectors_message:
        print(vectors_message)
    return 0 if report.ok else 1


def run_vectors(args: argparse.Namespace) -> int:
    """`lvzhi vectors`: complete the dense vectors of an index (resumes where a stopped run left off)."""
    from bot.knowledge.background_vectors import VectorBuilder, VectorsBusy, vector_status
    from bot.settings import Settings

    settings = Settings()
    if args.index is not None:
        settings = settings.model_copy(update={"index_dir": args.index})
    if not settings.dense_index:
        print("向量索引已关闭（LVZHI_DENSE_INDEX=false），无需生成向量。")
        return 0
    try:
        builder = VectorBuilder(settings, progress=not args.no_progress)
        if args.status:
            done, total = vector_status(settings.resolved_index_dir, builder.identity)
            print(f"向量进度：{done}/{total} 个文档已完成（模型 {builder.identity}）。")
            return 0 if done == total else 1
        report = builder.run()
    except VectorsBusy as exc:
        print(f"{exc}，本次不再重复生成。", file=sys.stderr)
        return 1
    except Exception as exc:  # never a traceback for the user; details go to the debug log
        log.debug("生成向量失败", exc_info=True)
        print(f"生成向量失败：{type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    print(report.summary_zh())
    return 0 if report.complete else 1


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
    """Register `lvzhi ingest`, `lvzhi vectors` and `lvzhi kb check`."""
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
        "ingest",
        help="把文档导入知识库",
        description="把文档（txt/md/html/docx/doc/wps/pdf/ofd 及扫描图片）导入知识库",
    )
    add_ingest_arguments(parser)
    parser.set_defaults(func=run_ingest)
    vectors = subparsers.add_parser(
        "vectors",
        help="生成（或继续生成）知识库的向量",
        description="为知识库中还没有当前嵌入模型向量的文档生成向量；中断后再运行会接着做",
    )
    vectors.add_argument(
        "--index", type=Path, default=None, metavar="DIR", help="知识库索引目录（默认取设置中的位置）"
    )
    vectors.add_argument("--status", action="store_true", help="只显示进度，不生成")
    vectors.add_argument("--no-progress", action="store_true", help="不显示进度条（每个文档输出一行）")
    vectors.set_defaults(func=run_vectors)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the top-level ingest.py."""
    parser = argparse.ArgumentParser(
        prog="ingest.py",
        description="把文档（txt/md/html/docx/doc/wps/pdf/ofd 及扫描图片）导入履职助手知识库",
    )
    add_ingest_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from bot.cli import run_command

    return run_command(run_ingest, args)
