"""Value objects passed between channels and the conversation core."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Button:
    """An inline button: label shown, data sent back (≤ 64 bytes)."""

    label: str
    data: str


@dataclass
class Reply:
    """One message to show: text in the Telegram-HTML subset (all content escaped) and button rows."""

    html: str = ""
    buttons: list[list[Button]] = field(default_factory=list)
    toast: str = ""  # a short notice for a pressed button (Telegram: answerCallbackQuery)
    meta: dict = field(default_factory=dict)  # structured extras for channels, e.g. {"qa_id": 3}
    # new button rows for the message whose button was pressed (e.g. a vote marked as chosen); None: leave them.
    # A channel that cannot edit that message ignores it (the web chat shows a vote's state its own way).
    edit_buttons: list[list[Button]] | None = None


@dataclass(frozen=True)
class ChatRef:
    """Who is talking and where: channel, chat id and the user's id on that channel."""

    channel: str
    chat_id: str
    user_id: str
    display_name: str = ""


@dataclass(frozen=True)
class IncomingFile:
    """A photo or document a user sent (kept by file id, downloaded by the channel)."""

    kind: str  # photo | document
    file_id: str
    file_name: str = ""
    local_path: str = ""


@dataclass(frozen=True)
class Event:
    """Something a user did: text, a command, a button press or a file."""

    kind: str  # text | command | press | file
    text: str = ""  # text, command name or button data
    arg: str = ""  # command argument
    file: IncomingFile | None = None
    update_key: str | None = None  # idempotency key (e.g. Telegram update_id)
