#!/usr/bin/env python3
"""Integration tests of `concord demo` (argv[1] is the binary): the
illustrative mission loads into a new database with every part of the
domain in it, verifies against its audit log, passes the invariant check,
refuses a database that already holds a ledger, and comes out the same on
every run.
"""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import unittest

CONCORD = None


def run(db, *args):
    return subprocess.run([CONCORD, "--db", db] + list(args), capture_output=True, text=True,
                          timeout=600)


class Demo(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.db = os.path.join(cls.dir.name, "demo.db")
        cls.loaded = run(cls.db, "demo")

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def js(self, *args, db=None):
        r = run(db or self.db, *args, "--json")
        self.assertEqual(r.returncode, 0, f"{args}: {r.stderr}")
        return json.loads(r.stdout)

    def test_loads_and_says_it_is_illustrative(self):
        self.assertEqual(self.loaded.returncode, 0, self.loaded.stderr)
        self.assertIn("the demo mission is illustrative: its amounts and pledges are invented",
                      self.loaded.stderr)
        self.assertIn("consignments", self.loaded.stdout)
        self.assertIn("concord gaps", self.loaded.stdout)

    def test_parties_conditions_requirements(self):
        parties = {p["id"]: p for p in self.js("party", "list")}
        self.assertGreaterEqual(len(parties), 8)
        self.assertEqual(parties["us"]["name"], "United States — Department of Defense")
        self.assertEqual(parties["force"]["kind"], "force")
        self.assertIn("(illustrative)", parties["force"]["name"])
        self.assertEqual(parties["pa"]["kind"], "authority")
        conditions = {c["name"]: c for c in self.js("condition", "list")}
        for name in ("two_state", "ceasefire_holds", "force_trained", "partners_join"):
            self.assertIn("probability", conditions[name], name)
            self.assertIn("(illustrative)", conditions[name]["title"], name)
        self.assertEqual(conditions["two_state"]["authority"], "bp")
        self.assertEqual(conditions["ceasefire_holds"]["state"], "met")
        requirements = self.js("requirement", "list")
        self.assertGreaterEqual(len(requirements), 5)
        self.assertIn("force.salaries", {r["account"] for r in requirements})

    def test_funding_force_and_aid_are_there(self):
        pool = self.js("account", "show", "fund.pool")
        self.assertIn("guarded", pool["flags"])
        self.assertGreater(pool["credits_posted"], 0)
        self.assertGreater(pool["debits_posted"], 0)       # disbursements the board approved
        self.assertGreater(pool["credits_pending"], 0)     # conditional pledges still open
        pledge = self.js("transfer", "show", "p-de-1")
        self.assertEqual(pledge["state"], "expired")
        with sqlite3.connect(self.db) as c:
            kinds = dict(c.execute("select kind, count(*) from transfers group by kind"))
        self.assertGreater(kinds.get("consignment", 0), 1000)
        self.assertGreater(kinds.get("contingent", 0), 10)
        self.assertGreater(kinds.get("override", 0), 0)
        self.assertGreater(kinds.get("aid.rejected", 0), 0)
        self.assertGreater(kinds.get("aid.lost", 0), 0)
        deployed = self.js("balance", "--prefix", "force.deployed.")
        self.assertGreater(deployed[0]["credits_posted"], 1000)

    def test_verify_and_check(self):
        r = run(self.db, "verify")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(r.stdout.startswith("intact"), r.stdout)
        self.assertEqual(self.js("check"), {"ok": True})

    def test_refuses_a_database_that_holds_a_ledger(self):
        r = run(self.db, "demo")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("already holds a ledger", r.stderr)

    def test_the_same_every_time(self):
        other = os.path.join(self.dir.name, "again.db")
        r = run(other, "demo")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(run(other, "balance", "--prefix", "", "--json").stdout,
                         run(self.db, "balance", "--prefix", "", "--json").stdout)
        self.assertEqual(run(other, "gaps", "--json").stdout, run(self.db, "gaps", "--json").stdout)
        self.assertEqual(r.stdout.replace(other, "DB"), self.loaded.stdout.replace(self.db, "DB"))


if __name__ == "__main__":
    CONCORD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
