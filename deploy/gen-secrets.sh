#!/usr/bin/env bash
# Generates a roomcast cluster's secrets into DIR (default deploy/secrets), once: what exists is
# kept. Used by deploy/local-cluster.sh and, before `docker-compose up`, by hand.
#   mysql_password redis_password admin_token metrics_token   random, owner-only
#   tls/ca.pem tls/ca.key      the cluster's own CA (P-256, 10 years)
#   tls/node.pem tls/node.key  the nodes' certificate for mutual TLS on every gRPC channel,
#                              subjectAltName DNS:roomcast.internal (nodes reach each other by
#                              IP; the name is what each side checks)
# Never commit DIR: .gitignore lists deploy/secrets.
set -euo pipefail
D="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/secrets}"
mkdir -p "$D/tls"
chmod 700 "$D" "$D/tls"
umask 077
for name in mysql_password redis_password admin_token metrics_token; do
  [[ -s "$D/$name" ]] || head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$D/$name"
done
T="$D/tls"
if [[ ! -s "$T/ca.pem" ]]; then
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/CN=roomcast cluster CA" -keyout "$T/ca.key" -out "$T/ca.pem" 2>/dev/null
  rm -f "$T/node.pem"
fi
if [[ ! -s "$T/node.pem" ]]; then
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=roomcast.internal" -keyout "$T/node.key" -out "$T/node.csr" 2>/dev/null
  printf 'subjectAltName=DNS:roomcast.internal\nextendedKeyUsage=serverAuth,clientAuth\n' >"$T/ext"
  openssl x509 -req -in "$T/node.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
    -days 825 -extfile "$T/ext" -out "$T/node.pem" 2>/dev/null
  rm -f "$T/node.csr" "$T/ext"
fi
# Containers run as another user than the one who generated the files.
[[ "${SECRETS_WORLD_READABLE:-0}" == 1 ]] && chmod -R a+rX "$D"
echo "$D"
