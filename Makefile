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

# Mutation testing of the modules where a silent bug costs most ([tool.mutmut] in
# pyproject.toml; docs/MUTATION.md holds the last run and each survivor's verdict). Not
# part of `make test`. Each run starts afresh: mutmut keeps the verdict of a function that
# did not change even when a new test would now kill its mutant. Work and results stay in
# mutants/ (git-ignored) for `mutmut show NAME` afterwards.
MUTATION_CHILDREN ?= 2
# The functions mutated: frontmatter dates and fields, FTS5 phrases, the ledger's claims
# and recovery, the scheduler's occurrences and runs, delivery's error and wait mapping,
# and who and where /digest may be used.
MUTATION_FUNCTIONS ?= \
	'bot.corpus.x_parse_date*' 'bot.corpus.x__text_field*' 'bot.corpus.x__list_field*' \
	'bot.corpus.x_story_location*' \
	'bot.query.xǁAlternativeǁ*' 'bot.query.xǁConceptǁadd*' \
	'bot.digest_delivery.xǁDigestDeliveryǁ_resolve_intent*' \
	'bot.digest_delivery.xǁDigestDeliveryǁ_take*' 'bot.digest_delivery.xǁDigestDeliveryǁrecover__*' \
	'bot.digest_delivery.xǁDigestDeliveryǁ_recover_entry*' \
	'bot.digest_delivery.xǁDigestDeliveryǁ_claim_and_post*' \
	'bot.digest_delivery.xǁDigestPostingǁfind_parts*' 'bot.digest_delivery.xǁDigestPostingǁfail*' \
	'bot.schedule.x_scheduled_at_or_before*' 'bot.schedule.x_next_occurrence*' \
	'bot.schedule.xǁDigestSchedulerǁrun_due*' 'bot.schedule.xǁDigestSchedulerǁcatch_up*' \
	'bot.discord_app.delivery.x__retry_after*' 'bot.discord_app.delivery.xǁSharedRequestBudgetǁwait*' \
	'bot.discord_app.delivery.xǁRequestSpacerǁwait*' \
	'bot.discord_app.admin_cog.xǁDigestAdminCogǁinteraction_check*' \
	'bot.discord_app.digest_targets.x_*' \
	'bot.digest_options.x_parse_time*' 'bot.digest_options.x_resolve_timezone*' \
	'bot.digest_options.xǁSubscriptionFormǁ_judge_target*'

.PHONY: mutation
mutation: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet "mutmut>=3.8,<4"
	rm -rf mutants
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/mutmut run --max-children $(MUTATION_CHILDREN) \
		$(MUTATION_FUNCTIONS)
	$(BIN)/python -m tests.mutation_summary $(MUTATION_FUNCTIONS)

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
