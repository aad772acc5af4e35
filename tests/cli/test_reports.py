#!/usr/bin/env python3
"""Integration tests of the mission's reports (`concord report funding|force|aid`
and GET /v1/reports/{funding,force,aid}), binary in argv[1].

Each ledger is built with `concord apply` from plain ledger operations that
follow the account scheme of docs/DOMAIN.md (a pledge is a pending transfer
donor.<d> -> fund.pool of kind "pledge", a stage move a transfer of kind
"force.<stage>" or "aid.<stage>"), so the reports are tested without the
domain operations. Every figure is worked out by hand in the comments: a
planner must be able to trust them to the cent. The HTTP routes must answer
the same JSON as the command line.

usage: test_reports.py CONCORD_BINARY [unittest arguments]
"""
import http.client
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "http"))
import test_http  # noqa: E402  (Server)

CONCORD = None
TIMEOUT = 120


def tr(id, debit, credit, amount, kind, date, meta=None, **extra):
    op = {"op": "transfer", "id": id, "debit": debit, "credit": credit, "amount": amount,
          "kind": kind, "date": date}
    if meta is not None:
        op["meta"] = meta
    op.update(extra)
    return op


def accounts(unit, *ids):
    return [{"op": "account", "id": i, "unit": unit} for i in ids]


# ---------------------------------------------------------------- funding (USD, cents)
FUNDING = [
    {"op": "unit", "code": "USD", "scale": 2},
    *accounts("USD", "donor.us", "donor.eg", "donor.uk", "fund.pool", "sector.health",
              "sector.hq", "spent.sector.health"),
    {"op": "condition", "name": "elections"},
    {"op": "requirement", "id": "r-health", "account": "sector.health", "target": 100000,
     "measure": "credits"},
    {"op": "requirement", "id": "r-hq", "account": "sector.hq", "target": 50000,
     "measure": "credits"},
    tr("p1", "donor.us", "fund.pool", 40000, "pledge", "2026-10-05", pending=True,
       meta={"donor": "us", "requirement": "r-health", "usd_amount": 40000}),
    tr("p2", "donor.eg", "fund.pool", 30000, "pledge", "2026-10-20", pending=True,
       meta={"donor": "eg", "requirement": "r-health", "currency": "EUR",
             "original_amount": 27000, "rate": "1.1111", "usd_amount": 30000},
       **{"if": "elections"}),
    tr("p3", "donor.uk", "fund.pool", 10000, "pledge", "2026-11-02", pending=True,
       meta={"donor": "uk"}),
    {"op": "void", "id": "p3.void", "pending_id": "p3", "date": "2026-11-03"},
    # A commitment that posts part of p1 (the rest is released).
    {"op": "post", "id": "c1", "pending_id": "p1", "amount": 25000, "kind": "commitment",
     "date": "2026-11-10"},
    # A direct commitment, without a pledge.
    tr("c2", "donor.eg", "fund.pool", 5000, "commitment", "2026-11-15",
       meta={"donor": "eg", "requirement": "r-hq"}),
    tr("d1", "fund.pool", "sector.health", 20000, "disbursement", "2026-11-20",
       meta={"requirement": "r-health", "sector": "health"}),
    # Awaiting approval: pending.
    tr("d2", "fund.pool", "sector.hq", 3000, "disbursement", "2026-11-25", pending=True,
       meta={"requirement": "r-hq"}),
    tr("e1", "sector.health", "spent.sector.health", 8000, "expenditure", "2026-12-05",
       meta={"requirement": "r-health"}),
]

