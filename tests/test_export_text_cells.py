"""Case BH-15: text starting with @ - = + submitted in the chat is exported to XLSX exactly, as text cells."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from conftest import SHARED_DIR
from openpyxl import load_workbook
from tg_harness import SimMember, sent

from bot.chat.texts import say
from bot.cli import main
from bot.members import cli as members_cli
from bot.suggestions import cli as suggestions_cli
from bot.suggestions.types import catalog

EXPECTED = next(
    c for c in json.loads((SHARED_DIR / "cases/ingest/expectations.json").read_text("utf-8"))["cases"]
    if c["id"] == "BH-15"
)  # fmt: skip


@pytest.fixture
def lvzhi(bot_services, monkeypatch, capsys):
    """Run `lvzhi …` against the test's services; (exit code, stdout, stderr)."""
    monkeypatch.setattr(members_cli, "build_services", lambda: bot_services)
    monkeypatch.setattr(suggestions_cli, "build_services", lambda: bot_services)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


async def registered_member(harness, lvzhi, tmp_path: Path) -> SimMember:
    """A member imported from a roster, invited by phone and bound with /start CODE."""
    roster = tmp_path / "名册.csv"
    roster.write_text("姓名,界别,手机\r\n委员甲,经济界,138 0000 0001\r\n", encoding="utf-8-sig")
    assert lvzhi("members", "import", str(roster))[0] == 0
    code, out, _ = lvzhi("members", "invite", "--phone", "13800000001")
    assert code == 0
    invitation = out.splitlines()[0].split("\t")[2]
    member = SimMember(harness, 1501, "委员甲")
    calls = sent(await member.command("start", invitation))
    assert calls[0].params["text"] == say("bind_ok", name="委员甲", sector="经济界")
    return member


async def submit(member: SimMember, submission: dict) -> None:
    """One submission through /suggest: type, category, then each field typed as a message."""
    kind = next(t for t in catalog().types if t.name == submission["type"])
    await member.command("suggest")
    await member.press(f"f:t:{kind.key}")
    await member.press(f"f:c:{kind.categories.index(submission['category'])}")
    for text in submission["fields"]:
        await member.text(text)
    await member.press("f:d")
    assert "提交成功" in sent(await member.press("f:s"))[0].params["text"]


async def test_bh15_chat_submissions_export_to_xlsx_as_exact_text(harness, lvzhi, tmp_path: Path):
    member = await registered_member(harness, lvzhi, tmp_path)
    for submission in EXPECTED["submissions"]:
        await submit(member, submission)
    out = tmp_path / "提交事项.xlsx"
    code, stdout, _ = lvzhi("export", "suggestions", "--format", "xlsx", "--out", str(out))
    assert code == 0 and "已导出 2 条事项" in stdout

    sheet = load_workbook(out).active
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    columns = ["类型", "类别/活动", "标题", "委员", "微建议·标题", "微建议·内容"]
    for row, submission in zip(rows[1:], EXPECTED["submissions"], strict=True):
        cells = {name: row[header.index(name)] for name in columns}
        title, content = submission["fields"]
        assert {name: cell.value for name, cell in cells.items()} == {
            "类型": submission["type"],
            "类别/活动": submission["category"],
            "标题": title,
            "委员": "委员甲",
            "微建议·标题": title,
            "微建议·内容": content,
        }
        assert all(cell.data_type == "s" for cell in cells.values())
    # every cell holding one of the case's texts holds exactly that text, as a text cell
    for text in EXPECTED["exact_cells"]:
        holding = [c for row in rows for c in row if isinstance(c.value, str) and text in c.value]
        assert holding and all((c.value, c.data_type) == (text, "s") for c in holding), text
    assert all(c.data_type != "f" for row in rows for c in row)
    with zipfile.ZipFile(out) as archive:
        root = ElementTree.fromstring(archive.read("xl/worksheets/sheet1.xml"))
    ns = {"x": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    assert root.findall(".//x:f", ns) == []  # no formula element anywhere in the sheet
    inline = [t.text for t in root.iterfind(".//x:c[@t='inlineStr']/x:is/x:t", ns)]
    assert all(inline.count(text) == 2 for text in EXPECTED["exact_cells"][::2])  # title, field title
    assert all(inline.count(text) == 1 for text in EXPECTED["exact_cells"][1::2])  # content
