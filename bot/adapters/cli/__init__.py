"""Command line front end: validate, ask, chat, eval, run, unanswered."""
