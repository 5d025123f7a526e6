# technyan-bot: `make run` starts the bot, `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: run test lint bench-relevance clean

run: $(VENV)/.installed
	$(BIN)/technyan-bot

test: $(VENV)/.installed
	$(BIN)/ruff check bot tests bench
	$(BIN)/ruff format --check bot tests bench
	$(BIN)/mypy bot
	$(BIN)/python -m pytest -q

bench-relevance: $(VENV)/.installed
	$(BIN)/python bench/relevance.py

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

clean:
	rm -rf $(VENV) data *.egg-info
