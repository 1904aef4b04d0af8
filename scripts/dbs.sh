#!/usr/bin/env bash
# dbs.sh: throwaway PostgreSQL and MariaDB servers on loopback, for nosey's tests.
#
#   scripts/dbs.sh start DIR   initialise (if needed) and start both servers; writes DIR/env.sh
#   scripts/dbs.sh stop DIR    stop the servers started from DIR, by pid
#
# DIR/env.sh exports NOSEY_TEST_PG_ADMIN_URL and NOSEY_TEST_MYSQL_ADMIN_URL (superuser URLs;
# each test creates and drops its own database through them).
#
# Runs as root on a fresh Debian machine: installs MariaDB with apt when it is missing,
# runs PostgreSQL as the `postgres` user (initdb refuses root), picks free ports.
set -euo pipefail

log() { echo "[dbs] $*" >&2; }
die() { echo "[dbs] ERROR: $*" >&2; exit 1; }

cmd=${1:-}; DIR=${2:-}
[[ -n "$cmd" && -n "$DIR" ]] || die "usage: $0 start|stop DIR"
mkdir -p "$DIR"; DIR=$(cd "$DIR" && pwd)
IS_ROOT=0; [[ $(id -u) -eq 0 ]] && IS_ROOT=1
PG_SUPERPASS=postgres

alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { local p=$1; while port_busy "$p"; do p=$((p + 1)); done; echo "$p"; }

stop_pid() { # NAME PIDFILE SIGNAL
    local pid; pid=$(cat "$2" 2>/dev/null || true)
    alive "$pid" || { rm -f "$2"; return 0; }
    log "stopping $1 (pid $pid)"
    kill "-$3" "$pid" 2>/dev/null || true
    for _ in $(seq 300); do alive "$pid" || { rm -f "$2"; return 0; }; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true; rm -f "$2"
}

apt_install() {
    [[ $IS_ROOT == 1 ]] || die "$* missing and not root: install it first"
    log "apt-get install $*"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends "$@" >"$DIR/apt.log" 2>&1 ||
        { apt-get update -q >>"$DIR/apt.log" 2>&1 &&
          apt-get install -y -q --no-install-recommends "$@" >>"$DIR/apt.log" 2>&1; } ||
        { tail -20 "$DIR/apt.log" >&2; die "apt-get install $* failed"; }
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
as_pg() { if [[ $IS_ROOT == 1 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_start() {
    local bin; bin=$(pg_bin)
    [[ -x "$bin/initdb" ]] || { apt_install postgresql; bin=$(pg_bin); }
    if [[ $IS_ROOT == 1 ]] && ! id postgres >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    fi
    # PostgreSQL runs as `postgres`, which may not be able to enter DIR: keep its files in /tmp.
    local base; base=$(cat "$DIR/pg.base" 2>/dev/null || mktemp -d /tmp/nosey-pg.XXXXXX)
    echo "$base" >"$DIR/pg.base"
    [[ $IS_ROOT == 1 ]] && chown postgres "$base"
    if [[ ! -f "$base/data/PG_VERSION" ]]; then
        local pw="$base/pw"; echo "$PG_SUPERPASS" >"$pw"
        [[ $IS_ROOT == 1 ]] && chown postgres "$pw"
        as_pg "$bin/initdb" -D "$base/data" -U postgres --pwfile="$pw" --auth-local=trust \
            --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync >"$DIR/initdb.log" 2>&1 ||
            { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
        rm -f "$pw"
    fi
    PG_PORT=$(free_port 55432)
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    as_pg "$bin/pg_ctl" -D "$base/data" -l "$base/postgres.log" -w -t 60 -o \
        "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
        start >/dev/null || { tail -20 "$base/postgres.log" >&2; die "PostgreSQL failed to start"; }
    head -1 "$base/data/postmaster.pid" >"$DIR/postgres.pid"
    PGPASSWORD=$PG_SUPERPASS "$bin/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
        -c "DO \$\$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname='moodle') THEN CREATE ROLE moodle LOGIN PASSWORD 'moodle'; END IF; END\$\$;" \
        >/dev/null
}

mdb_start() {
    command -v mariadbd >/dev/null 2>&1 || [[ -x /usr/sbin/mariadbd ]] || apt_install mariadb-server mariadb-client
    local mdb="$DIR/mariadb" sock; mkdir -p "$mdb"
    sock="$mdb/mysqld.sock"; (( ${#sock} <= 100 )) || sock="/tmp/nosey-mdb-$$.sock"
    local user=(); [[ $IS_ROOT == 1 ]] && user=(--user=root)
    if [[ ! -d "$mdb/data/mysql" ]]; then
        mariadb-install-db --no-defaults --datadir="$mdb/data" "${user[@]}" \
            --auth-root-authentication-method=normal --skip-test-db >"$mdb/install.log" 2>&1 ||
            { tail -30 "$mdb/install.log" >&2; die "mariadb-install-db failed"; }
    fi
    MARIADB_PORT=$(free_port 33306)
    log "starting MariaDB on 127.0.0.1:$MARIADB_PORT"
    nohup "$(command -v mariadbd || echo /usr/sbin/mariadbd)" --no-defaults "${user[@]}" \
        --datadir="$mdb/data" --port="$MARIADB_PORT" --bind-address=127.0.0.1 --socket="$sock" \
        --pid-file="$mdb/mariadbd.pid" --log-error="$mdb/error.log" --skip-name-resolve \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
        --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=0 --sync-binlog=0 \
        --max-connections=500 >"$mdb/stdout.log" 2>&1 </dev/null &
    echo $! >"$DIR/mariadb.pid"
    for _ in $(seq 600); do
        mariadb-admin --no-defaults --protocol=tcp -h 127.0.0.1 -P "$MARIADB_PORT" -u root ping >/dev/null 2>&1 && return 0
        alive "$(cat "$DIR/mariadb.pid")" || { tail -30 "$mdb/error.log" >&2; die "MariaDB exited"; }
        sleep 0.1
    done
    die "MariaDB did not answer within 60 s"
}

case "$cmd" in
start)
    trap 'rc=$?; [[ $rc -eq 0 ]] || { stop_pid PostgreSQL "$DIR/postgres.pid" INT; stop_pid MariaDB "$DIR/mariadb.pid" TERM; }' EXIT
    pg_start
    mdb_start
    trap - EXIT
    cat >"$DIR/env.sh" <<ENV
export NOSEY_TEST_PG_ADMIN_URL='postgres://postgres:$PG_SUPERPASS@127.0.0.1:$PG_PORT/postgres'
export NOSEY_TEST_MYSQL_ADMIN_URL='mysql://root@127.0.0.1:$MARIADB_PORT/mysql'
ENV
    cat "$DIR/env.sh"
    ;;
stop)
    stop_pid PostgreSQL "$DIR/postgres.pid" INT
    stop_pid MariaDB "$DIR/mariadb.pid" TERM
    base=$(cat "$DIR/pg.base" 2>/dev/null || true)
    [[ "$base" == /tmp/nosey-pg.* ]] && rm -rf "$base"
    rm -rf "$DIR"
    ;;
*) die "unknown command $cmd" ;;
esac
