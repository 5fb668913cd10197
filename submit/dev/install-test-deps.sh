#!/usr/bin/env bash
# Installs what the tests need beyond Java and Maven: the PostgreSQL server binaries (Debian
# package "postgresql"), used by the tests that start their own server on loopback
# (src/test/java/io/bottleneck/testing/PostgresServer.java). Idempotent: installs nothing when
# initdb and pg_ctl are already there. Non-interactive; needs root (or sudo) to install.
set -euo pipefail

have_postgres() {
  local bin
  for bin in /usr/lib/postgresql/*/bin; do
    [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ] && return 0
  done
  command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1
}

if have_postgres; then
  echo "install-test-deps: PostgreSQL server binaries present" >&2
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: no PostgreSQL server binaries and no apt-get: install PostgreSQL (initdb, pg_ctl) another way" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-test-deps: installing PostgreSQL needs root or sudo" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
echo "install-test-deps: installing the Debian package postgresql" >&2
"${sudo[@]}" apt-get update -q
# the package's post-install creates a cluster and tries to start it; without systemd that is
# harmless, and the tests never use that cluster (they initdb their own under target/)
"${sudo[@]}" apt-get install -y -q --no-install-recommends postgresql
have_postgres || { echo "install-test-deps: postgresql installed but initdb/pg_ctl not found" >&2; exit 1; }
