#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised (docker-entrypoint-initdb.d).
# Creates the read-only login the executor and the dashboard use, with a password, before
# the migrations run: migration 0001 keeps an existing tally_reader role and grants it
# SELECT on the tables Tally lets questions read.
set -eu
: "${TALLY_READER_PASSWORD:?set TALLY_READER_PASSWORD in .env}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v reader_password="$TALLY_READER_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE tally_reader LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L',
              :'reader_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tally_reader')
\gexec
SQL
