#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# run_escape.sh AIRLOCK PROBE CATEGORY — the airlock escape suite.
#
# Runs every probe of CATEGORY (see `probe list`) through the real
# `airlock run` and prints TAP: "ok N - probe: CONTAINED ..." or
# "not ok N - probe: ESCAPED ...". CATEGORY is one of
#   fs proc dev priv sys tty ipc net egress res leak sig cleanup selftest all
#
# Before any run the harness sets up what an attacker inside would go for:
# TCP/UDP/unix/abstract listeners on the host (any contact is an escape), a
# secret file in a host temp dir (also the caller's cwd), SysV and POSIX IPC
# objects, host sleeper processes that must survive, a secret in the
# environment and extra fds 7 and 8 (the secret file and its directory) that
# must not reach the sandbox. "selftest" runs a few probes *without* airlock
# and expects them to escape: proof that CONTAINED is not vacuous.
#
# "egress" attacks the egress gateway with the broadest allowlist a careful
# user could write (--allow-host '*:*': everything public): through the proxy
# at 127.0.0.1:3128 to loopback, the metadata service and this machine's own
# addresses, Host-header steering, garbage; direct connections and binds
# beside it; then every "net" probe once more with the gateway present
# (TAP names "net-...+gateway").
#
# Works as root and as an unprivileged user. Everything it creates is under
# /tmp/airlock-esc-* and is removed on exit.
set -u
export LC_ALL=C

