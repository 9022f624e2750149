#!/usr/bin/env bash
# The gateway test fixtures checked on their own, without airlock: every
# server, the CA, the git server and the pip index, reached directly from the
# host with curl, git and pip. Run it after changing anything in this
# directory: tests/gateway/selftest.sh (TAP; as root or not).
set -u
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
expect() { if [ "$2" = "$3" ]; then ok "$1"; else nok "$1 (got '$2', want '$3')"; fi; }
expect_match() { if [[ "$2" =~ $3 ]]; then ok "$1"; else nok "$1 (got '$2', want /$3/)"; fi; }

TMP=$(mktemp -d /tmp/airlock-gwself.XXXXXX)
chmod 755 "$TMP"
. "$(dirname "$0")/fixtures.sh"
trap 'gw_cleanup; rm -rf "$TMP"' EXIT

gw_fixtures "$TMP" >/dev/null || { echo "Bail out! fixtures could not be built"; exit 1; }
CA=$TMP/ca/ca.crt
TLS=(--tls "$TMP/ca/server.crt" "$TMP/ca/server.key")
gw_server HTTP origin && gw_server HTTPS origin "${TLS[@]}" && gw_server GIT git "$TMP/git" "${TLS[@]}" &&
	gw_server PYPI files "$TMP/index" && gw_server REFUSE refuse && gw_server RESET reset &&
	gw_server HANG hang && gw_server GARBAGE garbage && gw_server BLACKHOLE blackhole ||
	{ echo "Bail out! servers did not start"; exit 1; }

c() { curl -sS -m 10 "$@" 2>&1; }
r() { printf '%s:%s:127.0.0.1' "$1" "$2"; } # for curl --resolve

# The CA and the certificate
expect_match "the server cert verifies against the CA" "$(openssl verify -CAfile "$CA" "$TMP/ca/server.crt" 2>&1)" ': OK$'
expect_match "the cert names api.test, git.test, pypi.test, *.example.test, 127.0.0.1" \
	"$(openssl x509 -in "$TMP/ca/server.crt" -noout -ext subjectAltName 2>&1 | tail -1)" \
	'DNS:api.test, DNS:git.test, DNS:pypi.test, DNS:\*.example.test, IP Address:127.0.0.1'
expect "no CA key is left behind" "$(ls "$TMP/ca")" "$(printf 'ca.crt\nserver.crt\nserver.key')"

# origin over http
expect "/hello names the Host header" "$(c http://127.0.0.1:$HTTP/hello)" "hello from 127.0.0.1:$HTTP"
expect "/hello with another Host" "$(c -H 'Host: api.test:1' http://127.0.0.1:$HTTP/hello)" "hello from api.test:1"
expect "/bytes/N gives N bytes" "$(c http://127.0.0.1:$HTTP/bytes/1048576 | wc -c)" 1048576
expect "/bytes/0 gives nothing" "$(c http://127.0.0.1:$HTTP/bytes/0 | wc -c)" 0
expect "/echo-headers returns the request headers as JSON" \
	"$(c -H 'X-Test: 42' http://127.0.0.1:$HTTP/echo-headers | python3 -c 'import json,sys; print(json.load(sys.stdin)["X-Test"])')" 42
expect "POST /echo echoes the body" "$(c --data-binary 'posted body' http://127.0.0.1:$HTTP/echo)" "posted body"
expect "POST /echo echoes a chunked body" \
	"$(c -H 'Transfer-Encoding: chunked' --data-binary 'chunked body' http://127.0.0.1:$HTTP/echo)" "chunked body"
expect "keep-alive: two requests, one connection" \
	"$(c -o /dev/null -o /dev/null -w '%{num_connects} ' http://127.0.0.1:$HTTP/hello http://127.0.0.1:$HTTP/hello)" "1 0 "
