"""Telegram channel: python-telegram-bot Application, handlers, rendering to Telegram HTML."""
