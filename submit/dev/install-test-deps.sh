#!/usr/bin/env bash
# Installs what the tests need beyond Java and Maven, from Debian's packages:
#   - the PostgreSQL server binaries ("postgresql"): the JDBC tests start their own server on
#     loopback (src/test/java/io/bottleneck/testing/PostgresServer.java);
#   - Chromium ("chromium"): the report tests render report/index.html headless
#     (src/test/java/io/bottleneck/testing/HeadlessChromium.java);
#   - Jupyter with pandas and matplotlib ("jupyter-nbconvert", "python3-nbclient",
#     "python3-ipykernel", "python3-pandas", "python3-matplotlib"): the tests execute notebooks/.
# Idempotent: installs only what is missing. Non-interactive; needs root (or sudo) to install.
set -euo pipefail
"$(dirname "$0")/install-node-deps.sh"  # onnxruntime-node for ExportNodeTest (src/test/node), from the npm registry

have_postgres() {
  local bin
  for bin in /usr/lib/postgresql/*/bin; do
    [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ] && return 0
  done
  command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1
}

have_chromium() {
  [ -x /usr/bin/chromium ]
}

have_notebook_tools() {
  [ -x /usr/bin/jupyter ] && [ -x /usr/bin/python3 ] \
    && /usr/bin/python3 -c 'import nbconvert, nbclient, ipykernel, pandas, matplotlib, PIL' >/dev/null 2>&1
}

missing=()
have_postgres || missing+=(postgresql)
have_chromium || missing+=(chromium)
have_notebook_tools || missing+=(jupyter-nbconvert python3-nbclient python3-ipykernel python3-pandas python3-matplotlib python3-pil)

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-test-deps: PostgreSQL, Chromium and Jupyter (pandas, matplotlib) present" >&2
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: missing ${missing[*]} and no apt-get: install them another way" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-test-deps: installing ${missing[*]} needs root or sudo" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
echo "install-test-deps: installing the Debian packages ${missing[*]}" >&2
"${sudo[@]}" apt-get update -q
# postgresql's post-install creates a cluster and tries to start it; without systemd that is
# harmless, and the tests never use that cluster (they initdb their own under target/)
"${sudo[@]}" apt-get install -y -q "${missing[@]}"
have_postgres || { echo "install-test-deps: postgresql installed but initdb/pg_ctl not found" >&2; exit 1; }
have_chromium || { echo "install-test-deps: chromium installed but /usr/bin/chromium not found" >&2; exit 1; }
have_notebook_tools || { echo "install-test-deps: Jupyter packages installed but nbconvert/pandas/matplotlib not importable by /usr/bin/python3" >&2; exit 1; }
