#!/usr/bin/env bash
# make-ca.sh DIR: a throw-away test CA and one server certificate it signs,
# generated with the openssl CLI at test time (never commit keys).
#   DIR/ca.crt      the CA certificate (give this to clients: --cacert, GIT_SSL_CAINFO)
#   DIR/server.crt  for api.test, git.test, pypi.test, *.example.test, 127.0.0.1
#   DIR/server.key  its key
# Files end in .crt, not .pem: airlock hides *.pem and *.key in a workspace.
# The CA's key is deleted once it has signed: nothing else can be issued.
set -euo pipefail
dir=${1:?usage: make-ca.sh DIR}
mkdir -p "$dir"
cd "$dir"
q() { local out; out=$("$@" 2>&1) || { echo "make-ca.sh: $1 failed: $out" >&2; exit 1; }; }

q openssl req -x509 -newkey rsa:2048 -nodes -days 2 -sha256 \
	-keyout ca.key -out ca.crt -subj "/CN=airlock test CA" \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
q openssl req -newkey rsa:2048 -nodes -sha256 -keyout server.key -out server.csr -subj "/CN=api.test"
cat > server.ext <<'EOF'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:api.test,DNS:git.test,DNS:pypi.test,DNS:*.example.test,IP:127.0.0.1
EOF
q openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -sha256 \
	-extfile server.ext -out server.crt
rm -f ca.key ca.srl server.csr server.ext
chmod 644 ca.crt server.crt
chmod 600 server.key
