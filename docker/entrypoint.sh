#!/bin/sh
# Container start: seed the corpus on the volume, build the index when missing, then run
# the command given (default `technyan-bot run`) as PID 1 so it receives SIGTERM.
set -eu
if [ ! -d "${TECHNYAN_CORPUS_PATH}" ] && [ -d "${TECHNYAN_BUNDLED_CORPUS:-}" ]; then
    mkdir -p "$(dirname "${TECHNYAN_CORPUS_PATH}")"
    cp -R "${TECHNYAN_BUNDLED_CORPUS}" "${TECHNYAN_CORPUS_PATH}"
fi
if [ ! -f "${TECHNYAN_INDEX_PATH}" ]; then
    technyan-bot index "${TECHNYAN_CORPUS_PATH}"
fi
exec "$@"