# ---------------------------------------------------------------- force (PERSON)
STAGES = ["pledged", "accepted", "training", "certified", "deployed", "rotated"]
FORCE = [
    {"op": "unit", "code": "PERSON", "scale": 0},
    {"op": "unit", "code": "PERSON_MONTH", "scale": 0},
    {"op": "unit", "code": "USD", "scale": 2},
    *accounts("PERSON", "force.nations.fr", "force.nations.gh", "force.course.basic.capacity",
              "force.course.basic.seats", "force.course.basic.in_training"),
    *accounts("PERSON", *[f"force.{s}.{c}" for c in ("c1", "c2") for s in STAGES]),
    {"op": "rate", "unit": "PERSON_MONTH", "to": "USD", "rate": "1500.00", "date": "2026-01-01"},
    {"op": "requirement", "id": "r-troops", "account": "force.deployed.", "unit": "PERSON",
     "target": 200, "measure": "balance"},
    tr("course.basic", "force.course.basic.capacity", "force.course.basic.seats", 120, "course",
       "2026-09-01", meta={"name": "Basic", "capacity": 120, "duration_days": 30}),
    tr("c1", "force.nations.fr", "force.pledged.c1", 100, "contingent", "2026-09-01",
       meta={"nation": "fr", "type": "infantry", "personnel": 100, "equipment": [],
             "readiness": "2", "caveats": []}),
    tr("c2", "force.nations.gh", "force.pledged.c2", 50, "contingent", "2026-09-15",
       meta={"nation": "gh", "type": "medical", "personnel": 50, "equipment": [],
             "readiness": "1", "caveats": []}),
    tr("m1", "force.pledged.c1", "force.accepted.c1", 100, "force.accepted", "2026-09-10",
       meta={"contingent": "c1"}),
    tr("m2", "force.accepted.c1", "force.training.c1", 100, "force.training", "2026-09-20",
       meta={"contingent": "c1", "course": "basic"}),
    tr("m2/seats", "force.course.basic.seats", "force.course.basic.in_training", 100,
       "training_seats", "2026-09-20", meta={"contingent": "c1", "course": "basic"}),
    tr("n1", "force.pledged.c2", "force.accepted.c2", 50, "force.accepted", "2026-09-20",
       meta={"contingent": "c2"}),
    tr("n2", "force.accepted.c2", "force.training.c2", 50, "force.training", "2026-10-01",
       meta={"contingent": "c2", "course": "basic"}),
    tr("n2/seats", "force.course.basic.seats", "force.course.basic.in_training", 50,
       "training_seats", "2026-10-01", meta={"contingent": "c2", "course": "basic"}),
    tr("m3", "force.training.c1", "force.certified.c1", 100, "force.certified", "2026-10-20",
       meta={"contingent": "c1", "course": "basic"}),
    tr("m3/seats", "force.course.basic.in_training", "force.course.basic.seats", 100,
       "training_seats", "2026-10-20", meta={"contingent": "c1", "course": "basic"}),
    tr("n3", "force.training.c2", "force.certified.c2", 50, "force.certified", "2026-10-31",
       meta={"contingent": "c2", "course": "basic"}),
    tr("n3/seats", "force.course.basic.in_training", "force.course.basic.seats", 50,
       "training_seats", "2026-10-31", meta={"contingent": "c2", "course": "basic"}),
    tr("m4", "force.certified.c1", "force.deployed.c1", 100, "force.deployed", "2026-11-01",
       meta={"contingent": "c1"}),
    tr("n4", "force.certified.c2", "force.deployed.c2", 30, "force.deployed", "2026-11-11",
       meta={"contingent": "c2"}),
    tr("m5", "force.deployed.c1", "force.rotated.c1", 10, "force.rotated", "2026-12-15",
       meta={"contingent": "c1"}),
]

