"""Knowledge-base fixtures: real indexes built once per session from the shared seeds and from knowledge/."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _build(tmp_dir: Path, source: Path):
    from bot.knowledge.ingest import ingest_paths
    from bot.settings import Settings

    settings = Settings(_env_file=None, data_dir=tmp_dir / "data", index_dir=tmp_dir / "index")
    report = ingest_paths([source], settings, progress=False)
    assert report.ok and not report.skipped, report.summary_zh()
    return settings


@pytest.fixture(scope="session")
def seeds_settings(tmp_path_factory, seeds_dir, embeddings):
    """Settings whose index holds the five shared seed documents (ingested once per session)."""
    return _build(tmp_path_factory.mktemp("seeds-kb"), seeds_dir)


@pytest.fixture(scope="session")
def sample_settings(tmp_path_factory, embeddings):
    """Settings whose index holds the repo's sample documents in knowledge/."""
    return _build(tmp_path_factory.mktemp("sample-kb"), REPO / "knowledge")


@pytest.fixture(scope="session")
def seeds_answerer(seeds_settings):
    """The real extractive answerer over the seeds index."""
    from bot.services import build_services

    return build_services(seeds_settings).answerer


@pytest.fixture(scope="session")
def sample_answerer(sample_settings):
    """The real extractive answerer over the sample knowledge."""
    from bot.services import build_services

    return build_services(sample_settings).answerer
