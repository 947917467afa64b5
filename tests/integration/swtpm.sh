# Sourced by integration tests that need a TPM 2.0 (after lib.sh): a real
# software TPM, swtpm, on free local TCP ports. The C twin for unit tests is
# tests/unit/swtpm.{c,h}.
#
#   start_swtpm DIR   starts swtpm with its state in DIR (created if missing; a
#                     state already there is kept: stopping and starting again
#                     with the same DIR is a power cycle of the same device,
#                     another DIR another device). Waits until it accepts.
#                     Sets SWTPM_PID, SWTPM_PORT and SWTPM_TCTI
#                     ("swtpm:host=127.0.0.1,port=P", for --tpm and tpm2-tools'
#                     -T). Call it from the script itself, not in $(...) or a
#                     pipeline: swtpm is tied to the process that starts it.
#   stop_swtpm [PID]  stops $SWTPM_PID (or PID) and waits for it.
#
# Every swtpm started is stopped when the script exits (an EXIT trap, added
# in front of the one already set, e.g. lib.sh's) and killed if the script
# dies by a signal (setpriv --pdeathsig). swtpm serves one client at a time.
# Without swtpm installed, start_swtpm exits 77 (skipped).

_SWTPM_ALL=()

require_swtpm() {
  if ! command -v swtpm >/dev/null 2>&1; then
    echo "SKIP: swtpm not installed: scripts/install-deps installs it"
    exit 77
  fi
}

# A port P with P and P + 1 (the control channel, where swtpm's TCTI wants
# it) free just now; start_swtpm retries if another process takes them.
_swtpm_free_port() {
  python3 -c '
import socket
for _ in range(100):
    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p + 1))
    except OSError:
        continue
    finally:
        a.close(); b.close()
    print(p); break
else:
    raise SystemExit("no two consecutive free local TCP ports")'
}

_swtpm_accepts() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Runs at exit: stops them all, then whatever the script had set.
_swtpm_exit() {
  local pid
  for pid in "${_SWTPM_ALL[@]}"; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  _SWTPM_ALL=()
  return 0
}

_swtpm_add_trap() {
  [ -n "${_SWTPM_TRAPPED:-}" ] && return
  local old=""
  # trap -p prints `trap -- 'CMD' EXIT`, quoted for the shell: let it unquote.
  if [ -n "$(trap -p EXIT)" ]; then eval "set -- $(trap -p EXIT)"; old=$3; fi
  # shellcheck disable=SC2064  # expand the old command now, once
  trap "_swtpm_exit; $old" EXIT
  _SWTPM_TRAPPED=1
}

start_swtpm() {
  local dir=$1 attempt port pid i
  require_swtpm
  mkdir -p "$dir"
  _swtpm_add_trap
  for attempt in 1 2 3 4 5; do
    port=$(_swtpm_free_port)
    setpriv --pdeathsig KILL swtpm socket --tpm2 \
      --server "type=tcp,port=$port" --ctrl "type=tcp,port=$((port + 1))" \
      --tpmstate "dir=$dir" --flags not-need-init,startup-clear &
    pid=$!
    _SWTPM_ALL+=("$pid")
    # A bound on a hung start (20 s), not a timing check.
    for ((i = 0; i < 400; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      if _swtpm_accepts "$port" && _swtpm_accepts $((port + 1)); then
        SWTPM_PID=$pid SWTPM_PORT=$port SWTPM_TCTI="swtpm:host=127.0.0.1,port=$port"
        export SWTPM_TCTI
        return 0
      fi
      sleep 0.05
    done
    stop_swtpm "$pid"   # it exited (a port taken meanwhile?) or hung: try other ports
  done
  echo "start_swtpm: swtpm did not start (state $dir)" >&2
  exit 1
}

stop_swtpm() {
  local pid=${1:-${SWTPM_PID:-}} p rest=()
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${_SWTPM_ALL[@]}"; do [ "$p" = "$pid" ] || rest+=("$p"); done
  _SWTPM_ALL=("${rest[@]}")
  [ "$pid" = "${SWTPM_PID:-}" ] && SWTPM_PID=
  return 0
}
