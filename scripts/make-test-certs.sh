#!/usr/bin/env bash
# Certificates for TLS tests and local clusters, made with the openssl CLI (P-256 keys, PKCS#8):
#   ca.pem / ca.key             a test CA
#   server.pem / server.key     signed by it, for 127.0.0.1, ::1 and localhost (30 days)
#   client.pem / client.key     signed by it, a client certificate for mutual TLS
#   other-ca.pem                another CA, which signed nothing here
#   other-server.pem / .key     signed by the other CA (a server the test CA does not vouch for)
#   other-client.pem / .key     signed by the other CA, a client certificate the test CA does not vouch for
#   expired.pem / expired.key   signed by the test CA, already expired
#   expired-client.pem / .key   signed by the test CA, a client certificate, already expired
# Usage: scripts/make-test-certs.sh OUT_DIR [extra SAN entries, e.g. DNS:broker-0.example]
set -euo pipefail
out=${1:?usage: make-test-certs.sh OUT_DIR [SAN...]}
shift
mkdir -p "$out"
cd "$out"
san="IP:127.0.0.1,IP:::1,DNS:localhost"
for extra in "$@"; do san="$san,$extra"; done

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() { # name
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -out "$1.pem" -subj "/CN=$1" -days 30 \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
leaf() { # name ca days usage
  key "$1.key"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$1" 2>/dev/null
  printf 'subjectAltName=%s\nextendedKeyUsage=%s\nbasicConstraints=CA:FALSE\n' "$san" "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -out "$1.pem" \
    -days "$3" -extfile "$1.ext" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
ca ca
ca other-ca
leaf server ca 30 serverAuth
leaf client ca 30 clientAuth
leaf other-server other-ca 30 serverAuth
leaf other-client other-ca 30 clientAuth
leaf expired ca -1 serverAuth
leaf expired-client ca -1 clientAuth
rm -f ./*.srl
