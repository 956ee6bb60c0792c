"""The result of an ingest run and its Chinese summary."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class IngestReport:
    """What an ingest run did, file by file."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    duplicates: list[tuple[str, str]] = field(
        default_factory=list
    )  # (file, title of the document it repeats)
    reembedded: list[str] = field(default_factory=list)  # doc ids re-embedded for a new embedding model
    ocr: list[str] = field(default_factory=list)  # doc ids (added or updated) read wholly or partly by OCR
    chunks_written: int = 0  # chunks embedded and indexed in this run
    chunk_total: int = 0  # chunks in the knowledge base after the run
    doc_total: int = 0
    seconds: float = 0.0

    def skip(self, file: str, reason: str) -> None:
        """Record a file that could not be ingested."""
        self.skipped.append((file, reason))

    @property
    def ok(self) -> bool:
        """True when the knowledge base is usable after the run (something went in or is already there)."""
        return bool(
            self.added or self.updated or self.unchanged or self.removed or self.reembedded or self.duplicates
        )

    def summary_zh(self) -> str:
        """A closing summary for people, in Simplified Chinese."""
        lines = [
            f"导入完成：新增 {len(self.added)} 个文件，更新 {len(self.updated)} 个，未变化 {len(self.unchanged)} 个，"
            f"移除 {len(self.removed)} 个，跳过 {len(self.skipped)} 个"
            + (f"，重复 {len(self.duplicates)} 个。" if self.duplicates else "。"),
            f"本次写入 {self.chunks_written} 个片段；知识库现有 {self.doc_total} 个文档、{self.chunk_total} 个片段；"
            f"用时 {self.seconds:.1f} 秒。",
        ]
        if self.reembedded:
            lines.append(f"嵌入模型已更换：{len(self.reembedded)} 个文档的向量已按新模型重新生成。")
        if self.ocr:
            lines.append(f"其中 {len(self.ocr)} 个文件经文字识别（OCR）导入，请核对原文：")
            lines.extend(f"  OCR：{item}" for item in self.ocr)
        for name, label in ((self.added, "新增"), (self.updated, "更新"), (self.removed, "移除")):
            for item in name:
                lines.append(f"  {label}：{item}")
        if self.duplicates:
            lines.append("以下文件与知识库中已有的文档内容相同，未重复导入：")
            lines.extend(f"  - {file}：与《{title}》内容相同，已跳过" for file, title in self.duplicates)
        if self.skipped:
            lines.append("以下文件被跳过：")
            lines.extend(f"  - {file}：{reason}" for file, reason in self.skipped)
        if not self.ok:
            lines.append("没有任何文件导入成功，请检查上面列出的原因。")
        return "\n".join(lines)
