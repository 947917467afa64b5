# Sourced by integration tests that need PostgreSQL: a throwaway server of
# its own, initialised in a temporary directory and listening on a free
# port on 127.0.0.1, whatever else runs on the machine (the cluster Debian's
# package may have made is neither used nor needed; no systemctl).
#
#   start_postgres [DIR]  DIR: a new directory for the server's files (made
#                    with mktemp -d when not given, and given to the user
#                    postgres when run as root: PostgreSQL refuses to run as
#                    root). Runs initdb, starts postgres with its unix socket
#                    in DIR, waits until it accepts connections, makes the
#                    role and database `rampart` (with a random password) and
#                    exports
#                      RAMPART_TEST_PG_URL   postgres://rampart:PASS@127.0.0.1:PORT/rampart
#                      RAMPART_TEST_PG_DIR, RAMPART_TEST_PG_PORT, RAMPART_TEST_PG_PID
#                    Call it from the script itself, not in $(...) or a
#                    pipeline: the server is tied to the process that starts
#                    it (setpriv --pdeathsig), so a test that dies does not
#                    leave it running.
#   stop_postgres    fast shutdown, waits for it, removes DIR. Idempotent;
#                    start_postgres also puts it in front of the script's EXIT
#                    trap (lib.sh's), so it runs however the script ends.
#   pg_admin [-d DB] SQL...  runs each SQL as the superuser (psql over the
#                    socket) in DB (default postgres); rows on stdout.
#
# Binaries: $PG_BIN, or the newest /usr/lib/postgresql/*/bin (Debian's
# postgresql package, which scripts/install-deps installs; without it,
# start_postgres fails: it is not a reason to skip).

_PG_DIR= _PG_PID= _PG_PORT= _PG_AS=()

_pg_bin() {
  if [ -z "${PG_BIN:-}" ]; then
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  fi
  if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/postgres" ]; then
    echo "start_postgres: no PostgreSQL server binaries in /usr/lib/postgresql/*/bin:" \
      "scripts/install-deps installs the postgresql package" >&2
    return 1
  fi
}

_pg_free_port() {
  python3 -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

_pg_add_trap() {
  [ -n "${_PG_TRAPPED:-}" ] && return
  local old=""
  # trap -p prints `trap -- 'CMD' EXIT`, quoted for the shell: let it unquote.
  if [ -n "$(trap -p EXIT)" ]; then eval "set -- $(trap -p EXIT)"; old=$3; fi
  # shellcheck disable=SC2064  # expand the old command now, once
  trap "stop_postgres; $old" EXIT
  _PG_TRAPPED=1
}

# Runs a command as the user that owns the server's files.
_pg_run() {
  (cd "$_PG_DIR" && "${_PG_AS[@]}" "$@")
}

start_postgres() {
  local dir=${1:-} attempt port pid i pass
  _pg_bin || return 1
  if [ -n "$_PG_PID" ]; then
    echo "start_postgres: one is running already ($_PG_DIR)" >&2
    return 1
  fi
  if [ -z "$dir" ]; then
    # The user postgres must reach it: $TMPDIR may be private to root.
    dir=$(mktemp -d "${TMPDIR:-/tmp}/rampart-pg.XXXXXX")
    if [ "$(id -u)" -eq 0 ] && ! setpriv --reuid=postgres --regid=postgres --init-groups \
        test -x "$(dirname "$dir")"; then
      rmdir "$dir"
      dir=$(mktemp -d /tmp/rampart-pg.XXXXXX)
    fi
  else
    mkdir -p "$dir"
  fi
  _PG_DIR=$dir
  _pg_add_trap
  if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
      echo "start_postgres: no user postgres (the postgresql package makes it)" >&2
      return 1
    fi
    chown postgres: "$dir"
    _PG_AS=(setpriv --reuid=postgres --regid=postgres --init-groups)
  else
    _PG_AS=()
  fi
  chmod 0700 "$dir"

  # Local (socket) connections: trust, for pg_admin; TCP: password only.
  if ! _pg_run "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth-local=trust \
      --auth-host=scram-sha-256 -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1; then
    echo "start_postgres: initdb failed: $(tail -n 5 "$dir/initdb.log")" >&2
    return 1
  fi

  for attempt in 1 2 3 4 5; do
    port=$(_pg_free_port)
    # fsync off: these servers are thrown away, never crash-recovered.
    (cd "$dir" && exec "${_PG_AS[@]}" setpriv --pdeathsig KILL "$PG_BIN/postgres" -D "$dir/data" \
      -c listen_addresses=127.0.0.1 -p "$port" -c unix_socket_directories="$dir" \
      -c fsync=off -c max_connections=200 -c log_min_messages=warning) >>"$dir/postgres.log" 2>&1 &
    pid=$!
    # A bound on a hung start (60 s), not a timing check.
    for ((i = 0; i < 600; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres; then
        _PG_PID=$pid _PG_PORT=$port
        break 2
      fi
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true  # it exited (the port taken meanwhile?) or hung
    wait "$pid" 2>/dev/null || true
  done
  if [ -z "$_PG_PID" ]; then
    echo "start_postgres: postgres did not start: $(tail -n 5 "$dir/postgres.log")" >&2
    return 1
  fi

  pass=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
  if ! pg_admin "CREATE ROLE rampart LOGIN PASSWORD '$pass'" "CREATE DATABASE rampart OWNER rampart"; then
    stop_postgres
    return 1
  fi
  export RAMPART_TEST_PG_URL="postgres://rampart:$pass@127.0.0.1:$port/rampart"
  export RAMPART_TEST_PG_DIR=$dir RAMPART_TEST_PG_PORT=$port RAMPART_TEST_PG_PID=$_PG_PID
}

pg_admin() {
  local sql db=postgres args=()
  if [ "${1:-}" = -d ]; then db=$2; shift 2; fi
  for sql in "$@"; do args+=(-c "$sql"); done
  _pg_run "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$_PG_DIR" -p "$_PG_PORT" \
    -U postgres -d "$db" "${args[@]}"
}

stop_postgres() {
  if [ -n "$_PG_PID" ]; then
    kill -INT "$_PG_PID" 2>/dev/null || true     # SIGINT: fast shutdown
    wait "$_PG_PID" 2>/dev/null || true
    _PG_PID= _PG_PORT=
  fi
  if [ -n "$_PG_DIR" ]; then
    rm -rf "$_PG_DIR"
    _PG_DIR=
  fi
  unset RAMPART_TEST_PG_URL RAMPART_TEST_PG_DIR RAMPART_TEST_PG_PORT RAMPART_TEST_PG_PID
  return 0
}
