# Shared by the CI stages that run the real server (tests/interop/ci.sh, tests/openai/ci.sh): free loopback ports,
# the server's log and work folder, a cleanup that never leaves a server behind, and the clean-stop check.
# Source it after defining step and fail; then call server_work_dir before starting the server in the background
# with its output in "$log" and its pid in server_pid.

# A port is taken when something accepts a connection on it. Start at a random point so parallel jobs rarely race
# for the same port; ports already handed out by this script are skipped. The range lies below Linux's ephemeral
# ports (32768-60999): an outgoing connection's local port there accepts nothing, so it looks free, yet a server
# cannot bind it (a CI run failed so: "address already in use").
taken=" "
free_port() {
  local port=$((20000 + RANDOM % 12000)) tries
  for tries in $(seq 1 200); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && [[ "$taken" != *" $port "* ]]; then
      echo "$port"
      return 0
    fi
    port=$((port + 1))
  done
  return 1
}

# take_port NAME: a free port into the variable NAME, never one handed out before (free_port runs in a subshell,
# so the bookkeeping is here).
take_port() {
  # A local named like the caller's variable would take the value instead: hence the odd name.
  local _take_port_found
  _take_port_found="$(free_port)" || fail "no free loopback port in 20000-32199"
  taken+="$_take_port_found "
  printf -v "$1" '%s' "$_take_port_found"
}

# Builds the server (Release) from the checkout at $root and sets dll to its program.
build_server() {
  step "dotnet build src/MockServe.Server -c Release"
  dotnet build "$root/src/MockServe.Server" -c Release --nologo -v quiet
  dll="$root/src/MockServe.Server/bin/Release/net10.0/mockserve.dll"
  [ -f "$dll" ] || fail "the build produced no $dll"
}

# Sets work (a temporary folder), log (the server's log in it) and the EXIT trap that stops the server if it runs.
server_work_dir() {
  work="$(mktemp -d)"
  log="$work/server.log"
  server_pid=""
  trap server_cleanup EXIT
}

server_cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}

# wait_ready CHECK [ARGS...]: runs CHECK every half second until it succeeds, failing when the server exits first or
# 60 s pass; then says how long the stage has taken ($started).
wait_ready() {
  local deadline=$((SECONDS + 60)) status
  until "$@"; do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    show_log
    wait "$server_pid" && status=0 || status=$?
    server_pid=""
    fail "the server exited with status $status before it was ready"
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    show_log
    fail "the server was not ready within 60 s"
  fi
  sleep 0.5
done
echo "ready after $((SECONDS - started)) s in all"
}

show_log() { echo "--- server log (last 40 lines)" >&2; tail -n 40 "$log" >&2 || true; }

# Stops the server with SIGTERM and fails unless it exits 0 within 40 s and logged no handler error.
stop_server_cleanly() {
  step "stop the server (SIGTERM) and check it exits 0 within 40 s"
  kill -TERM "$server_pid"
  for _ in $(seq 1 80); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$server_pid" 2>/dev/null; then
    show_log
    fail "the server was still running 40 s after SIGTERM"
  fi
  local status
  wait "$server_pid" && status=0 || status=$?
  server_pid=""
  if [ "$status" -ne 0 ]; then
    show_log
    fail "the server exited with status $status after SIGTERM, expected 0"
  fi
  echo "server exited 0"

  step "the server logged no handler error (a call its clients cancelled or broke is not the server's error)"
  # Kestrel and grpc-dotnet write an unhandled handler exception as a "fail:" line with its stack trace.
  if grep -n "fail: " "$log" >&2; then
    show_log
    fail "the server logged errors while the clients ran"
  fi
  echo "no errors in the server log"
}
