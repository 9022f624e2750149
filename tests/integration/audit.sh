#!/usr/bin/env bash
# The audit trail (docs/audit.md) from real runs: every event kind, timeouts,
# concurrent writers, a supervisor killed mid-run, a full disk, rotation,
# alerts (exec and webhook, never blocking the run) and the circuit breaker.
# Not parallel with other tests: it starts 50 sandboxes at once and times runs.
. "$(dirname "$0")/lib.sh"

PIDS=()	    # background processes started here: killed at exit
PGROUPS=()  # process groups of alert commands (they outlive their run)
MNT=""	    # the tmpfs of the disk-full case
cleanup() {
	local p
	[ -s "$TMP/slow.pids" ] && PGROUPS+=($(cat "$TMP/slow.pids"))
	for p in "${PGROUPS[@]}"; do kill -KILL -- "-$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	[ -n "$MNT" ] && umount -l "$MNT" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

# On a failure, lib.sh's nok shows the stderr of the last airlock run (al below).
RUN_ERR=$TMP/al.err
# al ARGS... -- CMD: airlock run, bounded in time, stderr kept in $TMP/al.err
al() { timeout -k 5 120 "$AIRLOCK" run -q "$@" 2> "$TMP/al.err"; }
# alrc ARGS...: the exit status of al, output discarded
alrc() { al "$@" >/dev/null; echo $?; }
ms_now() { echo $(($(date +%s%N) / 1000000)); }
# wait_for SECONDS CMD...: poll (every 50 ms) until CMD succeeds; status of the last try
wait_for() {
	local end=$(($(ms_now) + $1 * 1000)); shift
	until "$@" >/dev/null 2>&1; do
		[ "$(ms_now)" -ge "$end" ] && return 1
		sleep 0.05
	done
}

# q LOG EXPR: a python expression over the log. L: the parsed lines; bad:
# lines that are not JSON objects; tail: bytes after the last newline (a torn
# line); nl: the number of complete lines; ev(kind[, run]): the events of a
# kind; runs(kind): the run ids of a kind, in order; ok(): intact (every line
# a JSON object, nothing after the last newline).
cat > "$TMP/q.py" <<'PY'
import json, re, sys
try:
    raw = open(sys.argv[1], "rb").read()
except OSError:
    raw = b""
parts = raw.split(b"\n")
tail = parts.pop()
nl = len(parts)
L, bad = [], 0
for p in parts:
    try:
        e = json.loads(p)
        if isinstance(e, dict):
            L.append(e)
        else:
            bad += 1
    except ValueError:
        bad += 1
def ev(kind, run=None):
    return [e for e in L if e.get("event") == kind and (run is None or e.get("run") == run)]
def runs(kind):
    return [e.get("run") for e in ev(kind)]
def ok():
    return bad == 0 and tail == b"" and nl > 0
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
RUN = re.compile(r"^[0-9a-f]{16}$")
def common(agent):
    return all(e.get("v") == 1 and isinstance(e.get("time"), str) and TIME.match(e["time"])
               and isinstance(e.get("run"), str) and RUN.match(e["run"]) and e.get("agent") == agent
               and isinstance(e.get("event"), str) for e in L)
r = eval(sys.argv[2])
print(r)
PY
q() { python3 "$TMP/q.py" "$1" "$2" 2>&1; }

VIOLATE=(python3 -c "import ctypes; ctypes.CDLL(None).syscall(165)")
UID_=$(id -u)

# --- every event kind from one real run --------------------------------------
WS=$TMP/ws1
mkdir -p "$WS"
printf 'ab' > "$WS/mod"
printf 'ccc' > "$WS/del"
printf 'same' > "$WS/keep"
L1=$TMP/full.jsonl
CMD1='curl -s -m 5 -o /dev/null https://denied.example/
curl -s -m 5 -o /dev/null "$PROBE_URL"
python3 -c "import ctypes; l = ctypes.CDLL(None); l.syscall(165); l.syscall(165)"
printf hello > new; mkdir sub; printf 12345678 > sub/f; printf xyz >> mod; rm del
exit 3'
al --audit-log "$L1" --agent itest --allow-host allowed.example:443 --workspace "$WS:rw" \
	--setenv API_TOKEN=s3cr3t-t0ken-value --setenv PROBE_URL=http://denied.example/secret-path-xyz \
	--report "$TMP/r1.json" -- sh -c "$CMD1" > /dev/null
expect "the run exits with the command's status" "$?" 3
expect "every line is a JSON object, nothing torn" "$(q "$L1" 'ok()')" True
expect "every event has v, time (RFC 3339 ms), run (16 hex), agent, event" "$(q "$L1" 'common("itest")')" True
expect "one run id on every event" "$(q "$L1" 'len({e["run"] for e in L})')" 1
expect "the event kinds, in order" \
	"$(q "$L1" '" ".join(e["event"] for e in L if e["event"] != "egress")')" \
	"run_start syscall_denied file_changes resource_peak run_end"
expect "run_start first, run_end last" "$(q "$L1" 'L[0]["event"], L[-1]["event"]')" "('run_start', 'run_end')"
RUN1=$(q "$L1" 'runs("run_start")[0]')
expect_match "run_start: policy_digest" "$(q "$L1" 'ev("run_start")[0]["policy_digest"]')" '^[0-9a-f]{64}$'
expect "run_start: policy_digest is the report's" "$(q "$L1" 'ev("run_start")[0]["policy_digest"]')" \
	"$(json "$TMP/r1.json" 'r["policy_digest"]')"
printf '%s' "$CMD1" > "$TMP/cmd1"
expect "run_start: command is the argv, as given" \
	"$(python3 "$TMP/q.py" "$L1" 'ev("run_start")[0]["command"] == ["sh", "-c", open(sys.argv[3]).read()]' "$TMP/cmd1")" True
expect "run_start: cwd and user" "$(q "$L1" 'ev("run_start")[0]["cwd"], ev("run_start")[0]["user"]')" "('/workspace', $UID_)"
expect "run_start: layers, the applied ones by name" \
	"$(q "$L1" 'all(x in ev("run_start")[0]["layers"] for x in ("seccomp", "filesystem", "pid_namespace", "network_namespace"))')" True
expect "run_start: layers are the report's applied layers" \
	"$(q "$L1" 'sorted(ev("run_start")[0]["layers"])')" \
	"$(json "$TMP/r1.json" 'sorted(k for k, v in r["layers"].items() if v["state"] == "applied")')"
expect "run_start: unavailable is a list of {layer, note}" \
	"$(q "$L1" 'all(set(u) == {"layer", "note"} for u in ev("run_start")[0]["unavailable"])')" True
expect "egress: two denied requests" "$(q "$L1" '[(e["host"], e["port"], e["verdict"]) for e in ev("egress")]')" \
	"[('denied.example', 443, 'deny'), ('denied.example', 80, 'deny')]"
expect "egress: the run id of run_start" "$(q "$L1" '{e["run"] for e in ev("egress")} == {runs("run_start")[0]}')" True
expect "egress: the documented fields" \
	"$(q "$L1" 'all({"proto","host","port","address","verdict","rule","reason","status","bytes_up","bytes_down","duration_ms"} <= set(e) for e in ev("egress"))')" True
expect "egress: written live, between run_start and run_end" \
	"$(q "$L1" '[e["event"] for e in L].index("egress") > 0 and [e["event"] for e in L][-1] == "run_end"')" True
expect "syscall_denied: the name and the exact count" "$(q "$L1" '[(e["syscall"], e["count"]) for e in ev("syscall_denied")]')" \
	"[('mount', 2)]"
expect "file_changes: created, with sizes, paths relative" "$(q "$L1" 'ev("file_changes")[0]["created"]')" \
	"[{'path': 'new', 'size': 5}, {'path': 'sub/f', 'size': 8}]"
expect "file_changes: modified, with the new size" "$(q "$L1" 'ev("file_changes")[0]["modified"]')" "[{'path': 'mod', 'size': 5}]"
expect "file_changes: deleted, with the old size" "$(q "$L1" 'ev("file_changes")[0]["deleted"]')" "[{'path': 'del', 'size': 3}]"
expect "file_changes: not truncated" "$(q "$L1" 'ev("file_changes")[0]["truncated"]')" False
expect "resource_peak: every documented field, numbers" \
	"$(q "$L1" 'all(isinstance(ev("resource_peak")[0][k], (int, float)) for k in ("memory_bytes","memory_limit","pids","pids_limit","cpu_user_ms","cpu_sys_ms","wall_ms","output_bytes","read_bytes","write_bytes"))')" True
expect "resource_peak: wall time and memory measured" \
	"$(q "$L1" 'ev("resource_peak")[0]["wall_ms"] > 0 and ev("resource_peak")[0]["memory_bytes"] > 0')" True
expect "run_end: exit reason, code, status, signal" \
	"$(q "$L1" '[ev("run_end")[0][k] for k in ("exit_reason","exit_code","exit_status","term_signal")]')" "['exited', 3, 3, 0]"
expect "run_end: violations are 2 syscalls + 2 denied requests, failed" \
	"$(q "$L1" 'ev("run_end")[0]["violations"], ev("run_end")[0]["failed"]')" "(4, True)"
expect "no environment value in the log" "$(grep -c 's3cr3t-t0ken-value' "$L1")" 0
expect "no request path in the log" "$(grep -c 'secret-path-xyz' "$L1")" 0
expect_match "the log is not readable by others" "$(stat -c %a "$L1")" '^[0-7]00$'

# a clean run
L1b=$TMP/clean.jsonl
al --audit-log "$L1b" -- true
expect "a clean run: run_start, resource_peak, run_end" "$(q "$L1b" '" ".join(e["event"] for e in L)')" "run_start resource_peak run_end"
expect "a clean run: not failed, no violations, agent empty" \
	"$(q "$L1b" 'ev("run_end")[0]["failed"], ev("run_end")[0]["violations"], L[0]["agent"]')" "(False, 0, '')"
check "a clean run: not the previous run id" test "$(q "$L1b" 'L[0]["run"]')" != "$RUN1"
expect "a read-only workspace gives no file_changes" \
	"$(al --audit-log "$TMP/ro.jsonl" --workspace "$WS:ro" -- true; q "$TMP/ro.jsonl" 'len(ev("file_changes")), len(ev("run_end"))')" "(0, 1)"

# --- run_end after a timeout, a missing command, a failed setup ---------------
L2=$TMP/timeout.jsonl
t0=$(ms_now)
al --audit-log "$L2" -t 1 -- sleep 30
code=$?
ms=$(($(ms_now) - t0))
expect "a timed-out run exits 124" "$code" 124
check "... within the timeout and its grace ($ms ms)" test "$ms" -lt 15000
expect "a timed-out run has its run_end: timeout, 124, failed" \
	"$(q "$L2" '[ev("run_end")[0][k] for k in ("exit_reason","exit_code","failed")]')" "['timeout', 124, True]"
expect "... one run_start, one run_end, run_end last" \
	"$(q "$L2" 'len(ev("run_start")), len(ev("run_end")), L[-1]["event"]')" "(1, 1, 'run_end')"
L3=$TMP/notfound.jsonl
expect "a missing command exits 127" "$(alrc --audit-log "$L3" -- /nonexistent/cmd)" 127
expect "... and has its run_end: exit code 127, failed" \
	"$(q "$L3" 'ok(), len(ev("run_end")), ev("run_end")[0]["exit_code"], ev("run_end")[0]["failed"], L[-1]["event"]')" \
	"(True, 1, 127, True, 'run_end')"
L4=$TMP/setup.jsonl
expect "a run that cannot be set up exits 125" "$(alrc --audit-log "$L4" --workspace "$TMP/no-such-dir" -- true)" 125
expect "... and has a run_end: setup_failed, failed" \
	"$(q "$L4" 'ok(), [(e["exit_reason"], e["exit_code"], e["failed"]) for e in ev("run_end")]')" \
	"(True, [('setup_failed', 125, True)])"

# --- 50 concurrent runs on one log --------------------------------------------
# run_start lines over 4 KiB (PIPE_BUF): a long argument makes them ~6 KiB.
LC=$TMP/concurrent.jsonl
BIG=$(head -c 5000 /dev/zero | tr '\0' x)
cpids=()
for i in $(seq 50); do
	timeout -k 5 120 "$AIRLOCK" run -q --audit-log "$LC" -- /bin/true "$BIG-$i" > /dev/null 2> "$TMP/c.$i.err" &
	cpids+=($!)
	PIDS+=($!)
done
cfail=0
for p in "${cpids[@]}"; do wait "$p" || cfail=$((cfail + 1)); done
expect "50 concurrent runs all succeed" "$cfail" 0
[ "$cfail" -eq 0 ] || sed 's/^/#   /' "$TMP"/c.*.err | sort | uniq -c | head -n 5
expect "150 lines (3 per run), none lost" "$(wc -l < "$LC")" 150
expect "every line is a JSON object, nothing torn" "$(q "$LC" 'ok(), nl, len(L)')" "(True, 150, 150)"
expect "50 distinct run ids" "$(q "$LC" 'len({e["run"] for e in L})')" 50
expect "each run id: exactly one run_start and one run_end" \
	"$(q "$LC" 'all(len(ev("run_start", r)) == 1 and len(ev("run_end", r)) == 1 for r in {e["run"] for e in L})')" True
expect "each run_start carries its whole 5 KB argument" \
	"$(q "$LC" 'sorted(int(e["command"][1].rsplit("-", 1)[1]) for e in ev("run_start") if len(e["command"][1]) > 5000) == list(range(1, 51))')" True
expect "within a run, run_start comes before run_end" \
	"$(q "$LC" 'all([e["event"] for e in L if e["run"] == r][0] == "run_start" and [e["event"] for e in L if e["run"] == r][-1] == "run_end" for r in {e["run"] for e in L})')" True

# --- the supervisor killed with SIGKILL mid-run -------------------------------
LK=$TMP/killed.jsonl
descendants() { # PID: every process below PID
	local c
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do echo "$c"; descendants "$c"; done
}
"$AIRLOCK" run -q --audit-log "$LK" -- sleep 30 > /dev/null 2> "$TMP/al.err" &
sup=$!
PIDS+=($sup)
if wait_for 15 grep -q '"run_start"' "$LK"; then
	ok "the killed run wrote its run_start"
else
	nok "the killed run wrote its run_start"
fi
tree=$(descendants "$sup")
for p in $tree; do PIDS+=("$p"); done
kill -KILL "$sup"
wait "$sup" 2>/dev/null
gone() { local p; for p in $tree; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
check "the sandbox dies with its supervisor" wait_for 10 gone
expect "after SIGKILL: every line is intact JSON" "$(q "$LK" 'ok()')" True
expect "... a run_start and no run_end (nobody was left to write it)" \
	"$(q "$LK" 'len(ev("run_start")), len(ev("run_end"))')" "(1, 0)"
before=$(wc -l < "$LK")
expect "a following run works" "$(alrc --audit-log "$LK" -- true)" 0
expect "... and appends normally: 3 more intact lines, its run_end last" \
	"$(q "$LK" "ok(), nl - $before, L[-1]['event'], L[-1]['run'] == L[$before]['run'] != L[0]['run']")" \
	"(True, 3, 'run_end', True)"

# --- a full disk ---------------------------------------------------------------
if [ "$IS_ROOT" -eq 1 ]; then
	MNT=$TMP/full
	mkdir -p "$MNT" "$TMP/wsfull"
	if mount -t tmpfs -o size=16k,mode=755 tmpfs "$MNT"; then
		dd if=/dev/zero of="$MNT/fill" bs=1k 2> "$TMP/dd.err"
		check "the tmpfs is full (dd: No space left on device)" grep -q 'No space left' "$TMP/dd.err"
		al --audit-log "$MNT/audit.jsonl" --workspace "$TMP/wsfull:rw" -- touch /workspace/marker > /dev/null
		expect "full disk: the run is refused (125)" "$?" 125
		expect_match "full disk: ... with a message" "$(cat "$TMP/al.err")" 'audit log .*(No space left on device)'
		check "full disk: the command did not run" test ! -e "$TMP/wsfull/marker"
		printf 'audit:\n  on_write_error: continue\n' > "$TMP/continue.yaml"
		al -p "$TMP/continue.yaml" --audit-log "$MNT/audit.jsonl" --workspace "$TMP/wsfull:rw" \
			-- touch /workspace/marker > /dev/null
		expect "full disk, on_write_error: continue: the run exits 0" "$?" 0
		check "full disk, on_write_error: continue: the command ran" test -e "$TMP/wsfull/marker"
		[ -s "$TMP/al.err" ] || echo "# note: on_write_error: continue ran unaudited without a word on stderr (docs/audit.md: \"say so on stderr\")"
		umount -l "$MNT" && MNT=""
	else
		nok "mount a 16k tmpfs"
	fi
else
	skip "full disk: mounting a tmpfs needs root"
	skip "full disk: needs root"
	skip "full disk: needs root"
	skip "full disk: needs root"
	skip "full disk: needs root"
	skip "full disk: needs root"
fi

# --- rotation --------------------------------------------------------------------
mkdir -p "$TMP/rot"
LR=$TMP/rot/audit.jsonl
cat > "$TMP/rot.yaml" <<EOF
audit:
  log: $LR
  max_size: 2K
  keep: 2
EOF
rfail=0
for i in $(seq 8); do [ "$(alrc -p "$TMP/rot.yaml" -- true "$i")" = 0 ] || rfail=$((rfail + 1)); done
expect "8 runs with rotation succeed" "$rfail" 0
check "audit.jsonl.1 exists" test -f "$LR.1"
check "audit.jsonl.2 exists" test -f "$LR.2"
check "no audit.jsonl.3 (keep: 2)" test ! -e "$LR.3"
for f in "$LR" "$LR.1" "$LR.2"; do
	expect "${f##*/}: intact, whole runs (a run_end for every run_start)" \
		"$(q "$f" 'ok() and sorted(runs("run_start")) == sorted(runs("run_end"))')" True
done
expect "the current log holds the last run" "$(q "$LR" 'ev("run_start")[-1]["command"]')" "['true', '8']"
expect "no run is in two files" \
	"$(python3 - "$LR" "$LR.1" "$LR.2" <<'PY'
import json, sys
seen = [ {json.loads(l)["run"] for l in open(f)} for f in sys.argv[1:] ]
print(len(set().union(*seen)) == sum(map(len, seen)))
PY
)" True
check "the rotated files are older runs (.2 before .1 before the log)" python3 -c '
import json, sys
t = [json.loads(open(f).readline())["time"] for f in sys.argv[1:]]
assert t[0] < t[1] < t[2], t' "$LR.2" "$LR.1" "$LR"

# --- alerts ------------------------------------------------------------------------
# exec on failure: the run_end of the failing run, and nothing for a clean one
LA=$TMP/alert.jsonl
cat > "$TMP/fail.yaml" <<EOF
audit:
  alerts:
    - { on: failure, exec: "cat >> $TMP/alert-fail.out" }
EOF
al -p "$TMP/fail.yaml" --audit-log "$LA" -- true
al -p "$TMP/fail.yaml" --audit-log "$LA" -- sh -c 'exit 7'
expect "a failing run exits 7" "$?" 7
if wait_for 10 grep -q '"run_end"' "$TMP/alert-fail.out"; then ok "the failure alert command got an event"; else nok "the failure alert command got an event"; fi
sleep 0.5
expect "... exactly one: the failing run's run_end" \
	"$(python3 -c '
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
log = [json.loads(l) for l in open(sys.argv[2])]
print(len(a), a[0]["event"], a[0]["exit_code"], a[0]["failed"], a[0] == log[-1])' "$TMP/alert-fail.out" "$LA" 2>&1)" \
	"1 run_end 7 True True"

# webhook on violation: a receiver on 127.0.0.1 that records the POSTs
cat > "$TMP/receiver.py" <<'PY'
import http.server, json, os, sys, time
out, portfile = sys.argv[1], sys.argv[2]
parent = os.getppid()
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(out, "a") as f:
            f.write(json.dumps({"path": self.path, "type": self.headers.get("Content-Type"),
                                "body": body.decode()}) + "\n")
        self.send_response(204)
        self.end_headers()
    def log_message(self, *args):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
# bounded: 300 s at most, and not a moment longer than the test's shell
srv.timeout = 0.2
end = time.monotonic() + 300
while time.monotonic() < end and os.getppid() == parent:
    srv.handle_request()
PY
python3 "$TMP/receiver.py" "$TMP/hook.out" "$TMP/hook.port" > /dev/null 2>&1 &
PIDS+=($!)
if wait_for 10 test -s "$TMP/hook.port"; then
	PORT=$(cat "$TMP/hook.port")
	cat > "$TMP/hook.yaml" <<EOF
audit:
  alerts:
    - { on: violation, webhook: "http://127.0.0.1:$PORT/hook" }
EOF
	LW=$TMP/hook.jsonl
	al -p "$TMP/hook.yaml" --audit-log "$LW" -- true
	expect "a run with a refused syscall exits 0" "$(alrc -p "$TMP/hook.yaml" --audit-log "$LW" -- "${VIOLATE[@]}")" 0
	if wait_for 15 test -s "$TMP/hook.out"; then ok "the webhook got a POST"; else nok "the webhook got a POST"; fi
	sleep 0.5
	expect "... one, to /hook: the violating run's run_end" \
		"$(python3 -c '
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
e = json.loads(a[0]["body"])
log = [json.loads(l) for l in open(sys.argv[2])]
print(len(a), a[0]["path"], e["event"], e["violations"], e == log[-1])' "$TMP/hook.out" "$LW" 2>&1)" \
		"1 /hook run_end 1 True"
else
	nok "the webhook receiver started"
fi

# delivery never blocks the run: an alert command that sleeps 30 s
cat > "$TMP/slow.yaml" <<EOF
audit:
  alerts:
    - { on: any, exec: "echo \$\$ >> $TMP/slow.pids; exec sleep 30" }
EOF
t0=$(ms_now)
out=$(al -p "$TMP/slow.yaml" --audit-log "$TMP/slow.jsonl" -- echo hi)
code=$?
ms=$(($(ms_now) - t0))
expect "a run with a 30 s alert command succeeds, its output intact" "$code $out" "0 hi"
check "... and returns at once ($ms ms, stdout captured)" test "$ms" -lt 3000
if wait_for 10 test -s "$TMP/slow.pids"; then ok "... while the alert command runs on"; else nok "... while the alert command runs on"; fi
sleep 0.3
for p in $(cat "$TMP/slow.pids" 2>/dev/null); do PGROUPS+=("$p"); done
for p in "${PGROUPS[@]}"; do kill -KILL -- "-$p" 2>/dev/null; done

# --- the circuit breaker -------------------------------------------------------
S=$TMP/state
LB=$TMP/breaker.jsonl
mkdir -p "$TMP/wsb"
cat > "$TMP/breaker.yaml" <<EOF
audit:
  agent: itest-bot
  state_dir: $S
  circuit_breaker: { max_violations: 2, window: 10m, cooldown: 2s }
EOF
B=(-p "$TMP/breaker.yaml" --audit-log "$LB")
br() { "$AIRLOCK" breaker "$@" --state-dir "$S" 2>&1; }
expect "violating run 1 runs" "$(alrc "${B[@]}" -- "${VIOLATE[@]}")" 0
expect "no breaker event after one violation" "$(q "$LB" 'len(ev("breaker"))')" 0
expect "violating run 2 runs" "$(alrc "${B[@]}" -- "${VIOLATE[@]}")" 0
expect "... and trips the breaker: a breaker event, tripped, 2 violations, agent" \
	"$(q "$LB" '[(e["state"], e["violations"], e["agent"]) for e in ev("breaker")]')" "[('tripped', 2, 'itest-bot')]"
expect "... carrying the tripping run's id and an until" \
	"$(q "$LB" 'ev("breaker")[0]["run"] == runs("run_end")[-1] and bool(TIME.match(ev("breaker")[0]["until"]))')" True
al "${B[@]}" --workspace "$TMP/wsb:rw" -- touch /workspace/marker > /dev/null
expect "the next run is refused: 125" "$?" 125
expect_match "... with 'circuit breaker open'" "$(cat "$TMP/al.err")" "circuit breaker open for agent itest-bot"
check "... and the command did not run" test ! -e "$TMP/wsb/marker"
expect "... a breaker event: refused, for a run that never started" \
	"$(q "$LB" 'ok(), ev("breaker")[-1]["state"], len(ev("run_start", ev("breaker")[-1]["run"]))')" "(True, 'refused', 0)"
expect_match "breaker status shows it tripped" "$(br status itest-bot)" '^itest-bot  tripped until '
expect "breaker status --json: tripped" \
	"$(br status itest-bot --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["agents"][0]["state"])' 2>&1)" tripped
expect "another agent is not held by it" "$(alrc "${B[@]}" --agent other-bot -- true)" 0
sleep 2.2
expect "after the 2 s cooldown runs work again" "$(alrc "${B[@]}" -- true)" 0
expect_match "... and status says closed" "$(br status itest-bot)" '^itest-bot  closed'
alrc "${B[@]}" -- "${VIOLATE[@]}" > /dev/null
alrc "${B[@]}" -- "${VIOLATE[@]}" > /dev/null
expect "two more violations trip it again" "$(q "$LB" '[e["state"] for e in ev("breaker")]')" "['tripped', 'refused', 'tripped']"
check "the state is on disk" test -s "$S/breaker/itest-bot.json"
# every run is a fresh process: a refused run here is the breaker surviving a restart
expect "a new airlock process is refused (the state survives a restart)" "$(alrc "${B[@]}" -- true)" 125
expect "breaker reset exits 0" "$(br reset itest-bot > /dev/null; echo $?)" 0
expect "after reset runs work at once" "$(alrc "${B[@]}" -- true)" 0
expect "the breaker log is intact: every run_start has its run_end, each run one run_end" \
	"$(q "$LB" 'ok() and set(runs("run_start")) <= set(runs("run_end")) and len(runs("run_end")) == len(set(runs("run_end")))')" True
expect "a refused run ends with run_end breaker_open" \
	"$(q "$LB" 'sorted(set(e["exit_reason"] for e in ev("run_end") if e["run"] not in runs("run_start")))')" "['breaker_open']"

# --- reading the log: airlock audit tail|summary ---------------------------------
if "$AIRLOCK" audit summary --help > /dev/null 2>&1; then
	expect_match "audit tail shows the run_end" "$("$AIRLOCK" audit tail "$L1" 2>&1 | tail -n 1)" "$RUN1 +run_end"
	expect "audit tail --json passes the lines through" "$("$AIRLOCK" audit tail "$L1" --json 2>&1 | md5sum)" \
		"$(md5sum < "$L1")"
	expect "audit summary --json counts the 50 concurrent runs" \
		"$("$AIRLOCK" audit summary "$LC" --json 2>&1 | python3 -c 'import json,sys; a=json.load(sys.stdin)["agents"]; print(len(a), a[0]["runs"])' 2>&1)" \
		"1 50"
	expect "audit summary --json: agent, runs, failures, violations of the full run" \
		"$("$AIRLOCK" audit summary "$L1" --json 2>&1 | python3 -c 'import json,sys; a=json.load(sys.stdin)["agents"][0]; print(a["agent"], a["runs"], a["failures"], a["violations"])' 2>&1)" \
		"itest 1 1 4"
	expect "audit summary --json counts the breaker trips" \
		"$("$AIRLOCK" audit summary "$LB" --agent itest-bot --json 2>&1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["agents"][0]["breaker_trips"])' 2>&1)" 2
else
	skip "airlock audit tail|summary are not in this build"
	skip "airlock audit tail|summary are not in this build"
	skip "airlock audit tail|summary are not in this build"
	skip "airlock audit tail|summary are not in this build"
	skip "airlock audit tail|summary are not in this build"
fi

done_testing
