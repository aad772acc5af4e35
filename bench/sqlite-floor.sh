#!/bin/bash
# sqlite-floor.sh — what SQLite alone costs for concord's row-per-transfer
# layout, with no concord code in the way: W1's shape (a million transfers in
# batches of 8,192, ids in order, each batch also updating 8,000 of 10,000
# account rows), written set-wise by SQLite's own generate_series, in WAL
# mode with synchronous=FULL and one durable commit per batch, as concord
# runs. The rate it prints is the floor of the layout on this machine: no
# ledger that writes a row per transfer into this table can beat it.
# Usage: bench/sqlite-floor.sh [batches]   (needs the sqlite3 shell)
set -euo pipefail
batches=${1:-122}
rows=8192
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
{
    echo "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-262144;"
    echo "CREATE TABLE accounts (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    echo " debits_posted INTEGER, credits_posted INTEGER, debits_pending INTEGER,"
    echo " credits_pending INTEGER, last INTEGER) STRICT;"
    echo "INSERT INTO accounts SELECT value, printf('acct-%06d', value), 0, 0, 0, 0, 0"
    echo " FROM generate_series(1, 10000);"
    # The columns of concord's transfers table (src/store/store_sqlite.c).
    echo "CREATE TABLE transfers (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    echo " debit INTEGER NOT NULL, credit INTEGER NOT NULL, amount INTEGER NOT NULL,"
    echo " effect_posted INTEGER NOT NULL, effect_pending INTEGER NOT NULL,"
    echo " flags INTEGER NOT NULL, state INTEGER NOT NULL, reason INTEGER NOT NULL,"
    echo " pending_id TEXT, kind TEXT, cond TEXT, memo TEXT, meta TEXT, expires INTEGER,"
    echo " date INTEGER NOT NULL, timestamp INTEGER NOT NULL,"
    echo " debit_prev INTEGER NOT NULL, credit_prev INTEGER NOT NULL) STRICT;"
    echo "SELECT 'start', julianday('now') * 86400.0;"
    for ((b = 0; b < batches; b++)); do
        lo=$((b * rows + 1))
        hi=$(((b + 1) * rows))
        echo "BEGIN;"
        echo "INSERT INTO transfers SELECT value, printf('W1-%09d', value),"
        echo " abs(random()) % 10000 + 1, abs(random()) % 10000 + 1, 1000, 1000, 0, 0, 1, 0,"
        echo " NULL, NULL, NULL, NULL, NULL, NULL, 1700000000, 1700000000, value - 1, value - 1"
        echo " FROM generate_series($lo, $hi);"
        echo "UPDATE accounts SET debits_posted = debits_posted + 1000, last = $hi"
        echo " WHERE seq IN (SELECT abs(random()) % 10000 + 1 FROM generate_series(1, 8000));"
        echo "COMMIT;"
    done
    echo "SELECT 'end', julianday('now') * 86400.0;"
} > "$dir/floor.sql"
sqlite3 "$dir/floor.db" < "$dir/floor.sql" | awk -F'|' -v n=$((batches * rows)) '
    $1 == "start" { t0 = $2 } $1 == "end" { t1 = $2 }
    END { printf "sqlite floor: %d transfers in %.3f s, %.0f transfers/s, %.2f us each\n",
          n, t1 - t0, n / (t1 - t0), (t1 - t0) * 1e6 / n }'
