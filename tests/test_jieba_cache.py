"""jieba's prefix dictionary from Lvzhi's cache: the same dictionary as jieba's own, rebuilt when untrusted."""

from __future__ import annotations

import os
from pathlib import Path

import jieba
import pytest

from bot.knowledge import jieba_cache

SENTENCES = [
    "委员辞去委员资格要怎么办",
    "政协委员提交提案的截止时间是什么时候？",
    "中华人民共和国全国人民代表大会",
]


@pytest.fixture(scope="module")
def reference() -> jieba.Tokenizer:
    """A tokenizer initialised by jieba itself, from its dictionary file (no cache of either kind)."""
    tok = jieba.Tokenizer()
    tok.FREQ, tok.total = tok.gen_pfdict(tok.get_dict_file())
    tok.initialized = True
    return tok


def _cached(cache_dir: Path) -> jieba.Tokenizer:
    tok = jieba.Tokenizer()
    jieba_cache.initialize(tok, cache_dir)
    return tok


def test_built_then_loaded_dictionary_is_jiebas_own(tmp_path: Path, reference: jieba.Tokenizer) -> None:
    built = _cached(tmp_path)  # no cache yet: built from dict.txt and written
    path = jieba_cache.cache_path(built, tmp_path)
    assert path.is_file() and built.FREQ == reference.FREQ and built.total == reference.total
    stamp = path.stat().st_mtime_ns
    loaded = _cached(tmp_path)  # read from the cache file, which stays as it was
    assert path.stat().st_mtime_ns == stamp
    assert loaded.FREQ == reference.FREQ and loaded.total == reference.total
    for sentence in SENTENCES:
        assert loaded.lcut(sentence) == reference.lcut(sentence)
        assert loaded.lcut_for_search(sentence) == reference.lcut_for_search(sentence)


def test_a_corrupt_cache_is_rebuilt(tmp_path: Path, reference: jieba.Tokenizer) -> None:
    path = jieba_cache.cache_path(jieba.Tokenizer(), tmp_path)
    path.write_bytes(b"not an npz file")
    path.chmod(0o600)
    tok = _cached(tmp_path)
    assert tok.FREQ == reference.FREQ
    assert jieba_cache.load(path) is not None  # rewritten whole


def test_a_cache_others_can_write_is_not_used(tmp_path: Path, reference: jieba.Tokenizer, caplog) -> None:
    path = jieba_cache.cache_path(jieba.Tokenizer(), tmp_path)
    jieba_cache.save(path, {"委员": 1, "委": 0}, 1)  # a planted, tiny dictionary
    path.chmod(0o666)
    assert jieba_cache.load(path) is None and "他人可写" in caplog.text
    tok = _cached(tmp_path)
    assert tok.FREQ == reference.FREQ and len(tok.FREQ) > 100_000
    assert not path.stat().st_mode & 0o022  # replaced by this process's own file


def test_the_key_follows_the_dictionary_file(tmp_path: Path) -> None:
    own = tmp_path / "dict.txt"
    own.write_text("委员 10 n\n", encoding="utf-8")
    tok = jieba.Tokenizer(str(own))
    first = jieba_cache.cache_path(tok, tmp_path)
    assert first != jieba_cache.cache_path(jieba.Tokenizer(), tmp_path)
    os.utime(own, ns=(own.stat().st_atime_ns, own.stat().st_mtime_ns + 10**9))
    assert jieba_cache.cache_path(tok, tmp_path) != first
    jieba_cache.initialize(tok, tmp_path)
    assert tok.FREQ == {"委员": 10, "委": 0} and tok.total == 10


def test_the_cache_dir_comes_from_the_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(jieba_cache.CACHE_DIR_ENV, str(tmp_path / "cache"))
    assert jieba_cache.cache_path(jieba.Tokenizer()).parent == tmp_path / "cache"


def test_an_unwritable_cache_dir_still_gives_the_dictionary(tmp_path: Path, caplog) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("x")  # a file where the directory should be: nothing can be written under it
    own = tmp_path / "dict.txt"
    own.write_text("提案 5\n", encoding="utf-8")
    tok = jieba.Tokenizer(str(own))
    jieba_cache.initialize(tok, blocked)
    assert tok.FREQ == {"提案": 5, "提": 0} and "写入失败" in caplog.text
