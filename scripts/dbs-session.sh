# dbs-session.sh: sourced (not run) by scripts that need throwaway database servers for their
# whole run, as `source scripts/dbs-session.sh NAME` from the repository's root. Starts
# PostgreSQL and MariaDB with scripts/dbs.sh in /tmp/nosey-NAME.*, exports their admin URLs
# (NOSEY_TEST_PG_ADMIN_URL, NOSEY_TEST_MYSQL_ADMIN_URL) and stops them however the script ends.
DBS_DIR=$(mktemp -d "/tmp/nosey-${1:?usage: source scripts/dbs-session.sh NAME}.XXXXXX")
trap 'scripts/dbs.sh stop "$DBS_DIR" || true' EXIT INT TERM
scripts/dbs.sh start "$DBS_DIR" >/dev/null
# shellcheck disable=SC1091
source "$DBS_DIR/env.sh"
