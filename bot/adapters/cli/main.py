"""Argument parsing and the subcommands of `python -m bot`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from bot.adapters.cli.render import render
from bot.config import ConfigError, Settings, load_settings
from bot.core.engine import Context, Engine
from bot.core.evaluation import evaluate, load_cases
from bot.core.knowledge import KnowledgeError, load_knowledge
from bot.core.replies import Status
from bot.core.validation import check_file


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Sourced answers about UN and OSCE meetings on gender equality and "
        "trafficking (2002-2008).",
    )
    parser.add_argument("--config", type=Path, help="settings file (default config/settings.yaml)")
    sub = parser.add_subparsers(dest="command", required=True)

    validate = sub.add_parser("validate", help="check a knowledge file and list every problem")
    validate.add_argument("file", nargs="?", type=Path, help="default: the configured file")
    validate.add_argument("--sources", type=Path, help="folder of source documents (checks quotes)")
    validate.add_argument("--max-bytes", type=int, help="largest file accepted")

    ask = sub.add_parser("ask", help="answer one question, or one per line from stdin")
    ask.add_argument("question", nargs="?", help="the question (omit to read stdin)")
    ask.add_argument("--json", action="store_true", help="print JSON objects")
    ask.add_argument("--knowledge", type=Path, help="knowledge file (default: configured)")

    chat = sub.add_parser("chat", help="talk to the bot in the terminal")
    chat.add_argument("--knowledge", type=Path, help="knowledge file (default: configured)")

    ev = sub.add_parser("eval", help="score the engine on a question set")
    ev.add_argument("cases", type=Path, help="YAML list of {q, expect[, context]}")
    ev.add_argument("--knowledge", type=Path, help="knowledge file (default: configured)")

    run = sub.add_parser("run", help="run the Telegram bot")
    run.add_argument("--webhook", metavar="URL", help="public HTTPS URL (default: polling)")
    run.add_argument("--listen", default="0.0.0.0", help="webhook listen address")
    run.add_argument("--port", type=int, default=8443, help="webhook port")
    run.add_argument("--secret", help="webhook secret token")
    run.add_argument("--path", default="telegram", help="webhook URL path to listen on")

    unanswered = sub.add_parser("unanswered", help="questions the bot could not answer")
    unanswered.add_argument("--days", type=float, default=7, help="look back this many days")
    unanswered.add_argument("--csv", action="store_true", help="print CSV")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    handler = {
        "validate": _validate,
        "ask": _ask,
        "chat": _chat,
        "eval": _eval,
        "run": _run,
        "unanswered": _unanswered,
    }[args.command]
    try:
        return handler(args, settings)
    except KnowledgeError as err:
        print("\n".join(err.lines(20)), file=sys.stderr)
        print("error: the knowledge file is not valid (run: python -m bot validate)",
              file=sys.stderr)  # fmt: skip
        return 1
    except KeyboardInterrupt:
        return 130


def _engine(args: argparse.Namespace, settings: Settings) -> Engine:
    path = args.knowledge or settings.resolve(settings.knowledge_path)
    knowledge = load_knowledge(path, settings.max_knowledge_bytes)
    return Engine(knowledge, settings.thresholds.to_thresholds())


def _validate(args: argparse.Namespace, settings: Settings) -> int:
    path = args.file or settings.resolve(settings.knowledge_path)
    max_bytes = args.max_bytes or settings.max_knowledge_bytes
    checked = check_file(path, args.sources, max_bytes)
    for problem in checked.problems:
        print(problem.format(str(path)))
    print(checked.summary())
    if args.sources is None:
        print("(quotes not checked: pass --sources DIR to check them against the documents)")
    return 0 if checked.ok else 1


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    engine = _engine(args, settings)
    if args.question is not None:
        _print_reply(engine, args.question, args.json)
        return 0
    for line in sys.stdin:
        _print_reply(engine, line.rstrip("\n"), args.json)
        sys.stdout.flush()
    return 0


def _print_reply(engine: Engine, question: str, as_json: bool) -> None:
    reply = engine.answer(question)
    if as_json:
        print(json.dumps(reply.to_json(), ensure_ascii=False))
    else:
        print(render(reply))


def _chat(args: argparse.Namespace, settings: Settings) -> int:
    engine = _engine(args, settings)
    print("Ask about the meetings (empty line or Ctrl-D to quit). Type a number to pick a choice.")
    context = Context()
    choices: list[str] = []
    while True:
        try:
            question = input("> ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            return 0
        if question.isdigit() and 0 < int(question) <= len(choices):
            reply = engine.fact_reply(choices[int(question) - 1])
        else:
            reply = engine.answer(question, context)
        print(render(reply))
        choices = [a.fact for a in reply.alternatives] if reply.status != Status.ANSWERED else []
        context = Context(meeting=reply.meeting or context.meeting, fact=reply.fact)


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    try:
        cases = load_cases(args.cases)
    except (OSError, ValueError, yaml.YAMLError) as err:
        print(f"{args.cases}: cannot read the question set: {err}", file=sys.stderr)
        return 2
    engine = _engine(args, settings)
    report = evaluate(engine, cases)
    print(report.format())
    return 0


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.adapters.telegram.app import run

    return run(settings, args)


def _unanswered(args: argparse.Namespace, settings: Settings) -> int:
    from bot.state import print_unanswered

    return print_unanswered(settings, args.days, args.csv)