if [[ $# -lt 3 ]]; then
	echo "usage: $0 AIRLOCK PROBE CATEGORY" >&2
	exit 2
fi
AIRLOCK=$(realpath "$1")
PROBE=$(realpath "$2")
CATEGORY=$3
HARD_TIMEOUT=${AIRLOCK_ESCAPE_HARD_TIMEOUT:-90}	# host-side limit per run
STDIN=/dev/null

N=0
FAILS=0
clean() { printf '%s' "$1" | tr '\n\r#\t' '  _ ' | cut -c1-600; }
tap_ok() { N=$((N + 1)); echo "ok $N - $(clean "$1")"; }
tap_fail() { N=$((N + 1)); FAILS=$((FAILS + 1)); echo "not ok $N - $(clean "$1")"; }
tap_skip() { N=$((N + 1)); echo "ok $N - $(clean "$1") # SKIP $(clean "$2")"; }
diag() { echo "# $(clean "$1")"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# ---- host-side setup --------------------------------------------------------

PIDS_TO_KILL=()
DIRS_TO_REMOVE=()
cleanup() {
	local p
	for p in "${PIDS_TO_KILL[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS_TO_KILL[@]}"; do wait "$p" 2>/dev/null; done
	cd / && chmod -R u+rwX "${DIRS_TO_REMOVE[@]}" 2>/dev/null
	rm -rf "${DIRS_TO_REMOVE[@]}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mk() { local d; d=$(mktemp -d "/tmp/airlock-esc-$1.XXXXXX") || exit 1; chmod 755 "$d"; echo "$d"; }
WORK=$(mk work)
SECRET_DIR=$(mk secret)
STAGE=$(mk stage)
LISTEN_DIR=$(mk listen)
WS_PARENT=$(mk ws)
DENY_PARENT=$(mk deny)
DIRS_TO_REMOVE+=("$WORK" "$SECRET_DIR" "$STAGE" "$LISTEN_DIR" "$WS_PARENT" "$DENY_PARENT")
chmod 700 "$WORK"

# The secret is world-readable on purpose: only the sandbox may keep it out,
# not file permissions (as root the sandbox runs as another host uid).
SECRET_FILE=$SECRET_DIR/secret.txt
echo "AIRLOCK-HOST-SECRET-7f3a do not leak" >"$SECRET_FILE"
chmod 644 "$SECRET_FILE"

# The probe is staged (readable by any uid) and mounted read-only. As root,
# also a setuid-root copy and a copy with file capabilities.
cp "$PROBE" "$STAGE/probe" && chmod 755 "$STAGE/probe"
if [[ $(id -u) == 0 ]]; then
	cp "$PROBE" "$STAGE/probe-suid" && chown 0:0 "$STAGE/probe-suid" && chmod 4755 "$STAGE/probe-suid"
	cp "$PROBE" "$STAGE/probe-fcap" && chmod 755 "$STAGE/probe-fcap" &&
		{ "$STAGE/probe" host-setcap "$STAGE/probe-fcap" 2>/dev/null || rm -f "$STAGE/probe-fcap"; }
fi

OWN_ADDR=$(ip -4 -o addr show scope global 2>/dev/null | awk '{split($4, a, "/"); print a[1]; exit}')
[[ -z $OWN_ADDR ]] && OWN_ADDR=$(hostname -I 2>/dev/null | awk '{print $1}')

# This machine's name, for the egress probes to ask the gateway for, but only
# if it resolves to this machine alone (loopback or an interface address): a
# name that leads elsewhere would send a broken gateway's traffic elsewhere.
own_host_name() {
	local name a addrs local_addrs
	name=$(hostname 2>/dev/null) || return
	[[ $name =~ ^[A-Za-z0-9][A-Za-z0-9.-]*$ ]] || return
	addrs=$(getent ahosts "$name" 2>/dev/null | awk '{print $1}' | sort -u)
	[[ -n $addrs ]] || return
	local_addrs=$(ip -o addr show 2>/dev/null | awk '{split($4, a, "/"); print a[1]}')
	for a in $addrs; do
		case $a in
		127.* | ::1 | ::ffff:127.*) ;;
		*) grep -qxF -- "$a" <<<"$local_addrs" || return ;;
		esac
	done
	echo "$name"
}
HOST_NAME=$(own_host_name)

"$STAGE/probe" host-listen "$LISTEN_DIR" "${OWN_ADDR:-}" </dev/null >/dev/null 2>"$WORK/listen.err" &
PIDS_TO_KILL+=($!)
for _ in $(seq 100); do [[ -s $LISTEN_DIR/info ]] && break; sleep 0.05; done
if [[ ! -s $LISTEN_DIR/info ]]; then
	echo "1..1"
	echo "not ok 1 - setup: host listeners did not start: $(clean "$(cat "$WORK/listen.err")")"
	exit 1
fi
LOG=$LISTEN_DIR/log
touch "$LOG"

# Host processes that must survive (kill(-1) inside, pid guessing).
SLEEP_MARK=airlock-esc-sleeper-$$
SLEEPERS=()
"$STAGE/probe" host-sleep "$SLEEP_MARK" </dev/null >/dev/null 2>&1 &
SLEEPERS+=($!)
if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$STAGE/probe" host-sleep "$SLEEP_MARK" \
		</dev/null >/dev/null 2>&1 &
	SLEEPERS+=($!)
fi
PIDS_TO_KILL+=("${SLEEPERS[@]}")

# What every probe gets told.
ARGS=()
while IFS= read -r line; do ARGS+=("$line"); done <"$LISTEN_DIR/info"
host_pids=$(IFS=,; echo "${SLEEPERS[*]},$$")
ARGS+=("secret_file=$SECRET_FILE" "secret_dir=$SECRET_DIR" "home=${HOME:-/root}"
	"host_addr=${OWN_ADDR:-}" "host_name=${HOST_NAME:-}" "marker=$SLEEP_MARK" "host_pids=$host_pids"
	"pids_limit=32" "memory_mb=64")
for ns in user pid mnt ipc uts net cgroup; do
	ino=$(readlink "/proc/$$/ns/$ns" 2>/dev/null | tr -dc 0-9)
	ARGS+=("ns_$ns=$ino")
done

# Leaks the sandbox must plug: secrets in the environment, open fds, the cwd.
export AIRLOCK_TEST_SECRET=airlock-test-secret-value-$$
export AWS_SECRET_ACCESS_KEY=airlock-test-secret-value-aws
export GITHUB_TOKEN=airlock-test-secret-value-gh
export SSH_AUTH_SOCK=$LISTEN_DIR/host.sock
exec 7<"$SECRET_FILE" 8<"$SECRET_DIR"
cd "$SECRET_DIR" || exit 1

# ---- running airlock --------------------------------------------------------

MOUNT_ARGS=()
PROBE_IN=
MODE=

# airlock [opts] -- cmd...; stdout/stderr/report into $OUT $ERR $REP.
# AIRLOCK_ESC_RUN marks the supervisor so leftovers can be found afterwards.
OUT=$WORK/out ERR=$WORK/err REP=$WORK/report.json
run_airlock() {
	rm -f "$OUT" "$ERR" "$REP"
	AIRLOCK_ESC_RUN=$$ timeout -k 5 "$HARD_TIMEOUT" "$AIRLOCK" run --report "$REP" "$@" \
		<"$STDIN" >"$OUT" 2>"$ERR"
}

json_str() { grep -ao "\"$1\"[[:space:]]*:[[:space:]]*\"[^\"]*\"" "$REP" 2>/dev/null | head -1 | sed 's/.*:[[:space:]]*"\(.*\)"$/\1/'; }
verdict_of() { grep -a -m1 -E '^(CONTAINED|ESCAPED) ' "$1" 2>/dev/null | tr -d '\r'; }
errhead() { tr -d '\r' <"$ERR" 2>/dev/null | grep -av '^$' | head -3 | tr '\n' ' ' | cut -c1-300; }

setup_mode() {
	local why1 rc1
	run_airlock --mount "$STAGE:/probe:ro" -- /probe/probe hello
	rc1=$?
	if grep -q '^HELLO' "$OUT"; then
		MODE=mount MOUNT_ARGS=(--mount "$STAGE:/probe:ro") PROBE_IN=/probe/probe
		return 0
	fi
	why1=$(errhead)
	run_airlock --workspace "$STAGE:ro" -- /workspace/probe hello
	if grep -q '^HELLO' "$OUT"; then
		MODE=workspace MOUNT_ARGS=(--workspace "$STAGE:ro") PROBE_IN=/workspace/probe
		diag "probe mounted as a read-only workspace (--mount DIR:/probe failed: $why1)"
		return 0
	fi
	echo "1..1"
	echo "not ok 1 - setup: airlock cannot run the probe (rc $rc1): $(clean "$why1") / $(clean "$(errhead)")"
	exit 1
}

log_lines() { wc -l <"$LOG"; }
sleepers_dead() {
	local p dead=
	for p in "${SLEEPERS[@]}"; do kill -0 "$p" 2>/dev/null || dead+=" $p"; done
	echo "$dead"
}
restart_sleepers() {
	local i
	for i in "${!SLEEPERS[@]}"; do
		kill -0 "${SLEEPERS[$i]}" 2>/dev/null && continue
		"$STAGE/probe" host-sleep "$SLEEP_MARK" </dev/null >/dev/null 2>&1 &
		SLEEPERS[i]=$!
		PIDS_TO_KILL+=($!)
	done
}
# Processes left behind by a run: anything carrying its marker.
leftovers() {
	local i left
	for i in $(seq 20); do
		left=$(pgrep -f -- "$1" | tr '\n' ' ')
		[[ -z $left ]] && return 0
		sleep 0.05
	done
	echo "$left"
}
kill_marked() { pkill -KILL -f -- "$1" 2>/dev/null; }

prepare_ws_rw() {
	rm -rf "$WS_PARENT/ws" "$WS_PARENT/planted"
	mkdir -p "$WS_PARENT/ws" && chmod 777 "$WS_PARENT/ws"
	cp "$SECRET_FILE" "$WS_PARENT/secret.txt"
	ln -s "$SECRET_FILE" "$WS_PARENT/ws/link-secret"
	ln -s "../../../../../../../../..$SECRET_FILE" "$WS_PARENT/ws/link-up"
	ln -s "/proc/1/cwd/secret.txt" "$WS_PARENT/ws/link-proc-cwd"
}
# Host trees with deny-listed secrets: DENY_PARENT/ws (rw workspace) and
# DENY_PARENT/data (read-only --mount at /data).
prepare_deny() {
	local t f
	chmod -R u+rwX "$DENY_PARENT" 2>/dev/null
	rm -rf "$DENY_PARENT/ws" "$DENY_PARENT/data"
	for t in ws data; do
		mkdir -p "$DENY_PARENT/$t/sub" "$DENY_PARENT/$t/.ssh" "$DENY_PARENT/$t/.aws"
		for f in .env sub/.env.local .ssh/id_rsa server.key cert.pem .aws/credentials \
			.git-credentials .netrc id_ed25519 custom-secret.txt visible.txt; do
			cp "$SECRET_FILE" "$DENY_PARENT/$t/$f"
		done
		echo custom-secret.txt >"$DENY_PARENT/$t/.aiignore"
		mkdir -p "$DENY_PARENT/$t/locked"
		cp "$SECRET_FILE" "$DENY_PARENT/$t/locked/.env"
		# Modes open to any uid: only the deny list may hide these. "locked"
		# can be traversed but not listed (mode 0311).
		chmod -R a+rwX "$DENY_PARENT/$t"
		chmod 0311 "$DENY_PARENT/$t/locked"
	done
}
prepare_ws_ro() {
	rm -rf "$WS_PARENT/ro"
	mkdir -p "$WS_PARENT/ro"
	echo original >"$WS_PARENT/ro/existing.txt"
	chmod 666 "$WS_PARENT/ro/existing.txt"
	chmod 777 "$WS_PARENT/ro"
}

# ---- one probe --------------------------------------------------------------

# The broadest allowlist: the egress probes' own opts, and the net re-run's.
GATEWAY_OPTS='--allow-host *:*'

# run_probe NAME EXPECT OPTS [LABEL]: LABEL names the TAP line (default NAME).
run_probe() {
	local name=$1 expect=$2 optstr=$3 label=${4:-$1}
	local -a opts=()
	local mark=airlock-esc-run-$$-$N-$RANDOM

	case $optstr in
	*@WS_RW@*)
		if [[ $MODE != mount ]]; then tap_skip "$label" "probe itself is the workspace"; return; fi
		prepare_ws_rw
		opts+=(--workspace "$WS_PARENT/ws:rw")
		optstr=${optstr//@WS_RW@/} ;;
	*@WS_RO@*)
		if [[ $MODE != mount ]]; then tap_skip "$label" "probe itself is the workspace"; return; fi
		prepare_ws_ro
		opts+=(--workspace "$WS_PARENT/ro:ro")
		optstr=${optstr//@WS_RO@/} ;;
	*@DENY@*)
		if [[ $MODE != mount ]]; then tap_skip "$label" "probe itself is the workspace"; return; fi
		prepare_deny
		opts+=(--workspace "$DENY_PARENT/ws:rw" --mount "$DENY_PARENT/data:/data:ro")
		optstr=${optstr//@DENY@/} ;;
	esac
	# Word splitting only: read does no pathname expansion, so "*:*" stays.
	local -a extra=()
	read -ra extra <<<"$optstr"
	opts+=("${extra[@]}")

	local before t0 rc ms
	before=$(log_lines)
	t0=$(now_ms)
	if [[ $CATEGORY_NOW == tty ]]; then
		# A real controlling terminal around airlock, as when run by hand.
		rm -f "$OUT" "$ERR" "$REP"
		AIRLOCK_ESC_RUN=$$ timeout -k 5 "$HARD_TIMEOUT" "$STAGE/probe" host-pty -- \
			"$AIRLOCK" run --report "$REP" "${MOUNT_ARGS[@]}" "${opts[@]}" -- \
			"$PROBE_IN" "$name" "${ARGS[@]}" "run_marker=$mark" </dev/null >"$OUT" 2>"$ERR"
		rc=$?
	else
		# exec keeps the pid: the probe learns the supervisor's host pid.
		rm -f "$OUT" "$ERR" "$REP"
		AIRLOCK_ESC_RUN=$$ timeout -k 5 "$HARD_TIMEOUT" bash -c 'exec "$@" "supervisor_pid=$$"' _ \
			"$AIRLOCK" run --report "$REP" "${MOUNT_ARGS[@]}" "${opts[@]}" -- \
			"$PROBE_IN" "$name" "${ARGS[@]}" "run_marker=$mark" <"$STDIN" >"$OUT" 2>"$ERR"
		rc=$?
	fi
	ms=$(( $(now_ms) - t0 ))
	judge "$label" "$expect" "$rc" "$ms" "$before" "$mark"
}

judge() {
	local name=$1 expect=$2 rc=$3 ms=$4 before=$5 mark=$6
	local verdict reason contacts dead left
	if [[ -z ${LAYERS_SHOWN:-} && -s $REP ]]; then
		LAYERS_SHOWN=1
		local missing
		missing=$(grep -ao '"[a-z_]*":{"state":"\(unavailable\|off\)"' "$REP" | cut -d'"' -f2 | tr '\n' ' ')
		diag "layers the host could not apply: ${missing:-none}"
	fi
	verdict=$(verdict_of "$OUT")
	reason=$(json_str exit_reason)
	dead=$(sleepers_dead)
	left=$(leftovers "$mark")
	[[ -n $left ]] && kill_marked "$mark"
	# A datagram that got out may still be on its way to the listener's log.
	[[ $name == net-* || $name == egress-* ]] && sleep 0.1
	contacts=$(tail -n +"$((before + 1))" "$LOG" | tr '\n' ' ')

	# What the host sees after the workspace probes.
	local hostside=
	case $name in
	fs-ws-rw-escape)
		[[ -e $WS_PARENT/planted ]] && hostside="created $WS_PARENT/planted beside the workspace"
		compgen -G "$WS_PARENT/ws/hl-*" >/dev/null && hostside+=" hard link left in the workspace" ;;
	fs-ws-ro)
		[[ $(cat "$WS_PARENT/ro/existing.txt" 2>/dev/null) == original ]] ||
			hostside="read-only workspace file changed on the host"
		[[ -z $(find "$WS_PARENT/ro" -mindepth 1 ! -name existing.txt) ]] ||
			hostside+=" new files in the read-only workspace" ;;
	esac

	if [[ -n $hostside ]]; then
		tap_fail "$name: ESCAPED $hostside [$verdict]"
	elif [[ -n $contacts ]]; then
		tap_fail "$name: ESCAPED host listener was contacted: $contacts [$verdict]"
	elif [[ -n $dead ]]; then
		tap_fail "$name: ESCAPED host sleeper(s)$dead killed [$verdict]"
		restart_sleepers
	elif grep -aq HOST-PTY-INJECTED "$ERR" 2>/dev/null; then
		tap_fail "$name: ESCAPED keystrokes injected into the host terminal: $(grep -a HOST-PTY "$ERR")"
	elif [[ $verdict == ESCAPED* ]]; then
		tap_fail "$name: $verdict"
	elif [[ -n $left ]]; then
		tap_fail "$name: ESCAPED processes outlived the run: $left [$verdict]"
	elif [[ $rc == 125 ]]; then
		tap_fail "$name: airlock failed (125): $(errhead)"
	else
		case $expect in
		v)
			if [[ $verdict == CONTAINED* && $rc == 0 ]]; then
				tap_ok "$name: $verdict"
			else
				tap_fail "$name: no verdict (rc=$rc reason=${reason:-?}): $(errhead) $(head -c 200 "$OUT")"
			fi ;;
		k)
			if [[ $verdict == CONTAINED* ]]; then
				tap_ok "$name: $verdict"
			elif [[ $reason =~ ^(oom|pids_limit|timeout)$ || $rc == 137 || $rc == 124 ]]; then
				tap_ok "$name: CONTAINED killed by the sandbox (reason=${reason:-?} rc=$rc after ${ms}ms)"
			else
				tap_fail "$name: no verdict (rc=$rc reason=${reason:-?}): $(errhead)"
			fi ;;
		t)
			if [[ $rc == 124 && $ms -le 6500 && ${reason:-timeout} == timeout ]]; then
				tap_ok "$name: CONTAINED ended by the timeout after ${ms}ms (rc 124)"
			else
				tap_fail "$name: ESCAPED the timeout: rc=$rc reason=${reason:-?} after ${ms}ms"
			fi ;;
		f)
			local bytes errbytes
			bytes=$(stat -c %s "$OUT" 2>/dev/null || echo 0)
			errbytes=$(stat -c %s "$ERR" 2>/dev/null || echo 0)
			if (( bytes + errbytes < 64 * 1024 * 1024 )) && [[ $reason == output_limit ]]; then
				tap_ok "$name: CONTAINED output capped at $bytes+$errbytes bytes (reason=$reason rc=$rc)"
			else
				tap_fail "$name: ESCAPED output cap: got $bytes+$errbytes of 64 MiB (reason=${reason:-?} rc=$rc)"
			fi ;;
		esac
	fi
	# Host still healthy after a bomb?
	if [[ $name == res-*bomb ]] && ! /bin/true; then
		diag "$name: host cannot fork after the run"
	fi
	rm -f "$OUT" "$ERR"
}

