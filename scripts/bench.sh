#!/usr/bin/env bash
# bench.sh: nosey's benchmark (docs/performance.md), against throwaway database servers.
#
# Starts PostgreSQL and MariaDB on free loopback ports (as scripts/test.sh does), builds nosey
# and nosey-bench in release mode, runs `nosey-bench` with the servers' admin URLs, and stops
# the servers however it ends. Arguments go to nosey-bench, e.g.
#   scripts/bench.sh --json bench.json
#   scripts/bench.sh --mysql --rows 200000
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/dbs-session.sh
source scripts/dbs-session.sh bench

cargo build --quiet --release --bins
target/release/nosey-bench "$@"
