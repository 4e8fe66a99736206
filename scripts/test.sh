#!/usr/bin/env bash
# Sets up .venv (with the test tools) and runs the whole test suite.
# Extra arguments go to pytest, e.g. `scripts/test.sh -m "not slow" -x`.
# PostgreSQL tests run when MUSEFORGE_TEST_DATABASE_URL is set (.ci/run sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
exec .venv/bin/python -m pytest "$@"