run_category() {
	local cat=$1 line name c expect opts
	CATEGORY_NOW=$cat
	while IFS='|' read -r name c expect opts; do
		run_probe "$name" "$expect" "$opts"
	done < <("$STAGE/probe" list "$cat")
	case $cat in
	fs) test_aiignore_tamper; test_deny_deep ;;
	egress)
		# The net probes again, now with the gateway's socket in the netns.
		while IFS='|' read -r name c expect opts; do
			run_probe "$name" "$expect" "$opts $GATEWAY_OPTS" "$name+gateway"
		done < <("$STAGE/probe" list net) ;;
	res) test_orphan ;;
	cleanup) test_cleanup ;;
	esac
}

# ---- harness-level tests ----------------------------------------------------

# An agent with a writable workspace edits .aiignore in one run to see the
# file it hides in the next.
test_aiignore_tamper() {
	[[ $MODE == mount ]] || { tap_skip fs-aiignore-tamper "probe itself is the workspace"; return; }
	prepare_deny
	local -a ws=(--workspace "$DENY_PARENT/ws:rw" --mount "$DENY_PARENT/data:/data:ro")
	run_airlock "${MOUNT_ARGS[@]}" "${ws[@]}" -- "$PROBE_IN" aiignore-tamper
	local what
	what=$(verdict_of "$OUT")
	run_airlock "${MOUNT_ARGS[@]}" "${ws[@]}" -- "$PROBE_IN" aiignore-check
	local v
	v=$(verdict_of "$OUT")
	if [[ $v == CONTAINED* ]]; then
		tap_ok "fs-aiignore-tamper: $v (after run 1: ${what#CONTAINED })"
	else
		tap_fail "fs-aiignore-tamper: ${v:-no verdict: $(errhead)} (after run 1: ${what#CONTAINED })"
	fi
}

