"""The whole section around a cited passage (「查看整节」), one rendering for every channel.

The web chat (/api/section) and Telegram (button q:w:<answer>:<n>) both show what `whole_section_html` returns, so
a member sees the same words on both: a heading in the member's script, then each chunk of the passage's top-level
section (bot.staff.regs.section: same document, same 第X章, document order) under its own section path, in the
document's own characters (the chunk texts are exact substrings of the document's extracted text).
"""

from __future__ import annotations

from bot.chat.texts import say
from bot.staff.regs import section as section_chunks


def whole_section_html(knowledge, chunk_id: str, traditional: bool) -> str | None:
    """Telegram-HTML of the whole section around chunk `chunk_id`, or None when the chunk is no longer indexed.

    knowledge: a bot.knowledge KnowledgeBase (or None: None is returned); traditional: the member's script, for the
    bot's own words only (the heading). The result may exceed one Telegram message (at most
    bot.staff.regs.MAX_SECTION_CHUNKS chunks): channels split it (bot/channels/telegram/html.py split_html).
    """
    chunks = section_chunks(knowledge, chunk_id) if knowledge is not None and chunk_id else []
    if not chunks:
        return None
    head = say(
        "web_section_header", traditional, title=chunks[0].title, section=chunks[0].section.split(" > ")[0]
    )
    body = "\n".join(say("web_section_chunk", traditional, section=c.section, text=c.text) for c in chunks)
    return head + "\n" + body
