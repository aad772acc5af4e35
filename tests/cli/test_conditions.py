#!/usr/bin/env python3
"""Integration tests of conditions, gated pledges, requirements, gaps,
scenarios and forecasts, through the concord command line (argv[1]).

The figures are worked out by hand in each test: a planner must be able to
trust them to the cent.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

CONCORD = None

# The ledger of the tour and of docs/CONDITIONS.md: what they show is tested here.
EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples",
                       "conditions.jsonl")
with open(EXAMPLE) as example:
    BASE = [json.loads(line) for line in example if line.strip()]


class Conditions(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.db = os.path.join(self.dir.name, "c.db")
        self.ok("init")

    def tearDown(self):
        self.dir.cleanup()

    def run_cc(self, *args, input=None):
        return subprocess.run([CONCORD, "--db", self.db] + list(args), input=input,
                              capture_output=True, text=True, timeout=120)

    def ok(self, *args, input=None):
        r = self.run_cc(*args, input=input)
        self.assertEqual(r.returncode, 0, f"{args}: {r.stderr}")
        return r

    def apply(self, *items, expect=0):
        r = self.run_cc("apply", input="".join(json.dumps(i) + "\n" for i in items))
        self.assertEqual(r.returncode, expect, r.stderr + r.stdout)
        return [json.loads(line) for line in r.stdout.splitlines()]

    def js(self, *args):
        return json.loads(self.ok(*args, "--json").stdout)

    def base(self):
        res = self.apply(*BASE)
        self.assertTrue(all(r["status"] == "created" for r in res), res)

    def test_condition_errors_name_the_position(self):
        res = self.apply(
            {"op": "condition", "name": "a"},
            {"op": "condition", "name": "b", "when": "a & (a | "},
            {"op": "condition", "name": "c", "when": "a && a"},
            {"op": "condition", "name": "d", "when": "a | d"},
            {"op": "condition", "name": "e", "when": "a | nope"},
            {"op": "condition", "name": "Bad"},
            {"op": "condition", "name": "f", "probability": 1.5},
            {"op": "condition", "name": "a", "title": "other"},
            {"op": "condition", "name": "a"},
            expect=1)
        self.assertEqual([r["status"] for r in res],
                         ["created", "invalid", "invalid", "invalid", "invalid", "invalid",
                          "invalid", "exists_with_different_fields", "exists"])
        self.assertIn("column", res[1]["message"])
        self.assertIn("column 4", res[2]["message"])
        self.assertIn("column 5", res[3]["message"])   # d names itself
        self.assertIn("nope", res[4]["message"])

    def test_if_rules(self):
        self.base()
        res = self.apply(
            {"op": "transfer", "id": "x1", "debit": "us.dod", "credit": "fund.pool",
             "amount": 1, "if": "two_state"},
            {"op": "transfer", "id": "x2", "debit": "us.dod", "credit": "fund.pool",
             "amount": 1, "pending": True, "if": "peace"},
            {"op": "transfer", "id": "x3", "debit": "us.dod", "credit": "fund.pool",
             "amount": 1, "pending": True, "if": "two_state &"},
            {"op": "transfer", "id": "x4/condition", "debit": "us.dod", "credit": "fund.pool",
             "amount": 1},
            expect=1)
        self.assertEqual([r["status"] for r in res],
                         ["condition_requires_pending", "condition_not_found", "invalid",
                          "invalid"])

    def test_resolution_posts_and_voids_through_derived(self):
        self.base()
        res = self.apply({"op": "resolve", "name": "ceasefire", "state": "met"})
        # p-eg (ceasefire | two_state) posts; p-eu (all_clear) stays open.
        self.assertEqual(res[0], {"index": 0, "op": "resolve", "id": "ceasefire",
                                  "status": "resolved", "timestamp": res[0]["timestamp"],
                                  "posted": 1, "voided": 0})
        self.assertEqual(self.js("transfer", "show", "p-eg")["state"], "posted")
        rec = self.js("transfer", "show", "p-eg/condition")
        self.assertEqual((rec["reason"], rec["pending_id"], rec["amount"]),
                         ("condition", "p-eg", 300))
        self.assertEqual(self.js("transfer", "show", "p-eu")["state"], "pending")
        res = self.apply({"op": "resolve", "name": "two_state", "state": "failed"})
        self.assertEqual((res[0]["posted"], res[0]["voided"]), (0, 2))  # p-us and p-eu
        self.assertEqual(self.js("transfer", "show", "p-us")["state"], "voided")
        self.assertEqual(self.js("transfer", "show", "p-eu")["state"], "voided")
        pool = self.js("account", "show", "fund.pool")
        self.assertEqual((pool["credits_pending"], pool["credits_posted"]),
                         (2000000000, 1000000000))
        conds = {c["name"]: c for c in self.js("condition", "list")}
        self.assertEqual(conds["all_clear"]["state"], "failed")
        self.assertEqual(conds["ceasefire"]["state"], "met")
        res = self.apply({"op": "resolve", "name": "two_state", "state": "met"},
                         {"op": "resolve", "name": "all_clear", "state": "met"},
                         {"op": "resolve", "name": "nothing", "state": "met"},
                         {"op": "resolve", "name": "ceasefire", "state": "open"},
                         expect=1)
        self.assertEqual([r["status"] for r in res],
                         ["condition_already_resolved", "invalid", "condition_not_found",
                          "invalid"])
        # An `if` already decided on arrival resolves at once.
        res = self.apply({"op": "transfer", "id": "late", "debit": "us.dod",
                          "credit": "fund.pool", "amount": 7, "pending": True,
                          "if": "!two_state"})
        self.assertEqual(res[0]["status"], "created")
        self.assertEqual(self.js("transfer", "show", "late")["state"], "posted")
        self.ok("check")

    def test_resolution_in_a_failed_chain_changes_nothing(self):
        self.base()
        res = self.apply(
            {"op": "resolve", "name": "two_state", "state": "met", "linked": True},
            {"op": "transfer", "id": "boom", "debit": "us.dod", "credit": "us.dod",
             "amount": 1},
            expect=1)
        self.assertEqual([r["status"] for r in res],
                         ["linked_event_failed", "accounts_must_be_different"])
        conds = {c["name"]: c for c in self.js("condition", "list")}
        self.assertEqual(conds["two_state"]["state"], "open")
        self.assertEqual(self.js("transfer", "show", "p-us")["state"], "pending")

    def test_gaps(self):
        self.base()
        rows = {r["id"]: r for r in self.js("gaps")}
        self.assertEqual(rows["salaries"], {
            "id": "salaries", "title": "Force salaries", "unit": "USD", "target": 12000000000,
            "due": "2027-12-31", "posted": 1000000000, "pending": 10000000000,
            "gap": 11000000000, "gap_if_pending_post": 1000000000})
        self.assertEqual((rows["troops"]["unit"], rows["troops"]["posted"],
                          rows["troops"]["pending"], rows["troops"]["gap"],
                          rows["troops"]["gap_if_pending_post"]), ("PERSON", 0, 300, 500, 200))
        self.assertIn("salaries", self.ok("gaps").stdout)

    def test_scenario(self):
        self.base()
        out = self.js("scenario", "--assume", "ceasefire=met")
        self.assertEqual(out["assume"], {"ceasefire": "met"})
        req = {r["id"]: r for r in out["requirements"]}
        # certain: c-jp posted 10M + p-jp (no if) 20M; may: p-us 50M + p-eu 30M
        self.assertEqual((req["salaries"]["low"], req["salaries"]["high"]),
                         (3000000000, 11000000000))
        self.assertEqual((req["troops"]["low"], req["troops"]["high"]), (300, 300))
        exposure = {(e["condition"], e["unit"]): e["pending"] for e in out["exposure"]}
        self.assertEqual(exposure, {("two_state", "USD"): 8000000000})
        out = self.js("scenario", "--assume", "two_state=failed", "--assume", "ceasefire=failed")
        req = {r["id"]: r for r in out["requirements"]}
        self.assertEqual((req["salaries"]["low"], req["salaries"]["high"]),
                         (3000000000, 3000000000))
        self.assertEqual((req["troops"]["low"], req["troops"]["high"]), (0, 0))
        self.assertEqual(out["exposure"], [])
        self.assertEqual(self.js("transfer", "show", "p-us")["state"], "pending")  # wrote nothing
        self.assertEqual(self.run_cc("scenario", "--assume", "all_clear=met").returncode, 2)
        self.assertEqual(self.run_cc("scenario", "--assume", "nope=met").returncode, 1)
        self.assertEqual(self.run_cc("scenario", "--assume", "two_state").returncode, 2)

    def test_forecast_exact(self):
        self.base()
        out = self.js("forecast")
        self.assertEqual(out["method"], "exact")
        req = {r["id"]: r for r in out["requirements"]}
        s = req["salaries"]
        # total = 30M + 50M·[two_state] + 30M·[two_state ∧ ceasefire]
        self.assertAlmostEqual(s["expected"], 3000000000 + 0.35 * 5000000000
                               + 0.35 * 0.7 * 3000000000, delta=0.5)
        self.assertEqual(s["p_met"], 0.0)
        self.assertEqual((s["p10"], s["p50"], s["p90"]), (3000000000, 3000000000, 11000000000))
        t = req["troops"]
        p = 1 - 0.65 * 0.3  # ceasefire | two_state
        self.assertAlmostEqual(t["expected"], 300 * p, delta=1e-6)
        self.assertEqual((t["p10"], t["p50"], t["p90"]), (0, 300, 300))
        self.assertEqual(t["p_met"], 0.0)
        same = self.js("forecast", "--samples", "5000", "--seed", "9")
        self.assertEqual(same, out)  # exact ignores the seed

    def test_reporting_currency(self):
        self.apply(
            {"op": "unit", "code": "USD", "scale": 2},
            {"op": "unit", "code": "EUR", "scale": 2},
            {"op": "account", "id": "fund.pool", "unit": "USD"},
            {"op": "account", "id": "donor.a", "unit": "USD"},
            {"op": "requirement", "id": "r", "account": "fund.", "unit": "USD",
             "measure": "credits", "target": 100000000, "due": "2026-12-31"},
            {"op": "rate", "unit": "USD", "to": "EUR", "rate": "0.9", "date": "2026-01-01"},
            {"op": "rate", "unit": "USD", "to": "EUR", "rate": "0.8", "date": "2026-02-01"},
            {"op": "transfer", "id": "c1", "debit": "donor.a", "credit": "fund.pool",
             "amount": 10000, "date": "2026-01-10"},
            {"op": "transfer", "id": "p1", "debit": "donor.a", "credit": "fund.pool",
             "amount": 5000, "pending": True, "date": "2026-02-10"})
        rows = self.js("gaps", "--in", "EUR")
        self.assertEqual((rows[0]["unit"], rows[0]["target"], rows[0]["posted"],
                          rows[0]["pending"]), ("EUR", 80000000, 9000, 4000))
        self.assertEqual(rows[0]["gap"], 80000000 - 9000)
        rows = self.js("gaps", "--in", "EUR", "--at", "2026-01-31")
        self.assertEqual((rows[0]["posted"], rows[0]["pending"]), (9000, 0))
        rows = self.js("gaps")  # in the requirement's own unit
        self.assertEqual((rows[0]["unit"], rows[0]["posted"], rows[0]["pending"]),
                         ("USD", 10000, 5000))
        # Exact until the final figure: three cents at 0.3333 make one cent, not zero.
        res = self.apply(
            {"op": "rate", "unit": "USD", "to": "EUR", "rate": "0.3333", "date": "2026-03-01"},
            {"op": "transfer", "id": "s1", "debit": "donor.a", "credit": "fund.pool",
             "amount": 1, "date": "2026-03-02"},
            {"op": "transfer", "id": "s2", "debit": "donor.a", "credit": "fund.pool",
             "amount": 1, "date": "2026-03-02"},
            {"op": "transfer", "id": "s3", "debit": "donor.a", "credit": "fund.pool",
             "amount": 1, "date": "2026-03-02"},
            {"op": "rate", "unit": "USD", "to": "EUR", "rate": "0.3333", "date": "2026-03-01"},
            {"op": "rate", "unit": "USD", "to": "EUR", "rate": "0.4", "date": "2026-03-01"},
            {"op": "rate", "unit": "USD", "to": "EUR", "rate": "1.5e3", "date": "2026-03-05"},
            {"op": "rate", "unit": "USD", "to": "GBP", "rate": "1", "date": "2026-03-05"},
            expect=1)
        self.assertEqual([r["status"] for r in res],
                         ["created"] * 4 + ["exists", "exists_with_different_fields", "invalid",
                                            "unit_not_found"])
        rows = self.js("gaps", "--in", "EUR", "--at", "2026-03-31")
        self.assertEqual(rows[0]["posted"], 9000 + 1)
        out = self.js("scenario", "--in", "EUR")
        self.assertEqual((out["requirements"][0]["low"], out["requirements"][0]["unit"]),
                         (9000 + 1 + 4000, "EUR"))
        out = self.js("forecast", "--in", "EUR")
        self.assertAlmostEqual(out["requirements"][0]["expected"], 13001, delta=0.01)
        r = self.run_cc("gaps", "--in", "JPY", "--json")
        self.assertEqual(r.returncode, 1)
        self.assertIn("JPY", r.stderr)
        self.apply({"op": "unit", "code": "JPY", "scale": 0})
        r = self.run_cc("gaps", "--in", "JPY", "--json")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no rate from USD to JPY", r.stderr)

    def test_friendly_verbs(self):
        self.apply(*BASE[:9])
        self.ok("condition", "add", "peace", "--probability", "0.5", "--title", "Peace deal")
        self.ok("requirement", "add", "pool-2027", "--account", "fund.pool", "--target",
                "1,000.50")
        reqs = {r["id"]: r for r in self.js("requirement", "list")}
        self.assertEqual((reqs["pool-2027"]["target"], reqs["pool-2027"]["unit"]),
                         (100050, "USD"))
        self.ok("transfer", "--id", "g1", "--debit", "us.dod", "--credit", "fund.pool",
                "--amount", "10", "--pending")
        r = self.ok("resolve", "peace", "met")
        self.assertIn("resolved", r.stdout)
        self.assertEqual(self.run_cc("resolve", "peace", "maybe").returncode, 2)
        self.assertIn("pool-2027", self.ok("gaps").stdout)
        self.assertIn("P(MET)", self.ok("forecast").stdout)


if __name__ == "__main__":
    CONCORD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=1)