out=$(curl -s -m 1 http://127.0.0.1:$HTTP/slow; echo "rc=$?")
expect "/slow does not answer within 1 s" "$out" "rc=28"
expect "unknown path: 404" "$(c -o /dev/null -w '%{http_code}' http://127.0.0.1:$HTTP/nope)" 404

# origin over TLS, for every name in the cert
for h in api.test a.example.test 127.0.0.1; do
	expect "https origin as $h" "$(c --cacert "$CA" --resolve "$(r $h $HTTPS)" https://$h:$HTTPS/hello)" "hello from $h:$HTTPS"
done
expect_match "https origin refuses a name not in the cert" \
	"$(c --cacert "$CA" --resolve "$(r other.test $HTTPS)" https://other.test:$HTTPS/hello)" "SSL|certificate"
expect_match "https origin is not trusted without the CA" \
	"$(c --resolve "$(r api.test $HTTPS)" https://api.test:$HTTPS/hello)" "certificate"
# a client that never sends a ClientHello does not block the others
exec 3<>/dev/tcp/127.0.0.1/$HTTPS
expect "a silent TLS client does not block the server" \
	"$(c --cacert "$CA" --resolve "$(r api.test $HTTPS)" https://api.test:$HTTPS/hello)" "hello from api.test:$HTTPS"
exec 3<&-

# fault servers
expect "refuse: connection refused (curl 7)" "$(curl -s -m 5 http://127.0.0.1:$REFUSE/; echo $?)" 7
expect "reset: reset by peer (curl 56)" "$(curl -s -m 5 http://127.0.0.1:$RESET/; echo $?)" 56
expect "hang: never answers (curl 28)" "$(curl -s -m 1 http://127.0.0.1:$HANG/; echo $?)" 28
expect "blackhole: connects time out (curl 28)" "$(curl -s --connect-timeout 1 -m 3 http://127.0.0.1:$BLACKHOLE/; echo $?)" 28
expect "blackhole: ... every time" "$(curl -s --connect-timeout 1 -m 3 http://127.0.0.1:$BLACKHOLE/; echo $?)" 28
expect "garbage: not HTTP (curl 1: HTTP/0.9 refused)" "$(curl -s -m 5 http://127.0.0.1:$GARBAGE/; echo $?)" 1
expect_match "garbage: non-HTTP bytes, then a clean close" \
	"$(curl -sS -m 5 --http0.9 http://127.0.0.1:$GARBAGE/ 2>&1 | od -An -c | head -1; echo "rc=${PIPESTATUS[0]}")" \
	'S +S +H.*rc=0$'

# git smart HTTP over TLS
out=$(GIT_CONFIG_NOSYSTEM=1 HOME=$TMP GIT_SSL_CAINFO=$CA timeout 30 \
	git -c http.curloptResolve="$(r git.test $GIT)" clone -q https://git.test:$GIT/repo.git "$TMP/clone" 2>&1 &&
	cat "$TMP/clone/README")
expect "git clone over https" "$out" "hello from git"
out=$(GIT_CONFIG_NOSYSTEM=1 HOME=$TMP GIT_SSL_CAINFO=$CA GIT_PROTOCOL=version=0 timeout 30 \
	git -c protocol.version=0 -c http.curloptResolve="$(r git.test $GIT)" ls-remote https://git.test:$GIT/repo.git 2>&1)
expect_match "git ls-remote with protocol v0" "$out" "refs/heads/main"
expect_match "git: an unknown repo is 404" \
	"$(GIT_SSL_CAINFO=$CA timeout 30 git ls-remote https://127.0.0.1:$GIT/nope.git 2>&1)" "not found|404"

# pip from the simple index (the Debian pip the sandbox has)
PIP=/usr/bin/python3
[ -x $PIP ] || PIP=python3
out=$(HOME=$TMP timeout 60 $PIP -m pip install -q --no-cache-dir --disable-pip-version-check --root-user-action=ignore --timeout 10 --retries 0 \
	--index-url http://127.0.0.1:$PYPI/simple/ --target "$TMP/site" tinypkg 2>&1 &&
	PYTHONPATH=$TMP/site $PIP -c 'import tinypkg; print(tinypkg.VALUE)')
expect "pip install from the local index" "$out" "tinypkg ok"
check_files() { (cd "$TMP/site" && find tinypkg* -type f ! -name '*.pyc' | sort | tr '\n' ' '); }
expect "the wheel installs its files" "$(check_files)" \
	"tinypkg-1.0.dist-info/INSTALLER tinypkg-1.0.dist-info/METADATA tinypkg-1.0.dist-info/RECORD tinypkg-1.0.dist-info/REQUESTED tinypkg-1.0.dist-info/WHEEL tinypkg/__init__.py "

# the probe client against the servers (no proxy: just that it runs)
expect_match "client.py runs" "$(python3 "$GW_DIR/client.py" --help)" "usage: client.py"

# cleanup kills every server
pids=("${GW_PIDS[@]}")
gw_cleanup
alive=0
for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
expect "every server is gone after cleanup" "$alive" 0

echo "1..$n"
[ "$failed" -eq 0 ]
