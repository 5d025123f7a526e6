# technyan-bot: `make run` starts the bot, `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: run test lint bench-relevance clean

run: $(VENV)/.installed
	$(BIN)/technyan-bot

# pytest runs under coverage, which also measures every Python process the tests start
# ([tool.coverage.run] in pyproject.toml); the report fails the run below its fail_under.
test: $(VENV)/.installed
	$(BIN)/ruff check bot tests bench
	$(BIN)/ruff format --check bot tests bench
	$(BIN)/mypy bot
	rm -f .coverage .coverage.*
	$(BIN)/coverage run -m pytest -q -rs
	$(BIN)/coverage combine -q
	$(BIN)/coverage report

bench-relevance: $(VENV)/.installed
	$(BIN)/python bench/relevance.py

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

# Only what installing and checking made. Never data/: state.db holds every subscription
# and the digest ledger (technyan-bot backup copies it); index.db is derived and rebuilt by
# `technyan-bot index --full`.
clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
	rm -rf .coverage .coverage.* mutants
	find bot tests bench -name __pycache__ -type d -prune -exec rm -rf {} +

# Scale benchmarks (bench/RESULTS.md); corpora and indexes go to bench/out/ (git-ignored).
BENCH_N ?= 10000
BENCH_SIZES ?= 1000,10000,100000

.PHONY: bench-corpus bench-index bench-queries bench-startup bench-memory bench-fanout

bench-corpus: $(VENV)/.installed
	$(BIN)/python bench/make_corpus.py $(BENCH_N) bench/out/corpus-$(BENCH_N)

bench-index: $(VENV)/.installed
	$(BIN)/python bench/index_scale.py --sizes $(BENCH_SIZES)

bench-queries: $(VENV)/.installed
	$(BIN)/python bench/query_scale.py --sizes $(BENCH_SIZES)

bench-startup: $(VENV)/.installed
	$(BIN)/python bench/startup.py --size 100000

bench-memory: $(VENV)/.installed
	$(BIN)/python bench/memory.py --size 100000 --commands 5000

bench-fanout: $(VENV)/.installed
	$(BIN)/python bench/digest_fanout.py --subscriptions 10000 --post 10000
