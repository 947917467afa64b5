#!/usr/bin/env bash
# rampart-server's store against a real PostgreSQL: unit/server-db runs its
# cases again with RAMPART_TEST_PG_URL set, on a throwaway server
# (postgres.sh: initdb in a temporary directory, a free port on 127.0.0.1,
# a role with a password), so that make test covers both backends.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/postgres.sh"

unit=$RAMPART_BUILD_DIR/tests/test-server-db
if [ ! -x "$unit" ]; then
  fail "no unit test binary at $unit"
  finish
fi

start_postgres
pg_dir=$RAMPART_TEST_PG_DIR
password=${RAMPART_TEST_PG_URL#postgres://rampart:}
password=${password%%@*}

expect_ok "unit/server-db against PostgreSQL" "$unit"
# Its PostgreSQL cases ran (not only the SQLite ones), and all passed.
grep -qE '^\[==========\] Running [0-9]+ test' "$T/out" && ok || fail "no cmocka output: $(head -c 400 "$T/out")"
# (cmocka writes its summaries on stderr)
[ "$(grep -c '^\[  PASSED  \]' "$T/err")" = 3 ] && ok ||
  fail "expected three groups passed (common, sqlite, postgres): $(grep -E '^\[ *(PASSED|FAILED)' "$T/err")"
grep -q 'OK \] test_deadlock_retried' "$T/out" && ok || fail "the PostgreSQL-only cases did not run"
# No message, on either stream, gave the password away.
! grep -qF "$password" "$T/out" "$T/err" && ok || fail "the password appeared in the output"
# The cases dropped the schemas they made.
expect_ok "list schemas" pg_admin -d rampart \
  "SELECT 'left:' || nspname FROM pg_namespace WHERE nspname LIKE 'rp\_test\_%'"
! grep -q 'left:' "$T/out" && ok || fail "schemas left behind: $(cat "$T/out")"

# The helper stops what it started and leaves nothing behind.
port=$RAMPART_TEST_PG_PORT
stop_postgres
[ ! -e "$pg_dir" ] && ok || fail "stop_postgres left $pg_dir"
! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && ok || fail "something still listens on port $port"
finish
