#!/usr/bin/env bash
# Starts a Spark standalone cluster on this machine: one master and N workers on 127.0.0.1,
# from the project's own Spark jars (target/spark-jars; no Spark distribution needed), for a
# local demo of cluster runs and for the cluster tests.
#
#   submit/standalone/start-cluster.sh [--dir DIR] [--workers N] [--worker-cores C]
#       [--worker-memory M] [--port P] [--webui-port P]
#
# Defaults: --dir target/standalone, 2 workers of 2 cores (a cluster-mode driver takes one
# worker core, so executors of 1 core still land on both) and 3g each, free ports. Waits
# until every worker has registered, then prints the master URL and writes DIR/cluster.env:
#   MASTER_URL, MASTER_WEBUI, MASTER_PID, WORKERS, WORKER_<i>_PID, WORKER_<i>_DIR
# Each daemon runs in its own process group (its executors and drivers are in it too), so
# stop-cluster.sh and the fault tests can end a worker with everything it launched.
# Logs: DIR/logs/; executor and driver output: DIR/worker-<i>/work/.
set -euo pipefail

# shellcheck source=../lib/spark.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/spark.sh"

dir="$bottleneck_root/target/standalone"
workers=2
worker_cores=2
worker_memory=3g
port=""
webui_port=""
usage() { sed -n '7,8p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || usage
  case "$1" in
    --dir) dir="$2" ;;
    --workers) workers="$2" ;;
    --worker-cores) worker_cores="$2" ;;
    --worker-memory) worker_memory="$2" ;;
    --port) port="$2" ;;
    --webui-port) webui_port="$2" ;;
    *) echo "start-cluster: unknown option $1" >&2; usage ;;
  esac
  shift 2
done
[[ "$workers" =~ ^[1-9][0-9]*$ ]] || { echo "start-cluster: --workers must be a positive number, not $workers" >&2; exit 2; }

mkdir -p "$dir/logs"
dir="$(cd "$dir" && pwd)"
state="$dir/cluster.env"
if [ -f "$state" ]; then
  # shellcheck disable=SC1090
  . "$state"
  if kill -0 "$MASTER_PID" 2>/dev/null; then
    echo "start-cluster: a cluster from $state is running (master pid $MASTER_PID); stop it first: submit/standalone/stop-cluster.sh --dir $dir" >&2
    exit 1
  fi
  rm -f "$state"
fi

# A port nothing listens on now (probed by connecting); Spark fails clearly if one is taken
# between the probe and its start.
free_port() {
  local p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
  echo "start-cluster: no free port found" >&2
  exit 1
}
port="${port:-$(free_port)}"
webui_port="${webui_port:-$(free_port)}"

SPARK_HOME="$(bottleneck_spark_home)"
export SPARK_HOME SPARK_SCALA_VERSION=2.12 SPARK_LOCAL_IP=127.0.0.1
# Executors and cluster-mode drivers are started by the workers from SPARK_HOME with this java.
export JAVA_HOME="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}"
daemon_cp="$SPARK_HOME/conf/:$SPARK_HOME/jars/*"
master_url="spark://127.0.0.1:$port"
webui="http://127.0.0.1:$webui_port"

# Starts a daemon in a process group of its own and prints its pid (= the group id).
start_daemon() {
  local log="$1"
  shift
  setsid "$bottleneck_java" "${bottleneck_java_opens[@]}" -Xmx512m -cp "$daemon_cp" "$@" >"$log" 2>&1 </dev/null &
  echo $!
}

master_pid="$(start_daemon "$dir/logs/master.log" org.apache.spark.deploy.master.Master \
  --host 127.0.0.1 --port "$port" --webui-port "$webui_port")"
{
  echo "MASTER_URL=$master_url"
  echo "MASTER_WEBUI=$webui"
  echo "MASTER_PID=$master_pid"
  echo "WORKERS=$workers"
} >"$state"
for i in $(seq 1 "$workers"); do
  mkdir -p "$dir/worker-$i/work"
  pid="$(start_daemon "$dir/logs/worker-$i.log" org.apache.spark.deploy.worker.Worker \
    --host 127.0.0.1 --webui-port 0 --cores "$worker_cores" --memory "$worker_memory" \
    --work-dir "$dir/worker-$i/work" "$master_url")"
  echo "WORKER_${i}_PID=$pid" >>"$state"
  echo "WORKER_${i}_DIR=$dir/worker-$i/work" >>"$state"
done

# Registered workers, from the master's status JSON; empty until its web UI answers.
alive_workers() {
  curl -sf --max-time 2 "$webui/json/" 2>/dev/null | tr -d ' \n' | grep -o '"aliveworkers":[0-9]*' | cut -d: -f2 || true
}
deadline=$((SECONDS + ${BOTTLENECK_CLUSTER_START_TIMEOUT:-90}))
while [ "$(alive_workers)" != "$workers" ]; do
  # shellcheck disable=SC1090
  . "$state"
  for i in $(seq 1 "$workers"); do
    pid_var="WORKER_${i}_PID"
    for p in "$MASTER_PID" "${!pid_var}"; do
      if ! kill -0 "$p" 2>/dev/null; then
        echo "start-cluster: a daemon (pid $p) exited during start; logs in $dir/logs:" >&2
        tail -n 20 "$dir"/logs/*.log >&2
        "$(dirname "${BASH_SOURCE[0]}")/stop-cluster.sh" --dir "$dir" >&2 || true
        exit 1
      fi
    done
  done
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "start-cluster: $workers workers did not register with $master_url in time (alive: $(alive_workers)); logs in $dir/logs" >&2
    "$(dirname "${BASH_SOURCE[0]}")/stop-cluster.sh" --dir "$dir" >&2 || true
    exit 1
  fi
  sleep 0.5
done
echo "start-cluster: master $master_url (web UI $webui) with $workers workers of $worker_cores cores and $worker_memory; state in $state" >&2
echo "$master_url"
