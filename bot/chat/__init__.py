"""The channel-neutral conversation core: events in, replies (Telegram-HTML subset + buttons) out."""