# ---------------------------------------------------------------- aid (KG, trucks)
AID = [
    {"op": "unit", "code": "KG", "scale": 0},
    {"op": "unit", "code": "TRUCK", "scale": 0},
    {"op": "unit", "code": "RECORD", "scale": 0},
    *accounts("RECORD", "aid.records.source", "aid.records.defined"),
    *accounts("KG", "aid.origin.flour", "aid.origin.oil",
              *[f"aid.{s}.kerem.{c}" for s in ("registered", "screened", "entered", "awaiting",
                                                "collected", "rejected")
                for c in ("flour", "oil")],
              "aid.warehoused.wh1.flour", "aid.dispatched.wh1.flour", "aid.distributed.p1.flour",
              "aid.damaged.p1.flour", "aid.lost.wh1.flour", "aid.commodity.oil"),
    *accounts("TRUCK", "aid.crossing.kerem.day.20261103", "aid.crossing.kerem.day.20261105",
              "aid.crossing.kerem.override", "aid.crossing.kerem.entered"),
    tr("crossing.kerem", "aid.records.source", "aid.records.defined", 1, "crossing",
       "2026-10-01", meta={"name": "Kerem", "trucks_per_day": 2, "screening_per_day": 3}),
    tr("point.p1", "aid.records.source", "aid.records.defined", 1, "distribution_point",
       "2026-10-01", meta={"name": "Camp One", "population": 5000, "need": {"flour": 300}}),
    # p2 needs oil, of which nothing reaches it: its unit is the commodity's.
    tr("point.p2", "aid.records.source", "aid.records.defined", 1, "distribution_point",
       "2026-10-01", meta={"name": "Camp Two", "population": 100, "need": {"oil": 50}}),
    # k1: 1,000 kg of flour, the whole way.
    tr("k1", "aid.origin.flour", "aid.registered.kerem.flour", 1000, "consignment",
       "2026-11-01T00:00:00Z", meta={"organisation": "wfp", "crossing": "kerem",
                                     "items": [{"commodity": "flour", "quantity": 1000}],
                                     "pallets": 20, "trucks": {"screening": 1, "delivery": 2}}),
    tr("k1/screened/flour", "aid.registered.kerem.flour", "aid.screened.kerem.flour", 1000,
       "aid.screened", "2026-11-02T06:00:00Z"),
    tr("k1/entered/flour", "aid.screened.kerem.flour", "aid.entered.kerem.flour", 1000,
       "aid.entered", "2026-11-03T06:00:00Z"),
    tr("k1/entered/trucks", "aid.crossing.kerem.day.20261103", "aid.crossing.kerem.entered", 2,
       "aid.entered", "2026-11-03T06:00:00Z"),
    tr("k1/awaiting/flour", "aid.entered.kerem.flour", "aid.awaiting.kerem.flour", 1000,
       "aid.awaiting", "2026-11-03T12:00:00Z"),
    tr("k1/collected/flour", "aid.awaiting.kerem.flour", "aid.collected.kerem.flour", 1000,
       "aid.collected", "2026-11-04T12:00:00Z"),
    tr("k1/warehoused/flour", "aid.collected.kerem.flour", "aid.warehoused.wh1.flour", 1000,
       "aid.warehoused", "2026-11-05T12:00:00Z"),
    tr("k1/dispatched/flour", "aid.warehoused.wh1.flour", "aid.dispatched.wh1.flour", 1000,
       "aid.dispatched", "2026-11-06T00:00:00Z"),
    tr("k1/distributed/flour", "aid.dispatched.wh1.flour", "aid.distributed.p1.flour", 900,
       "aid.distributed", "2026-11-07T00:00:00Z"),
    tr("k1/damaged/flour", "aid.dispatched.wh1.flour", "aid.damaged.p1.flour", 60,
       "aid.damaged", "2026-11-07T00:00:00Z"),
    tr("k1/lost/flour", "aid.dispatched.wh1.flour", "aid.lost.wh1.flour", 40,
       "aid.lost", "2026-11-07T00:00:00Z"),
    # k2: 500 kg of oil, 100 kg of it rejected at screening; entered on an override.
    tr("k2", "aid.origin.oil", "aid.registered.kerem.oil", 500, "consignment",
       "2026-11-02T00:00:00Z", meta={"organisation": "unrwa", "crossing": "kerem",
                                     "items": [{"commodity": "oil", "quantity": 500}],
                                     "pallets": 5, "trucks": {"screening": 1, "delivery": 1}}),
    tr("k2/rejected/oil", "aid.registered.kerem.oil", "aid.rejected.kerem.oil", 100,
       "aid.rejected", "2026-11-02T12:00:00Z", meta={"reason": "dual-use"}),
    tr("k2/screened/oil", "aid.registered.kerem.oil", "aid.screened.kerem.oil", 400,
       "aid.screened", "2026-11-03T00:00:00Z"),
    tr("k2/entered/oil", "aid.screened.kerem.oil", "aid.entered.kerem.oil", 400,
       "aid.entered", "2026-11-03T12:00:00Z"),
    tr("k2/entered/trucks", "aid.crossing.kerem.override", "aid.crossing.kerem.entered", 1,
       "override", "2026-11-03T12:00:00Z"),
    # k3: 200 kg of flour, entered on the 5th.
    tr("k3", "aid.origin.flour", "aid.registered.kerem.flour", 200, "consignment",
       "2026-11-04T00:00:00Z", meta={"organisation": "wfp", "crossing": "kerem",
                                     "items": [{"commodity": "flour", "quantity": 200}],
                                     "pallets": 4, "trucks": {"screening": 1, "delivery": 1}}),
    tr("k3/screened/flour", "aid.registered.kerem.flour", "aid.screened.kerem.flour", 200,
       "aid.screened", "2026-11-04T12:00:00Z"),
    tr("k3/entered/flour", "aid.screened.kerem.flour", "aid.entered.kerem.flour", 200,
       "aid.entered", "2026-11-05T00:00:00Z"),
    tr("k3/entered/trucks", "aid.crossing.kerem.day.20261105", "aid.crossing.kerem.entered", 1,
       "aid.entered", "2026-11-05T00:00:00Z"),
]


