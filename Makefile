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

# Scale benchmarks (bench/RESULTS.md); corpora and indexes go to bench/out/ (git-ignored).
BENCH_N ?= 10000
BENCH_SIZES ?= 1000,10000,100000

.PHONY: bench-corpus bench-index bench-queries bench-startup bench-fanout

bench-corpus: $(VENV)/.installed
	$(BIN)/python bench/make_corpus.py $(BENCH_N) bench/out/corpus-$(BENCH_N)

bench-index: $(VENV)/.installed
	$(BIN)/python bench/index_scale.py --sizes $(BENCH_SIZES)

bench-queries: $(VENV)/.installed
	$(BIN)/python bench/query_scale.py --sizes $(BENCH_SIZES)

bench-startup: $(VENV)/.installed
	$(BIN)/python bench/startup.py --size 100000

bench-fanout: $(VENV)/.installed
	$(BIN)/python bench/digest_fanout.py --subscriptions 10000 --post 10000
