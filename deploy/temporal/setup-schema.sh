#!/bin/sh
# One-shot (temporalio/admin-tools): creates Temporal's two databases on the PostgreSQL server and
# brings their schemas up to date. Safe to run again: existing databases are kept, and
# update-schema only applies what is missing.
set -eu
: "${POSTGRES_SEEDS:?POSTGRES_SEEDS is required}"
: "${POSTGRES_USER:?POSTGRES_USER is required}"
: "${SQL_PASSWORD:?SQL_PASSWORD is required}"
port="${DB_PORT:-5432}"
schema=/etc/temporal/schema/postgresql/v12
sql() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -u "$POSTGRES_USER" -p "$port" "$@"; }
for db in temporal temporal_visibility; do
  sql --db "$db" create || echo "database $db exists"
done
sql --db temporal setup-schema -v 0.0 || echo "temporal schema exists"
sql --db temporal update-schema -d "$schema/temporal/versioned"
sql --db temporal_visibility setup-schema -v 0.0 || echo "visibility schema exists"
sql --db temporal_visibility update-schema -d "$schema/visibility/versioned"
echo "Temporal's schemas are up to date"
