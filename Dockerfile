# technyan-bot container: the bot on Discord, with its corpus and databases on /data.
#   docker build -t technyan-bot .
#   docker run -d --name technyan -e DISCORD_TOKEN=… -v technyan-data:/data technyan-bot
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies in a layer of their own: rebuilt only when pyproject.toml changes.
COPY pyproject.toml README.md ./
RUN mkdir bot && touch bot/__init__.py \
    && pip install --no-cache-dir . \
    && pip uninstall --yes technyan-bot \
    && rm -rf bot

COPY bot ./bot
COPY corpus ./corpus
COPY docker/entrypoint.sh /usr/local/bin/technyan-entrypoint
RUN pip install --no-cache-dir --no-deps . \
    && groupadd --gid 10001 technyan \
    && useradd --create-home --uid 10001 --gid 10001 technyan \
    && mkdir -p /data \
    && chown technyan:technyan /data

ENV TECHNYAN_CORPUS_PATH=/data/corpus \
    TECHNYAN_INDEX_PATH=/data/index.db \
    TECHNYAN_STATE_PATH=/data/state.db \
    TECHNYAN_BUNDLED_CORPUS=/app/corpus

USER 10001:10001
VOLUME ["/data"]

HEALTHCHECK --interval=60s --timeout=10s --start-period=60s --retries=3 \
    CMD ["technyan-bot", "health"]

# The entrypoint seeds /data/corpus from the bundled corpus when the volume has none,
# builds the index when missing, then execs the command (PID 1 gets SIGTERM directly).
ENTRYPOINT ["technyan-entrypoint"]
CMD ["technyan-bot", "run"]
