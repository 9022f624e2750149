# Sourced by tests/integration/gateway.sh and tests/gateway/selftest.sh:
# builds the fixtures under a directory and starts the upstream servers.
# Every server binds 127.0.0.1 on a free port; gw_cleanup kills them all
# (each also exits by itself if this shell goes away).

GW_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GW_PIDS=()

# gw_fixtures DIR: DIR/ca (test CA + server cert), DIR/index (pip simple
# index with tinypkg), DIR/git (repo.git), all readable by everyone (the
# sandbox runs as another uid). Fails loudly.
gw_fixtures() {
	local dir=$1
	"$GW_DIR/make-ca.sh" "$dir/ca" &&
		python3 "$GW_DIR/make-index.py" "$dir/index" &&
		"$GW_DIR/make-repo.sh" "$dir/git" &&
		chmod -R a+rX "$dir/index" "$dir/git" && chmod a+r "$dir/ca/ca.crt"
}

# gw_server VAR KIND [ARGS...]: start `servers.py KIND ARGS` in the
# background and set VAR to its port. Must run in the test's own shell (not
# in $(...)): the server exits when its parent does.
gw_server() {
	local var=$1 out port=""
	shift
	out=$(mktemp "${TMP:-/tmp}/server.XXXXXX")
	python3 "$GW_DIR/servers.py" "$@" > "$out" 2>&1 &
	GW_PIDS+=($!)
	for _ in $(seq 100); do
		port=$(head -n 1 "$out" 2>/dev/null)
		[[ $port =~ ^[0-9]+$ ]] && [ "$(wc -l < "$out")" -ge 1 ] && break
		port=""
		kill -0 "${GW_PIDS[-1]}" 2>/dev/null || break
		sleep 0.05
	done
	if [ -z "$port" ]; then
		echo "# gw_server $*: did not start: $(cat "$out")" >&2
		return 1
	fi
	printf -v "$var" %s "$port"
}

# A free TCP port on 127.0.0.1 (for servers that take a port, not 0).
gw_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# gw_track PID: kill PID too at cleanup.
gw_track() { GW_PIDS+=("$1"); }

gw_cleanup() {
	local p
	for p in "${GW_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${GW_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	GW_PIDS=()
}
