"""`python -m bot ...`: the command line front end (see bot.adapters.cli)."""

from bot.adapters.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