# A secret buried deeper than the deny walk checks: airlock must refuse the
# tree (exit 125, nothing runs) or, if it runs, keep the secret hidden.
test_deny_deep() {
	local tree deep
	tree=$(mktemp -d "$DENY_PARENT/deep.XXXXXX")
	deep=$tree$(printf '/d%.0s' $(seq 70))
	mkdir -p "$deep"
	cp "$SECRET_FILE" "$deep/.env"
	chmod -R a+rwX "$tree"
	run_airlock --workspace "$tree:ro" -- /bin/cat "/workspace${deep#"$tree"}/.env"
	local rc=$?
	if [[ $rc == 125 ]] && grep -q "nested deeper" "$ERR"; then
		tap_ok "fs-deny-deep: CONTAINED the tree was refused before anything ran"
	elif ! grep -q AIRLOCK-HOST-SECRET "$OUT"; then
		tap_ok "fs-deny-deep: CONTAINED ran (rc $rc) but the secret stayed hidden"
	else
		tap_fail "fs-deny-deep: ESCAPED read the .env 70 levels down"
	fi
	rm -rf "$tree"
}

# `sh -c 'sleep 1000 & exit 0'`: the orphan must not outlive the run.
test_orphan() {
	local num=$RANDOM$RANDOM t0 rc ms left
	t0=$(now_ms)
	run_airlock --timeout 5 -- /bin/sh -c "sleep 1000.$num & exit 0"
	rc=$?
	ms=$(( $(now_ms) - t0 ))
	left=$(leftovers "sleep 1000.$num")
	if [[ -n $left ]]; then
		kill_marked "sleep 1000.$num"
		tap_fail "res-orphan: ESCAPED background process survived the run: pids $left (rc=$rc)"
	elif [[ $rc == 0 || $rc == 124 ]]; then
		tap_ok "res-orphan: CONTAINED no process left (rc=$rc after ${ms}ms)"
	else
		tap_fail "res-orphan: unexpected rc=$rc: $(errhead)"
	fi
}

