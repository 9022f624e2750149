#!/usr/bin/env bash
# The egress gateway: allowlisted HTTP, CONNECT and SOCKS5 egress through
# 127.0.0.1:3128 and nothing else. Policy (allow/deny lists, wildcards,
# private addresses behind names), rate and connection limits, upstream
# faults, malformed and slow clients, the run report, the gateway dying, and
# the standalone `airlock gateway`.
#
# Upstreams are local servers (tests/gateway/servers.py) on 127.0.0.1; the
# policies reach them by name through `hosts` overrides, so each needs both
# the name entry and the 127.0.0.1:PORT entry (loopback is refused without an
# IP entry). Inside the sandbox, raw-protocol probes are tests/gateway/client.py.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/gateway/fixtures.sh"
trap 'gw_cleanup; rm -rf "$TMP"' EXIT
trap 'exit 143' TERM INT HUP

# sb ARGS... -- CMD: airlock run with the fixtures as a read-only /workspace
# (ca.crt, client.py), bounded in time, stderr kept for nok.
sb() { "$AIRLOCK" run -q -t 60 --workspace "$WS:ro" "$@" 2> "$TMP/sb.err"; }
# fld KEY TEXT: the rest of the line of TEXT that starts with KEY
fld() { awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' <<<"$2"; }
# expect_lt DESC GOT MAX (integers)
expect_lt() {
	if [[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -lt "$3" ]; then ok "$1"; else nok "$1 (got '$2', want < $3)"; fi
}
PX=http://127.0.0.1:3128
CURL="curl -sS -m 10"

# --- fixtures: CA, pip index, git repo, servers; checked directly first ----
WS=$TMP/ws
mkdir -p "$WS"
if ! gw_fixtures "$TMP/fx" > "$TMP/fx.log" 2>&1; then
	echo "Bail out! could not build the fixtures: $(tail -n 3 "$TMP/fx.log" | tr '\n' ' ')"
	exit 1
fi
cp "$TMP/fx/ca/ca.crt" "$SRC/tests/gateway/client.py" "$WS/"
chmod 755 "$WS" && chmod 644 "$WS"/*
TLS=(--tls "$TMP/fx/ca/server.crt" "$TMP/fx/ca/server.key")
if ! { gw_server HTTP origin && gw_server HTTPS origin "${TLS[@]}" &&
	gw_server GIT git "$TMP/fx/git" "${TLS[@]}" && gw_server PYPI files "$TMP/fx/index" &&
	gw_server REFUSE refuse && gw_server RESET reset && gw_server HANG hang && gw_server GARBAGE garbage &&
	gw_server BLACKHOLE blackhole; }; then
	echo "Bail out! the test servers did not start"
	exit 1
fi
expect "fixture: the origin answers on the host" "$(curl -s -m 5 http://127.0.0.1:$HTTP/hello)" "hello from 127.0.0.1:$HTTP"
expect "fixture: the TLS origin answers on the host" \
	"$(curl -s -m 5 --cacert "$WS/ca.crt" https://127.0.0.1:$HTTPS/hello)" "hello from 127.0.0.1:$HTTPS"
# blackhole: connects to it never complete (a full accept queue drops SYNs)
BLACKHOLE_OK=0
[ "$(curl -s --connect-timeout 1 -m 3 http://127.0.0.1:$BLACKHOLE/; echo $?)" = 28 ] && BLACKHOLE_OK=1

cat > "$TMP/main.yaml" <<EOF
network:
  mode: gateway
  egress_allowlist:
    - "api.test:$HTTP"
    - "api.test:$HTTPS"
    - "git.test:$GIT"
    - "pypi.test:$PYPI"
    - "127.0.0.1:$HTTP"
    - "127.0.0.1:$HTTPS"
    - "127.0.0.1:$GIT"
    - "127.0.0.1:$PYPI"
  hosts:
    api.test: 127.0.0.1
    git.test: 127.0.0.1
    pypi.test: 127.0.0.1
    denied.test: 127.0.0.1
EOF
M=(--policy "$TMP/main.yaml")

# --- the environment inside -------------------------------------------------
env_out=$(sb "${M[@]}" -- sh -c 'for v in HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy \
	NO_PROXY no_proxy npm_config_proxy npm_config_https_proxy PIP_PROXY NODE_USE_ENV_PROXY; do
	echo "$v $(printenv "$v" || echo unset)"; done')
for v in HTTP_PROXY HTTPS_PROXY http_proxy https_proxy npm_config_proxy npm_config_https_proxy PIP_PROXY; do
	expect "env: $v" "$(fld $v "$env_out")" "$PX"
done
for v in ALL_PROXY all_proxy; do expect "env: $v" "$(fld $v "$env_out")" "socks5h://127.0.0.1:3128"; done
for v in NO_PROXY no_proxy; do expect "env: $v" "$(fld $v "$env_out")" "localhost,127.0.0.1,::1"; done
expect "env: NODE_USE_ENV_PROXY" "$(fld NODE_USE_ENV_PROXY "$env_out")" 1

# --- allowed egress -----------------------------------------------------------
expect "curl http through the proxy (env)" "$(sb "${M[@]}" -- $CURL http://api.test:$HTTP/hello)" "hello from api.test:$HTTP"
expect "curl https through CONNECT (env)" \
	"$(sb "${M[@]}" -- $CURL --cacert /workspace/ca.crt https://api.test:$HTTPS/hello)" "hello from api.test:$HTTPS"
expect "1 MiB over http" "$(sb "${M[@]}" -- sh -c "$CURL http://api.test:$HTTP/bytes/1048576 | wc -c")" 1048576
expect "1 MiB over https" \
	"$(sb "${M[@]}" -- sh -c "$CURL --cacert /workspace/ca.crt https://api.test:$HTTPS/bytes/1048576 | wc -c")" 1048576
expect "POST body is forwarded" "$(sb "${M[@]}" -- $CURL --data-binary posted http://api.test:$HTTP/echo)" posted
expect "chunked POST body is forwarded" \
	"$(sb "${M[@]}" -- $CURL -H 'Transfer-Encoding: chunked' --data-binary chunked http://api.test:$HTTP/echo)" chunked
expect "keep-alive to the client: two requests, one connection" \
	"$(sb "${M[@]}" -- $CURL -o /dev/null -o /dev/null -w '%{num_connects} ' http://api.test:$HTTP/hello http://api.test:$HTTP/hello)" "1 0 "
hdrs=$(sb "${M[@]}" -- $CURL -H 'Proxy-Authorization: Basic c2VjcmV0OnNlY3JldA==' -H 'Proxy-Connection: keep-alive' \
	http://api.test:$HTTP/echo-headers)
expect "hop-by-hop proxy headers are not passed upstream" \
	"$(python3 -c 'import json,sys; h={k.lower() for k in json.loads(sys.argv[1])}; print(sorted(h & {"proxy-authorization","proxy-connection"}))' "$hdrs" 2>&1)" "[]"
expect "an IP-literal request with an IP entry is allowed" \
	"$(sb "${M[@]}" -- $CURL --noproxy '' -x $PX http://127.0.0.1:$HTTP/hello)" "hello from 127.0.0.1:$HTTP"
expect "python urllib over http via the env proxies" "$(sb "${M[@]}" -- python3 -c "
import urllib.request
print(urllib.request.urlopen('http://api.test:$HTTP/hello', timeout=10).read().decode().strip())")" "hello from api.test:$HTTP"
expect "python urllib over https via the env proxies" "$(sb "${M[@]}" -- python3 -c "
import ssl, urllib.request
ctx = ssl.create_default_context(cafile='/workspace/ca.crt')
print(urllib.request.urlopen('https://api.test:$HTTPS/hello', timeout=10, context=ctx).read().decode().strip())")" \
	"hello from api.test:$HTTPS"
expect "git clone over https through the proxy" "$(sb "${M[@]}" -- sh -c "
	export GIT_SSL_CAINFO=/workspace/ca.crt GIT_HTTP_LOW_SPEED_LIMIT=1 GIT_HTTP_LOW_SPEED_TIME=10
	git clone -q https://git.test:$GIT/repo.git /tmp/repo && cat /tmp/repo/README")" "hello from git"
expect "pip install from an index through the proxy" "$(sb "${M[@]}" -- sh -c "
	python3 -m pip install -q --no-cache-dir --disable-pip-version-check --timeout 10 --retries 0 \
		--index-url http://pypi.test:$PYPI/simple/ --trusted-host pypi.test --target /tmp/site tinypkg >&2 &&
	PYTHONPATH=/tmp/site python3 -c 'import tinypkg; print(tinypkg.VALUE)'")" "tinypkg ok"
expect "curl with --socks5-hostname" \
	"$(sb "${M[@]}" -- $CURL --socks5-hostname 127.0.0.1:3128 http://api.test:$HTTP/hello)" "hello from api.test:$HTTP"
expect "curl https over SOCKS5" \
	"$(sb "${M[@]}" -- $CURL --socks5-hostname 127.0.0.1:3128 --cacert /workspace/ca.crt https://api.test:$HTTPS/hello)" \
	"hello from api.test:$HTTPS"
expect "curl via ALL_PROXY (socks5h) when no http_proxy is set" \
	"$(sb "${M[@]}" -- env -u http_proxy -u HTTP_PROXY $CURL http://api.test:$HTTP/hello)" "hello from api.test:$HTTP"

# --- the command line: --allow-host / --deny-host / --add-host / --net ---------
CLI=(--allow-host "api.test:$HTTP" --allow-host "127.0.0.1:$HTTP" --add-host api.test=127.0.0.1)
expect "--allow-host and --add-host alone give a gateway" \
	"$(sb "${CLI[@]}" -- $CURL http://api.test:$HTTP/hello)" "hello from api.test:$HTTP"
expect "port * allows every port of a host" "$(sb --allow-host 'api.test:*' --allow-host '127.0.0.1:*' \
	--add-host api.test=127.0.0.1 -- sh -c "$CURL http://api.test:$HTTP/hello; $CURL --cacert /workspace/ca.crt https://api.test:$HTTPS/hello" | tr '\n' ' ')" \
	"hello from api.test:$HTTP hello from api.test:$HTTPS "
expect "--deny-host wins over --allow-host" \
	"$(sb "${CLI[@]}" --deny-host "api.test:$HTTP" -- curl -s -m 10 -o /dev/null -w '%{http_code}' http://api.test:$HTTP/hello)" 403
expect "--net gateway with no allowlist denies everything" \
	"$(sb --net gateway -- curl -s -m 10 -o /dev/null -w '%{http_code}' http://api.test:$HTTP/hello)" 403
out=$(sb --report "$TMP/none.json" -- sh -c "echo \${HTTP_PROXY:-unset}; curl -s -m 5 -x $PX http://api.test:$HTTP/hello || echo no-proxy")
expect "default (--net none): no proxy variables, nothing on 3128" "$(echo $out)" "unset no-proxy"
expect "default (--net none): the report says mode none" "$(json "$TMP/none.json" 'r["network"]')" "{'mode': 'none'}"
out=$(sb "${M[@]}" --net none -- sh -c "echo \${HTTP_PROXY:-unset}; curl -s -m 5 -x $PX http://api.test:$HTTP/hello || echo no-proxy")
expect "--net none overrides the policy's mode: gateway" "$(echo $out)" "unset no-proxy"

# --- a denied host, and the report --------------------------------------------
resp=$(sb "${M[@]}" -- curl -s -m 10 -i http://denied.test:$HTTP/hello | tr -d '\r')
expect "denied host: 403" "$(head -n 1 <<<"$resp" | cut -d' ' -f2)" 403
reason=$(sed -n 's/^[Xx]-[Aa]irlock-[Rr]eason: *//p' <<<"$resp")
check "denied host: X-Airlock-Reason says why" test -n "$reason"
expect "denied host: the body is the reason" "$(sed '1,/^$/d' <<<"$resp")" "$reason"
expect "a refusal closes the client's connection" \
	"$(sb "${M[@]}" -- curl -s -m 10 -o /dev/null -o /dev/null -w '%{num_connects} ' http://denied.test:$HTTP/ http://api.test:$HTTP/hello)" "1 1 "
expect "denied host over CONNECT: 403" \
	"$(sb "${M[@]}" -- curl -s -m 10 -o /dev/null -w '%{http_connect}' --cacert /workspace/ca.crt https://denied.test:$HTTPS/hello)" 403
check "denied host over SOCKS5: curl fails" test "$(sb "${M[@]}" -- sh -c \
	"curl -s -m 10 -o /dev/null --socks5-hostname 127.0.0.1:3128 http://denied.test:$HTTP/hello; echo \$?")" != 0

R=$TMP/report.json
out=$(sb "${M[@]}" --report "$R" -- sh -c "
	$CURL http://api.test:$HTTP/bytes/100000 | wc -c
	$CURL --cacert /workspace/ca.crt https://api.test:$HTTPS/hello
	$CURL --socks5-hostname 127.0.0.1:3128 http://api.test:$HTTP/hello
	curl -s -m 10 -o /dev/null -w '%{http_code}\n' http://denied.test:$HTTP/hello")
expect "report run: all four requests answered" "$(echo $out)" \
	"100000 hello from api.test:$HTTPS hello from api.test:$HTTP 403"
expect "report: network.mode, proxy, gateway" \
	"$(json "$R" '[r["network"][k] for k in ("mode", "proxy", "gateway")]')" "['gateway', '127.0.0.1:3128', 'running']"
expect "report: 3 allowed, 1 denied" "$(json "$R" '(r["network"]["allowed"], r["network"]["denied"])')" "(3, 1)"
expect "report: one event per request, with protos http, connect, socks5" \
	"$(json "$R" 'sorted(e["proto"] for e in r["network"]["events"])')" "['connect', 'http', 'http', 'socks5']"
expect "report: the denied request's event" \
	"$(json "$R" '[(e["verdict"], e["rule"], e["status"], e["proto"], e["port"]) for e in r["network"]["events"] if e["host"] == "denied.test"]')" \
	"[('deny', 'default deny', 403, 'http', $HTTP)]"
expect "report: the allowed http event" \
	"$(json "$R" '[(e["verdict"], e["rule"], e["status"], e["address"], e["bytes_down"] >= 100000) for e in r["network"]["events"] if e["proto"] == "http" and e["verdict"] == "allow"]')" \
	"[('allow', 'api.test:$HTTP', 200, '127.0.0.1', True)]"
expect "report: the CONNECT event" \
	"$(json "$R" '[(e["host"], e["port"], e["verdict"], e["bytes_up"] > 0, e["bytes_down"] > 0) for e in r["network"]["events"] if e["proto"] == "connect"]')" \
	"[('api.test', $HTTPS, 'allow', True, True)]"
expect "report: byte totals are the sums over the events" \
	"$(json "$R" '[r["network"][k] == sum(e[k] for e in r["network"]["events"]) for k in ("bytes_up", "bytes_down")]')" "[True, True]"

# --- allow/deny lists and wildcards ---------------------------------------------
cat > "$TMP/lists.yaml" <<EOF
network:
  mode: gateway
  egress_allowlist: ["*.example.test:$HTTP", "127.0.0.1:$HTTP"]
  egress_denylist: ["bad.example.test:$HTTP"]
  hosts:
    a.example.test: 127.0.0.1
    a.b.example.test: 127.0.0.1
    bad.example.test: 127.0.0.1
    example.test: 127.0.0.1
    example.test.evil: 127.0.0.1
    evilexample.test: 127.0.0.1
EOF
out=$(sb --policy "$TMP/lists.yaml" --report "$TMP/lists.json" -- sh -c "
	for h in a.example.test a.b.example.test A.Example.TEST bad.example.test example.test example.test.evil evilexample.test; do
		curl -s -m 10 -o /dev/null -w \"\$h %{http_code}\n\" http://\$h:$HTTP/hello
	done
	curl -s -m 10 -o /dev/null -w 'other-port %{http_connect}\n' https://a.example.test:$HTTPS/")
expect "*.example.test allows a.example.test" "$(fld a.example.test "$out")" 200
expect "*.example.test allows a.b.example.test (any depth)" "$(fld a.b.example.test "$out")" 200
expect "names match case-insensitively" "$(fld A.Example.TEST "$out")" 200
expect "the denylist wins over the allowlist" "$(fld bad.example.test "$out")" 403
expect "*.example.test does not allow example.test" "$(fld example.test "$out")" 403
expect "*.example.test does not allow example.test.evil" "$(fld example.test.evil "$out")" 403
expect "*.example.test does not allow evilexample.test" "$(fld evilexample.test "$out")" 403
expect "an entry allows only its port" "$(fld other-port "$out")" 403
expect "report: the denylist entry decided" \
	"$(json "$TMP/lists.json" '[e["rule"] for e in r["network"]["events"] if e["host"] == "bad.example.test"]')" \
	"['bad.example.test:$HTTP']"
expect "report: no wildcard rule decided for example.test" \
	"$(json "$TMP/lists.json" '[e["rule"] for e in r["network"]["events"] if e["host"] in ("example.test", "example.test.evil", "evilexample.test")]')" \
	"['default deny', 'default deny', 'default deny']"

# --- private addresses behind names (DNS rebinding) and IP literals -------------
# "*:PORT" allows every name on that port; none of these may reach loopback,
# link-local or the metadata address without an IP entry.
cat > "$TMP/rebind.yaml" <<EOF
network:
  mode: gateway
  egress_allowlist: ["*:$HTTP", "meta.test:80"]
  hosts:
    rebind.test: 127.0.0.1
    meta.test: 169.254.169.254
    meta6.test: "fd00:ec2::254"
    zero.test: 0.0.0.0
    mapped.test: "::ffff:127.0.0.1"
    ten.test: 10.1.2.3
EOF
t0=$(date +%s%N)
out=$(sb --policy "$TMP/rebind.yaml" -- python3 /workspace/client.py requests "api.test:$HTTP" \
	GET:rebind.test:$HTTP GET:meta.test:80 GET:meta6.test:$HTTP GET:zero.test:$HTTP GET:mapped.test:$HTTP \
	GET:ten.test:$HTTP GET:localhost:$HTTP GET:127.0.0.1:$HTTP "GET:[::1]:$HTTP" GET:0.0.0.0:$HTTP \
	GET:2130706433:$HTTP GET:127.1:$HTTP GET:0x7f000001:$HTTP GET:nosuch.test:$HTTP)
ms=$((($(date +%s%N) - t0) / 1000000))
expect "a name overridden to 127.0.0.1 without an IP entry: 403" "$(fld GET:rebind.test:$HTTP "$out" | cut -d' ' -f1)" 403
expect "a name overridden to 169.254.169.254: 403" "$(fld GET:meta.test:80 "$out" | cut -d' ' -f1)" 403
for h in meta6.test zero.test mapped.test ten.test localhost 127.0.0.1 "[::1]" 0.0.0.0; do
	expect "refused: $h (no IP entry)" "$(fld "GET:$h:$HTTP" "$out" | cut -d' ' -f1)" 403
done
for h in 2130706433 127.1 0x7f000001; do
	expect_match "refused: numeric form $h" "$(fld "GET:$h:$HTTP" "$out")" '^(400|403) '
done
expect "a name that does not resolve: 502" "$(fld GET:nosuch.test:$HTTP "$out" | cut -d' ' -f1)" 502
check "nothing reached the origin" test -z "$(grep -F 'hello_from' <<<"$out")"
expect_lt "all these answers are prompt (${ms} ms)" "$ms" 8000
out=$(sb --policy "$TMP/rebind.yaml" -- python3 /workspace/client.py socks \
	connect:rebind.test:$HTTP connect:127.0.0.1:$HTTP "connect:[::1]:$HTTP" connect:meta.test:80 \
	connect:localhost:$HTTP connect:nosuch.test:$HTTP)
for spec in connect:rebind.test:$HTTP connect:127.0.0.1:$HTTP "connect:[::1]:$HTTP" connect:meta.test:80 connect:localhost:$HTTP; do
	expect "SOCKS5 refuses the same: $spec: 0x02" "$(fld "$spec" "$out")" 0x02
done
expect "SOCKS5: a name that does not resolve: 0x04" "$(fld connect:nosuch.test:$HTTP "$out")" 0x04

cat > "$TMP/cidr.yaml" <<EOF
network:
  mode: gateway
  egress_allowlist: ["api.test:$HTTP", "127.0.0.0/8:$HTTP", "[::1]:$HTTP"]
  hosts:
    api.test: 127.0.0.1
EOF
out=$(sb --policy "$TMP/cidr.yaml" -- sh -c "$CURL http://api.test:$HTTP/hello; $CURL --noproxy '' -x $PX http://127.0.0.1:$HTTP/hello")
expect "a CIDR entry covers the resolved address and IP literals" "$(echo $out)" \
	"hello from api.test:$HTTP hello from 127.0.0.1:$HTTP"

# --- rate limits (the older network_policy spelling) ----------------------------
cat > "$TMP/rate3.yaml" <<EOF
network:
  mode: gateway
  hosts:
    api.test: 127.0.0.1
network_policy:
  default: deny
  allow: ["api.test:$HTTP", "127.0.0.1:$HTTP"]
  rate_limits:
    - { host: "api.test", requests_per_minute: 3 }
EOF
out=$(sb --policy "$TMP/rate3.yaml" --report "$TMP/rate3.json" -- sh -c "
	for i in 1 2 3 4; do curl -s -m 10 -o /dev/null -w '%{http_code} ' http://api.test:$HTTP/hello; done; echo
	python3 /workspace/client.py socks connect:api.test:$HTTP")
expect "network_policy: requests_per_minute 3: the 4th request gets 429" "$(head -n 1 <<<"$out")" "200 200 200 429 "
expect "... and so does SOCKS5 (0x02)" "$(fld connect:api.test:$HTTP "$out")" 0x02
expect "report: the 429 is a deny event" \
	"$(json "$TMP/rate3.json" '[(e["verdict"], e["status"]) for e in r["network"]["events"]][3]')" "('deny', 429)"
cat > "$TMP/rate60.yaml" <<EOF
network:
  mode: gateway
  egress_allowlist: ["api.test:$HTTP", "127.0.0.1:$HTTP"]
  hosts:
    api.test: 127.0.0.1
  rate_limits:
    - { host: "*", requests_per_minute: 60 }
EOF
out=$(sb --policy "$TMP/rate60.yaml" -- python3 /workspace/client.py burst http://api.test:$HTTP/hello 100 1.1)
first=$(fld first-refusal "$out")
check "requests_per_minute 60: a burst of 60 passes, then 429 (refused at: $first)" \
	test "${first#* }" = 429 -a "${first% *}" -ge 61
expect "... and 1.1 s later the bucket has refilled a request" "$(fld after-wait "$out")" 200
cat > "$TMP/bytes.yaml" <<EOF
network:
  mode: gateway
  egress_allowlist: ["api.test:$HTTP", "127.0.0.1:$HTTP"]
  hosts:
    api.test: 127.0.0.1
  rate_limits:
    - { host: "api.test", bytes_per_minute: 10K }
EOF
# a minute's worth (10 KiB) at once, then ~170 bytes/s: 3 s give well under 20 KB
out=$(sb --policy "$TMP/bytes.yaml" -- sh -c "curl -s -m 3 -o /dev/null -w '%{size_download} ' http://api.test:$HTTP/bytes/50000; echo \$?")
check "bytes_per_minute 10K: a 50 KB download is slowed to the rate (got $out in 3 s)" \
	test "${out% *}" -ge 5000 -a "${out% *}" -le 20000 -a "${out#* }" = 28

# --- connection limit ------------------------------------------------------------
cat > "$TMP/conn.yaml" <<EOF
network:
  mode: gateway
  egress_allowlist: ["api.test:$HTTP", "127.0.0.1:$HTTP"]
  hosts:
    api.test: 127.0.0.1
  max_connections: 2
EOF
out=$(sb --policy "$TMP/conn.yaml" -- python3 /workspace/client.py hold 2 api.test:$HTTP)
expect "max_connections 2: two CONNECT tunnels held" "$(fld held "$out")" "200 200"
expect "... a third connection gets 429" "$(fld extra "$out")" 429
expect "... one closed, a new one is accepted" "$(fld after-release "$out")" 200
expect "... the tunnels held still work" "$(fld held-tunnel-works "$out")" 200

# --- upstream faults -----------------------------------------------------------------
cat > "$TMP/faults.yaml" <<EOF
network:
  mode: gateway
  egress_allowlist:
    - "refuse.test:$REFUSE"
    - "reset.test:$RESET"
    - "hang.test:$HANG"
    - "garbage.test:$GARBAGE"
    - "blackhole.test:$BLACKHOLE"
    - "api.test:$HTTP"
    - "127.0.0.1:$REFUSE"
    - "127.0.0.1:$RESET"
    - "127.0.0.1:$HANG"
    - "127.0.0.1:$GARBAGE"
    - "127.0.0.1:$BLACKHOLE"
    - "127.0.0.1:$HTTP"
  hosts:
    refuse.test: 127.0.0.1
    reset.test: 127.0.0.1
    hang.test: 127.0.0.1
    garbage.test: 127.0.0.1
    blackhole.test: 127.0.0.1
    api.test: 127.0.0.1
  connect_timeout: 1s
  idle_timeout: 2s
EOF
out=$(sb --policy "$TMP/faults.yaml" --report "$TMP/faults.json" -- sh -c "
	w='%{http_code} %{http_connect} %{time_total} '
	echo refuse \$(curl -s -m 10 -o /dev/null -w \"\$w\" http://refuse.test:$REFUSE/)
	echo refuse-connect \$(curl -s -m 10 -p -o /dev/null -w \"\$w\" http://refuse.test:$REFUSE/)
	echo reset \$(curl -s -m 10 -o /dev/null -w \"\$w\" http://reset.test:$RESET/)
	echo reset-connect \$(curl -s -m 10 -p -o /dev/null -w \"\$w\" http://reset.test:$RESET/; echo \$?)
	echo garbage \$(curl -s -m 10 -o /dev/null -w \"\$w\" http://garbage.test:$GARBAGE/)
	echo hang \$(curl -s -m 10 -o /dev/null -w \"\$w\" http://hang.test:$HANG/)
	echo slow-tunnel \$(curl -s -m 10 -p -o /dev/null -w \"\$w\" http://api.test:$HTTP/slow; echo \$?)
	echo blackhole \$(curl -s -m 10 -o /dev/null -w \"\$w\" http://blackhole.test:$BLACKHOLE/)
	echo blackhole-connect \$(curl -s -m 10 -p -o /dev/null -w \"\$w\" http://blackhole.test:$BLACKHOLE/)
	python3 /workspace/client.py socks connect:refuse.test:$REFUSE connect:blackhole.test:$BLACKHOLE")
expect "upstream refuses: 502" "$(fld refuse "$out" | cut -d' ' -f1)" 502
expect "upstream refuses, CONNECT: 502" "$(fld refuse-connect "$out" | cut -d' ' -f2)" 502
expect "upstream resets: 502" "$(fld reset "$out" | cut -d' ' -f1)" 502
expect_match "upstream resets, CONNECT: 502 or a tunnel that closes at once" \
	"$(fld reset-connect "$out" | awk '{print $2, ($4 != 0 ? "failed" : "ok")}')" '^(502|200) failed$'
expect "upstream answers garbage: 502" "$(fld garbage "$out" | cut -d' ' -f1)" 502
hang=$(fld hang "$out")
expect_match "upstream hangs (idle_timeout 2s): 504 or closed" "${hang%% *}" '^(504|000)$'
expect_lt "... within 3.5 s (${hang##* } s)" "$(awk '{printf "%d", $3 * 1000}' <<<"$hang")" 3500
slow=$(fld slow-tunnel "$out")
expect_lt "an idle CONNECT tunnel is closed after idle_timeout (curl: $slow)" \
	"$(awk '{printf "%d", ($4 != 0 && $2 == 200) ? $3 * 1000 : 99999}' <<<"$slow")" 3500
expect "SOCKS5, upstream refuses: 0x05" "$(fld connect:refuse.test:$REFUSE "$out")" 0x05
if [ $BLACKHOLE_OK -eq 1 ]; then
	bh=$(fld blackhole "$out")
	expect "upstream connect times out (connect_timeout 1s): 504" "${bh%% *}" 504
	expect_lt "... within 2.5 s (${bh##* } s)" "$(awk '{printf "%d", $3 * 1000}' <<<"$bh")" 2500
	expect "upstream connect times out, CONNECT: 504" "$(fld blackhole-connect "$out" | cut -d' ' -f2)" 504
	expect "upstream connect times out, SOCKS5: 0x06" "$(fld connect:blackhole.test:$BLACKHOLE "$out")" 0x06
else
	skip "this host answers SYNs to a full accept queue (tcp_abort_on_overflow): no connect timeout to test"
fi
expect "report: a refused upstream is an allow event with status 502" \
	"$(json "$TMP/faults.json" '[(e["verdict"], e["status"]) for e in r["network"]["events"] if e["host"] == "refuse.test" and e["proto"] == "http"]')" \
	"[('allow', 502)]"

# --- slow and malformed clients ------------------------------------------------------
cat > "$TMP/slow.yaml" <<EOF
network:
  mode: gateway
  egress_allowlist: ["api.test:$HTTP", "127.0.0.1:$HTTP"]
  hosts:
    api.test: 127.0.0.1
  request_timeout: 1s
EOF
out=$(sb --policy "$TMP/slow.yaml" -- python3 /workspace/client.py slowloris api.test:$HTTP)
expect "slowloris: a request in parallel is answered" "$(fld parallel "$out" | cut -d' ' -f1)" 200
read -r cut_ms cut_status <<<"$(fld http-cut-ms "$out")"
check "slowloris: a head trickled in is cut after request_timeout 1s (${cut_ms} ms)" \
	test "${cut_ms:-0}" -ge 500 -a "${cut_ms:-0}" -le 2500
expect "... with 408" "$cut_status" 408
read -r cut_ms cut_status <<<"$(fld socks-cut-ms "$out")"
check "slowloris: a SOCKS5 greeting trickled in is cut too (${cut_ms} ms)" \
	test "${cut_ms:-0}" -ge 500 -a "${cut_ms:-0}" -le 2500

out=$(sb "${M[@]}" -- python3 /workspace/client.py requests api.test:$HTTP \
	long-line many-headers big-head garbage space-before-colon cl-and-te two-lengths \
	origin-form connect-no-port https-uri te-gzip http2-version host-steer)
while read -r case status desc; do
	expect "$desc: $status, connection closed" "$(fld "$case" "$out")" "$status closed"
	expect "... then a normal request works" "$(fld "$case-after" "$out")" 200
done <<'EOF'
long-line 414 request line over 8 KiB
many-headers 431 over 100 headers
big-head 431 head over 32 KiB
garbage 400 not HTTP
space-before-colon 400 whitespace before a header colon
cl-and-te 400 Content-Length and Transfer-Encoding
two-lengths 400 differing Content-Lengths
origin-form 400 origin-form target
connect-no-port 400 CONNECT without a port
https-uri 501 https:// absolute URI
te-gzip 501 unknown Transfer-Encoding
http2-version 505 HTTP/2.0
EOF
expect "the Host header cannot steer a request to another vhost" "$(fld host-steer "$out")" "200 hello_from_api.test:$HTTP"

# --- SOCKS5 commands --------------------------------------------------------------------
out=$(sb "${M[@]}" -- python3 /workspace/client.py socks connect:api.test:$HTTP connect:127.0.0.1:$HTTP \
	connect:denied.test:$HTTP udp:api.test:$HTTP bind:api.test:$HTTP)
expect "SOCKS5 CONNECT by name: 0x00" "$(fld connect:api.test:$HTTP "$out")" 0x00
expect "SOCKS5 CONNECT by IPv4 with an IP entry: 0x00" "$(fld connect:127.0.0.1:$HTTP "$out")" 0x00
expect "SOCKS5 CONNECT to a denied host: 0x02" "$(fld connect:denied.test:$HTTP "$out")" 0x02
expect "SOCKS5 UDP ASSOCIATE: 0x07" "$(fld udp:api.test:$HTTP "$out")" 0x07
expect "SOCKS5 BIND: 0x07" "$(fld bind:api.test:$HTTP "$out")" 0x07

# --- tools that ignore the proxy are contained -------------------------------------------
out=$(sb "${M[@]}" -- python3 /workspace/client.py contain "$HTTP")
expect_match "direct TCP to 1.1.1.1:443 fails" "$(fld tcp-1.1.1.1:443 "$out")" '^blocked'
expect_match "direct TCP to the host's server port fails" "$(fld tcp-127.0.0.1:host-port "$out")" '^blocked'
expect_match "direct TCP to [::1] fails" "$(fld "tcp-[::1]:host-port" "$out")" '^blocked'
expect_match "TCP to another local port than 3128 fails" "$(fld tcp-127.0.0.1:3129 "$out")" '^blocked'
expect "no DNS: example.com does not resolve" "$(fld dns-example.com "$out")" blocked
expect "the gateway's host overrides do not leak into the sandbox" "$(fld dns-api.test "$out")" blocked
expect_match "UDP has no route out" "$(fld udp-8.8.8.8:53 "$out")" '^blocked'
expect "no DNS server on the sandbox's loopback" "$(fld udp-127.0.0.1:53 "$out")" blocked
expect "the gateway adds no interface and no route" \
	"$(sb "${M[@]}" -- sh -c "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; tail -n +2 /proc/net/route | wc -l" | tr '\n' ' ')" "lo 0 "
# (--memory: without a memory cgroup the fallback RLIMIT_AS is too small for V8)
if command -v node >/dev/null; then
	expect "node's net.connect ignores the proxy and fails" "$(sb "${M[@]}" --memory 2G -- node -e '
const s = require("net").connect(443, "1.1.1.1");
s.setTimeout(3000, () => { console.log("timeout"); process.exit(0); });
s.on("connect", () => { console.log("OPEN"); process.exit(0); });
s.on("error", () => { console.log("blocked"); process.exit(0); });')" blocked
else
	skip "node is not installed"
fi

# --- the gateway dies ---------------------------------------------------------------------
: > "$TMP/sb.err"
"$AIRLOCK" run -q -t 60 "${M[@]}" --workspace "$WS:ro" --report "$TMP/kill.json" -- sh -c "
	$CURL -o /dev/null http://api.test:$HTTP/hello && echo reached
	python3 /workspace/client.py wait-lost 20
	echo still-running" > "$TMP/kill.out" 2> "$TMP/kill.err" &
sup=$!
gw_track $sup
for _ in $(seq 100); do grep -q reached "$TMP/kill.out" && break; sleep 0.1; done
gwpids=$(pgrep -P $sup -x airlock-gw)
expect "the gateway is one child of airlock run named airlock-gw" "$(wc -w <<<"$gwpids")" 1
pkill -KILL -P $sup -x airlock-gw
wait $sup
code=$?
expect "gateway killed: the command kept running and exited 0" "$code" 0
expect "gateway killed: the sandbox lost its network, nothing else changed" \
	"$(awk '{print $1}' "$TMP/kill.out" | tr '\n' ' ')" "reached lost still-running "
expect_match "gateway killed: airlock warns on stderr" "$(cat "$TMP/kill.err")" '[Gg]ateway'
expect "gateway killed: the report says died" "$(json "$TMP/kill.json" 'r["network"]["gateway"]' 2>&1)" died

# --- every event in every report has the documented fields ----------------------------
for f in "$R" "$TMP/lists.json" "$TMP/rate3.json" "$TMP/faults.json" "$TMP/kill.json"; do
	expect "report $(basename "$f"): network and event fields" "$(python3 - "$f" <<'PY' 2>&1
import json, re, sys
net = json.load(open(sys.argv[1]))["network"]
bad = []
want = {"mode": str, "proxy": str, "allowed": int, "denied": int, "bytes_up": int,
        "bytes_down": int, "gateway": str, "events": list}
bad += [f"network.{k}" for k, t in want.items() if not isinstance(net.get(k), t)]
ev = {"type": str, "time": str, "proto": str, "host": str, "port": int, "address": str,
      "verdict": str, "rule": str, "reason": str, "status": int, "bytes_up": int,
      "bytes_down": int, "duration_ms": (int, float)}
for i, e in enumerate(net.get("events", [])):
    bad += [f"events[{i}].{k}" for k, t in ev.items()
            if not isinstance(e.get(k), t) or isinstance(e.get(k), bool)]
    if e.get("type") != "egress" or e.get("proto") not in ("http", "connect", "socks5") \
            or e.get("verdict") not in ("allow", "deny") \
            or not (isinstance(e.get("port"), int) and 1 <= e["port"] <= 65535) \
            or not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", str(e.get("time"))):
        bad.append(f"events[{i}]={e}")
if net.get("allowed") != sum(e.get("verdict") == "allow" for e in net.get("events", [])) or \
        net.get("denied") != sum(e.get("verdict") == "deny" for e in net.get("events", [])):
    bad.append("allowed/denied != the events' verdicts")
print(" ".join(bad) or "ok" if net.get("events") else "no events")
PY
)" ok
done

# --- standalone: airlock gateway --listen ------------------------------------------------------
: > "$TMP/sb.err"
G=$(gw_free_port)
printf 'agent:s3cret\n' > "$TMP/auth"
chmod 600 "$TMP/auth"
"$AIRLOCK" gateway --allow-host "api.test:$HTTP" --allow-host "127.0.0.1:$HTTP" \
	--allow-host "api.test:$HTTPS" --allow-host "127.0.0.1:$HTTPS" --add-host api.test=127.0.0.1 \
	--add-host denied.test=127.0.0.1 --listen "127.0.0.1:$G" --auth-file "$TMP/auth" --log "$TMP/gw.log" \
	2> "$TMP/gw.err" &
gw=$!
gw_track $gw
for _ in $(seq 100); do grep -q "listening" "$TMP/gw.err" && break; sleep 0.1; done
check "standalone: says where it listens" grep -Fxq "airlock gateway: listening on 127.0.0.1:$G" "$TMP/gw.err"
resp=$(curl -s -m 10 -i -x http://127.0.0.1:$G http://api.test:$HTTP/hello | tr -d '\r')
expect "standalone: no credentials: 407" "$(head -n 1 <<<"$resp" | cut -d' ' -f2)" 407
expect "standalone: 407 asks for Basic auth" "$(sed -n 's/^[Pp]roxy-[Aa]uthenticate: *//p' <<<"$resp")" 'Basic realm="airlock"'
expect "standalone: wrong password: 407" \
	"$(curl -s -m 10 -o /dev/null -w '%{http_code}' -x http://agent:wrong@127.0.0.1:$G http://api.test:$HTTP/hello)" 407
expect "standalone: right credentials: allowed" \
	"$(curl -sS -m 10 -x http://agent:s3cret@127.0.0.1:$G http://api.test:$HTTP/hello 2>&1)" "hello from api.test:$HTTP"
expect "standalone: CONNECT with credentials" \
	"$(curl -sS -m 10 -x http://agent:s3cret@127.0.0.1:$G --cacert "$WS/ca.crt" https://api.test:$HTTPS/hello 2>&1)" \
	"hello from api.test:$HTTPS"
expect "standalone: CONNECT without credentials: 407" \
	"$(curl -s -m 10 -o /dev/null -w '%{http_connect}' -x http://127.0.0.1:$G --cacert "$WS/ca.crt" https://api.test:$HTTPS/hello)" 407
hdrs=$(curl -sS -m 10 -x http://agent:s3cret@127.0.0.1:$G http://api.test:$HTTP/echo-headers 2>&1)
expect "standalone: the credentials are not passed upstream" \
	"$(python3 -c 'import json,sys; print("proxy-authorization" in {k.lower() for k in json.loads(sys.argv[1])})' "$hdrs" 2>&1)" False
expect "standalone: a denied host: 403 even with credentials" \
	"$(curl -s -m 10 -o /dev/null -w '%{http_code}' -x http://agent:s3cret@127.0.0.1:$G http://denied.test:$HTTP/)" 403
expect "standalone: SOCKS5 with username/password" \
	"$(curl -sS -m 10 --socks5-hostname agent:s3cret@127.0.0.1:$G http://api.test:$HTTP/hello 2>&1)" "hello from api.test:$HTTP"
check "standalone: SOCKS5 without credentials fails" test -z "$(curl -s -m 10 --socks5-hostname 127.0.0.1:$G http://api.test:$HTTP/hello)"
expect "standalone: SOCKS5 with a wrong password fails" \
	"$(python3 "$SRC/tests/gateway/client.py" --proxy 127.0.0.1:$G socks --auth agent:wrong connect:api.test:$HTTP)" \
	"connect:api.test:$HTTP auth-refused"
kill -TERM $gw
for _ in $(seq 50); do kill -0 $gw 2>/dev/null || break; sleep 0.1; done
if kill -0 $gw 2>/dev/null; then
	nok "standalone: SIGTERM stops it within 5 s"
	kill -KILL $gw
	wait $gw
else
	wait $gw
	expect "standalone: SIGTERM stops it with status 0" "$?" 0
fi
expect "standalone: the log is JSON lines of egress events, allowed and denied" "$(python3 - "$TMP/gw.log" <<'PY' 2>&1
import json, sys
ev = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
print(sorted({(e["type"], e["verdict"]) for e in ev}))
PY
)" "[('egress', 'allow'), ('egress', 'deny')]"

done_testing
