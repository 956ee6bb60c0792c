"""A setting that cannot be read (environment or .env) is explained in Chinese, one line per setting, and the
command stops with status 2 instead of a traceback (bot.cli.run_command, bot.settings.settings_problems)."""

from __future__ import annotations

import pytest

import ingest
from bot import cli
from bot.settings import get_settings


@pytest.fixture
def fresh_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("LVZHI_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_lvzhi_names_each_bad_setting_in_chinese(fresh_settings, capsys):
    fresh_settings.setenv("LVZHI_ANSWER_THREADS", "abc")
    fresh_settings.setenv("LVZHI_ANSWER_PATIENCE_S", "-1")
    fresh_settings.setenv("LVZHI_WEB_ACCESS_LOG", "maybe")
    assert cli.main(["ask", "提案的截止时间是什么时候？"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert sorted(err) == sorted(
        [
            "设置有误：LVZHI_ANSWER_THREADS 应为整数（现为「abc」）。请改正环境变量或 .env 后重试。",
            "设置有误：LVZHI_ANSWER_PATIENCE_S 不能小于 0（现为「-1」）。请改正环境变量或 .env 后重试。",
            "设置有误：LVZHI_WEB_ACCESS_LOG 应为 true 或 false（现为「maybe」）。请改正环境变量或 .env 后重试。",
        ]
    )


def test_ingest_explains_a_bad_setting_too(fresh_settings, tmp_path, capsys):
    fresh_settings.setenv("LVZHI_ANSWER_THREADS", "0")
    doc = tmp_path / "a.txt"
    doc.write_text("第一条 测试。", encoding="utf-8")
    assert ingest.main([str(doc), "--no-progress"]) == 2
    assert capsys.readouterr().err.strip() == (
        "设置有误：LVZHI_ANSWER_THREADS 不能小于 1（现为「0」）。请改正环境变量或 .env 后重试。"
    )
