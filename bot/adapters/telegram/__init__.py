"""Telegram front end: handlers, formatting and wiring over bot.core's Engine."""
