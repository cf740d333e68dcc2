#!/usr/bin/env bash
# Makes sure the test servers are up and configured as Braid's tests need them. Idempotent: it
# changes and restarts a server only when a setting differs. Needs root (it edits server configs).
#   PostgreSQL: wal_level=logical (change capture), TLS on (self-signed), probe roles for the
#               connection-error tests (one with a password, one that must use TLS).
#   MariaDB:    row binlog with full images (change capture), TLS on, LOAD DATA LOCAL, probe users.
#   Redis:      running.
set -euo pipefail

PG_HOST=127.0.0.1
TLS_DIR=/etc/braid-test-tls
PROBE_PASSWORD='braid-probe-pw'

log() { echo "[services] $*"; }

wait_for() { # name, command...
  local name=$1; shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  echo "[services] $name did not come up" >&2
  return 1
}

ensure_tls_material() {
  if [ ! -f "$TLS_DIR/server.key" ]; then
    log "creating a self-signed certificate for the test servers"
    mkdir -p "$TLS_DIR"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=127.0.0.1" \
      -keyout "$TLS_DIR/server.key" -out "$TLS_DIR/server.crt" >/dev/null 2>&1
  fi
  mkdir -p "$TLS_DIR/pg" "$TLS_DIR/mysql"
  cp -f "$TLS_DIR/server.key" "$TLS_DIR/server.crt" "$TLS_DIR/pg/"
  cp -f "$TLS_DIR/server.key" "$TLS_DIR/server.crt" "$TLS_DIR/mysql/"
  chown -R postgres:postgres "$TLS_DIR/pg"; chmod 600 "$TLS_DIR/pg/server.key"
  chown -R mysql:mysql "$TLS_DIR/mysql"; chmod 600 "$TLS_DIR/mysql/server.key"
}

# ---------------------------------------------------------------- PostgreSQL
pg_running() { pg_isready -h "$PG_HOST" -p 5432 -q; }
pg_sql() { psql -h "$PG_HOST" -U postgres -d postgres -Atqc "$1"; }
pg_start() { pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true; }
pg_restart() { pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main restart; }

ensure_postgres() {
  pg_running || { log "starting PostgreSQL"; pg_start; }
  wait_for PostgreSQL pg_running
  local version hba restart=0
  version=$(ls /etc/postgresql)
  hba=/etc/postgresql/$version/main/pg_hba.conf

  if [ "$(pg_sql 'show wal_level')" != "logical" ]; then
    pg_sql "alter system set wal_level = logical"; restart=1
  fi
  # Every sync and every parallel test file holds its own slot and walsender; the default 10 runs out.
  if [ "$(pg_sql 'show max_replication_slots')" -lt 32 ]; then
    pg_sql "alter system set max_replication_slots = 32"; restart=1
  fi
  if [ "$(pg_sql 'show max_wal_senders')" -lt 32 ]; then
    pg_sql "alter system set max_wal_senders = 32"; restart=1
  fi
  if [ "$(pg_sql 'show ssl')" != "on" ]; then
    pg_sql "alter system set ssl_cert_file = '$TLS_DIR/pg/server.crt'"
    pg_sql "alter system set ssl_key_file = '$TLS_DIR/pg/server.key'"
    pg_sql "alter system set ssl = on"
  fi
  if ! grep -q 'braid-test-probes' "$hba"; then
    log "adding probe roles to pg_hba.conf"
    local tmp; tmp=$(mktemp)
    {
      echo "# braid-test-probes: connection-error tests need a role with a password and one that must use TLS"
      echo "host all braid_pw_probe 127.0.0.1/32 scram-sha-256"
      echo "hostnossl all braid_tls_probe 127.0.0.1/32 reject"
      cat "$hba"
    } >"$tmp"
    cat "$tmp" >"$hba"; rm -f "$tmp"
  fi
  if [ $restart = 1 ]; then
    log "restarting PostgreSQL for wal_level / replication slot settings"; pg_restart
  else
    pg_sql "select pg_reload_conf()" >/dev/null
  fi
  wait_for PostgreSQL pg_running
  pg_sql "do \$\$ begin
    if not exists (select from pg_roles where rolname = 'braid_pw_probe') then
      create role braid_pw_probe login password '$PROBE_PASSWORD'; end if;
    if not exists (select from pg_roles where rolname = 'braid_tls_probe') then
      create role braid_tls_probe login; end if; end \$\$" >/dev/null
  pg_sql "select 1 from pg_database where datname = 'test'" | grep -q 1 || pg_sql "create database test"
  log "PostgreSQL ready (wal_level=$(pg_sql 'show wal_level'), ssl=$(pg_sql 'show ssl'))"
}

# ---------------------------------------------------------------- MariaDB
my_running() { mysqladmin -h 127.0.0.1 -uroot ping; }
my_sql() { mysql -h 127.0.0.1 -uroot -Nse "$1"; }
my_start() { start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd; }

ensure_mariadb() {
  my_running >/dev/null 2>&1 || { log "starting MariaDB"; my_start; }
  wait_for MariaDB my_running
  local cnf=/etc/mysql/my.cnf
  if ! grep -q 'braid-test-settings' "$cnf"; then
    log "configuring MariaDB: row binlog, TLS, local infile"
    cat >>"$cnf" <<CNF

# braid-test-settings: change capture reads the row binlog; tests use TLS and LOAD DATA LOCAL
[mariadbd]
server_id = 1
log_bin = /var/lib/mysql/mariadb-bin
binlog_format = ROW
binlog_row_image = FULL
binlog_row_metadata = FULL
expire_logs_days = 2
local_infile = 1
ssl_cert = $TLS_DIR/mysql/server.crt
ssl_key = $TLS_DIR/mysql/server.key
CNF
  fi
  if [ "$(my_sql 'select @@log_bin')" != "1" ] || [ "$(my_sql 'select @@have_ssl')" != "YES" ]; then
    log "restarting MariaDB to apply its settings"
    start-stop-daemon --stop --oknodo --retry 30 --exec /usr/sbin/mariadbd
    my_start
    wait_for MariaDB my_running
  fi
  my_sql "create database if not exists test"
  my_sql "create user if not exists 'braid_pw_probe'@'%' identified by '$PROBE_PASSWORD'"
  my_sql "create user if not exists 'braid_tls_probe'@'%' require ssl"
  my_sql "grant all on test.* to 'braid_pw_probe'@'%', 'braid_tls_probe'@'%'"
  log "MariaDB ready (log_bin=$(my_sql 'select @@log_bin'), binlog_format=$(my_sql 'select @@binlog_format'), ssl=$(my_sql 'select @@have_ssl'))"
}

# ---------------------------------------------------------------- Redis
ensure_redis() {
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    log "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  fi
  wait_for Redis redis-cli -h 127.0.0.1 -p 6379 ping
  log "Redis ready"
}

ensure_tls_material
ensure_postgres
ensure_mariadb
ensure_redis
