#!/usr/bin/env bash
# Stops the cluster that start-cluster.sh started (read from DIR/cluster.env): each worker's
# process group (worker, its executors and drivers), then the master's; TERM, and KILL after
# 10 s for what is left.
#
#   submit/standalone/stop-cluster.sh [--dir DIR]     (default target/standalone)
set -euo pipefail

# shellcheck source=../lib/spark.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/spark.sh"

dir="$bottleneck_root/target/standalone"
if [ $# -eq 2 ] && [ "$1" = --dir ]; then
  dir="$2"
elif [ $# -ne 0 ]; then
  echo "usage: stop-cluster.sh [--dir DIR]" >&2
  exit 2
fi
state="$dir/cluster.env"
if [ ! -f "$state" ]; then
  echo "stop-cluster: no cluster state in $state; nothing to stop" >&2
  exit 0
fi
# shellcheck disable=SC1090
. "$state"
groups=()
for i in $(seq 1 "$WORKERS"); do
  pid_var="WORKER_${i}_PID"
  [ -n "${!pid_var:-}" ] && groups+=("${!pid_var}")
done
groups+=("$MASTER_PID")

alive() { kill -0 -- "-$1" 2>/dev/null; }
for g in "${groups[@]}"; do
  if alive "$g"; then kill -TERM -- "-$g" 2>/dev/null || true; fi
done
deadline=$((SECONDS + 10))
for g in "${groups[@]}"; do
  while alive "$g" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
  if alive "$g"; then kill -KILL -- "-$g" 2>/dev/null || true; fi
done
rm -f "$state"
echo "stop-cluster: stopped master $MASTER_URL and $WORKERS workers" >&2
