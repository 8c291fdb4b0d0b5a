#!/usr/bin/env bash
# Starts a local three-member etcd cluster on the ports etcd's own Procfile uses (clients
# 2379, 22379, 32379; peers 12380, 22380, 32380), which is what Configs/etcd.toml points at.
#
#   scripts/etcd-local-cluster.sh start [dir]   # data, logs and pids under dir (default ./etcd-local)
#   scripts/etcd-local-cluster.sh stop  [dir]
#
# Needs the etcd binary (Debian: apt-get install etcd-server).
set -euo pipefail
command="${1:-start}"
dir="${2:-./etcd-local}"
clients=(2379 22379 32379)
peers=(12380 22380 32380)

case "$command" in
start)
  command -v etcd >/dev/null || { echo "etcd not found: apt-get install -y etcd-server" >&2; exit 1; }
  mkdir -p "$dir"
  cluster="infra1=http://127.0.0.1:${peers[0]},infra2=http://127.0.0.1:${peers[1]},infra3=http://127.0.0.1:${peers[2]}"
  for i in 0 1 2; do
    name="infra$((i + 1))"
    if [ -f "$dir/$name.pid" ] && kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null; then
      echo "$name already runs (pid $(cat "$dir/$name.pid"))"
      continue
    fi
    etcd --name "$name" --data-dir "$dir/$name" \
      --listen-client-urls "http://127.0.0.1:${clients[i]}" --advertise-client-urls "http://127.0.0.1:${clients[i]}" \
      --listen-peer-urls "http://127.0.0.1:${peers[i]}" --initial-advertise-peer-urls "http://127.0.0.1:${peers[i]}" \
      --initial-cluster-token etcd-cluster-1 --initial-cluster "$cluster" --initial-cluster-state new \
      >"$dir/$name.log" 2>&1 &
    echo $! >"$dir/$name.pid"
  done
  for i in 0 1 2; do
    name="infra$((i + 1))"
    for _ in $(seq 1 100); do
      grep -q "ready to serve client requests" "$dir/$name.log" && break
      kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null || { echo "$name exited; its log:" >&2; tail -20 "$dir/$name.log" >&2; exit 1; }
      sleep 0.1
    done
    grep -q "ready to serve client requests" "$dir/$name.log" || { echo "$name is not ready after 10 s; see $dir/$name.log" >&2; exit 1; }
  done
  echo "etcd cluster ready: http://127.0.0.1:${clients[0]},http://127.0.0.1:${clients[1]},http://127.0.0.1:${clients[2]}"
  ;;
stop)
  for name in infra1 infra2 infra3; do
    if [ -f "$dir/$name.pid" ]; then
      kill "$(cat "$dir/$name.pid")" 2>/dev/null || true
      rm -f "$dir/$name.pid"
    fi
  done
  echo "stopped"
  ;;
*)
  echo "usage: $0 start|stop [dir]" >&2
  exit 2
  ;;
esac
