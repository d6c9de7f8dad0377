#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised (docker-entrypoint-initdb.d).
# Creates Tally's three read-only logins, each with its password, before the migrations run
# (migrations 0001, 0006 and 0008 keep an existing role and grant it SELECT):
#   tally_reader  built-in plans, chat reports, the dashboard, data alerts  TALLY_READER_PASSWORD
#   tally_ops     the admins' /analytics, /metrics, /health                 TALLY_OPS_PASSWORD
#   tally_llm     SQL written by a language model (videos only)             TALLY_LLM_PASSWORD
# See docs/security.md for what each may read.
set -eu
: "${TALLY_READER_PASSWORD:?set TALLY_READER_PASSWORD in .env}"
: "${TALLY_OPS_PASSWORD:?set TALLY_OPS_PASSWORD in .env}"
: "${TALLY_LLM_PASSWORD:?set TALLY_LLM_PASSWORD in .env}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v reader_password="$TALLY_READER_PASSWORD" \
  -v ops_password="$TALLY_OPS_PASSWORD" \
  -v llm_password="$TALLY_LLM_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L',
              role, password)
FROM (VALUES ('tally_reader', :'reader_password'),
             ('tally_ops', :'ops_password'),
             ('tally_llm', :'llm_password')) AS logins (role, password)
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role)
\gexec
ALTER ROLE tally_llm SET default_transaction_read_only = on;
SQL
