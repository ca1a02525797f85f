"""Front ends over bot.core: the command line and Telegram."""
