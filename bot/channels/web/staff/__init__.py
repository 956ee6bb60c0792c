"""The staff pages of the web channel: HTTP handlers over the staff services in bot.staff."""