# Host state that must not grow: airlock cgroups, mounts, temp dirs, processes.
snapshot() {
	{
		find /sys/fs/cgroup -maxdepth 8 -type d -name '*airlock*' 2>/dev/null | sed 's/^/cgroup /'
		awk '{print "mount " $5}' /proc/self/mountinfo
		local d
		for d in /tmp /var/tmp /dev/shm /run "${XDG_RUNTIME_DIR:-/nonexistent}"; do
			# other tests' own temp dirs (unit and integration tests may
			# run beside this one) are not airlock's leftovers
			find "$d" -mindepth 1 -maxdepth 1 ! -name 'airlock-esc-*' ! -name 'airlock-test-*' ! -name 'airlock-it.*' -printf 'tmp %p\n' 2>/dev/null
		done
		grep -lsa "AIRLOCK_ESC_RUN=$$" /proc/[0-9]*/environ 2>/dev/null | sed 's/^/proc /'
	} | sort -u
}

test_cleanup() {
	local before after new t0 ms fails=0 i

	# Persistence: files and SysV objects of one run are gone in the next.
	run_airlock "${MOUNT_ARGS[@]}" -- "$PROBE_IN" persist-write
	run_airlock "${MOUNT_ARGS[@]}" -- "$PROBE_IN" persist-check
	local v
	v=$(verdict_of "$OUT")
	if [[ $v == CONTAINED* ]]; then tap_ok "cleanup-persistence: $v"
	else tap_fail "cleanup-persistence: ${v:-no verdict: $(errhead)}"; fi

	# 200 runs leave nothing behind.
	before=$(snapshot)
	t0=$(now_ms)
	for i in $(seq 200); do
		AIRLOCK_ESC_RUN=$$ "$AIRLOCK" run -- /bin/true </dev/null >/dev/null 2>>"$WORK/200.err" ||
			fails=$((fails + 1))
	done
	ms=$(( $(now_ms) - t0 ))
	sleep 0.3
	after=$(snapshot)
	new=$(comm -13 <(echo "$before") <(echo "$after"))
	if [[ -n $new ]]; then
		sleep 2	# a concurrent run by someone else would be gone by now
		after=$(snapshot)
		new=$(comm -13 <(echo "$before") <(echo "$after"))
	fi
	if (( fails )); then
		tap_fail "cleanup-200-runs: $fails of 200 runs of /bin/true failed: $(head -c 200 "$WORK/200.err")"
	elif [[ -n $new ]]; then
		tap_fail "cleanup-200-runs: ESCAPED left behind: $(echo "$new" | head -5 | tr '\n' ';')"
	else
		tap_ok "cleanup-200-runs: CONTAINED 200 runs in ${ms}ms ($(( ms / 200 ))ms each), no cgroup/mount/tmp/process left"
	fi

	# SIGKILL of the supervisor: the whole sandbox tree is gone within 1 s.
	local mark=airlock-esc-victim-$$-$RANDOM apid left cg_before cg_after
	cg_before=$(snapshot | grep '^cgroup ')
	rm -f "$OUT" "$ERR"
	AIRLOCK_ESC_RUN=$$ "$AIRLOCK" run "${MOUNT_ARGS[@]}" -- "$PROBE_IN" hold "run_marker=$mark" \
		</dev/null >"$OUT" 2>"$ERR" &
	apid=$!
	for i in $(seq 100); do
		grep -q HELD "$OUT" 2>/dev/null && (( $(pgrep -f -- "$mark" | grep -vcx "$apid") >= 4 )) && break
		sleep 0.05
	done
	if ! grep -q HELD "$OUT"; then
		tap_fail "cleanup-supervisor-sigkill: the holder never started: $(errhead)"
		kill -9 "$apid" 2>/dev/null
		wait "$apid" 2>/dev/null
		kill_marked "$mark"
	else
		kill -9 "$apid"
		t0=$(now_ms)
		wait "$apid" 2>/dev/null
		left=$(leftovers "$mark")
		ms=$(( $(now_ms) - t0 ))
		if [[ -n $left ]]; then
			tap_fail "cleanup-supervisor-sigkill: ESCAPED sandbox processes survived the supervisor: $left"
			kill_marked "$mark"
		else
			sleep 0.3
			cg_after=$(snapshot | grep '^cgroup ')
			local stale
			stale=$(comm -13 <(echo "$cg_before") <(echo "$cg_after") | tr '\n' ' ')
			tap_ok "cleanup-supervisor-sigkill: CONTAINED tree gone ${ms}ms after SIGKILL"
			stale_cgroups "$cg_before"
		fi
	fi
}