class Reports(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.dbs = {}
        for name, ops in (("funding", FUNDING), ("force", FORCE), ("aid", AID)):
            db = os.path.join(cls.dir.name, name + ".db")
            cls.run_cc(db, "init")
            r = cls.run_cc(db, "apply", input="".join(json.dumps(o) + "\n" for o in ops))
            bad = [line for line in r.stdout.splitlines()
                   if json.loads(line)["status"] != "created"]
            assert not bad, f"{name} fixtures rejected: {bad}"
            cls.dbs[name] = db

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    @staticmethod
    def run_cc(db, *args, input=None, check=True):
        r = subprocess.run([CONCORD, "--db", db, *args], input=input, capture_output=True,
                           text=True, timeout=TIMEOUT)
        if check and r.returncode != 0:
            raise AssertionError(f"concord {' '.join(args)} exited {r.returncode}: {r.stderr}")
        return r

    def report(self, name, at=None, db=None):
        args = ["report", name, "--json"] + (["--at", at] if at else [])
        return json.loads(self.run_cc(db or self.dbs[name], *args).stdout)

    # ------------------------------------------------------------ funding

    def test_funding_totals(self):
        r = self.report("funding")
        self.assertEqual(r["unit"], "USD")
        self.assertIsNone(r["at"])
        self.assertEqual(r["totals"], {
            "required": 150000,       # r-health 1,000.00 + r-hq 500.00
            "pledged": 70000,         # p1 400.00 + p2 300.00 (p3 voided)
            "conditional": 30000,     # p2 hangs on elections
            "unconditional": 40000,   # p1
            "voided": 10000,          # p3
            "expired": 0,
            "pending": 30000,         # p2 (p1 resolved by its commitment)
            "committed": 30000,       # c1 250.00 of p1 + c2 50.00 direct
            "disbursed": 20000,       # d1
            "awaiting_approval": 3000,  # d2, pending
            "spent": 8000,            # e1
        })

    def test_funding_breakdowns(self):
        r = self.report("funding")
        # uk's only pledge was voided: it pledged nothing.
        self.assertEqual(r["by_donor"], [
            {"donor": "eg", "pledged": 30000, "conditional": 30000, "committed": 5000},
            {"donor": "us", "pledged": 40000, "conditional": 0, "committed": 25000},
        ])
        self.assertEqual(r["by_requirement"], [
            # p1 + p2 pledged; c1 committed; d1 disbursed; e1 spent
            {"requirement": "r-health", "required": 100000, "pledged": 70000,
             "committed": 25000, "disbursed": 20000, "awaiting_approval": 0, "spent": 8000},
            # c2 committed directly; d2 awaits approval
            {"requirement": "r-hq", "required": 50000, "pledged": 0, "committed": 5000,
             "disbursed": 0, "awaiting_approval": 3000, "spent": 0},
        ])
        self.assertEqual(r["by_condition"], [
            # p1 (c1 250.00) and the direct c2 (50.00) are unconditional
            {"condition": "(unconditional)", "pledged": 40000, "committed": 30000, "pending": 0},
            {"condition": "elections", "pledged": 30000, "committed": 0, "pending": 30000},
        ])
        self.assertEqual(r["by_month"], [
            {"month": "2026-10", "pledged": 70000, "committed": 0, "disbursed": 0, "spent": 0},
            {"month": "2026-11", "pledged": 0, "committed": 30000, "disbursed": 20000,
             "spent": 0},
            {"month": "2026-12", "pledged": 0, "committed": 0, "disbursed": 0, "spent": 8000},
        ])

    def test_funding_at(self):
        # Through 2026-10-31: only p1 and p2, both pending.
        r = self.report("funding", "2026-10-31")
        self.assertTrue(r["at"].startswith("2026-10-31T23:59:59"))
        t = r["totals"]
        self.assertEqual((t["pledged"], t["pending"], t["committed"], t["voided"],
                          t["disbursed"], t["spent"], t["required"]),
                         (70000, 70000, 0, 0, 0, 0, 150000))
        self.assertEqual(r["by_condition"][0],
                         {"condition": "(unconditional)", "pledged": 40000, "committed": 0,
                          "pending": 40000})
        self.assertEqual([m["month"] for m in r["by_month"]], ["2026-10"])
        # Through 2026-11-12: p3 voided (11-03), c1 posted 250.00 of p1 (11-10).
        t = self.report("funding", "2026-11-12")["totals"]
        self.assertEqual((t["pledged"], t["voided"], t["committed"], t["pending"],
                          t["disbursed"]), (70000, 10000, 25000, 30000, 0))

    def test_funding_table(self):
        out = self.run_cc(self.dbs["funding"], "report", "funding").stdout
        self.assertIn("700.00", out)      # pledged
        self.assertIn("1,500.00", out)    # required
        self.assertIn("r-health", out)
        self.assertIn("(unconditional)", out)

    # ------------------------------------------------------------ force

    def test_force_now(self):
        r = self.report("force")
        self.assertEqual(r["unit"], "PERSON")
        # c1: 100 deployed, 10 rotated out -> 90 deployed, 10 rotated;
        # c2: 50 certified, 30 deployed -> 20 certified, 30 deployed.
        self.assertEqual(r["stages"], {"pledged": 0, "accepted": 0, "training": 0,
                                       "certified": 20, "deployed": 120, "rotated": 10})
        c1, c2 = r["contingents"]
        self.assertEqual(c1, {"contingent": "c1", "nation": "fr", "type": "infantry",
                              "readiness": "2", "personnel": 100, "pledged": 0, "accepted": 0,
                              "training": 0, "certified": 0, "deployed": 90, "rotated": 10,
                              "days_to_deployment": 61})    # 09-01 -> 11-01: 29 + 31 + 1
        self.assertEqual(c2["days_to_deployment"], 57)      # 09-15 -> 11-11: 15 + 31 + 11
        self.assertEqual((c2["certified"], c2["deployed"]), (20, 30))
        # Over [57, 61], nearest rank: p50 = the 1st, p90 = the 2nd.
        self.assertEqual(r["deployment"], {"contingents": 2, "p50_days": 57, "p90_days": 61})
        self.assertEqual(r["targets"], [{"requirement": "r-troops", "account": "force.deployed.",
                                         "unit": "PERSON", "measure": "balance", "target": 200,
                                         "posted": 120}])

    def test_force_history_and_training(self):
        r = self.report("force")
        z = dict.fromkeys(STAGES, 0)
        self.assertEqual(r["history"], [
            # c1 pledged, accepted, into training; c2 pledged, accepted
            {"month": "2026-09", **z, "accepted": 50, "training": 100},
            # c2 into training, both certified
            {"month": "2026-10", **z, "certified": 150},
            # c1 100 and c2 30 deployed
            {"month": "2026-11", **z, "certified": 20, "deployed": 130},
            # c1 rotates 10 out
            {"month": "2026-12", **z, "certified": 20, "deployed": 120, "rotated": 10},
        ])
        self.assertEqual(r["training"], {
            # 120 seats - 100 - 50 + 100 + 50
            "courses": [{"course": "basic", "name": "Basic", "capacity": 120,
                         "duration_days": 30, "seats_free": 120, "in_training": 0,
                         "certified": 150}],
            "certified_by_month": [{"month": "2026-10", "certified": 150}],
        })
        self.assertEqual(r["reimbursement"], {
            "unit": "USD", "rate": "1500.00", "rate_source": "ledger",
            "per_person_month": 150000,              # $1,500.00
            "deployed": 120,
            "monthly": 18000000,                     # 120 x 1,500.00 = 180,000.00
            "next_12_months": 216000000,             # x 12 = 2,160,000.00
            "by_month": [
                {"month": "2026-09", "deployed": 0, "amount": 0},
                {"month": "2026-10", "deployed": 0, "amount": 0},
                {"month": "2026-11", "deployed": 130, "amount": 19500000},  # 130 x 1,500.00
                {"month": "2026-12", "deployed": 120, "amount": 18000000},
            ],
        })

    def test_force_at(self):
        # Through 2026-10-15: c1 (100) and c2 (50) in training; nobody deployed.
        r = self.report("force", "2026-10-15")
        self.assertEqual(r["stages"], {"pledged": 0, "accepted": 0, "training": 150,
                                       "certified": 0, "deployed": 0, "rotated": 0})
        self.assertEqual([h["month"] for h in r["history"]], ["2026-09", "2026-10"])
        self.assertEqual(r["deployment"], {"contingents": 0, "p50_days": None,
                                           "p90_days": None})
        self.assertEqual(r["training"]["courses"][0]["in_training"], 150)
        self.assertEqual(r["training"]["courses"][0]["seats_free"], 120 - 150 + 150 - 150)
        self.assertEqual((r["reimbursement"]["deployed"], r["reimbursement"]["monthly"]), (0, 0))

    def test_force_default_rate(self):
        # The aid ledger has no PERSON_MONTH rate: US$1,428.00 per person-month.
        r = self.report("force", db=self.dbs["aid"])
        self.assertEqual((r["reimbursement"]["rate"], r["reimbursement"]["rate_source"],
                          r["reimbursement"]["per_person_month"]),
                         ("1428.00", "default", 142800))
        self.assertEqual(r["contingents"], [])
        self.assertEqual(r["history"], [])

    # ------------------------------------------------------------ aid

    def test_aid_stock(self):
        r = self.report("aid")
        self.assertEqual(r["stock"], [
            {"stage": "entered", "location": "kerem", "commodity": "flour", "unit": "KG",
             "quantity": 200},       # k3
            {"stage": "entered", "location": "kerem", "commodity": "oil", "unit": "KG",
             "quantity": 400},       # k2: 500 - 100 rejected
            {"stage": "distributed", "location": "p1", "commodity": "flour", "unit": "KG",
             "quantity": 900},
            {"stage": "rejected", "location": "kerem", "commodity": "oil", "unit": "KG",
             "quantity": 100},
            {"stage": "damaged", "location": "p1", "commodity": "flour", "unit": "KG",
             "quantity": 60},
            {"stage": "lost", "location": "wh1", "commodity": "flour", "unit": "KG",
             "quantity": 40},
        ])
        self.assertEqual([(s["stage"], s["commodity"], s["quantity"])
                          for s in r["stock_by_commodity"]],
                         [("entered", "flour", 200), ("entered", "oil", 400),
                          ("distributed", "flour", 900), ("rejected", "oil", 100),
                          ("damaged", "flour", 60), ("lost", "flour", 40)])

    def test_aid_crossings_dwell(self):
        r = self.report("aid")
        self.assertEqual(r["crossings"], [
            # k1: 2 trucks of the day's 2 + k2: 1 on an override; 1,000 + 400 kg
            {"crossing": "kerem", "day": "2026-11-03", "trucks": 3, "overrides": 1,
             "kg": 1400, "capacity": 2},
            {"crossing": "kerem", "day": "2026-11-05", "trucks": 1, "overrides": 0,
             "kg": 200, "capacity": 2},
        ])
        self.assertEqual(r["dwell"], [
            # registered: k1 30 h, k2 24 h, k3 12 h -> [12, 24, 30]
            {"stage": "registered", "consignments": 3, "p50_hours": 24, "p90_hours": 30},
            # screened: k1 24 h, k2 12 h, k3 12 h -> [12, 12, 24]
            {"stage": "screened", "consignments": 3, "p50_hours": 12, "p90_hours": 24},
            {"stage": "entered", "consignments": 1, "p50_hours": 6, "p90_hours": 6},
            {"stage": "awaiting", "consignments": 1, "p50_hours": 24, "p90_hours": 24},
            {"stage": "collected", "consignments": 1, "p50_hours": 24, "p90_hours": 24},
            {"stage": "warehoused", "consignments": 1, "p50_hours": 12, "p90_hours": 12},
            {"stage": "dispatched", "consignments": 1, "p50_hours": 24, "p90_hours": 24},
        ])

    def test_aid_delivery_losses(self):
        r = self.report("aid")
        # One distribution day (11-07): need 300 kg, 900 delivered.
        self.assertEqual(r["delivery"], {
            "from": "2026-11-07", "to": "2026-11-07", "days": 1,
            "points": [{"point": "p1", "name": "Camp One", "population": 5000,
                        "commodity": "flour", "unit": "KG", "need_per_day": 300, "need": 300,
                        "delivered": 900, "shortfall": 0},
                       {"point": "p2", "name": "Camp Two", "population": 100,
                        "commodity": "oil", "unit": "KG", "need_per_day": 50, "need": 50,
                        "delivered": 0, "shortfall": 50}]})
        self.assertEqual(r["losses"], [
            {"stage": "damaged", "commodity": "flour", "unit": "KG", "moves": 1, "quantity": 60},
            {"stage": "lost", "commodity": "flour", "unit": "KG", "moves": 1, "quantity": 40},
        ])
        self.assertEqual(r["rejections"], [{"reason": "dual-use", "commodity": "oil",
                                            "unit": "KG", "count": 1, "quantity": 100}])

    def test_aid_at(self):
        # Through 2026-11-10: 11-07 to 11-10 is 4 days, need 4 x 300 = 1,200 kg.
        p = self.report("aid", "2026-11-10")["delivery"]
        self.assertEqual((p["from"], p["to"], p["days"]), ("2026-11-07", "2026-11-10", 4))
        self.assertEqual((p["points"][0]["need"], p["points"][0]["shortfall"]), (1200, 300))
        # Through 2026-11-03: k1 waits for collection, k2 has entered, k3 not yet registered.
        r = self.report("aid", "2026-11-03")
        self.assertEqual([(s["stage"], s["commodity"], s["quantity"]) for s in r["stock"]],
                         [("entered", "oil", 400), ("awaiting", "flour", 1000),
                          ("rejected", "oil", 100)])
        self.assertEqual([(c["day"], c["trucks"], c["kg"]) for c in r["crossings"]],
                         [("2026-11-03", 3, 1400)])
        self.assertEqual((r["delivery"]["days"], r["delivery"]["points"][0]["delivered"]), (0, 0))
        self.assertEqual(r["losses"], [])

    def test_aid_table(self):
        out = self.run_cc(self.dbs["aid"], "report", "aid").stdout
        self.assertIn("0.900 t", out)     # 900 kg distributed
        self.assertIn("1.400 t", out)     # 1,400 kg through kerem on 11-03
        self.assertIn("dual-use", out)

    # ------------------------------------------------------------ usage

    def test_usage(self):
        db = self.dbs["funding"]
        self.assertEqual(self.run_cc(db, "report", "budget", check=False).returncode, 2)
        self.assertEqual(self.run_cc(db, "report", check=False).returncode, 2)
        self.assertEqual(self.run_cc(db, "report", "aid", "--at", "soon",
                                     check=False).returncode, 2)

    def test_unrelated_transfers(self):
        # Transfers between accounts outside the schemes, some of whose ids
        # only look like theirs (fundx., aid_, donors.), change no report.
        for name, ops in (("funding", FUNDING), ("force", FORCE), ("aid", AID)):
            unit = next(o["unit"] for o in ops if o["op"] == "account")
            noise_ids = ("fundx.a", "aid_b", "donors.c", "forcex.d", "spentx.e", "ops.f")
            noise = accounts(unit, *noise_ids)
            for i in range(60):
                noise.append({"op": "transfer", "id": f"noise{i}",
                              "debit": noise_ids[i % 6], "credit": noise_ids[(i + 1) % 6],
                              "amount": 1 + i, "date": f"2026-11-0{1 + i % 5}"})
            db = os.path.join(self.dir.name, name + "-noise.db")
            self.run_cc(db, "init")
            r = self.run_cc(db, "apply",
                            input="".join(json.dumps(o) + "\n" for o in ops + noise))
            self.assertTrue(all(json.loads(line)["status"] == "created"
                                for line in r.stdout.splitlines()), r.stdout)
            for at in (None, "2026-11-03"):
                self.assertEqual(self.report(name, at, db=db), self.report(name, at),
                                 f"{name} at {at}")

    def test_overview(self):
        # The overview is the three reports' parts, from one reading of the rows.
        for name in ("funding", "force", "aid"):
            db = self.dbs[name]
            for at in (None, "2026-11-03"):
                o = self.report("overview", at, db=db)
                f, fo, a = (self.report(n, at, db=db) for n in ("funding", "force", "aid"))
                self.assertEqual(list(o), ["at", "funding", "force", "aid"])
                self.assertEqual(o["at"], f["at"])
                self.assertEqual(o["funding"], {k: f[k] for k in ("unit", "totals", "by_condition")})
                self.assertEqual(o["force"], {k: fo[k] for k in ("unit", "stages", "targets",
                                                                 "deployment")})
                self.assertEqual(o["aid"], {"delivery": a["delivery"]})
        text = self.run_cc(self.dbs["funding"], "report", "overview").stdout
        self.assertIn("funding / totals", text)
        self.assertRegex(text, r"\n  required +1,500\.00\n")  # the two requirements, in dollars

    # ------------------------------------------------------------ HTTP

    def test_http_same_json(self):
        for name in ("funding", "force", "aid", "overview"):
            db = self.dbs[name if name != "overview" else "funding"]
            token = json.loads(self.run_cc(db, "token", "create", "--user", "u", "--role",
                                           "admin", "--json").stdout)["token"]
            server = test_http.Server(db, quiet=True)
            try:
                for at in (None, "2026-11-03"):
                    path = f"/v1/reports/{name}" + (f"?at={at}" if at else "")
                    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
                    conn.request("GET", path, headers={"Authorization": "Bearer " + token})
                    resp = conn.getresponse()
                    body = resp.read()
                    conn.close()
                    self.assertEqual(resp.status, 200, f"{path}: {body!r}")
                    self.assertEqual(json.loads(body), self.report(name, at, db=db), path)
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
                conn.request("GET", f"/v1/reports/{name}?at=nope",
                             headers={"Authorization": "Bearer " + token})
                self.assertEqual(conn.getresponse().status, 400)
                conn.close()
            finally:
                server.stop()


if __name__ == "__main__":
    CONCORD = os.path.abspath(sys.argv.pop(1))
    test_http.CONCORD = CONCORD
    unittest.main(verbosity=1)
