#!/usr/bin/env python3
"""Integration tests of the concord command line against the contract.

Each test runs the real binary (argv[1]) on a fresh database in a temporary
directory and checks what a user or another program relies on: JSON shapes,
statuses, exit codes (0 ok, 1 rejected or not found, 2 usage or malformed
input, 3 storage), and that malformed input commits nothing.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
from datetime import datetime, timedelta, timezone

CONCORD = None


def ops(*items):
    return "".join(json.dumps(i) + "\n" for i in items)


SETUP = [
    {"op": "unit", "code": "USD", "scale": 2, "name": "US dollar"},
    {"op": "unit", "code": "PERSON", "scale": 0},
    {"op": "account", "id": "fund.pool", "unit": "USD", "name": "Pooled fund", "owner": "fund",
     "flags": ["debits_must_not_exceed_credits"]},
    {"op": "account", "id": "donor.us", "unit": "USD", "owner": "us"},
    {"op": "account", "id": "donor.eg", "unit": "USD"},
    {"op": "account", "id": "force.salaries", "unit": "USD"},
    {"op": "account", "id": "force.pledged", "unit": "PERSON"},
    {"op": "account", "id": "nation.eg", "unit": "PERSON"},
]


class Cli(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.db = os.path.join(self.dir.name, "test.db")

    def tearDown(self):
        self.dir.cleanup()

    def run_cc(self, *args, input=None, env=None, db=True, preexec_fn=None):
        cmd = [CONCORD] + (["--db", self.db] if db else []) + list(args)
        return subprocess.run(cmd, input=input, capture_output=True, text=True, env=env,
                              timeout=120, preexec_fn=preexec_fn)

    def read_only(self, directory_too):
        """Makes the database read-only for the process run_cc(preexec_fn=...) starts.

        Root ignores file modes, so as root the command runs as nobody (uid 65534)
        on root's files; otherwise it runs as this user on files made read-only.
        The directory stays writable (for SQLite's -shm and -wal) unless
        directory_too. Returns the preexec_fn to pass to run_cc.
        """
        os.chmod(self.db, 0o444)
        if os.geteuid() != 0:
            os.chmod(self.dir.name, 0o555 if directory_too else 0o755)
            self.addCleanup(os.chmod, self.dir.name, 0o755)
            return None
        os.chmod(self.dir.name, 0o555 if directory_too else 0o755)
        if not directory_too:
            os.chown(self.dir.name, 65534, -1)

        def as_nobody():
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
        return as_nobody

    def ok(self, *args, input=None):
        r = self.run_cc(*args, input=input)
        self.assertEqual(r.returncode, 0, f"{args}: {r.stderr}")
        return r

    def apply(self, *items, expect=0):
        r = self.run_cc("apply", input=ops(*items))
        self.assertEqual(r.returncode, expect, r.stderr + r.stdout)
        return [json.loads(line) for line in r.stdout.splitlines()]

    def apply_text(self, text, expect=0):
        r = self.run_cc("apply", input=text)
        self.assertEqual(r.returncode, expect, r.stderr + r.stdout)
        return [json.loads(line) for line in r.stdout.splitlines()]

    def init(self, setup=True):
        self.ok("init")
        if setup:
            results = self.apply(*SETUP)
            self.assertTrue(all(r["status"] == "created" for r in results), results)

    def show(self, kind, ident):
        return json.loads(self.ok(kind, "show", ident, "--json").stdout)

    # ------------------------------------------------------------ init

    def test_init_creates_and_is_idempotent(self):
        self.ok("init")
        self.assertTrue(os.path.exists(self.db))
        self.ok("init")

    def test_init_refuses_foreign_file(self):
        with open(self.db, "wb") as f:
            f.write(b"this is somebody's spreadsheet\n" * 100)
        with open(self.db, "rb") as f:
            before = f.read()
        r = self.run_cc("init")
        self.assertEqual(r.returncode, 3)
        self.assertIn("not a concord database", r.stderr)
        with open(self.db, "rb") as f:
            self.assertEqual(f.read(), before)

    def test_init_refuses_other_sqlite_database(self):
        import sqlite3
        con = sqlite3.connect(self.db)
        con.execute("CREATE TABLE people (name TEXT)")
        con.commit()
        con.close()
        r = self.run_cc("init")
        self.assertEqual(r.returncode, 3)
        self.assertIn("not a concord database", r.stderr)

    def test_missing_database_is_a_storage_error(self):
        r = self.run_cc("account", "show", "x", "--json")
        self.assertEqual(r.returncode, 3)
        self.assertIn("concord init", r.stderr)

    def test_a_writer_kept_waiting_is_told_why_and_records_nothing(self):
        # Another process holds the write lock past the wait (as a long import does).
        import sqlite3
        import time
        self.init()
        # Whole seconds, at least 2 s ahead: the command must commit before it (a loaded
        # machine under ASan takes a second to start), and p is due once they pass.
        expires_at = int(time.time()) + 3
        soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires_at))
        self.apply({"op": "transfer", "id": "p", "debit": "donor.us", "credit": "fund.pool",
                    "amount": 5, "pending": True, "expires": soon})
        # p is due to expire: a read would record that first.
        time.sleep(max(0.0, expires_at - time.time()) + 0.5)
        holder = sqlite3.connect(self.db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            cmd = [CONCORD, "--db", self.db]
            writer = subprocess.Popen(cmd + ["apply"], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            reader = subprocess.Popen(cmd + ["transfer", "show", "p", "--json"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            out, err = writer.communicate(ops({"op": "unit", "code": "XAF", "scale": 0}),
                                          timeout=120)
            read_out, read_err = reader.communicate(timeout=120)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        self.assertEqual(writer.returncode, 3, out)
        self.assertIn("another writer (an import, a batch, the server) has held the database "
                      "for more than 10 s: nothing was recorded; try again", err)
        # A read still answers, saying that what it shows may be stale, in a reader's words.
        self.assertEqual(reader.returncode, 0, read_err)
        self.assertEqual(json.loads(read_out)["state"], "pending")
        self.assertIn("another writer holds the database: the expiries due are not recorded "
                      "yet; states shown may be stale", read_err)
        self.assertNotIn("try again", read_err)
        self.assertEqual(self.show("transfer", "p")["state"], "expired")
        units = [u["code"] for u in json.loads(self.ok("unit", "list", "--json").stdout)]
        self.assertNotIn("XAF", units)
        self.assertIn("USD", units)

    def test_database_from_environment(self):
        env = dict(os.environ, CONCORD_DB=self.db)
        r = subprocess.run([CONCORD, "init"], env=env, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.exists(self.db))

    def test_reads_go_on_when_due_expiries_cannot_be_recorded(self):
        # Reads record due expiries first, which writes; on a database this user
        # may only read, that used to make every read fail.
        self.init()
        expires = (datetime.now(timezone.utc) + timedelta(seconds=1)).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ")
        self.apply({"op": "transfer", "id": "p", "debit": "donor.us", "credit": "donor.eg",
                    "amount": 50, "pending": True, "expires": expires})
        time.sleep(1.5)
        reader = self.read_only(directory_too=False)
        r = self.run_cc("transfer", "show", "p", "--json", preexec_fn=reader)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["state"], "pending")  # stale, and said so
        self.assertIn("could not record due expiries", r.stderr)
        self.assertIn("states shown may be stale", r.stderr)
        r = self.run_cc("balance", "donor.eg", "--json", preexec_fn=reader)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)[0]["credits_pending"], 50)

    def test_open_failures_say_what_they_are(self):
        self.init()
        # A read-only directory prevents SQLite's WAL files: that is no foreign file.
        reader = self.read_only(directory_too=True)
        r = self.run_cc("account", "show", "donor.us", preexec_fn=reader)
        self.assertEqual(r.returncode, 3)
        self.assertIn("cannot open " + self.db, r.stderr)
        self.assertNotIn("not a concord database", r.stderr)
        os.chmod(self.dir.name, 0o755)
        # A damaged file is named as damaged.
        damaged = os.path.join(self.dir.name, "damaged.db")
        with open(self.db, "rb") as f:
            data = bytearray(f.read())
        data[100:3000] = b"\xff" * 2900  # page 1 past the header: the schema
        with open(damaged, "wb") as f:
            f.write(data)
        r = subprocess.run([CONCORD, "--db", damaged, "account", "show", "donor.us"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 3)
        self.assertIn("database is damaged", r.stderr)

    def test_read_errors_are_errors(self):
        # A failure reading an account's row or its unit used to read as "no account"
        # or as scale 0 (amounts a hundred times too large for USD).
        import sqlite3
        self.init()
        self.apply({"op": "transfer", "id": "t", "debit": "donor.us", "credit": "donor.eg",
                    "amount": 150})
        damaged = os.path.join(self.dir.name, "damaged.db")
        con = sqlite3.connect(self.db)
        con.execute("VACUUM INTO ?", (damaged,))
        con.close()
        con = sqlite3.connect(damaged)
        root = con.execute("SELECT rootpage FROM sqlite_master"
                           " WHERE name = 'sqlite_autoindex_accounts_1'").fetchone()[0]
        page = con.execute("PRAGMA page_size").fetchone()[0]
        con.close()
        with open(damaged, "r+b") as f:  # the index that finds accounts by id
            f.seek((root - 1) * page)
            f.write(b"\xa5" * page)
        r = subprocess.run([CONCORD, "--db", damaged, "history", "donor.us"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("damaged", r.stderr)
        self.assertNotIn("no account", r.stderr)
        con = sqlite3.connect(self.db)
        con.execute("DELETE FROM units WHERE code = 'USD'")
        con.commit()
        con.close()
        for args in (["balance", "donor.us"], ["account", "show", "donor.us"],
                     ["transfer", "show", "t"], ["history", "donor.us"]):
            r = self.run_cc(*args)
            self.assertEqual(r.returncode, 3, (args, r.stdout, r.stderr))
            self.assertIn("USD", r.stderr, args)
            self.assertNotIn("150", r.stdout, args)

    # ------------------------------------------------------------ apply

    def test_results_shape_and_statuses(self):
        self.init()
        res = self.apply(
            {"op": "transfer", "id": "t-1", "debit": "donor.us", "credit": "fund.pool",
             "amount": 1000},
            {"op": "transfer", "id": "t-2", "debit": "fund.pool", "credit": "force.salaries",
             "amount": 5000},
            expect=1)
        self.assertEqual(res[0]["index"], 0)
        self.assertEqual(res[0]["op"], "transfer")
        self.assertEqual(res[0]["id"], "t-1")
        self.assertEqual(res[0]["status"], "created")
        self.assertRegex(res[0]["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")
        self.assertEqual(res[1], {"index": 1, "op": "transfer", "id": "t-2",
                                  "status": "exceeds_credits"})

    def test_every_rejection_status_reachable_from_cli(self):
        self.init()
        big = 2**63 - 1
        res = self.apply(
            {"op": "account", "id": "x.1", "unit": "EUR"},                                   # 0
            {"op": "transfer", "id": "a", "debit": "nope", "credit": "fund.pool", "amount": 1},
            {"op": "transfer", "id": "b", "debit": "donor.us", "credit": "nope", "amount": 1},
            {"op": "transfer", "id": "c", "debit": "donor.us", "credit": "donor.us", "amount": 1},
            {"op": "transfer", "id": "d", "debit": "donor.us", "credit": "nation.eg", "amount": 1},
            {"op": "transfer", "id": "e", "debit": "donor.us", "credit": "fund.pool", "amount": 0},
            {"op": "transfer", "id": "f", "debit": "donor.us", "credit": "donor.eg", "amount": big},
            {"op": "transfer", "id": "g", "debit": "donor.us", "credit": "donor.eg", "amount": 1},
            {"op": "post", "id": "h", "pending_id": "missing"},
            {"op": "post", "id": "i", "pending_id": "f"},
            {"op": "transfer", "id": "j", "debit": "donor.us", "credit": "fund.pool", "amount": 1,
             "if": "two_state"},
            {"op": "transfer", "id": "k", "debit": "donor.us", "credit": "fund.pool", "amount": 1,
             "pending": True, "if": "two_state"},
            {"op": "transfer", "id": "f", "debit": "donor.us", "credit": "donor.eg", "amount": 2},
            {"op": "transfer", "id": "f", "debit": "donor.us", "credit": "donor.eg", "amount": big},
            expect=1)
        statuses = [r["status"] for r in res]
        self.assertEqual(statuses, [
            "unit_not_found", "debit_account_not_found", "credit_account_not_found",
            "accounts_must_be_different", "accounts_must_have_the_same_unit",
            "amount_must_not_be_zero", "created", "overflows", "pending_transfer_not_found",
            "pending_transfer_not_pending", "condition_requires_pending", "condition_not_found",
            "exists_with_different_fields", "exists"])

    def test_pending_post_void_partial(self):
        self.init()
        res = self.apply(
            {"op": "transfer", "id": "c", "debit": "donor.eg", "credit": "fund.pool",
             "amount": 100000},
            {"op": "transfer", "id": "p1", "debit": "donor.us", "credit": "fund.pool",
             "amount": 5000, "pending": True, "kind": "pledge"},
            {"op": "transfer", "id": "p2", "debit": "donor.us", "credit": "fund.pool",
             "amount": 700, "pending": True},
            {"op": "post", "id": "p1.post", "pending_id": "p1", "amount": 3000},
            {"op": "void", "id": "p2.void", "pending_id": "p2"},
            {"op": "post", "id": "p1.again", "pending_id": "p1"},
            {"op": "void", "id": "p2.again", "pending_id": "p2"},
            {"op": "transfer", "id": "p3", "debit": "donor.us", "credit": "fund.pool",
             "amount": 10, "pending": True},
            {"op": "post", "id": "p3.post", "pending_id": "p3", "amount": 11},
            expect=1)
        self.assertEqual([r["status"] for r in res],
                         ["created"] * 5 + ["pending_transfer_already_posted",
                                            "pending_transfer_already_voided", "created",
                                            "exceeds_pending_transfer_amount"])
        pool = self.show("account", "fund.pool")
        self.assertEqual(pool["credits_posted"], 103000)
        self.assertEqual(pool["credits_pending"], 10)
        p1 = self.show("transfer", "p1")
        self.assertEqual(p1["state"], "posted")
        self.assertEqual(p1["pending"], True)
        self.assertEqual(p1["kind"], "pledge")
        self.assertEqual(p1["unit"], "USD")
        rec = self.show("transfer", "p1.post")
        self.assertEqual((rec["pending_id"], rec["reason"], rec["amount"]), ("p1", "post", 3000))
        self.assertEqual(self.show("transfer", "p2")["state"], "voided")
        self.assertEqual(self.show("transfer", "p2.void")["reason"], "void")
        self.assertEqual(self.show("transfer", "p3")["state"], "pending")

    def test_expiry(self):
        self.init()
        expires = (datetime.now(timezone.utc) + timedelta(seconds=2)).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ")
        self.apply({"op": "transfer", "id": "p", "debit": "donor.us", "credit": "donor.eg",
                    "amount": 50, "pending": True, "expires": expires})
        self.assertEqual(self.show("account", "donor.eg")["credits_pending"], 50)
        time.sleep(2.5)
        t = self.show("transfer", "p")
        self.assertEqual(t["state"], "expired")
        rec = self.show("transfer", "p/expiry")
        self.assertEqual((rec["reason"], rec["pending_id"], rec["state"]),
                         ("expiry", "p", "expired"))
        self.assertEqual(self.show("account", "donor.eg")["credits_pending"], 0)
        res = self.apply({"op": "post", "id": "late", "pending_id": "p"}, expect=1)
        self.assertEqual(res[0]["status"], "pending_transfer_expired")
        res = self.apply({"op": "transfer", "id": "q", "debit": "donor.us", "credit": "donor.eg",
                          "amount": 5, "pending": True, "expires": "2001-01-01"}, expect=1)
        self.assertEqual(res[0]["status"], "invalid")

    def test_linked_chains(self):
        self.init()
        res = self.apply(
            {"op": "transfer", "id": "l1", "debit": "donor.us", "credit": "donor.eg",
             "amount": 10, "linked": True},
            {"op": "transfer", "id": "l2", "debit": "fund.pool", "credit": "donor.eg",
             "amount": 10, "linked": True},
            {"op": "transfer", "id": "l3", "debit": "donor.us", "credit": "donor.eg",
             "amount": 10},
            {"op": "transfer", "id": "l1", "debit": "donor.us", "credit": "donor.eg",
             "amount": 10},
            {"op": "transfer", "id": "o1", "debit": "donor.us", "credit": "donor.eg",
             "amount": 1, "linked": True},
            {"op": "transfer", "id": "o2", "debit": "donor.us", "credit": "donor.eg",
             "amount": 1, "linked": True},
            expect=1)
        self.assertEqual([r["status"] for r in res],
                         ["linked_event_failed", "exceeds_credits", "linked_event_failed",
                          "created", "linked_event_failed", "linked_event_chain_open"])
        self.assertEqual(self.show("account", "donor.eg")["credits_posted"], 10)
        r = self.run_cc("transfer", "show", "o1", "--json")
        self.assertEqual(r.returncode, 1)

    def test_linked_unit_and_account(self):
        # An account and its first transfer as one chain: all or nothing.
        self.init()
        res = self.apply(
            {"op": "account", "id": "new.a", "unit": "USD", "linked": True},
            {"op": "transfer", "id": "first", "debit": "fund.pool", "credit": "new.a",
             "amount": 10},
            expect=1)
        self.assertEqual([r["status"] for r in res], ["linked_event_failed", "exceeds_credits"])
        self.assertEqual(self.run_cc("account", "show", "new.a").returncode, 1)
        res = self.apply(
            {"op": "unit", "code": "EUR", "scale": 2, "linked": True},
            {"op": "account", "id": "new.a", "unit": "EUR", "linked": True},
            {"op": "account", "id": "new.b", "unit": "EUR", "linked": True},
            {"op": "transfer", "id": "first", "debit": "new.b", "credit": "new.a",
             "amount": 10})
        self.assertEqual([r["status"] for r in res], ["created"] * 4)
        self.assertEqual(self.show("account", "new.a")["credits_posted"], 10)
        res = self.apply({"op": "account", "id": "new.c", "unit": "EUR", "linked": "yes"},
                         expect=1)
        self.assertIn("linked", res[0]["message"])

    def test_malformed_line_commits_nothing(self):
        self.init()
        text = ops({"op": "transfer", "id": "t-1", "debit": "donor.us", "credit": "donor.eg",
                    "amount": 5}) + '{"op":"transfer", "id": \n'
        r = self.run_cc("apply", input=text)
        self.assertEqual(r.returncode, 2)
        self.assertIn(":2:", r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertEqual(self.run_cc("transfer", "show", "t-1").returncode, 1)

    def test_bad_utf8_is_malformed(self):
        self.init()
        raw = b'{"op":"unit","code":"EUR","scale":2,"name":"\xff\xfe"}\n'
        r = subprocess.run([CONCORD, "--db", self.db, "apply"], input=raw, capture_output=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"stdin:1", r.stderr)

    def test_duplicate_keys_are_malformed(self):
        self.init()
        r = self.run_cc("apply", input='{"op":"unit","code":"EUR","code":"GBP","scale":2}\n')
        self.assertEqual(r.returncode, 2)

    def test_invalid_operations_continue(self):
        self.init()
        res = self.apply(
            [1, 2],
            {"op": "teleport"},
            {"op": "transfer", "id": "x", "debit": "donor.us", "credit": "donor.eg",
             "amount": 99999999999999999999},
            {"op": "transfer", "id": "y", "debit": "donor.us", "credit": "donor.eg",
             "amount": -5},
            {"op": "transfer", "id": "z", "debit": "donor.us", "credit": "donor.eg",
             "amount": 1.5},
            {"op": "transfer", "id": "w", "debit": "donor.us", "credit": "donor.eg",
             "amount": 1, "colour": "red"},
            {"op": "transfer", "id": "has space", "debit": "donor.us", "credit": "donor.eg",
             "amount": 1},
            {"op": "transfer", "id": "v", "debit": "donor.us", "credit": "donor.eg",
             "amount": 1, "date": "2026-02-30"},
            {"op": "transfer", "id": "ok", "debit": "donor.us", "credit": "donor.eg",
             "amount": 1},
            expect=1)
        self.assertEqual([r["status"] for r in res], ["invalid"] * 8 + ["created"])
        for r in res[:8]:
            self.assertTrue(r.get("message"), r)
        self.assertIn("colour", res[5]["message"])
        self.assertIn("does not fit 64 bits", res[2]["message"])
        self.assertIn("date", res[7]["message"])

    def test_invalid_message_survives_truncation(self):
        # A long field name is cut to fit the message; cut inside a character, the
        # message used to vanish from the result.
        self.init()
        key = "\u00e9" * 200
        res = self.apply({"op": "unit", "code": "EUR", "scale": 2, key: 1}, expect=1)
        self.assertEqual(res[0]["status"], "invalid")
        self.assertIn("\u00e9" * 100, res[0]["message"])

    def test_numbers_beyond_64_bits_are_invalid_not_malformed(self):
        # A number jansson cannot hold used to make the whole line be re-read with
        # every integer as a real: meta changed silently and amount was blamed.
        self.init()
        lines = [
            {"op": "transfer", "id": "m1", "debit": "donor.us", "credit": "donor.eg",
             "amount": 1, "meta": {"n": 99999999999999999999}},
            {"op": "transfer", "id": "m2", "debit": "donor.us", "credit": "donor.eg",
             "amount": 1, "meta": {"x": 1, "r": float("inf")}},
            {"op": "transfer", "id": "m3", "debit": "donor.us", "credit": "donor.eg",
             "amount": -99999999999999999999, "linked": True},
            {"op": "transfer", "id": "m4", "debit": "donor.us", "credit": "donor.eg",
             "amount": 2, "meta": {"small": 1e-400, "n": [1, 2]}},
        ]
        text = "".join(json.dumps(i) + "\n" for i in lines).replace("Infinity", "1e400")
        r = self.run_cc("apply", input=text)
        self.assertEqual(r.returncode, 1, r.stderr)
        res = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual([x["status"] for x in res], ["invalid", "invalid", "invalid", "created"])
        for i, number in enumerate(["99999999999999999999", "1e400", "-99999999999999999999"]):
            column = text.splitlines()[i].index(number) + 1
            self.assertEqual(res[i]["message"],
                             f"a number at column {column} does not fit 64 bits")
            self.assertEqual((res[i]["op"], res[i]["id"]), ("transfer", f"m{i + 1}"))
        # m3 was linked: its chain cannot be trusted, so m4 stands alone and holds.
        self.assertEqual(self.show("transfer", "m4")["meta"], {"small": 0.0, "n": [1, 2]})
        # Multi-byte characters before the number count once each, as jansson counts
        # (bytes would say 51).
        line = '{"op":"transfer","id":"m5","memo":"\u00e9\u00e9","amount":1e999}\n'
        res = self.apply_text(line, expect=1)
        self.assertEqual(res[0]["message"], "a number at column 49 does not fit 64 bits")
        # Anything else wrong on the line still makes the input malformed.
        r = self.run_cc("apply", input='{"op":"transfer","amount":99999999999999999999,}\n')
        self.assertEqual(r.returncode, 2)
        self.assertIn("stdin:1", r.stderr)
        r = self.run_cc("apply", input='[99999999999999999999 1]\n')
        self.assertEqual(r.returncode, 2)

    def test_json_scalars_and_nul_are_invalid_operations(self):
        self.init()
        r = self.run_cc("apply", input='42\n"x"\ntrue\nnull\n')
        self.assertEqual(r.returncode, 1, r.stderr)
        res = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual([x["status"] for x in res], ["invalid"] * 4)
        for x in res:
            self.assertEqual(x["message"], "an operation must be a JSON object")
        res = self.apply(
            {"op": "transfer", "id": "n1", "debit": "donor.us", "credit": "donor.eg",
             "amount": 1, "memo": "a\u0000b"},
            {"op": "transfer", "id": "n2", "debit": "donor.us", "credit": "donor.eg",
             "amount": 1, "date": "2026-01-01\u0000junk"},
            {"op": "account", "id": "n.3", "unit": "USD",
             "flags": ["debits_must_not_exceed_credits\u0000"]},
            {"op": "transfer\u0000", "id": "n4"},
            {"op": "transfer", "id": "n5", "debit": "donor.us", "credit": "donor.eg",
             "amount": 1, "meta": {"s": "a\u0000b"}},
            expect=1)
        self.assertEqual([x["status"] for x in res], ["invalid"] * 4 + ["created"])
        self.assertIn("memo", res[0]["message"])
        self.assertIn("NUL", res[0]["message"])
        self.assertIn("date", res[1]["message"])
        self.assertIn("flags", res[2]["message"])
        self.assertIn("op", res[3]["message"])
        self.assertEqual(self.show("transfer", "n5")["meta"], {"s": "a\u0000b"})

    def test_too_many_operations(self):
        self.init(setup=False)
        text = "{}\n" * 1000001
        r = self.run_cc("apply", input=text)
        self.assertEqual(r.returncode, 2)
        self.assertIn("1000000", r.stderr)

    def test_apply_from_file(self):
        self.init()
        path = os.path.join(self.dir.name, "ops.jsonl")
        with open(path, "w") as f:
            f.write(ops({"op": "transfer", "id": "f1", "debit": "donor.us", "credit": "donor.eg",
                         "amount": 3}))
        r = self.ok("apply", path)
        self.assertEqual(json.loads(r.stdout)["status"], "created")
        r = self.run_cc("apply", os.path.join(self.dir.name, "absent.jsonl"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("absent.jsonl", r.stderr)

    # ------------------------------------------------------------ reads

    def test_account_show_shape(self):
        self.init()
        a = self.show("account", "fund.pool")
        self.assertEqual(set(a), {"id", "unit", "name", "owner", "flags", "debits_pending",
                                  "debits_posted", "credits_pending", "credits_posted",
                                  "timestamp"})
        self.assertEqual(a["flags"], ["debits_must_not_exceed_credits"])
        r = self.run_cc("account", "show", "absent", "--json")
        self.assertEqual(r.returncode, 1)
        self.assertIn("absent", r.stderr)
        r = self.run_cc("transfer", "show", "absent", "--json")
        self.assertEqual(r.returncode, 1)

    def test_balance_prefix_and_at(self):
        self.init()
        self.apply(
            {"op": "transfer", "id": "t1", "debit": "donor.us", "credit": "fund.pool",
             "amount": 100, "date": "2026-01-10"},
            {"op": "transfer", "id": "t2", "debit": "donor.eg", "credit": "fund.pool",
             "amount": 40, "date": "2026-01-20T10:00:00Z"},
            {"op": "transfer", "id": "t3", "debit": "nation.eg", "credit": "force.pledged",
             "amount": 300, "pending": True, "date": "2026-01-15"},
            {"op": "transfer", "id": "t4", "debit": "fund.pool", "credit": "force.salaries",
             "amount": 30, "date": "2026-02-01"})
        rows = json.loads(self.ok("balance", "fund.pool", "donor.us", "--json").stdout)
        self.assertEqual(rows[0], {"id": "fund.pool", "unit": "USD", "debits_pending": 0,
                                   "debits_posted": 30, "credits_pending": 0,
                                   "credits_posted": 140})
        self.assertEqual(rows[1]["id"], "donor.us")
        rows = json.loads(self.ok("balance", "fund.pool", "--at", "2026-01-20", "--json").stdout)
        self.assertEqual(rows[0]["credits_posted"], 140)   # the whole of Jan 20 counts
        self.assertEqual(rows[0]["debits_posted"], 0)
        rows = json.loads(self.ok("balance", "fund.pool", "--at", "2026-01-19", "--json").stdout)
        self.assertEqual(rows[0]["credits_posted"], 100)
        rows = json.loads(self.ok("balance", "fund.pool", "--at",
                                  "2026-01-20T09:59:59Z", "--json").stdout)
        self.assertEqual(rows[0]["credits_posted"], 100)
        rows = json.loads(self.ok("balance", "--prefix", "donor.", "--json").stdout)
        self.assertEqual(rows, [{"id": "donor.", "unit": "USD", "accounts": 2,
                                 "debits_pending": 0, "debits_posted": 140,
                                 "credits_pending": 0, "credits_posted": 0}])
        rows = json.loads(self.ok("balance", "--prefix", "", "--json").stdout)
        by_unit = {r["unit"]: r for r in rows}
        self.assertEqual(by_unit["USD"]["accounts"], 4)
        self.assertEqual(by_unit["USD"]["debits_posted"], by_unit["USD"]["credits_posted"])
        self.assertEqual(by_unit["PERSON"]["credits_pending"], 300)
        rows = json.loads(self.ok("balance", "--prefix", "force.", "--at", "2026-01-14",
                                  "--json").stdout)
        self.assertEqual({r["unit"]: r["credits_pending"] for r in rows}, {"PERSON": 0, "USD": 0})
        self.assertEqual(self.run_cc("balance", "absent", "--json").returncode, 1)
        self.assertEqual(self.run_cc("balance", "--at", "yesterday", "--json").returncode, 2)

    def test_prefix_follows_the_dots(self):
        # --prefix fund used to match fundraising too.
        self.init(setup=False)
        self.apply({"op": "unit", "code": "USD", "scale": 0},
                   *[{"op": "account", "id": i, "unit": "USD"}
                     for i in ("fund", "fund.pool", "fund.a.b", "fundraising", "fund-x", "fun")],
                   {"op": "transfer", "id": "t1", "debit": "fundraising", "credit": "fund.pool",
                    "amount": 7},
                   {"op": "transfer", "id": "t2", "debit": "fund-x", "credit": "fund",
                    "amount": 5})

        def listed(prefix):
            return [a["id"] for a in
                    json.loads(self.ok("account", "list", "--prefix", prefix, "--json").stdout)]

        self.assertEqual(listed("fund"), ["fund", "fund.a.b", "fund.pool"])
        self.assertEqual(listed("fund."), ["fund.a.b", "fund.pool"])
        self.assertEqual(listed("fund.a"), ["fund.a.b"])
        self.assertEqual(listed("fun"), ["fun"])
        self.assertEqual(len(listed("")), 6)
        self.assertEqual(listed("x" * 200), [])
        for at in ([], ["--at", "2199-01-01"]):
            rows = json.loads(self.ok("balance", "--prefix", "fund", "--json", *at).stdout)
            self.assertEqual(rows, [{"id": "fund", "unit": "USD", "accounts": 3,
                                     "debits_pending": 0, "debits_posted": 0,
                                     "credits_pending": 0, "credits_posted": 12}])
            rows = json.loads(self.ok("balance", "--prefix", "fund.", "--json", *at).stdout)
            self.assertEqual((rows[0]["accounts"], rows[0]["credits_posted"]), (2, 7))

    def test_balance_table_accounts_column_only_with_prefix(self):
        self.init()
        header = self.ok("balance").stdout.splitlines()[0]
        self.assertNotIn("ACCOUNTS", header)
        self.assertEqual(header.split()[:3], ["ACCOUNT", "UNIT", "DEBITS"])
        self.assertNotIn("ACCOUNTS", self.ok("balance", "donor.us").stdout)
        out = self.ok("balance", "--prefix", "donor").stdout.splitlines()
        self.assertIn("ACCOUNTS", out[0])
        self.assertEqual(out[1].split()[:3], ["donor", "USD", "2"])

    def test_balance_as_of_beyond_64_bits(self):
        # Backdated pendings can reserve more at a past date than fits a balance:
        # p1 is voided only in 2029, so on 2026-01-01 both p1 and p2 are pending.
        self.init(setup=False)
        big = 9223372036854775000
        self.apply({"op": "unit", "code": "USD", "scale": 0},
                   {"op": "account", "id": "a", "unit": "USD"},
                   {"op": "account", "id": "b", "unit": "USD"},
                   {"op": "transfer", "id": "p1", "debit": "a", "credit": "b", "amount": big,
                    "pending": True, "date": "2021-01-01"},
                   {"op": "void", "id": "p1.void", "pending_id": "p1", "date": "2029-01-01"},
                   {"op": "transfer", "id": "p2", "debit": "a", "credit": "b", "amount": big,
                    "pending": True, "date": "2025-01-01"})
        r = self.run_cc("balance", "a", "--at", "2026-01-01", "--json")
        self.assertEqual(r.returncode, 1)
        self.assertIn("exceeds 2^63-1", r.stderr)
        rows = json.loads(self.ok("balance", "a", "--at", "2022-01-01", "--json").stdout)
        self.assertEqual(rows[0]["debits_pending"], big)
        self.ok("check")

    def test_resolution_never_dated_before_its_pending(self):
        # A post dated by default at the commit time used to take effect before a
        # pending transfer dated ahead, so balances as of dates between went negative.
        self.init()
        res = self.apply(
            {"op": "transfer", "id": "p1", "debit": "donor.us", "credit": "donor.eg",
             "amount": 100, "pending": True, "date": "2099-06-30"},
            {"op": "post", "id": "p1.post", "pending_id": "p1", "amount": 40},
            {"op": "transfer", "id": "p2", "debit": "donor.us", "credit": "donor.eg",
             "amount": 5, "pending": True, "date": "2099-06-30"},
            {"op": "void", "id": "p2.void", "pending_id": "p2", "date": "2099-06-29"},
            {"op": "transfer", "id": "p3", "debit": "donor.us", "credit": "donor.eg",
             "amount": 5, "pending": True, "date": "2099-06-30", "expires": "2099-06-29"},
            expect=1)
        self.assertEqual([r["status"] for r in res],
                         ["created", "created", "created", "invalid", "invalid"])
        self.assertIn("before the pending transfer's date (2099-06-30)", res[3]["message"])
        self.assertIn("expires", res[4]["message"])
        self.assertTrue(self.show("transfer", "p1.post")["date"].startswith("2099-06-30"))
        rows = json.loads(self.ok("balance", "donor.us", "--at", "2099-01-01", "--json").stdout)
        self.assertEqual((rows[0]["debits_pending"], rows[0]["debits_posted"]), (0, 0))
        rows = json.loads(self.ok("balance", "donor.us", "--at", "2099-07-01", "--json").stdout)
        self.assertEqual((rows[0]["debits_pending"], rows[0]["debits_posted"]), (5, 40))
        res = self.apply({"op": "void", "id": "p2.void", "pending_id": "p2",
                          "date": "2099-06-30"})
        self.assertEqual(res[0]["status"], "created")
        self.ok("check")

    def test_history(self):
        self.init()
        self.apply(
            {"op": "transfer", "id": "h1", "debit": "donor.us", "credit": "donor.eg",
             "amount": 1, "date": "2026-03-01"},
            {"op": "transfer", "id": "h2", "debit": "donor.eg", "credit": "donor.us",
             "amount": 1, "date": "2026-01-01"},
            {"op": "transfer", "id": "h3", "debit": "donor.us", "credit": "fund.pool",
             "amount": 1, "date": "2026-02-01"},
            {"op": "transfer", "id": "h4", "debit": "fund.pool", "credit": "force.salaries",
             "amount": 1, "date": "2026-02-02"})
        h = json.loads(self.ok("history", "donor.us", "--json").stdout)
        self.assertEqual([t["id"] for t in h], ["h1", "h2", "h3"])  # oldest first (recorded)
        self.assertEqual(h[0]["state"], "posted")
        self.assertEqual(h[0]["date"], "2026-03-01")
        h = json.loads(self.ok("history", "donor.us", "--since", "2026-01-15", "--until",
                               "2026-02-01", "--json").stdout)
        self.assertEqual([t["id"] for t in h], ["h3"])
        h = json.loads(self.ok("history", "donor.us", "--limit", "2", "--json").stdout)
        self.assertEqual(len(h), 2)
        self.assertEqual(self.run_cc("history", "absent", "--json").returncode, 1)
        self.assertEqual(self.run_cc("history", "donor.us", "--limit", "0").returncode, 2)

    def test_history_for_people(self):
        self.init()
        self.apply(
            {"op": "transfer", "id": "h1", "debit": "donor.us", "credit": "donor.eg",
             "amount": 1, "date": "2026-03-01"},
            {"op": "transfer", "id": "h2", "debit": "donor.us", "credit": "donor.eg",
             "amount": 1, "date": "2026-01-20T10:00:00Z"},
            {"op": "transfer", "id": "h3", "debit": "donor.us", "credit": "donor.eg",
             "amount": 1},
            {"op": "transfer", "id": "h4", "debit": "donor.us", "credit": "donor.eg",
             "amount": 1},
            {"op": "transfer", "id": "h5", "debit": "donor.us", "credit": "donor.eg",
             "amount": 1})
        # The DATE column is the day only, whatever the time of the effective date.
        r = self.ok("history", "donor.us")
        rows = r.stdout.splitlines()[1:]
        self.assertEqual(len(rows), 5)
        for row in rows:
            self.assertRegex(row, r"^\d{4}-\d\d-\d\d  h\d ")
        self.assertEqual(r.stderr, "")
        # A table cut by --limit says so on stderr; JSON stays exactly LIMIT rows.
        r = self.ok("history", "donor.us", "--limit", "3")
        self.assertEqual([line.split()[1] for line in r.stdout.splitlines()[1:]],
                         ["h1", "h2", "h3"])
        self.assertIn("showing the first 3 of more; narrow with --since/--until or raise "
                      "--limit", r.stderr)
        self.assertEqual(self.ok("history", "donor.us", "--limit", "5").stderr, "")
        r = self.ok("history", "donor.us", "--limit", "3", "--json")
        self.assertEqual(len(json.loads(r.stdout)), 3)
        self.assertEqual(r.stderr, "")
        self.ok("history", "donor.us", "--limit", "100000")

    def test_transfer_fields_as_given(self):
        self.init()
        self.apply({"op": "transfer", "id": "m", "debit": "donor.us", "credit": "fund.pool",
                    "amount": 5, "kind": "contribution", "memo": "first", "date": "2026-11-20",
                    "meta": {"fts": {"flow": 12}, "a": [1, 2]}})
        t = self.show("transfer", "m")
        self.assertEqual(t["meta"], {"fts": {"flow": 12}, "a": [1, 2]})
        self.assertEqual((t["memo"], t["date"], t["kind"], t["state"]),
                         ("first", "2026-11-20", "contribution", "posted"))
        # identical meta with keys in another order is the same operation
        res = self.apply({"op": "transfer", "id": "m", "debit": "donor.us", "credit": "fund.pool",
                          "amount": 5, "kind": "contribution", "memo": "first",
                          "date": "2026-11-20", "meta": {"a": [1, 2], "fts": {"flow": 12}}})
        self.assertEqual(res[0]["status"], "exists")

    def test_control_characters_shown_escaped_to_people(self):
        # Stored text must not drive the terminal (ESC sequences) or forge lines.
        self.init()
        self.apply({"op": "account", "id": "odd", "unit": "USD", "name": "A\tB\x7f"},
                   {"op": "transfer", "id": "m", "debit": "donor.us", "credit": "odd",
                    "amount": 5, "memo": "one\ntwo\x1b[31mred", "kind": "k\r"})
        out = self.ok("transfer", "show", "m").stdout
        self.assertIn("memo      one\\ntwo\\x1b[31mred\n", out)
        self.assertIn("kind      k\\r\n", out)
        self.assertNotIn("\x1b", out)
        out = self.ok("account", "show", "odd").stdout
        self.assertIn("name     A\\tB\\x7f\n", out)
        for args in (["account", "list"], ["history", "odd"]):
            out = self.ok(*args).stdout
            self.assertNotIn("\x7f", out)
            self.assertNotIn("\r", out)
            self.assertNotIn("\t", out)
        self.assertIn("A\\tB\\x7f", self.ok("account", "list").stdout)
        self.assertIn("k\\r", self.ok("history", "odd").stdout)
        # The contract's JSON is the text as stored.
        self.assertEqual(self.show("transfer", "m")["memo"], "one\ntwo\x1b[31mred")

    # ------------------------------------------------------------ friendly verbs

    def test_friendly_verbs(self):
        self.ok("init")
        self.ok("unit", "add", "USD", "--scale", "2", "--name", "US dollar")
        self.ok("account", "add", "fund.pool", "--unit", "USD", "--flag",
                "debits_must_not_exceed_credits")
        self.ok("account", "add", "donor.us", "--unit", "USD", "--owner", "us")
        r = self.ok("transfer", "--id", "t1", "--debit", "donor.us", "--credit", "fund.pool",
                    "--amount", "1,234.50")
        self.assertIn("created", r.stdout)
        self.assertEqual(self.show("transfer", "t1")["amount"], 123450)
        r = self.run_cc("transfer", "--debit", "donor.us", "--credit", "fund.pool",
                        "--amount", "1.234")
        self.assertEqual(r.returncode, 2)
        self.assertIn("decimal places", r.stderr)
        r = self.run_cc("transfer", "--debit", "donor.us", "--credit", "fund.pool",
                        "--amount", "5 EUR")
        self.assertEqual(r.returncode, 2)
        self.ok("transfer", "--id", "p", "--debit", "donor.us", "--credit", "fund.pool",
                "--amount", "10.00 USD", "--pending")
        self.ok("post", "p", "--amount", "2.5")
        self.assertEqual(self.show("transfer", "p.post")["amount"], 250)
        r = self.run_cc("void", "p")
        self.assertEqual(r.returncode, 1)
        self.assertIn("pending_transfer_already_posted", r.stderr)
        r = self.run_cc("transfer", "--debit", "fund.pool", "--credit", "donor.us",
                        "--amount", "100000")
        self.assertEqual(r.returncode, 1)
        self.assertIn("exceeds_credits", r.stderr)
        r = self.ok("transfer", "--debit", "donor.us", "--credit", "fund.pool", "--amount", "1",
                    "--json")
        self.assertEqual(json.loads(r.stdout)["status"], "created")
        listing = json.loads(self.ok("account", "list", "--json").stdout)
        self.assertEqual([a["id"] for a in listing], ["donor.us", "fund.pool"])
        units = json.loads(self.ok("unit", "list", "--json").stdout)
        self.assertEqual(units[0]["code"], "USD")
        self.assertIn("fund.pool", self.ok("balance").stdout)
        self.assertIn("1,238.00", self.ok("account", "show", "fund.pool").stdout)
        self.ok("check")

    def test_friendly_verbs_refuse_text_that_is_not_utf8(self):
        # The shortcut verbs pass argv bytes straight to the engine; JSON output
        # could not show them, so the engine refuses them naming the field.
        self.init()
        r = self.run_cc("transfer", "--debit", "donor.us", "--credit", "donor.eg",
                        "--amount", "1", "--memo", b"caf\xe9", "--json")
        self.assertEqual(r.returncode, 1)
        res = json.loads(r.stdout)
        self.assertEqual(res["status"], "invalid")
        self.assertIn("memo", res["message"])
        r = self.run_cc("account", "add", "x.latin", "--unit", "USD", "--name", b"Caf\xe9")
        self.assertEqual(r.returncode, 1)
        self.assertIn("name", r.stderr)
        self.assertEqual(self.run_cc("account", "show", "x.latin").returncode, 1)
        r = self.run_cc("unit", "add", "EUR", "--scale", "2", "--name", b"\xa4")
        self.assertEqual(r.returncode, 1)
        self.assertIn("name", r.stderr)

    @unittest.skipUnless(os.path.exists("/dev/full"), "needs /dev/full")
    def test_output_write_errors_fail(self):
        # Output that cannot be written (a full disk) used to pass for success.
        self.init()
        self.apply({"op": "transfer", "id": "t", "debit": "donor.us", "credit": "donor.eg",
                    "amount": 5})
        for args in (["account", "show", "donor.us", "--json"], ["account", "show", "donor.us"],
                     ["balance"], ["balance", "--json"], ["history", "donor.us"],
                     ["transfer", "show", "t"], ["unit", "list"], ["check"], ["--help"]):
            with open("/dev/full", "w") as full:
                r = subprocess.run([CONCORD, "--db", self.db] + args, stdout=full,
                                   stderr=subprocess.PIPE, text=True)
            self.assertEqual(r.returncode, 3, args)
            self.assertIn("cannot write the output: No space left on device", r.stderr, args)
            self.assertEqual(r.stderr.count("cannot write"), 1, args)
        with open("/dev/full", "w") as full:
            r = subprocess.run([CONCORD, "--db", self.db, "apply"], stdout=full,
                               stderr=subprocess.PIPE, text=True,
                               input=ops({"op": "unit", "code": "EUR", "scale": 2}))
        self.assertEqual(r.returncode, 3)
        self.assertIn("cannot write the output", r.stderr)

    def test_small_usage_checks(self):
        self.init()
        r = self.run_cc("unit", "add", "EUR", "--scale", "")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--scale", r.stderr)
        self.assertEqual(self.run_cc("unit", "add", "EUR", "--scale", "2x").returncode, 2)
        r = subprocess.run([CONCORD, "--db"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--db needs a PATH", r.stderr)

    def test_default_resolution_id_too_long(self):
        # PENDING_ID.post would pass 128 bytes: a random id is used instead.
        self.init()
        long_id = "p" * 128
        self.apply({"op": "transfer", "id": long_id, "debit": "donor.us", "credit": "donor.eg",
                    "amount": 5, "pending": True},
                   {"op": "transfer", "id": "q" * 120, "debit": "donor.us",
                    "credit": "donor.eg", "amount": 5, "pending": True})
        r = self.ok("post", long_id, "--json")
        rec = json.loads(r.stdout)
        self.assertEqual(rec["status"], "created")
        self.assertRegex(rec["id"], r"^post-[0-9a-f]{16}$")
        self.assertEqual(self.show("transfer", long_id)["state"], "posted")
        rec = json.loads(self.ok("void", "q" * 120, "--json").stdout)
        self.assertEqual(rec["id"], "q" * 120 + ".void")  # 125 bytes: the default holds

    # ------------------------------------------------------------ tokens and acting as a token

    def token(self, *args):
        return json.loads(self.ok("token", "create", *args, "--json").stdout)

    def test_token_create_list_revoke(self):
        self.init()
        t = self.token("--user", "ann", "--role", "viewer", "--party", "us",
                       "--expires", "2099-01-01")
        self.assertEqual(set(t), {"token", "id", "user", "role", "party", "expires"})
        self.assertRegex(t["token"], r"^cct_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$")
        self.assertEqual(t["token"][4:20], t["id"])
        self.assertEqual((t["user"], t["role"], t["party"]), ("ann", "viewer", "us"))
        self.assertTrue(t["expires"].startswith("2099-01-01T00:00:00"))
        plain = self.ok("token", "create", "--user", "bob", "--role", "coordinator")
        self.assertRegex(plain.stdout, r"^cct_[0-9a-f]{16}_[A-Za-z0-9_-]{43}\n$")
        self.assertIn("Bearer", plain.stderr)
        listed = json.loads(self.ok("token", "list", "--json").stdout)
        self.assertEqual([x["user"] for x in listed], ["ann", "bob"])
        for row in listed:
            self.assertEqual(set(row), {"id", "user", "role", "party", "created", "expires",
                                        "revoked"})
            self.assertIsNone(row["revoked"])
        self.assertNotIn(t["token"], self.ok("token", "list").stdout)
        self.ok("--token", t["token"], "account", "list")
        self.ok("token", "revoke", t["id"])
        listed = json.loads(self.ok("token", "list", "--json").stdout)
        self.assertIsNotNone(listed[0]["revoked"])
        r = self.run_cc("--token", t["token"], "account", "list")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("invalid, expired or revoked token", r.stderr)
        self.assertEqual(self.run_cc("token", "revoke", t["id"]).returncode, 1)
        self.assertEqual(self.run_cc("token", "revoke", "0000000000000000").returncode, 1)

    def test_token_validation(self):
        self.init()
        for args in [["--user", "Ann", "--role", "admin"],       # not a user name
                     ["--user", "ann", "--role", "king"],        # no such role
                     ["--user", "ann", "--role", "viewer"],      # a viewer needs a party
                     ["--user", "ann", "--role", "admin", "--party", "us"],
                     ["--user", "ann", "--role", "admin", "--expires", "2001-01-01"],
                     ["--role", "admin"]]:
            r = self.run_cc("token", "create", *args)
            self.assertEqual(r.returncode, 2, f"{args}: {r.stderr}")
            self.assertEqual(r.stdout, "", args)
        for bad in ["nope", "cct_0123456789abcdef_" + "A" * 43, "x" * 5000]:
            r = self.run_cc("--token", bad, "account", "list")
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("invalid, expired or revoked token", r.stderr)

    def test_token_roles_on_the_cli(self):
        self.init()
        viewer = self.token("--user", "ann", "--role", "viewer", "--party", "us")["token"]
        editor = self.token("--user", "ed", "--role", "editor", "--party", "us")["token"]
        self.ok("transfer", "--id", "t1", "--debit", "donor.us", "--credit", "fund.pool",
                "--amount", "5")
        self.ok("transfer", "--id", "t2", "--debit", "donor.eg", "--credit", "fund.pool",
                "--amount", "5")
        listed = json.loads(self.ok("--token", viewer, "account", "list", "--json").stdout)
        self.assertEqual([a["id"] for a in listed], ["donor.us"])
        env = dict(os.environ, CONCORD_TOKEN=viewer)
        r = self.run_cc("account", "list", "--json", env=env)
        self.assertEqual([a["id"] for a in json.loads(r.stdout)], ["donor.us"])
        for args, says in [(["account", "show", "fund.pool"], "not us's"),
                           (["transfer", "show", "t2"], "moves nothing of us's"),
                           (["history", "fund.pool"], "not us's"),
                           (["balance", "fund.pool"], "not us's")]:
            r = self.run_cc("--token", viewer, *args, "--json")
            self.assertEqual(r.returncode, 1, f"{args}: {r.stderr}")
            self.assertIn(says, r.stderr, args)
            self.assertEqual(r.stdout, "", args)
        self.ok("--token", viewer, "account", "show", "donor.us", "--json")
        self.ok("--token", viewer, "transfer", "show", "t1", "--json")
        rows = json.loads(self.ok("--token", viewer, "balance", "--prefix", "", "--json").stdout)
        self.assertEqual(sum(r["accounts"] for r in rows), 6)
        mine = json.loads(self.ok("--token", viewer, "balance", "--json").stdout)
        self.assertEqual([r["id"] for r in mine], ["donor.us"])
        r = self.run_cc("--token", viewer, "account", "add", "us.x", "--unit", "USD",
                        "--owner", "us")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("forbidden", r.stderr)
        self.ok("--token", editor, "account", "add", "us.x", "--unit", "USD", "--owner", "us")
        r = self.run_cc("--token", editor, "account", "add", "eg.x", "--unit", "USD",
                        "--owner", "eg")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(self.run_cc("account", "show", "eg.x").returncode, 1)
        r = self.run_cc("--token", editor, "token", "list")
        self.assertEqual(r.returncode, 1, r.stderr)

    def test_token_roles_on_the_audit_commands(self):
        # The CLI with a token follows the API's route roles: the event log is not a viewer's.
        self.init()
        self.ok("transfer", "--id", "t1", "--debit", "donor.us", "--credit", "fund.pool",
                "--amount", "5")
        viewer = self.token("--user", "ann", "--role", "viewer", "--party", "us")["token"]
        auditor = self.token("--user", "aud", "--role", "auditor")["token"]
        for args in [["verify"], ["proof", "--seq", "1"]]:
            r = self.run_cc("--token", viewer, *args)
            self.assertEqual(r.returncode, 1, f"{args}: {r.stdout}")
            self.assertIn("may not read", r.stderr, args)
            self.assertEqual(r.stdout, "", args)
            self.ok("--token", auditor, *args)
        self.ok("--token", viewer, "checkpoint")
        # Consistency proofs hold hashes only: every party may check the log only grew.
        c = json.loads(self.ok("--token", viewer, "consistency", "--from", "1", "--json").stdout)
        self.assertEqual(c["from"], 1)
        self.assertEqual(self.ok("--token", viewer, "whoami").stdout,
                         "ann, viewer of party us; reads only, reads its party's rows\n")
        self.assertEqual(json.loads(self.ok("whoami", "--json").stdout)["role"], "admin")
        proof = json.loads(self.ok("--token", viewer, "proof", "t1", "--json").stdout)
        self.assertNotIn("event", proof, "a viewer's proof carries no event")
        path = os.path.join(self.dir.name, "viewer.proof.json")
        with open(path, "w") as f:
            json.dump(proof, f)
        key = self.ok("key").stdout.strip()
        r = self.ok("verify-proof", path, "--key", key)
        self.assertIn("carries no event, so it does not show that the event made transfer t1",
                      r.stdout)
        # --id binds the proof to the transfer: a proof without its event, or of another
        # transfer, or with its transfer_id stripped, is refused.
        r = self.run_cc("verify-proof", path, "--key", key, "--id", "t1")
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("carries no event", r.stderr)
        full = json.loads(self.ok("proof", "t1", "--json").stdout)
        with open(path, "w") as f:
            json.dump(full, f)
        self.ok("verify-proof", path, "--key", key, "--id", "t1")
        self.assertEqual(self.run_cc("verify-proof", path, "--key", key, "--id", "t2").returncode, 1)
        del full["transfer_id"]
        with open(path, "w") as f:
            json.dump(full, f)
        self.assertEqual(self.run_cc("verify-proof", path, "--key", key).returncode, 0)
        r = self.run_cc("verify-proof", path, "--key", key, "--id", "t1")
        self.assertEqual(r.returncode, 1)
        self.assertIn("not the proof of the transfer", r.stderr)

    def test_a_ledger_with_an_empty_log_gets_a_key(self):
        # A ledger made before the log existed has no key and no events: it can be written.
        self.init(setup=False)
        os.remove(self.db + ".key")
        self.apply({"op": "unit", "code": "EUR", "scale": 2})
        self.assertTrue(os.path.exists(self.db + ".key"))
        self.ok("verify")
        # With events, a lost key is not replaced: writes refuse until it is restored.
        os.remove(self.db + ".key")
        r = self.run_cc("apply", input=ops({"op": "unit", "code": "GBP", "scale": 2}))
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn(".key", r.stderr)
        self.assertFalse(os.path.exists(self.db + ".key"))

    def test_token_secret_is_not_stored(self):
        import sqlite3
        self.init()
        t = self.token("--user", "ann", "--role", "admin")
        secret = t["token"].split("_", 2)[2]
        with sqlite3.connect(self.db) as c:
            rows = c.execute("SELECT * FROM tokens").fetchall()
        self.assertEqual(len(rows), 1)
        for value in rows[0]:
            text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
            self.assertNotIn(secret, text)
            self.assertNotIn(t["token"], text)
        with open(self.db, "rb") as f:
            self.assertNotIn(secret.encode(), f.read())

    def test_parties_guarded_accounts_and_approve(self):
        self.init()
        self.ok("party", "add", "fund", "--kind", "fund", "--name", "Pooled fund")
        self.ok("party", "add", "us", "--kind", "nation")
        self.assertEqual(self.run_cc("party", "add", "x").returncode, 2)
        parties = json.loads(self.ok("party", "list", "--json").stdout)
        self.assertEqual([p["id"] for p in parties], ["fund", "us"])
        self.ok("account", "add", "fund.safe", "--unit", "USD", "--owner", "fund", "--guarded",
                "--approver", "local", "--approver", "bob", "--approvals-required", "1")
        a = self.show("account", "fund.safe")
        self.assertIn("guarded", a["flags"])
        self.assertEqual(a["approvers"], ["local", "bob"])
        self.assertEqual(self.run_cc("account", "add", "fund.bad", "--unit", "USD",
                                     "--guarded").returncode, 2)
        self.ok("transfer", "--id", "p1", "--debit", "fund.safe", "--credit", "force.salaries",
                "--amount", "10", "--pending")
        r = self.run_cc("approve", "p1", "--id", "ap1", "--decision", "maybe")
        self.assertEqual(r.returncode, 2)
        self.ok("approve", "p1", "--id", "ap1", "--decision", "approve")
        self.assertEqual(self.show("transfer", "p1")["state"], "posted")

    def test_help_everywhere(self):
        r = self.run_cc("--help", db=False)
        self.assertEqual(r.returncode, 0)
        commands = [line.strip().split("  ")[0] for line in r.stdout.splitlines()
                    if line.startswith("  ")]
        self.assertIn("apply", commands)
        self.assertIn("account show", commands)
        for command in commands:
            r = self.run_cc(*command.split(), "--help", db=False)
            self.assertEqual(r.returncode, 0, command)
            self.assertIn("usage: concord", r.stdout, command)
        self.assertEqual(self.run_cc("frobnicate", db=False).returncode, 2)
        self.assertEqual(self.run_cc("balance", "--bogus").returncode, 2)


if __name__ == "__main__":
    CONCORD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=1)
