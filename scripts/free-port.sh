# Sourced by scripts/test-servers.sh and deploy/local-cluster.sh.
#
# free_port [TAKEN]: prints a loopback port nobody listens on now, below the kernel's ephemeral
# range: a port there may be the source port of some outgoing connection (a load test holds
# thousands), which a probe cannot see but bind() refuses. TAKEN, a command run with the port,
# vetoes ports the caller handed out already. Returns 1 (with a message) when none is found.
free_port() {
  local taken=${1:-} p low
  low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  ((low > 21000)) || low=50000
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % (low - 20000)))
    if [[ -n "$taken" ]] && "$taken" "$p"; then continue; fi
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  echo "no free port found" >&2
  return 1
}
