"""build_services(settings): the only place where concrete parts are chosen and wired together."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from bot.settings import Settings, get_settings


@dataclass
class Services:
    """Lazily built services; channels and commands take what they need from here."""

    settings: Settings
    _extra: dict = field(default_factory=dict)

    @cached_property
    def knowledge(self):  # -> bot.knowledge.live.LiveKnowledge (a KnowledgeBase that reload() reopens)
        """The knowledge base (lexical + dense indexes) at settings.resolved_index_dir; reload() after a change."""
        from bot.knowledge.base import KnowledgeBase
        from bot.knowledge.live import LiveKnowledge

        return LiveKnowledge(lambda embeddings: KnowledgeBase.open(self.settings, embeddings=embeddings))

    @cached_property
    def answerer(self):  # -> bot.answering.extractive.ExtractiveAnswerer (or an LLM answerer when configured)
        """The question answerer: the office's official answers first, then extractive (or an LLM when configured)."""
        from bot.answering.extractive import ExtractiveAnswerer
        from bot.answering.official import OfficialFirst

        extractive = ExtractiveAnswerer(self.knowledge, self.settings)
        if self.settings.llm_base_url and self.settings.llm_model:
            from bot.answering.llm import LLMAnswerer

            return OfficialFirst(
                LLMAnswerer(self.knowledge, self.settings, fallback=extractive), self.official
            )
        return OfficialFirst(extractive, self.official)

    @cached_property
    def official(self):  # -> bot.answering.official.OfficialAnswers
        """The office's official answers (办公室答复), consulted before retrieval by the answerer."""
        from bot.answering.official import OfficialAnswers

        # changes by staff (here or on another replica) are seen within a second, as a new index version is
        return OfficialAnswers(lambda: self.db, lambda: self.knowledge, recheck_s=1.0)

    @cached_property
    def db(self):  # -> bot.storage.Database
        """The database (SQLite in data_dir or LVZHI_DATABASE_URL), migrated to the latest schema."""
        from bot.storage import Database

        database = Database(self.settings.resolved_database_url)
        database.migrate()
        return database

    @cached_property
    def assistant(self):  # -> bot.chat.assistant.Assistant
        """The channel-neutral conversation core (questions, flows, commands)."""
        from bot.chat.assistant import Assistant

        return Assistant(
            self.db,
            self.answerer,
            idle_minutes=self.settings.flow_idle_minutes,
            rules_dir=self.settings.resolved_rules_dir,
            similar=self.similar,
            staff=self.staff_desk,
            office_contact=self.settings.office_contact,
            knowledge=lambda: self.knowledge,  # 查看整节 (bot/chat/section.py)
        )

    @cached_property
    def broadcasts(self):  # -> bot.campaigns.background.Broadcasts
        """Campaign broadcasts started from the staff pages (`lvzhi serve` attaches its Telegram bot)."""
        from bot.campaigns.background import Broadcasts

        s = self.settings
        return Broadcasts(
            owner=s.resolved_replica_id, lease_s=s.lease_s, rate=min(s.broadcast_rate, s.telegram_max_rate)
        )

    @property
    def answer_patience_s(self) -> float:
        """How long (s) a member's message may run before another starts beside it (bot.channels.pool):
        settings.answer_patience_s, or when unset 0.2 with SQLite and nothing answered over the network (no LLM,
        no Chroma server), else 0."""
        s = self.settings
        if s.answer_patience_s is not None:
            return s.answer_patience_s
        waits = s.llm_base_url or s.chroma_url or not s.resolved_database_url.startswith("sqlite")
        return 0.0 if waits else 0.2

    @cached_property
    def answer_pool(self):  # -> bot.channels.pool.PatientPool
        """The threads that run members' messages (Assistant.handle) for the channels."""
        from bot.channels.pool import PatientPool

        return PatientPool(self.settings.answer_threads, self.answer_patience_s)  # ≥ 1: checked by Settings

    @property
    def shared_limits(self) -> bool:
        """Whether send rates and flood limits live in the database (PostgreSQL: replicas share them)."""
        return self.db.dialect == "postgresql"

    def flood_limiter(self, prefix: str, max_events: int):  # -> FloodLimiter | SharedFloodLimiter
        """A per-key flood limit of `max_events` per settings.flood_window_s: in PostgreSQL (shared by every
        replica; keys prefixed with `prefix`) or in this process on SQLite."""
        window = self.settings.flood_window_s
        if self.shared_limits:
            from bot.storage.shared_limits import SharedFloodLimiter

            return SharedFloodLimiter(self.db, max_events, window, prefix)
        from bot.channels.flood import FloodLimiter

        return FloodLimiter(max_events, window)

    @cached_property
    def staff_desk(self):  # -> bot.staff.chat.StaffDesk
        """Staff in chats: /queue, /reg and the review buttons (bootstrap admins from settings)."""
        from bot.staff.accounts import admin_ids
        from bot.staff.chat import StaffDesk

        return StaffDesk(admin_ids(self.settings.admin_telegram_ids), lambda: self.knowledge)

    @cached_property
    def library(self):  # -> bot.knowledge.library.DocumentLibrary
        """The documents desk: uploads ingested in the background, removal, versions (reloads the knowledge base)."""
        from bot.knowledge.library import DocumentLibrary

        return DocumentLibrary(
            self.settings, lambda: self.db, self._reload_knowledge, self._loaded_embeddings
        )

    def _loaded_embeddings(self):
        """The embedding model of the open knowledge base, or None when this process has not opened it."""
        return self.knowledge.embeddings if "knowledge" in self.__dict__ else None

    def _reload_knowledge(self) -> None:
        """Reopen the knowledge base if this process has opened it (else the first use opens the new index)."""
        if "knowledge" in self.__dict__:
            self.knowledge.reload()

    @cached_property
    def similar(self):  # -> bot.suggestions.similar.SimilarFinder
        """Similar-item detection for the suggestion flow (thresholds from settings)."""
        from bot.suggestions.similar import SimilarFinder

        return SimilarFinder.from_settings(self.settings)


def build_services(settings: Settings | None = None) -> Services:
    """Wire the services for the given settings (default: from the environment)."""
    return Services(settings or get_settings())