# Cgroups of a SIGKILLed supervisor: does a later run collect them? Not an
# escape (they are empty), but state that outlives the run: reported as TODO.
# Whatever is left is removed so the suite itself leaves nothing behind.
stale_cgroups() {
	local cg_before=$1 stale d
	AIRLOCK_ESC_RUN=$$ "$AIRLOCK" run -- /bin/true </dev/null >/dev/null 2>&1
	sleep 0.2
	stale=$(comm -13 <(echo "$cg_before") <(snapshot | grep '^cgroup ') | sed 's/^cgroup //')
	if [[ -z $stale ]]; then
		tap_ok "cleanup-stale-cgroups: no cgroup of the killed supervisor left after the next run"
		return
	fi
	N=$((N + 1))
	echo "not ok $N - cleanup-stale-cgroups: empty cgroups of the SIGKILLed supervisor outlive it and the next run: $(clean "$(echo "$stale" | tr '\n' ' ')") # TODO runtime does not collect them"
	for d in $(echo "$stale" | sort -r); do rmdir "$d" 2>/dev/null; done
}

# Control group: without airlock these probes must escape, or the suite's
# CONTAINED results would prove nothing.
test_selftest() {
	local probes=(leak-env leak-fds leak-cwd fs-host-tmp net-tcp-lo net-udp-lo net-abstract-unix
		net-unix-path ipc-sysv-shm ipc-sysv-msg ipc-sysv-sem ipc-posix-mq ipc-posix-shm
		priv-namespaces proc-host-pids sig-host-pids)
	[[ -n ${OWN_ADDR:-} ]] && probes+=(net-tcp-host net-udp-host net-interfaces)
	# The egress probes against `probe host-proxy`, a naive open proxy
	# (connects only to this machine; "attempts" anything else on paper).
	local proxy= i
	"$STAGE/probe" host-proxy "$LISTEN_DIR" "${OWN_ADDR:-}" </dev/null >/dev/null 2>"$WORK/proxy.err" &
	PIDS_TO_KILL+=($!)
	for i in $(seq 100); do [[ -s $LISTEN_DIR/proxy ]] && break; sleep 0.05; done
	proxy=$(cat "$LISTEN_DIR/proxy" 2>/dev/null)
	probes+=(egress-proxy-loopback egress-proxy-metadata egress-proxy-absolute-uri)
	[[ -n ${OWN_ADDR:-} ]] && probes+=(egress-proxy-host-addr)
	local p before v contacts
	for p in "${probes[@]}"; do
		local -a extra=()
		if [[ $p == egress-proxy-* ]]; then
			[[ -n $proxy ]] || { tap_fail "selftest $p: the naive proxy did not start: $(cat "$WORK/proxy.err")"; continue; }
			extra=("gateway=$proxy")
		fi
		case $p in	# host objects this kernel could not create
		ipc-sysv-shm) grep -q '^shm_key=' "$LISTEN_DIR/info" || { tap_skip "selftest $p" "no SysV shm"; continue; } ;;
		ipc-sysv-msg) grep -q '^msg_key=' "$LISTEN_DIR/info" || { tap_skip "selftest $p" "no SysV msg"; continue; } ;;
		ipc-sysv-sem) grep -q '^sem_key=' "$LISTEN_DIR/info" || { tap_skip "selftest $p" "no SysV sem"; continue; } ;;
		ipc-posix-mq) grep -q '^mq_name=' "$LISTEN_DIR/info" || { tap_skip "selftest $p" "no POSIX mq"; continue; } ;;
		ipc-posix-shm) grep -q '^posix_shm=' "$LISTEN_DIR/info" || { tap_skip "selftest $p" "no /dev/shm"; continue; } ;;
		esac
		before=$(log_lines)
		v=$(timeout 80 "$STAGE/probe" "$p" "${ARGS[@]}" "${extra[@]}" 2>&1 </dev/null | grep -a -m1 -E '^(CONTAINED|ESCAPED) ')
		sleep 0.1
		contacts=$(tail -n +"$((before + 1))" "$LOG" | tr '\n' ' ')
		if [[ $v == ESCAPED* || -n $contacts ]]; then
			tap_ok "selftest $p: detects the attack without a sandbox (${contacts:-$v})"
		else
			tap_fail "selftest $p: did not detect the unsandboxed attack: $v"
		fi
	done
}

# ---- main -------------------------------------------------------------------

# Under meson the TAP lines carry the verdicts (a non-zero status would turn
# FAIL into ERROR); run by hand, the status says whether anything escaped.
finish() {
	echo "1..$N"
	[[ -n ${AIRLOCK_ESCAPE_UNDER_MESON:-} ]] && exit 0
	exit $(( FAILS > 0 ))
}

if [[ $CATEGORY == selftest ]]; then
	test_selftest
	finish
fi

setup_mode
diag "airlock: $AIRLOCK; uid $(id -u); probe at $PROBE_IN ($MODE mode); host address ${OWN_ADDR:-none}"
if [[ $CATEGORY == all ]]; then
	for c in fs proc dev priv sys tty ipc net egress res leak sig cleanup; do run_category "$c"; done
else
	run_category "$CATEGORY"
fi
finish
