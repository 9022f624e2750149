#!/usr/bin/env bash
# Just-in-time credentials through the egress gateway: the sandbox holds a
# placeholder, the gateway (outside) terminates TLS to the secret's hosts
# with a per-run CA, puts the real value in, enforces the request rules,
# masks echoes of it, and refuses the placeholder anywhere else.
#
# The upstream is a local HTTPS server (written below) whose certificate a
# throw-away test CA signs; airlock runs with SSL_CERT_FILE=<that CA> so the
# gateway trusts it. The server appends every request it gets, as it got it,
# to a log on the host: that is where the real value must show up, and only
# there. Names reach 127.0.0.1 through `hosts` overrides (loopback also needs
# its IP entry in the allowlist).
#   api.test:$S    OPENAI_API_KEY, injected as "Authorization: Bearer {}", rules
#   tok.test:$S    API_TOKEN, replace mode (the placeholder wherever it is in
#                  the headers, Basic auth too); a git repo behind Basic auth
#   other.test:$S  no secret: a plain tunnel;  other.test:$H  plain HTTP
#   api.test:$W    OPENAI_API_KEY too, but the server's certificate names
#                  another host
. "$(dirname "$0")/lib.sh"
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

sb() { "$AIRLOCK" run -q -t 60 "$@" 2> "$TMP/sb.err"; }
# fld KEY TEXT: the rest of the line of TEXT that starts with KEY
fld() { awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' <<<"$2"; }
# has TEXT NEEDLE: how many lines of TEXT hold NEEDLE (fixed string)
has() { grep -cF -- "$2" <<<"$1"; }

FX=$TMP/fx
mkdir -p "$FX"
chmod 755 "$FX"
LOG=$FX/seen.jsonl     # what the HTTPS servers received
HLOG=$FX/seen-http.jsonl # what the plain HTTP server received

# --- fixtures: CA, certificates, server, git repo --------------------------
mkca() {
	set -e
	cd "$FX"
	openssl ecparam -name prime256v1 -genkey -noout -out ca.key
	openssl req -x509 -new -key ca.key -days 2 -sha256 -out ca.crt -subj "/CN=airlock test CA" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
	for s in good:DNS:api.test,DNS:other.test,DNS:tok.test,DNS:*.wild.test,DNS:*.c.wild.test wrong:DNS:elsewhere.test; do
		local name=${s%%:*} san=${s#*:}
		openssl ecparam -name prime256v1 -genkey -noout -out "$name.key"
		openssl req -new -key "$name.key" -out "$name.csr" -subj "/CN=$name server"
		printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
			"$san" > "$name.ext"
		openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -sha256 \
			-extfile "$name.ext" -out "$name.crt"
	done
	rm -f ca.key ca.srl ./*.csr ./*.ext
	chmod 644 ca.crt
}
if ! (mkca) > "$TMP/fx.log" 2>&1 || ! "$SRC/tests/gateway/make-repo.sh" "$FX/git" >> "$TMP/fx.log" 2>&1; then
	echo "Bail out! could not build the fixtures: $(tail -n 3 "$TMP/fx.log" | tr '\n' ' ')"
	exit 1
fi

cat > "$FX/server.py" <<'PY'
# server.py LOG [CERT KEY]: HTTP/1.1 on 127.0.0.1 (TLS with CERT KEY); prints
# its port. Every request is appended to LOG as JSON (method, path,
# Authorization, its Basic decoding, X-Api-Key, Host, body) and answered:
#   /git/...  git smart HTTP (git http-backend on $SRV_GIT), only with Basic
#             credentials whose password is $SRV_SECRET (else 401)
#   /leak     "key=<X-Api-Key>" as text;  /b64  base64 of X-Api-Key
#   /split, /split-close, /chunked-split: "key=<X-Api-Key>" written in two
#             pieces (Content-Length; until close; two chunks); /chunked: one chunk
#   /big?n=N&at=A,B: N bytes of x with X-Api-Key written at offsets A, B
#             (negative: from the end);  HEAD: Content-Length 10, no body
#   /gzip     "key=<X-Api-Key>", gzip-encoded if the client accepts gzip (always with ?force)
#   else      the record as JSON (echoes what arrived)
import base64, gzip, http.server, json, os, ssl, subprocess, sys, threading, time, urllib.parse
log = sys.argv[1]
secret, gitroot = os.environ.get("SRV_SECRET", ""), os.environ.get("SRV_GIT", "")
lock = threading.Lock()
parent = os.getppid()

def watch():  # gone with the test, at the latest after 10 minutes
    end = time.monotonic() + 600
    while os.getppid() == parent and time.monotonic() < end:
        time.sleep(0.2)
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()

class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    ctx = None
    def finish_request(self, request, addr):
        if self.ctx:
            request.settimeout(10)
            try:
                request = self.ctx.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError):
                return
            request.settimeout(None)
        super().finish_request(request, addr)
    def handle_error(self, *a):
        pass

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60
    def log_message(self, *a):
        pass
    def reply(self, status, body, ctype="application/json", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def any(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                body += self.rfile.read(size)
                self.rfile.readline()
        else:
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
        auth = self.headers.get("Authorization", "")
        basic = ""
        if auth.startswith("Basic "):
            try:
                basic = base64.b64decode(auth[6:]).decode()
            except Exception:
                basic = "?"
        rec = {"method": self.command, "path": self.path, "auth": auth, "basic": basic,
               "x_api_key": self.headers.get("X-Api-Key", ""), "host": self.headers.get("Host", ""),
               "accept_encoding": self.headers.get("Accept-Encoding", ""),
               "body": body.decode("latin-1")}
        with lock, open(log, "a") as f:
            f.write(json.dumps(rec) + "\n")
        path, _, query = self.path.partition("?")
        if path.startswith("/git/"):
            if not secret or basic.partition(":")[2] != secret:
                return self.reply(401, b"who are you\n", "text/plain",
                                  [("WWW-Authenticate", 'Basic realm="git"')])
            return self.git(path[4:], query, body)
        if path == "/leak":
            return self.reply(200, ("key=" + rec["x_api_key"] + "\n").encode(), "text/plain")
        if path == "/b64":
            return self.reply(200, base64.b64encode(rec["x_api_key"].encode()) + b"\n", "text/plain")
        if path in ("/split", "/split-close", "/chunked", "/chunked-split"):
            return self.split(path, rec["x_api_key"].encode())
        if path == "/gzip":
            body, extra = ("key=" + rec["x_api_key"] + "\n").encode(), []
            if "gzip" in rec["accept_encoding"] or "force" in rec["path"]:
                body, extra = gzip.compress(body), [("Content-Encoding", "gzip")]
            return self.reply(200, body, "text/plain", extra)
        if path == "/big":
            q = urllib.parse.parse_qs(query)
            data = bytearray(b"x" * int(q["n"][0]))
            v = rec["x_api_key"].encode()
            for at in q["at"][0].split(","):
                at = int(at) if int(at) >= 0 else len(data) + int(at)
                data[at:at + len(v)] = v
            return self.reply(200, bytes(data), "application/octet-stream")
        if self.command == "HEAD":
            self.send_response(200)
            self.send_header("Content-Length", "10")
            self.end_headers()
            return
        self.reply(200, (json.dumps(rec) + "\n").encode())
    def split(self, path, v):
        # the value in two pieces, in two writes (and two chunks)
        parts = [b"key=" + v[:8], v[8:] + b"\n"]
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        if path.startswith("/chunked"):
            if path == "/chunked":
                parts = [b"".join(parts)]
            self.send_header("Transfer-Encoding", "chunked")
        elif path == "/split":
            self.send_header("Content-Length", str(len(b"".join(parts))))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        for part in parts:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part) if path.startswith("/chunked") else part)
            self.wfile.flush()
            time.sleep(0.2)
        if path.startswith("/chunked"):
            self.wfile.write(b"0\r\n\r\n")
    def git(self, path, query, body):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_PROJECT_ROOT": gitroot,
               "GIT_HTTP_EXPORT_ALL": "1", "GATEWAY_INTERFACE": "CGI/1.1",
               "REQUEST_METHOD": self.command, "PATH_INFO": path, "QUERY_STRING": query,
               "REMOTE_ADDR": "127.0.0.1", "CONTENT_TYPE": self.headers.get("Content-Type", ""),
               "CONTENT_LENGTH": str(len(body)), "GIT_PROTOCOL": self.headers.get("Git-Protocol", "")}
        out = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True,
                             timeout=60).stdout
        head, sep, payload = out.partition(b"\r\n\r\n")
        if not sep:
            head, sep, payload = out.partition(b"\n\n")
        status, hdrs, ctype = 200, [], "application/octet-stream"
        for line in head.decode("latin-1").splitlines():
            k, _, v = line.partition(":")
            if k.lower() == "status":
                status = int(v.split()[0])
            elif k.lower() == "content-type":
                ctype = v.strip()
            elif k:
                hdrs.append((k, v.strip()))
        self.reply(status, payload, ctype, hdrs)
    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = any

srv = Server(("127.0.0.1", 0), Handler)
if len(sys.argv) > 3:
    srv.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    srv.ctx.load_cert_chain(sys.argv[2], sys.argv[3])
print(srv.server_address[1], flush=True)
srv.serve_forever()
PY

# Inside the sandbox (/workspace/client.py): raw requests in a tunnel.
#   client.py HOST:PORT REQ...  CONNECT through the gateway, TLS (the
#   sandbox's trust store), all REQs in one write ("|" ends a line; the
#   placeholder of $VAR as {VAR}, a slice of it as {VAR[A:B]}), then the
#   status line of every response
#   client.py split PORT cl|chunked  POST to http://other.test:PORT a body
#   holding $OPENAI_API_KEY, cut before its last character into two writes
#   (cl: Content-Length) or two chunks (chunked); prints the status
#   client.py split PORT ext|trailer  the same with the placeholder whole in
#   a chunk extension or a trailer field (the data is "hello")
WS=$TMP/ws
mkdir -p "$WS"
cat > "$WS/client.py" <<'PY2'
import os, re, socket, ssl, sys, time
if sys.argv[1] == "split":
    ph = os.environ["OPENAI_API_KEY"].encode()
    s = socket.create_connection(("127.0.0.1", 3128), timeout=10)
    head = b"POST http://other.test:%s/x?t=x-split-%s HTTP/1.1\r\nHost: other.test\r\nConnection: close\r\n" % (
        sys.argv[2].encode(), sys.argv[3].encode())
    a, b = b"k=" + ph[:-1], ph[-1:]
    if sys.argv[3] == "cl":
        s.sendall(head + b"Content-Length: %d\r\n\r\n" % (len(a) + len(b)) + a)
        time.sleep(0.3)
        s.sendall(b)
    elif sys.argv[3] == "ext":
        s.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n5;k=" + ph + b"\r\nhello\r\n0\r\n\r\n")
    elif sys.argv[3] == "trailer":
        s.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Note: " + ph + b"\r\n\r\n")
    else:
        s.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n" % (len(a), a))
        time.sleep(0.3)
        s.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(b), b))
    data = b""
    try:
        while True:
            x = s.recv(65536)
            if not x:
                break
            data += x
    except OSError:
        pass
    print(data.split(b"\r\n")[0].decode().split(" ")[1] if data else "closed")
    sys.exit(0)
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection(("127.0.0.1", 3128), timeout=10)
s.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
head = b""
while b"\r\n\r\n" not in head:
    b = s.recv(1)
    if not b:
        break
    head += b
if not head.startswith(b"HTTP/1.1 200"):
    print("CONNECT", head.split(b"\r\n")[0].decode())
    sys.exit(0)
t = ssl.create_default_context().wrap_socket(s, server_hostname=host)
sub = lambda m: os.environ[m.group(1)][int(m.group(2) or 0):int(m.group(3) or 999)]
reqs = [re.sub(r"\{(\w+)(?:\[(-?\d*):(-?\d*)\])?\}", sub, r).replace("|", "\r\n") for r in sys.argv[2:]]
t.sendall("".join(reqs).encode())
data = b""
try:
    while True:
        b = t.recv(65536)
        if not b:
            break
        data += b
except (socket.timeout, ssl.SSLError, OSError):
    pass
print(" ".join(m.decode() for m in re.findall(rb"^HTTP/1\.1 (\d{3})", data, re.M)))
PY2
chmod 755 "$WS" && chmod 644 "$WS/client.py"

# server VAR ARGS...: start server.py ARGS in the background, VAR = its port
server() {
	local var=$1 out port=""
	shift
	out=$(mktemp "$TMP/server.XXXXXX")
	python3 "$FX/server.py" "$@" > "$out" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 100); do
		port=$(head -n 1 "$out")
		[[ $port =~ ^[0-9]+$ ]] && break
		port=""
		kill -0 "${PIDS[-1]}" 2>/dev/null || break
		sleep 0.05
	done
	[ -n "$port" ] || { echo "# server $*: did not start: $(cat "$out")" >&2; return 1; }
	printf -v "$var" %s "$port"
}

rand() { od -An -tx1 -N12 /dev/urandom | tr -d ' \n'; }
# the real values: only airlock's environment and the servers know them
REAL_KEY=sk-real-$(rand) REAL_TOKEN=tok-real-$(rand)
export REAL_KEY REAL_TOKEN
export SSL_CERT_FILE=$FX/ca.crt
export SRV_SECRET=$REAL_TOKEN SRV_GIT=$FX/git
if ! { server S "$LOG" "$FX/good.crt" "$FX/good.key" && server W "$LOG" "$FX/wrong.crt" "$FX/wrong.key" &&
	server H "$HLOG"; }; then
	echo "Bail out! the test servers did not start"
	exit 1
fi
: > "$LOG"
expect_match "fixture: the HTTPS server answers on the host with the test CA" \
	"$(curl -sS -m 5 --cacert "$FX/ca.crt" --resolve api.test:$S:127.0.0.1 https://api.test:$S/hello 2>&1)" '"path": "/hello"'
: > "$LOG"

# seen TAG EXPR: EXPR (python, on the record r) for the last request the
# HTTPS servers (SEEN_LOG=$HLOG: the HTTP server) got whose query holds
# t=TAG; "none" if there is none
seen() {
	python3 - "${SEEN_LOG:-$LOG}" "$1" "$2" <<'PY' 2>&1
import json, sys, urllib.parse
r = None
for line in open(sys.argv[1]):
    rec = json.loads(line)
    if urllib.parse.parse_qs(rec["path"].partition("?")[2]).get("t") == [sys.argv[2]]:
        r = rec
print(eval(sys.argv[3]) if r else "none")
PY
}
# mask VALUE: what the gateway makes of an echo of VALUE
mask() { python3 -c 'import sys; m = "[airlock:credential]"; v = sys.argv[1]; print((m + "*" * len(v))[:len(v)])' "$1"; }
MKEY=$(mask "$REAL_KEY")
MTOK=$(mask "$REAL_TOKEN")

P=$TMP/p.yaml
cat > "$P" <<EOF
network:
  mode: gateway
  egress_allowlist: ["api.test:$S", "tok.test:$S", "other.test:$S", "other.test:$H", "api.test:$W",
                     "127.0.0.1:$S", "127.0.0.1:$H", "127.0.0.1:$W"]
  hosts: ["api.test=127.0.0.1", "tok.test=127.0.0.1", "other.test=127.0.0.1"]
credentials:
  mode: just_in_time
  secrets:
    - name: OPENAI_API_KEY
      from: env:REAL_KEY
      hosts: ["api.test:$S", "api.test:$W"]
      inject: { header: Authorization, format: "Bearer {}" }
      allow: ["GET /v1/*", "POST /v1/chat/completions"]
    - name: API_TOKEN
      from: env:REAL_TOKEN
      hosts: ["tok.test:$S"]
EOF
M=(--policy "$P")
CURL="curl -sS -m 10"
A=https://api.test:$S
T=https://tok.test:$S

# --- 1. the environment inside ------------------------------------------------
out=$(sb "${M[@]}" -- sh -c '
	echo "ph $OPENAI_API_KEY"
	echo "ph2 $API_TOKEN"
	for v in SSL_CERT_FILE REQUESTS_CA_BUNDLE CURL_CA_BUNDLE PIP_CERT GIT_SSL_CAINFO NODE_EXTRA_CA_CERTS; do
		echo "$v $(printenv $v || echo unset)"; done
	echo "ca.pem $(test -f /run/airlock/ca.pem && echo file) $(test -w /run/airlock/ca.pem && echo writable || echo read-only) $( (echo x >> /run/airlock/ca.pem) 2>/dev/null && echo appended || echo refused)"
	echo "ca.pem-cert $(grep -c "BEGIN CERTIFICATE" /run/airlock/ca.pem)"
	echo "bundle-certs $(grep -c "BEGIN CERTIFICATE" /run/airlock/ca-bundle.pem)"
	echo "proc1 $(cat /proc/1/environ >/dev/null 2>&1 && echo readable || echo unreadable)"')
PH=$(fld ph "$out")
expect_match "env: the secret's variable holds a placeholder" "$PH" '^AIRLOCK-PLACEHOLDER-[0-9a-f]{32}$'
expect_match "env: each secret has its own placeholder" "$(fld ph2 "$out")" '^AIRLOCK-PLACEHOLDER-[0-9a-f]{32}$'
check "env: ... and they differ" test "$PH" != "$(fld ph2 "$out")"
for v in SSL_CERT_FILE REQUESTS_CA_BUNDLE CURL_CA_BUNDLE PIP_CERT GIT_SSL_CAINFO; do
	expect "env: $v" "$(fld $v "$out")" /run/airlock/ca-bundle.pem
done
expect "env: NODE_EXTRA_CA_CERTS" "$(fld NODE_EXTRA_CA_CERTS "$out")" /run/airlock/ca.pem
expect "env: /run/airlock/ca.pem is a file the sandbox cannot write" "$(fld ca.pem "$out")" "file read-only refused"
expect "env: ca.pem holds one certificate" "$(fld ca.pem-cert "$out")" 1
expect "env: ca-bundle.pem holds the per-run CA and the test CA (SSL_CERT_FILE of airlock)" "$(fld bundle-certs "$out")" 2
# everything the sandbox can see, dumped and searched on the host
sb "${M[@]}" -- sh -c '
	echo "== env"; env
	echo "== environ"; tr "\0" "\n" < /proc/self/environ
	echo "== cmdline"; tr "\0" " " < /proc/self/cmdline; echo; tr "\0" " " < /proc/$$/cmdline; echo
	echo "== proc1"; tr "\0" "\n" < /proc/1/environ 2>/dev/null
	echo "== files"; find /run/airlock /workspace /tmp -type f -exec cat {} + 2>&1' > "$TMP/dump.txt"
check "env: the dump holds the placeholder pattern" grep -q 'AIRLOCK-PLACEHOLDER-[0-9a-f]\{32\}' "$TMP/dump.txt"
check "env: the dump holds the CA files" grep -q "BEGIN CERTIFICATE" "$TMP/dump.txt"
for part in env environ cmdline files; do
	expect "env: the real values are not in $part" \
		"$(sed -n "/^== $part\$/,/^== /p" "$TMP/dump.txt" | grep -cF -e "$REAL_KEY" -e "$REAL_TOKEN")" 0
done
if [ "$(fld proc1 "$out")" = readable ]; then
	expect "env: the real values are not in /proc/1/environ" \
		"$(sed -n '/^== proc1$/,/^== /p' "$TMP/dump.txt" | grep -cF -e "$REAL_KEY" -e "$REAL_TOKEN")" 0
else
	skip "/proc/1/environ is not readable in the sandbox"
fi
expect "env: the real values are nowhere in what the sandbox sees" "$(grep -cF -e "$REAL_KEY" -e "$REAL_TOKEN" "$TMP/dump.txt")" 0
# the value inside a longer variable (a URL, a header) is replaced there too
out=$(DBURL="postgres://u:$REAL_KEY@db/x" sb "${M[@]}" -e DBURL --setenv "AUTHZ=Bearer $REAL_KEY" -- \
	sh -c 'echo "db $DBURL"; echo "authz $AUTHZ"')
expect_match "env: a value inside a passed variable becomes the placeholder" "$(fld db "$out")" \
	'^postgres://u:AIRLOCK-PLACEHOLDER-[0-9a-f]{32}@db/x$'
expect_match "env: ... and inside a variable the policy sets" "$(fld authz "$out")" '^Bearer AIRLOCK-PLACEHOLDER-[0-9a-f]{32}$'
# the value on the command line is refused, not rewritten
"$AIRLOCK" run -q --policy "$P" -- echo "x$REAL_KEY" > "$TMP/argv.out" 2> "$TMP/argv.err"
expect "argv: a command line holding a real value is refused (125)" "$?" 125
expect "argv: ... naming the secret, never the value" \
	"$(grep -c 'holds the real value of credentials secret OPENAI_API_KEY' "$TMP/argv.err") $(grep -cF "$REAL_KEY" "$TMP/argv.err" "$TMP/argv.out" | awk -F: '{s+=$2} END {print s}')" "1 0"
ph_b=$(sb "${M[@]}" -- printenv OPENAI_API_KEY)
expect_match "env: a second run gets a placeholder too" "$ph_b" '^AIRLOCK-PLACEHOLDER-[0-9a-f]{32}$'
check "env: ... a different one" test "$ph_b" != "$PH"

# --- 2. curl, injected header --------------------------------------------------
R2=$TMP/curl.json
out=$(sb "${M[@]}" --report "$R2" -- $CURL "$A/v1/models?t=curl")
expect "curl: the server saw the real value in Authorization" "$(seen curl 'r["auth"]')" "Bearer $REAL_KEY"
expect "curl: the echo reaching the client is masked at the same length" \
	"$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["auth"])' "$out" 2>&1)" "Bearer $MKEY"
expect "curl: the client's output holds no real value" "$(has "$out" "$REAL_KEY")" 0
expect "curl: report: one https event for the request, with the secret's name" \
	"$(json "$R2" '[(e["host"], e["port"], e["method"], e["path"].split("?")[0], e["credential"], e["verdict"], e["status"]) for e in r["network"]["events"] if e["proto"] == "https"]' 2>&1)" \
	"[('api.test', $S, 'GET', '/v1/models', 'OPENAI_API_KEY', 'allow', 200)]"
out=$(sb "${M[@]}" -- $CURL -H "Authorization: Bearer overridden" "$A/v1/models?t=curl-own")
expect "curl: an Authorization the client sends is replaced by the injected one" \
	"$(seen curl-own 'r["auth"]')" "Bearer $REAL_KEY"

# --- 3. replace mode (no inject) -----------------------------------------------
out=$(sb "${M[@]}" -- sh -c "
	$CURL -H \"X-Api-Key: \$API_TOKEN\" '$T/x?t=xkey'; echo
	$CURL -H \"X-Api-Key: pre-\$API_TOKEN-post\" '$T/x?t=xkey-mid'; echo
	$CURL -u \"user:\$API_TOKEN\" '$T/x?t=basic'; echo
	$CURL '$T/x?t=none'")
expect "replace: X-Api-Key placeholder -> the server saw the real value" "$(seen xkey 'r["x_api_key"]')" "$REAL_TOKEN"
expect "replace: inside a longer value too" "$(seen xkey-mid 'r["x_api_key"]')" "pre-$REAL_TOKEN-post"
expect "replace: Basic user:placeholder -> the server decoded user:<real>" "$(seen basic 'r["basic"]')" "user:$REAL_TOKEN"
expect "replace: without the placeholder nothing is added" "$(seen none '(r["auth"], r["x_api_key"])')" "('', '')"
expect "replace: the client's output holds no real value" "$(has "$out" "$REAL_TOKEN")" 0
expect "replace: the X-Api-Key echo is masked" \
	"$(python3 -c 'import json,sys; print(json.loads(sys.argv[1].splitlines()[0])["x_api_key"])' "$out" 2>&1)" "$MTOK"

# --- 3b. HTTP inside a terminated tunnel: masking, framing, keep-alive ----------------
XK='-H "X-Api-Key: $API_TOKEN"'
out=$(sb "${M[@]}" -- sh -c "
	for p in split split-close chunked chunked-split; do echo \$p \$($CURL $XK \"$T/\$p?t=\$p\"); done
	echo gzip \$($CURL $XK --compressed '$T/gzip?t=gzip')
	echo gzip-force \$($CURL $XK --compressed -o /dev/null -w '%{http_code}' '$T/gzip?t=gzip-force&force=1')
	$CURL $XK '$T/big?t=big&n=1048576&at=0,16378,65530,524288,-${#REAL_TOKEN}' | tr -s x '\n' | sort | uniq -c")
for p in split split-close chunked chunked-split; do
	expect "masking: /$p: the server got the real value" "$(seen $p 'r["x_api_key"]')" "$REAL_TOKEN"
	expect "masking: /$p: the echo written in two pieces reaches the client masked" "$(fld $p "$out")" "key=$MTOK"
done
expect "masking: 1 MiB with the value at 0, across 16 KiB and 64 KiB, in the middle and at the end: all masked" \
	"$(grep -v "^ *[0-9]* *$" <<<"$out" | grep -v -e '^[a-z-]* key=' -e '^gzip-force ' | awk '{print $1, $2}' | tr '\n' ' ')" "5 $MTOK "
expect "masking: the gateway asks for identity (the client asked for gzip); the server got the real value" \
	"$(seen gzip '(r["accept_encoding"], r["x_api_key"])' | grep -c "'identity', '$REAL_TOKEN'")" 1
expect "masking: the echo comes back unencoded and masked" "$(fld gzip "$out")" "key=$MTOK"
expect "masking: a response encoded anyway is refused (it could hide the value)" "$(fld gzip-force "$out")" 502
expect "masking: no real value reached the client" "$(has "$out" "$REAL_TOKEN")" 0
# a client that pipelines, sends close_notify and closes at once while its
# answers are still being written: the gateway must drop it, not spin on it
# (tests/gateway/close_notify.c, built here: it needs libssl's headers)
mkdir -p "$TMP/cn" && chmod 755 "$TMP/cn"
if cc -O1 -o "$TMP/cn/close_notify" "$SRC/tests/gateway/close_notify.c" -lssl -lcrypto 2>/dev/null; then
	out=$(sb "${M[@]}" --workspace "$TMP/cn:ro" -- sh -c "
		/workspace/close_notify tok.test $S '/big?t=cn2&n=300000&at=0' 'X-Api-Key: '\$API_TOKEN
		sleep 2
		echo after \$(curl -s -m 10 -o /dev/null -w '%{http_code}' $XK '$T/x?t=after-cn')")
	expect "a client gone after close_notify mid-answer does not stall the gateway" "$(fld after "$out")" 200
else
	skip "no C compiler with libssl headers for tests/gateway/close_notify.c"
fi
out=$(sb "${M[@]}" --workspace "$WS:ro" -- sh -c "
	$CURL -o /dev/null -o /dev/null $XK -w '%{num_connects} ' '$T/x?t=ka1' '$T/x?t=ka2'; echo
	curl -s -m 10 -o /dev/null -o /dev/null -w '%{http_code} ' '$A/v1/models?t=ka-ok' '$A/admin?t=ka-admin'; echo
	$CURL -o /dev/null $XK -H 'Expect: 100-continue' --data-binary @/workspace/client.py -w '%{http_code}\n' '$T/x?t=expect'
	$CURL -o /dev/null $XK -H 'Transfer-Encoding: chunked' --data-binary chunked-body -w '%{http_code}\n' '$T/x?t=chunked-req'
	$CURL -o /dev/null -H 'Host: other.test:$S' -w '%{http_code}\n' '$A/v1/models?t=host-steer'
	$CURL -o /dev/null --socks5-hostname 127.0.0.1:3128 -w '%{http_code}\n' '$A/v1/models?t=socks'")
expect "keep-alive: two requests in one tunnel" "$(sed -n 1p <<<"$out")" "1 0 "
expect "keep-alive: ... each got the real value" "$(seen ka1 'r["x_api_key"]') $(seen ka2 'r["x_api_key"]')" "$REAL_TOKEN $REAL_TOKEN"
expect "keep-alive: an allowed request, then a refused one in the same tunnel" "$(sed -n 2p <<<"$out")" "200 403 "
expect "keep-alive: ... the refused one did not reach the server" "$(seen ka-admin 'r["method"]')" none
expect "Expect: 100-continue: the body went through" "$(sed -n 3p <<<"$out") $(seen expect 'len(r["body"])')" \
	"200 $(wc -c < "$WS/client.py")"
expect "a chunked request body went through" "$(sed -n 4p <<<"$out") $(seen chunked-req 'r["body"]')" "200 chunked-body"
expect "the Host header cannot steer the credential to another virtual host" \
	"$(sed -n 5p <<<"$out") $(seen host-steer 'r["host"]')" "200 api.test:$S"
expect "SOCKS5 to a credentialed host is terminated too" "$(sed -n 6p <<<"$out") $(seen socks 'r["auth"]')" "200 Bearer $REAL_KEY"
HS="Host: api.test:$S|"
out=$(sb "${M[@]}" --workspace "$WS:ro" -- sh -c "
	echo pipelined \$(python3 /workspace/client.py api.test:$S 'GET /v1/models?t=pipe1 HTTP/1.1|$HS|' 'GET /admin?t=pipe2 HTTP/1.1|$HS|' 'GET /v1/models?t=pipe3 HTTP/1.1|${HS}Connection: close||')
	echo head \$(python3 /workspace/client.py tok.test:$S 'HEAD /x?t=head1 HTTP/1.1|Host: tok.test||' 'GET /x?t=head2 HTTP/1.1|Host: tok.test|Connection: close||')
	echo absolute \$(python3 /workspace/client.py api.test:$S 'GET https://other.test:$S/v1/x?t=absform HTTP/1.1|$HS|')
	echo smuggle \$(python3 /workspace/client.py api.test:$S 'POST /v1/chat/completions?t=smuggle HTTP/1.1|${HS}Content-Length: 4|Transfer-Encoding: chunked||0||GET /admin?t=smuggled HTTP/1.1|$HS|')" 2>&1)
expect_match "pipelined requests in one write: each judged (200, 403, then closed or 403)" "$(fld pipelined "$out")" '^200 403'
expect "pipelined: the refused one never reached the server" "$(seen pipe2 'r["method"]')" none
expect "HEAD then GET in one tunnel: both answered" "$(fld head "$out")" "200 200"
expect "HEAD then GET: the server got both" "$(seen head1 'r["method"]') $(seen head2 'r["method"]')" "HEAD GET"
expect "an absolute-form target inside the tunnel: 400" "$(fld absolute "$out")" 400
expect "absolute-form: nothing reached the server" "$(seen absform 'r["method"]')" none
expect_match "Content-Length with Transfer-Encoding in the tunnel: 400" "$(fld smuggle "$out")" '^400$'
expect "... nothing smuggled reached the server" "$(seen smuggle 'r["method"]') $(seen smuggled 'r["method"]')" "none none"

# --- 4. python: urllib and requests ----------------------------------------------
out=$(sb "${M[@]}" -- /usr/bin/python3 -c "
import json, os, urllib.request
req = urllib.request.Request('$A/v1/models?t=urllib', headers={'Authorization': 'Bearer ' + os.environ['OPENAI_API_KEY']})
print(json.loads(urllib.request.urlopen(req, timeout=10).read())['auth'])
req = urllib.request.Request('$T/x?t=urllib-tok', headers={'X-Api-Key': os.environ['API_TOKEN']})
print(json.loads(urllib.request.urlopen(req, timeout=10).read())['x_api_key'])" 2>&1)
expect "python urllib: the server saw the real key" "$(seen urllib 'r["auth"]')" "Bearer $REAL_KEY"
expect "python urllib, replace mode: the server saw the real token" "$(seen urllib-tok 'r["x_api_key"]')" "$REAL_TOKEN"
expect "python urllib: the client read masked echoes" "$(tr '\n' ' ' <<<"$out")" "Bearer $MKEY $MTOK "
if sb "${M[@]}" -- /usr/bin/python3 -c 'import requests' 2>/dev/null; then
	out=$(sb "${M[@]}" -- /usr/bin/python3 -c "
import os, requests
r = requests.get('$A/v1/models?t=requests', headers={'Authorization': 'Bearer ' + os.environ['OPENAI_API_KEY']}, timeout=10)
print(r.status_code, r.json()['auth'])" 2>&1)
	expect "python requests: the server saw the real key" "$(seen requests 'r["auth"]')" "Bearer $REAL_KEY"
	expect "python requests: 200 and a masked echo" "$out" "200 Bearer $MKEY"
else
	skip "python requests is not installed in /usr/bin/python3"
fi

# --- 5. node: CONNECT by hand, then TLS (NODE_EXTRA_CA_CERTS) -----------------------
if command -v node > /dev/null; then
	# (--memory: without a memory cgroup the fallback RLIMIT_AS is too small for V8)
	out=$(sb "${M[@]}" --memory 2G -- node -e "
const http = require('http'), tls = require('tls');
const req = http.request({ host: '127.0.0.1', port: 3128, method: 'CONNECT', path: 'api.test:$S' });
req.on('connect', (res, socket) => {
	if (res.statusCode !== 200) { console.log('CONNECT ' + res.statusCode); return; }
	const s = tls.connect({ socket, servername: 'api.test' }, () => s.write(
		'GET /v1/models?t=node HTTP/1.1\r\nHost: api.test:$S\r\nAuthorization: Bearer ' +
		process.env.OPENAI_API_KEY + '\r\nConnection: close\r\n\r\n'));
	let d = '';
	s.on('data', (c) => d += c);
	s.on('end', () => console.log(d.split('\r\n')[0]));
	s.on('error', (e) => console.log('tls error ' + e.message));
});
req.on('error', (e) => console.log('error ' + e.message));
req.end();" 2>&1)
	expect "node: the response over the tunnel" "$out" "HTTP/1.1 200 OK"
	expect "node: the server saw the real key" "$(seen node 'r["auth"]')" "Bearer $REAL_KEY"
else
	skip "node is not installed"
fi

# --- 6. git clone over https with the token in Basic auth ---------------------------
expect "fixture: git without the token gets 401" \
	"$(curl -sS -m 5 --cacert "$FX/ca.crt" -o /dev/null -w "%{http_code}" --resolve tok.test:$S:127.0.0.1 "$T/git/repo.git/info/refs?service=git-upload-pack" 2>&1)" 401
out=$(sb "${M[@]}" -- sh -c "
	export GIT_HTTP_LOW_SPEED_LIMIT=1 GIT_HTTP_LOW_SPEED_TIME=10 GIT_TERMINAL_PROMPT=0
	git clone -q \"https://user:\$API_TOKEN@tok.test:$S/git/repo.git\" /tmp/repo 2>&1 && cat /tmp/repo/README
	echo \"url \$(git -C /tmp/repo config remote.origin.url | grep -c AIRLOCK-PLACEHOLDER-)\"")
expect "git clone over https with user:token (placeholder) works" "$(head -n 1 <<<"$out")" "hello from git"
expect "git: the clone's remote URL holds the placeholder" "$(fld url "$out")" 1
expect "git: the client's output holds no real value" "$(has "$out" "$REAL_TOKEN")" 0
check "git: the server got Basic user:<real>" grep -qF "\"basic\": \"user:$REAL_TOKEN\"" "$LOG"

# --- 7. request rules -------------------------------------------------------------
R7=$TMP/rules.json
out=$(sb "${M[@]}" --report "$R7" -- sh -c "
	c() { k=\$1; shift; echo \"\$k \$(curl -s -m 10 -o /dev/null -w '%{http_code}' \"\$@\")\"; }
	c get-v1 '$A/v1/models?t=r-get'
	c post-chat -X POST --data '{}' '$A/v1/chat/completions?t=r-post'
	c post-chat-query -X POST --data '{}' '$A/v1/chat/completions?t=r-postq&x=/admin'
	c post-models -X POST --data '{}' '$A/v1/models?t=r-postm'
	c delete -X DELETE '$A/v1/models?t=r-del'
	c get-admin '$A/admin?t=r-admin'
	c admin-query '$A/admin?t=r-adminq&p=/v1/x'
	c dotdot --path-as-is '$A/v1/../admin?t=r-dotdot'
	c pct-dotdot --path-as-is '$A/v1/%2e%2e/admin?t=r-pct'
	c pct-slash --path-as-is '$A/v1/..%2fadmin?t=r-pctslash'
	c double-slash --path-as-is '$A/v1//models?t=r-dslash'
	curl -s -m 10 -i -X DELETE '$A/v1/models?t=r-del2' | tr -d '\r'")
expect "rules: GET /v1/* allowed" "$(fld get-v1 "$out")" 200
expect "rules: POST /v1/chat/completions allowed" "$(fld post-chat "$out")" 200
expect "rules: ... its query is ignored" "$(fld post-chat-query "$out")" 200
expect "rules: POST /v1/models refused" "$(fld post-models "$out")" 403
expect "rules: DELETE refused" "$(fld delete "$out")" 403
expect "rules: GET /admin refused" "$(fld get-admin "$out")" 403
expect "rules: a query cannot make /admin look like /v1/" "$(fld admin-query "$out")" 403
expect "rules: /v1/../admin refused (non-canonical)" "$(fld dotdot "$out")" 403
expect "rules: /v1/%2e%2e/admin refused (non-canonical)" "$(fld pct-dotdot "$out")" 403
expect "rules: /v1/..%2fadmin refused (non-canonical)" "$(fld pct-slash "$out")" 403
expect "rules: /v1//models refused (non-canonical)" "$(fld double-slash "$out")" 403
expect "rules: the server got only the allowed requests" \
	"$(for t in r-get r-post r-postq r-postm r-del r-admin r-adminq r-dotdot r-pct r-pctslash r-dslash r-del2; do
		[ "$(seen $t 'r["method"]')" = none ] || echo -n "$t "; done)" "r-get r-post r-postq "
reason=$(sed -n 's/^[Xx]-[Aa]irlock-[Rr]eason: *//p' <<<"$out")
expect "rules: a refusal is a 403 (after the tunnel's 200)" "$(grep '^HTTP/' <<<"$out" | cut -d' ' -f2 | tr '\n' ' ')" "200 403 "
check "rules: ... with X-Airlock-Reason ($reason)" test -n "$reason"
expect_match "rules: ... the reason says which request is not allowed" "$reason" 'DELETE|rule|allow'
expect "rules: ... and the body is the reason" "$(tail -n 1 <<<"$out")" "$reason"
expect "rules: report: the refusals are deny events of the secret, rule credentials, 403" \
	"$(json "$R7" 'sorted(set((e["verdict"], e["rule"], e["credential"], e["status"]) for e in r["network"]["events"] if e["proto"] == "https" and e["verdict"] == "deny"))' 2>&1)" \
	"[('deny', 'credentials', 'OPENAI_API_KEY', 403)]"
expect "rules: report: 3 allowed and 9 refused requests" \
	"$(json "$R7" '[sum(e["proto"] == "https" and e["verdict"] == v for e in r["network"]["events"]) for v in ("allow", "deny")]' 2>&1)" "[3, 9]"
expect "rules: report: the DELETE's event" \
	"$(json "$R7" '[(e["method"], e["path"].split("?")[0]) for e in r["network"]["events"] if e["proto"] == "https" and e["method"] == "DELETE"][:1]' 2>&1)" \
	"[('DELETE', '/v1/models')]"

# --- 8. exfiltration: the placeholder anywhere else ---------------------------------
R8=$TMP/exfil.json
L8=$TMP/exfil-audit.jsonl
out=$(sb "${M[@]}" --report "$R8" --audit-log "$L8" -- sh -c "
	c() { k=\$1; shift; echo \"\$k \$(curl -s -m 10 -o /dev/null -w '%{http_code} %{http_connect}' \"\$@\")\"; }
	c plain -H \"X-Api-Key: \$OPENAI_API_KEY\" 'http://other.test:$H/x?t=x-plain'
	c plain-body --data \"k=\$OPENAI_API_KEY\" 'http://other.test:$H/x?t=x-plainbody'
	c plain-query \"http://other.test:$H/x?t=x-plainq&k=\$OPENAI_API_KEY\"
	c connect-host \"https://\$OPENAI_API_KEY.other.test:$S/?t=x-host\"
	c cross -H \"X-Api-Key: \$OPENAI_API_KEY\" '$T/x?t=x-cross'
	c cross-basic -u \"user:\$OPENAI_API_KEY\" '$T/x?t=x-crossbasic'
	c cross-body --data \"k=\$OPENAI_API_KEY\" '$T/x?t=x-crossbody'
	c cross-query \"$T/x?t=x-crossquery&k=\$OPENAI_API_KEY\"
	c ok $A/v1/models?t=x-ok
	echo socks-host \$(curl -s -m 10 -o /dev/null --socks5-hostname 127.0.0.1:3128 \"https://\$OPENAI_API_KEY.other.test:$S/?t=x-socks\"; echo \$?)
	curl -s -m 10 -i -H \"X-Api-Key: \$OPENAI_API_KEY\" 'http://other.test:$H/x?t=x-plain2' | tr -d '\r'")
expect "exfil: placeholder over plain http to other.test: 403" "$(fld plain "$out" | cut -d' ' -f1)" 403
expect "exfil: ... in a plain http request body: refused" "$(fld plain-body "$out" | cut -d' ' -f1)" 403
expect "exfil: ... in a plain http query: 403" "$(fld plain-query "$out" | cut -d' ' -f1)" 403
expect "exfil: the plain HTTP server never got a placeholder" "$(grep -c AIRLOCK-PLACEHOLDER "$HLOG" 2>/dev/null || echo 0)" 0
expect "exfil: placeholder as a host name label (CONNECT): 403" "$(fld connect-host "$out" | cut -d' ' -f2)" 403
check "exfil: placeholder as a host name label (SOCKS5): refused" test "$(fld socks-host "$out")" != 0
expect "exfil: placeholder of a secret bound to api.test sent to tok.test (another secret's host): 403" \
	"$(fld cross "$out" | cut -d' ' -f1)" 403
expect "exfil: ... in Basic credentials: 403" "$(fld cross-basic "$out" | cut -d' ' -f1)" 403
expect "exfil: ... in a request body: refused" "$(fld cross-body "$out" | cut -d' ' -f1)" 403
expect "exfil: ... in the query: 403" "$(fld cross-query "$out" | cut -d' ' -f1)" 403
expect "exfil: the credentialed server never got a placeholder or a foreign secret" \
	"$(for t in x-cross x-crossbasic x-crossbody x-crossquery x-host x-socks; do [ "$(seen $t 'r["method"]')" = none ] || echo -n "$t "; done)" ""
expect "exfil: an allowed request in the same run works" "$(fld ok "$out" | cut -d' ' -f1)" 200
reason=$(sed -n 's/^[Xx]-[Aa]irlock-[Rr]eason: *//p' <<<"$out")
expect_match "exfil: the reason names the secret and says why" "$reason" 'OPENAI_API_KEY.*(exfiltration|plain)'
expect "exfil: report: every refusal is an exfiltration event of OPENAI_API_KEY, rule credentials" \
	"$(json "$R8" 'sorted(set((e["verdict"], e["rule"], e.get("credential"), e.get("exfiltration")) for e in r["network"]["events"] if e["verdict"] == "deny"))' 2>&1)" \
	"[('deny', 'credentials', 'OPENAI_API_KEY', True)]"
expect "exfil: report: the refusals by protocol" \
	"$(json "$R8" 'sorted(e["proto"] for e in r["network"]["events"] if e.get("exfiltration"))' 2>&1)" \
	"['connect', 'http', 'http', 'http', 'http', 'https', 'https', 'https', 'https', 'socks5']"
expect "exfil: report: the plain http refusal" \
	"$(json "$R8" '[(e["host"], e["port"], e["status"]) for e in r["network"]["events"] if e["proto"] == "http" and e.get("exfiltration")][:1]' 2>&1)" \
	"[('other.test', $H, 403)]"
expect "exfil: report: the allowed request names its secret, without exfiltration" \
	"$(json "$R8" '[(e["credential"], e.get("exfiltration", False)) for e in r["network"]["events"] if e["proto"] == "https" and e["verdict"] == "allow"]' 2>&1)" \
	"[('OPENAI_API_KEY', False)]"
expect "exfil: audit log: the same refusals as egress events" \
	"$(python3 - "$L8" <<'PY' 2>&1
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ex = [e for e in ev if e.get("event") == "egress" and e.get("exfiltration")]
print(len(ex), sorted(set((e["verdict"], e["rule"], e["credential"], e["status"]) for e in ex)))
PY
)" "10 [('deny', 'credentials', 'OPENAI_API_KEY', 2), ('deny', 'credentials', 'OPENAI_API_KEY', 403)]"
expect "exfil: audit log: the allowed request's event" \
	"$(python3 - "$L8" <<'PY' 2>&1
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print([(e["proto"], e["host"], e["method"], e["path"].split("?")[0], e["credential"], e["verdict"]) for e in ev
       if e.get("event") == "egress" and e.get("proto") == "https" and e.get("verdict") == "allow"])
PY
)" "[('https', 'api.test', 'GET', '/v1/models', 'OPENAI_API_KEY', 'allow')]"
# a placeholder cut in two by the client (all but its last character, then
# that): found across the pieces, also when they are chunks
out=$(sb "${M[@]}" --workspace "$WS:ro" -- sh -c "
	echo ph \$OPENAI_API_KEY
	echo cl \$(python3 /workspace/client.py split $H cl)
	echo chunked \$(python3 /workspace/client.py split $H chunked)
	echo ext \$(python3 /workspace/client.py split $H ext)
	echo trailer \$(python3 /workspace/client.py split $H trailer)
	echo tunnel-chunked \$(python3 /workspace/client.py tok.test:$S \\
		'POST /x?t=x-crosschunk HTTP/1.1|Host: tok.test|Transfer-Encoding: chunked|Connection: close||14|k={OPENAI_API_KEY[:18]}|22|{OPENAI_API_KEY[18:]}|0||')" 2>&1)
PH8=$(fld ph "$out")
expect "exfil: a placeholder cut in two writes of a plain HTTP body: 403" "$(fld cl "$out")" 403
expect "exfil: ... cut in two chunks of a plain HTTP body: 403" "$(fld chunked "$out")" 403
expect "exfil: ... in a chunk extension of a plain HTTP body: 403" "$(fld ext "$out")" 403
expect "exfil: ... in a trailer of a plain HTTP body: 403" "$(fld trailer "$out")" 403
expect "exfil: extension and trailer: the plain HTTP server got neither request" \
	"$(SEEN_LOG=$HLOG seen x-split-ext True) $(SEEN_LOG=$HLOG seen x-split-trailer True)" "none none"
expect "exfil: ... cut in two chunks of a body to another credentialed host: 403" "$(fld tunnel-chunked "$out")" 403
expect_match "exfil: two chunks: the plain HTTP server got none of it" \
	"$(SEEN_LOG=$HLOG seen x-split-chunked "'${PH8:0:40}' in r['body']")" '^(none|False)$'
expect_match "exfil: two chunks in a tunnel: the credentialed server got none of it" \
	"$(seen x-crosschunk "'${PH8:0:40}' in r['body']")" '^(none|False)$'

for f in "$R8" "$L8" "$R2" "$R7"; do
	expect "exfil: $(basename "$f") holds no real value" "$(grep -cF -e "$REAL_KEY" -e "$REAL_TOKEN" "$f")" 0
	check "exfil: $(basename "$f") names the secret" grep -qF OPENAI_API_KEY "$f"
done

# --- 9. TTL ------------------------------------------------------------------------
sed 's/^      from: env:REAL_KEY$/&\n      ttl_seconds: 1/' "$P" > "$TMP/ttl.yaml"
out=$(sb --policy "$TMP/ttl.yaml" --report "$TMP/ttl.json" -- sh -c "
	echo first \$(curl -s -m 10 -o /dev/null -w '%{http_code}' '$A/v1/models?t=ttl1')
	sleep 2
	echo second \$(curl -s -m 10 -o /dev/null -w '%{http_code}' '$A/v1/models?t=ttl2')
	echo body \$(curl -s -m 10 '$A/v1/models?t=ttl3')
	echo other \$(curl -s -m 10 -o /dev/null -w '%{http_code}' '$T/x?t=ttl-tok')")
expect "ttl 1 s: a request at once passes" "$(fld first "$out")" 200
expect "ttl 1 s: after 2 s it is refused" "$(fld second "$out")" 403
expect_match "ttl: ... because the credential has expired" "$(fld body "$out")" 'credential OPENAI_API_KEY has expired'
expect "ttl: the server got the first request only" "$(seen ttl1 'r["auth"]') $(seen ttl2 'r["auth"]') $(seen ttl3 'r["auth"]')" \
	"Bearer $REAL_KEY none none"
expect "ttl: another secret without a ttl still works" "$(fld other "$out")" 200
expect_match "ttl: report: the expiry is a deny event of the secret" \
	"$(json "$TMP/ttl.json" '[(e["verdict"], e["credential"], e["reason"]) for e in r["network"]["events"] if e["proto"] == "https" and e["verdict"] == "deny"][:1]' 2>&1)" \
	"deny', 'OPENAI_API_KEY', '.*expired"

# --- 10. the upstream's certificate is verified --------------------------------------
out=$(env -u SSL_CERT_FILE "$AIRLOCK" run -q -t 60 "${M[@]}" --report "$TMP/untrusted.json" -- sh -c "
	curl -sS -m 10 -o /dev/null -w 'connect %{http_connect}\n' '$A/v1/models?t=untrusted' 2>&1; echo rc \$?" 2> "$TMP/sb.err")
expect "untrusted upstream: the CONNECT gets 502" "$(fld connect "$out")" 502
check "untrusted upstream: curl fails" test "$(fld rc "$out")" != 0
expect_match "untrusted upstream: the event's reason mentions the certificate" \
	"$(json "$TMP/untrusted.json" '[e["reason"] for e in r["network"]["events"] if e["host"] == "api.test"]' 2>&1)" '[Cc]ertificate'
expect "untrusted upstream: the server got no request" "$(seen untrusted 'r["auth"]')" none
out=$(sb "${M[@]}" --report "$TMP/wrongname.json" -- sh -c "
	curl -sS -m 10 -o /dev/null -w 'connect %{http_connect}\n' 'https://api.test:$W/v1/models?t=wrongname' 2>&1; echo rc \$?")
expect "upstream with a certificate for another name: the CONNECT gets 502" "$(fld connect "$out")" 502
check "wrong name: curl fails" test "$(fld rc "$out")" != 0
expect_match "wrong name: the event's reason says why" \
	"$(json "$TMP/wrongname.json" '[e["reason"] for e in r["network"]["events"] if e["host"] == "api.test"]' 2>&1)" '[Cc]ertificate|[Hh]ost ?name|mismatch'
expect "wrong name: the server got no request" "$(seen wrongname 'r["auth"]')" none

if [ $IS_ROOT -eq 1 ]; then
	# the sandbox's bundle is made from SSL_CERT_FILE by airlock (root):
	# the gateway must verify against the same trust, not less
	install -m 600 "$FX/ca.crt" "$FX/ca-root-only.crt"
	out=$(SSL_CERT_FILE=$FX/ca-root-only.crt "$AIRLOCK" run -q -t 60 "${M[@]}" --report "$TMP/rootonly.json" -- \
		curl -sS -m 10 -o /dev/null -w '%{http_connect} %{http_code}' "$A/v1/models?t=rootonly" 2> "$TMP/sb.err")
	expect "as root: SSL_CERT_FILE readable by root only is still the gateway's trust store" "$out" "200 200"
	rm -f "$FX/ca-root-only.crt"
else
	skip "a trust store only root can read: not running as root"
fi

# a wildcard host: every name below it, with a certificate for that name
sed -e "s/hosts: \[\"api.test:$S\", \"api.test:$W\"\]/hosts: [\"*.wild.test:$S\"]/" \
	-e "s/\"other.test=127.0.0.1\"/&, \"a.wild.test=127.0.0.1\", \"b.c.wild.test=127.0.0.1\"/" \
	-e "s/\"127.0.0.1:$S\",/\"*.wild.test:$S\", &/" "$P" > "$TMP/wild.yaml"
out=$(sb --policy "$TMP/wild.yaml" -- sh -c "
	for h in a.wild.test b.c.wild.test; do
		echo \$h \$(curl -sS -m 10 -o /dev/null -w '%{http_code}' \"https://\$h:$S/v1/models?t=\$h\" 2>&1)
	done")
expect "wildcard *.wild.test: a.wild.test intercepted, the secret put in" \
	"$(fld a.wild.test "$out") $(seen a.wild.test 'r["auth"]')" "200 Bearer $REAL_KEY"
expect "wildcard *.wild.test: b.c.wild.test too" "$(fld b.c.wild.test "$out") $(seen b.c.wild.test 'r["auth"]')" "200 Bearer $REAL_KEY"

# --- 11. hosts without a secret are not intercepted -----------------------------------
out=$(sb "${M[@]}" -- /usr/bin/python3 -c "
import http.client, ssl
for host in ('other.test', 'api.test'):
    c = http.client.HTTPSConnection('127.0.0.1', 3128, timeout=10, context=ssl.create_default_context())
    c.set_tunnel(host, $S)
    c.request('GET', '/v1/models?t=issuer-' + host)
    c.getresponse().read()
    issuer = dict(x[0] for x in c.sock.getpeercert()['issuer'])
    print(host, issuer.get('commonName'))" 2>&1)
expect "no secret, no interception: other.test's certificate is the server's own (test CA)" "$(fld other.test "$out")" "airlock test CA"
expect_match "a credentialed host's certificate is issued by the per-run CA" "$(fld api.test "$out")" '^airlock per-run CA'
expect "no secret: the request reached the server unchanged (no Authorization added)" \
	"$(seen issuer-other.test 'r["auth"]')" ""
out=$(sb "${M[@]}" -- sh -c "curl -sS -m 10 -v -o /dev/null 'https://other.test:$S/?t=issuer-curl' 2>&1 | grep -i 'issuer:'")
expect_match "curl -v: other.test's issuer is the test CA" "$out" 'CN ?= ?airlock test CA'

# --- 12. where the values come from ------------------------------------------------------
printf '%s\n' "file-real-$(rand)" > "$FX/secret.txt"
FILE_VAL=$(head -n 1 "$FX/secret.txt")
CMD_SRC=cmd-real-$(rand)
export CMD_SRC
srcpol() { # srcpol FROM: a policy whose one secret (SRC_KEY on tok.test) comes from FROM
	cat <<EOF
network:
  mode: gateway
  egress_allowlist: ["tok.test:$S", "127.0.0.1:$S"]
  hosts: ["tok.test=127.0.0.1"]
credentials:
  mode: just_in_time
  secrets:
    - name: SRC_KEY
      from: '$1'
      hosts: ["tok.test:$S"]
      inject: { header: X-Api-Key, format: "{}" }
EOF
}
srcpol "file:$FX/secret.txt" > "$TMP/file.yaml"
out=$(sb --policy "$TMP/file.yaml" -- $CURL "$T/x?t=src-file")
expect "file: source: the server saw the file's value without its newline" "$(seen src-file 'r["x_api_key"]')" "$FILE_VAL"
expect "file: ... and the client only its mask" "$(has "$out" "$FILE_VAL")" 0
srcpol 'command:printf %s "$CMD_SRC"' > "$TMP/cmd.yaml"
out=$(sb --policy "$TMP/cmd.yaml" -- $CURL "$T/x?t=src-cmd")
expect "command: source: the server saw the command's output" "$(seen src-cmd 'r["x_api_key"]')" "$CMD_SRC"
printf 'two\nlines\n' > "$FX/two-lines.txt"
while read -r what from; do
	srcpol "$from" > "$TMP/bad-src.yaml"
	out=$(env -u REAL_UNSET "$AIRLOCK" run -q --policy "$TMP/bad-src.yaml" -- echo RAN 2> "$TMP/sb.err")
	code=$?
	expect "source error ($what): exit 125, nothing ran" "$code $out" "125 "
	expect_match "source error ($what): the message names the secret" "$(cat "$TMP/sb.err")" 'SRC_KEY'
done <<EOF
unset-env env:REAL_UNSET
missing-file file:$FX/no-such-file
failing-command command:exit 1
newline-inside file:$FX/two-lines.txt
newline-from-command command:printf "a\\nb"
EOF

# --- 13. policy validation --------------------------------------------------------------
V=$TMP/v.yaml
# vcase DESC FIELD LINE < SECRET: validate a policy whose one secret is
# SECRET (its lines start at line 7); FIELD is a regex of the field path
vcase() {
	{
		printf 'network:\n  mode: gateway\n  egress_allowlist: ["api.test:443"]\ncredentials:\n  mode: just_in_time\n  secrets:\n'
		cat
	} > "$V"
	local out code
	out=$("$AIRLOCK" policy validate "$V" 2>&1)
	code=$?
	expect "validate: $1: exit 125" "$code" 125
	expect_match "validate: $1: FILE:LINE: field" "$out" "(^|$'\n')$V:$3: $2: "
}
S0='credentials\.secrets\[0\]'
vcase "unknown key" "$S0\.colour" 10 <<'EOF'
    - name: OPENAI_API_KEY
      from: env:REAL_KEY
      hosts: [api.test]
      colour: red
EOF
vcase "bad name" "$S0\.name" 7 <<'EOF'
    - name: 1-BAD
      from: env:REAL_KEY
      hosts: [api.test]
EOF
vcase "bad from" "$S0\.from" 8 <<'EOF'
    - name: OPENAI_API_KEY
      from: vault:openai
      hosts: [api.test]
EOF
vcase "bad host" "$S0\.hosts\[1\]" 9 <<'EOF'
    - name: OPENAI_API_KEY
      from: env:REAL_KEY
      hosts: [api.test, "bad host!"]
EOF
vcase "bad rule" "$S0\.allow\[0\]" 11 <<'EOF'
    - name: OPENAI_API_KEY
      from: env:REAL_KEY
      hosts: [api.test]
      allow:
        - "get /v1/*"
EOF
vcase "inject.header Host" "$S0\.inject\.header" 11 <<'EOF'
    - name: OPENAI_API_KEY
      from: env:REAL_KEY
      hosts: [api.test]
      inject:
        header: Host
EOF
vcase "inject.format without {}" "$S0\.inject\.format" 12 <<'EOF'
    - name: OPENAI_API_KEY
      from: env:REAL_KEY
      hosts: [api.test]
      inject:
        header: Authorization
        format: "Bearer"
EOF
vcase "ttl_seconds 0" "$S0\.ttl_seconds" 10 <<'EOF'
    - name: OPENAI_API_KEY
      from: env:REAL_KEY
      hosts: [api.test]
      ttl_seconds: 0
EOF
cat > "$V" <<'EOF'
network:
  mode: none
credentials:
  mode: just_in_time
  secrets:
    - name: OPENAI_API_KEY
      from: env:REAL_KEY
      hosts: [api.test]
EOF
out=$("$AIRLOCK" policy validate "$V" 2>&1)
expect "validate: secrets with network.mode none: exit 125" "$?" 125
expect_match "validate: ... says the gateway is needed" "$out" "$V:[0-9]+: credentials\.secrets: .*gateway"
for var in REAL_KEY OPENAI_API_KEY; do
	cat > "$V" <<EOF
network:
  mode: gateway
  egress_allowlist: ["api.test:443"]
process:
  env:
    allow: [$var]
credentials:
  mode: just_in_time
  secrets:
    - name: OPENAI_API_KEY
      from: env:REAL_KEY
      hosts: [api.test]
EOF
	out=$("$AIRLOCK" policy validate "$V" 2>&1)
	expect "validate: env.allow listing $var (the secret's source or name): exit 125" "$?" 125
	expect_match "validate: ... names process.env.allow and $var" "$out" "$V:[0-9]+: process\.env\.allow: .*$var"
done
cat > "$V" <<'EOF'
credentials:
  mode: just_in_time
  secret_scanning: true
EOF
out=$("$AIRLOCK" policy validate "$V" 2>&1)
expect "validate: the seed's credentials {mode: just_in_time, secret_scanning: true} without secrets is valid" "$?" 0
out=$(sb --policy "$V" -- echo ran)
expect "... and runs" "$? $out" "0 ran"

printf 'network:\n  egress_allowlist: ["api.test:443"]\ncredentials:\n  secrets:\n    - {name: K, from: "env:X", hosts: [api.test, "*.Example.TEST:8443"]}\n' > "$V"
expect "policy show: a host without a port is port 443, names lowercase" \
	"$("$AIRLOCK" policy show "$V" 2>&1 | python3 -c 'import json,sys; c=json.load(sys.stdin)["credentials"]; print(c["mode"], sorted(c["secrets"][0]["hosts"]))' 2>&1)" \
	"just_in_time ['*.example.test:8443', 'api.test:443']"

# --- 14. the standalone gateway refuses secrets --------------------------------------------
out=$(timeout 10 "$AIRLOCK" gateway --listen 127.0.0.1:0 --policy "$P" 2>&1)
expect "airlock gateway with secrets: exit 125" "$?" 125
expect_match "... says why (credentials)" "$out" 'credentials'

# --- 15. the output gate with credentials ----------------------------------------------------
G=$TMP/gate.yaml
cat "$P" - > "$G" <<'EOF'
output:
  secret_scanning: true
EOF
out=$(sb --policy "$G" -- sh -c "
	$CURL -H \"X-Api-Key: \$API_TOKEN\" '$T/leak?t=gate-leak'
	echo decoded \$($CURL -H \"X-Api-Key: \$API_TOKEN\" '$T/b64?t=gate-b64' | base64 -d)")
expect "output gate: the server got the real value" "$(seen gate-leak 'r["x_api_key"]')" "$REAL_TOKEN"
expect "output gate: an echo in a response body reaches the client masked" "$(grep '^key=' <<<"$out")" "key=$MTOK"
expect "output gate: the real value never comes out, even decoded by the sandbox" "$(has "$out" "$REAL_TOKEN")" 0
expect_match "output gate: ... the gate redacted the decoded one (it knows the run's values)" "$(fld decoded "$out")" 'REDACTED'
printf 'output:\n  secret_scanning: true\n' > "$TMP/gate-only.yaml"
out=$(sb --policy "$TMP/gate-only.yaml" -- echo "decoded $REAL_TOKEN")
expect "output gate: (control) without credentials the gate does not take this value for a secret" \
	"$(fld decoded "$out")" "$REAL_TOKEN"

done_testing
