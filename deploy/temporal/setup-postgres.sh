#!/bin/sh
# Creates (first run) or upgrades (later runs) Temporal's two PostgreSQL databases.
# Runs in temporalio/admin-tools; SQL_PASSWORD comes from the environment, never from here.
set -eu
tool() { temporal-sql-tool --plugin postgres12 --ep temporal-db -p 5432 -u temporal "$@"; }
schema=/etc/temporal/schema/postgresql/v12

until nc -z temporal-db 5432; do echo "waiting for temporal-db"; sleep 1; done
for db in temporal temporal_visibility; do
  dir=temporal
  [ "$db" = temporal_visibility ] && dir=visibility
  tool --db "$db" create || echo "database $db exists"
  # setup-schema -v 0.0 only creates the version table; it is refused once the schema exists.
  tool --db "$db" setup-schema -v 0.0 || echo "schema of $db already set up"
  tool --db "$db" update-schema -d "$schema/$dir/versioned"
done
echo "temporal schema ready"
