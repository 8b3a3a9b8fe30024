#!/usr/bin/env bash
# Installs every Debian package roomcast needs to build, test and run (idempotent).
# Run as root or with sudo. Packages are only installed when missing.
set -euo pipefail

PKGS=(cmake ninja-build g++-12 ccache pkg-config clang-format
  libgtest-dev libgmock-dev googletest
  libboost1.81-dev libboost-system1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libgrpc++-dev protobuf-compiler protobuf-compiler-grpc libprotobuf-dev
  librdkafka-dev libhiredis-dev libmariadb-dev libsqlite3-dev libsimdjson-dev
  libspdlog-dev libfmt-dev libtomlplusplus-dev libcli11-dev libsodium-dev libssl-dev libicu-dev
  prometheus-cpp-dev
  redis-server mariadb-server nginx curl ca-certificates)

# Extra groups: "e2e" adds the browser, "bench" adds the peers.
for extra in "$@"; do
  case "$extra" in
    # prometheus: promtool checks /metrics; docker-compose validates deploy/docker-compose.yml
    e2e) PKGS+=(chromium nodejs npm prometheus docker-compose) ;;
    bench) PKGS+=(libnginx-mod-nchan nodejs npm gnuplot-nox linux-perf) ;;
    fuzz) PKGS+=(clang-14 libclang-rt-14-dev) ;;
  esac
done

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from outside Debian (e.g. nvm); accept them if present on PATH.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=(); for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]}")
fi
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
