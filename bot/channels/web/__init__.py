"""Local web chat: the same assistant in a browser, no Telegram token needed."""
