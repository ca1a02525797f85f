# The two commands a new user needs: `make run` and `make test` (see README.md).
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SEEDS := ../shared/seeds

.PHONY: venv run chat test lint format validate eval bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: venv
	@if [ -z "$$TELEGRAM_BOT_TOKEN" ]; then \
		echo "TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather (see README.md)."; \
		echo "To try the bot without Telegram, run: make chat"; \
		exit 1; \
	fi
	$(BIN)/python -m bot run

chat: venv
	$(BIN)/python -m bot chat

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

validate: venv
	$(BIN)/python -m bot validate knowledge/meetings.yaml $(if $(wildcard $(SEEDS)),--sources $(SEEDS))

eval: venv
	$(BIN)/python -m bot eval tests/questions.yaml

test: lint validate
	$(BIN)/python -m pytest

bench: venv
	$(BIN)/python benchmarks/speed.py
	$(BIN)/python benchmarks/clinc150.py
	$(BIN)/python benchmarks/load.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
