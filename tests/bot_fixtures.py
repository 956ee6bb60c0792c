"""Fixtures for the member-bot tests: a real knowledge index from small sample documents, services, harness."""

from __future__ import annotations

import pytest

PROPOSAL_RULES = """青川市政协提案工作条例

第一章 总则

第一条 为了加强和改进提案工作，发挥政协委员的作用，根据政协章程，制定本条例。

第二章 提案的提出

第五条 提案应当坚持一事一案，每件提案只能反映一个问题，不得将多个事项写入同一件提案。

第六条 委员可以个人名义提出提案，也可以联名提出提案。联名提案的第一提案人负责提案的撰写和修改。

第十二条 提案审查应当在收到提案后十五个工作日内完成，审查结果及时告知提案人。
"""

OPINION_RULES = """青川市政协社情民意信息工作办法

第三条 社情民意信息应当反映基层的真实情况，做到一事一报，篇幅一般不超过一千五百字。

第八条 被采用的社情民意信息由办公室编辑后报送上级政协，获得领导批示的予以通报表扬。
"""


@pytest.fixture(scope="session")
def kb_settings(tmp_path_factory, embeddings):
    """Settings whose index holds the two sample documents (ingested once per session)."""
    from bot.knowledge.ingest import ingest_paths
    from bot.settings import Settings

    root = tmp_path_factory.mktemp("bot_kb")
    docs = root / "docs"
    docs.mkdir()
    (docs / "提案工作条例.txt").write_text(PROPOSAL_RULES, encoding="utf-8")
    (docs / "社情民意信息工作办法.txt").write_text(OPINION_RULES, encoding="utf-8")
    settings = Settings(_env_file=None, data_dir=root / "data", index_dir=root / "index")
    ingest_paths([docs], settings, progress=False, embeddings=embeddings)
    return settings


@pytest.fixture(scope="session")
def real_answerer(kb_settings):
    """The real answering service over the sample index (loaded once)."""
    from bot.services import build_services

    return build_services(kb_settings).answerer


@pytest.fixture
def bot_services(kb_settings, real_answerer, database, tmp_path):
    """Services for one test: its own database and data dir, the shared real answerer."""
    from bot.services import build_services

    settings = kb_settings.model_copy(
        update={"data_dir": tmp_path / "data", "database_url": database.url, "telegram_token": "123456:TEST",
                "telegram_rate_limit": False, "notify_interval_s": 0.05, "flood_max_events": 1000, "bot_username": "lvzhi_test_bot",
                "telegram_retry_base_s": 0.01}
    )  # fmt: skip
    services = build_services(settings)
    services.__dict__["db"] = database
    services.__dict__["answerer"] = real_answerer
    return services


@pytest.fixture
async def harness(bot_services):
    """The real Application polling through the Bot API stand-in."""
    from tg_harness import Harness

    h = Harness(bot_services)
    await h.start()
    yield h
    await h.stop()
    assert h.api.problems == [], h.api.problems
