#!/usr/bin/env bash
# test.sh: nosey's whole test suite, against real PostgreSQL and MariaDB servers.
#
# On a fresh Debian machine (as root) it installs what is missing (MariaDB, the PyPI
# `standardwebhooks` verifier), starts throwaway database servers on free loopback ports,
# runs every test with their admin URLs in the environment, and stops the servers it started
# (by pid) however the tests end. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/dbs-session.sh
source scripts/dbs-session.sh test
export NOSEY_PROPTEST_CASES=${NOSEY_PROPTEST_CASES:-50000}

python3 -c 'import standardwebhooks' 2>/dev/null ||
    pip install --quiet --disable-pip-version-check standardwebhooks >/dev/null 2>&1 ||
    echo "[test] warning: could not pip install standardwebhooks" >&2

cargo build --quiet --bins
cargo test --quiet --no-fail-fast "$@"
