"""Meetings bot: sourced answers about UN and OSCE meetings on gender equality and trafficking.

`bot.core` holds the knowledge base and the answer engine and knows nothing about Telegram;
`bot.adapters` holds the thin front ends (command line, Telegram) over `bot.core.answer`.
"""
