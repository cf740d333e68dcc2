#!/usr/bin/env bash
# Makes sure PostgreSQL can load mysql_fdw, the comparison of the combined-tables benchmark
# (bench/combined.ts). Idempotent: it installs Debian's postgresql-<major>-mysql-fdw for the
# installed PostgreSQL major only when it is missing, then checks that CREATE EXTENSION works (in a
# throw-away transaction, so the test database is left as it was). Needs root for apt-get.
#   BRAID_BENCH_POSTGRES_URL (else BRAID_TEST_POSTGRES_URL, else postgres://postgres@127.0.0.1:5432/test)
set -euo pipefail

PG_URL=${BRAID_BENCH_POSTGRES_URL:-${BRAID_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}}

log() { echo "[mysql-fdw] $*" >&2; }

major=$(ls /etc/postgresql | sort -n | tail -1)
if [ -z "$major" ]; then
  echo "[mysql-fdw] no PostgreSQL under /etc/postgresql" >&2
  exit 1
fi
package="postgresql-$major-mysql-fdw"

if [ ! -f "/usr/share/postgresql/$major/extension/mysql_fdw.control" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "[mysql-fdw] $package is not installed and installing it needs root" >&2
    exit 1
  fi
  log "installing $package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "$package" >/dev/null 2>&1 || {
    apt-get update -q >/dev/null
    apt-get install -y -q "$package" >/dev/null
  }
fi

# The extension lives in the transaction only: a database with it left behind is not our business.
psql -X -q -v ON_ERROR_STOP=1 "$PG_URL" >/dev/null <<'SQL'
begin;
create extension if not exists mysql_fdw;
select mysql_fdw_version();
rollback;
SQL
log "$package $(dpkg-query -W -f='${Version}' "$package") ready (CREATE EXTENSION mysql_fdw works)"
