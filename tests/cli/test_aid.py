#!/usr/bin/env python3
"""The aid pipeline end to end, through the command line and the API.

Each test builds a small mission on a fresh database: the units KG, LITRE,
TRUCK, PALLET and PERSON, an organisation, two commodities (flour in KG,
water in LITRE), a crossing of 3 trucks and 5 screenings a day, a warehouse
and a distribution point, all defined with the aid operations. It then sends
consignments through their stages with `consignment_move` and checks the
balances the steps leave on the stage accounts, every refusal and that a
refusal writes nothing, the crossing's daily capacity and its overrides, the
proof of delivery, idempotency, and that the audit log replays it all.

usage: test_aid.py CONCORD_BINARY [unittest arguments]
"""
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import unittest

CONCORD = None

SETUP = [
    {"op": "unit", "code": "KG", "scale": 0},
    {"op": "unit", "code": "LITRE", "scale": 0},
    {"op": "unit", "code": "TRUCK", "scale": 0},
    {"op": "unit", "code": "PALLET", "scale": 0},
    {"op": "unit", "code": "PERSON", "scale": 0},
    {"op": "organisation", "id": "wfp", "name": "World Food Programme"},
    {"op": "commodity", "id": "flour", "name": "Wheat flour"},
    {"op": "commodity", "id": "water", "name": "Drinking water", "unit": "LITRE"},
    {"op": "crossing", "id": "rafah", "name": "Rafah", "trucks_per_day": 3,
     "screening_per_day": 5},
    {"op": "warehouse", "id": "deir", "name": "Deir al-Balah", "capacity_kg": 500000},
    {"op": "distribution_point", "id": "camp7", "name": "Camp 7", "population": 12000,
     "need": {"flour": 1200, "water": 36000}},
]

STAGES = ["registered", "screened", "entered", "awaiting", "collected", "warehoused",
          "dispatched", "distributed"]

DAY1 = "2026-03-02T08:00:00Z"
DAY1_LATER = "2026-03-02T15:30:00Z"
DAY2 = "2026-03-03T07:00:00Z"


def lines(*ops):
    return "".join(json.dumps(o) + "\n" for o in ops)


def consignment(ident, items=(("flour", 1000),), trucks=1, date=DAY1, **extra):
    op = {"op": "consignment", "id": ident, "organisation": "wfp", "crossing": "rafah",
          "items": [{"commodity": c, "quantity": q} for c, q in items], "pallets": 20,
          "trucks": {"screening": trucks, "delivery": trucks + 1}}
    if date is not None:
        op["date"] = date
    op.update(extra)
    return op


def move(ident, to, date=DAY1, **extra):
    op = {"op": "consignment_move", "id": f"{ident}.{to}", "consignment": ident, "to": to}
    if date is not None:
        op["date"] = date
    if to == "screened" and "decision" not in extra:
        op["decision"] = "cleared"
    if to == "warehoused" and "warehouse" not in extra:
        op["warehouse"] = "deir"
    if to == "dispatched" and "point" not in extra:
        op["point"] = "camp7"
    op.update(extra)
    return op


class Aid(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.db = os.path.join(self.dir.name, "aid.db")
        self.assertEqual(self.cc("init").returncode, 0)
        results = self.apply(*SETUP)
        self.assertEqual([r["status"] for r in results], ["created"] * len(SETUP), results)

    def tearDown(self):
        self.dir.cleanup()

    def cc(self, *args, input=None):
        cmd = [CONCORD, "--db", self.db] + list(args)
        return subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=120)

    def apply(self, *ops):
        r = self.cc("apply", input=lines(*ops))
        self.assertIn(r.returncode, (0, 1), r.stderr)
        return [json.loads(line) for line in r.stdout.splitlines()]

    def ok(self, *ops):
        results = self.apply(*ops)
        self.assertEqual([r["status"] for r in results], ["created"] * len(ops), results)
        return results

    def net(self, prefix):
        """credits − debits posted over the accounts under prefix (0 when there are none)."""
        r = self.cc("balance", "--prefix", prefix, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = json.loads(r.stdout)
        return sum(row["credits_posted"] - row["debits_posted"] for row in rows)

    def stage(self, stage, commodity):
        """How much of a commodity is at a stage, over every location."""
        r = self.cc("account", "list", "--prefix", f"aid.{stage}", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        total = 0
        for account in json.loads(r.stdout):
            if account["id"].endswith("." + commodity):
                total += self.net(account["id"])
        return total

    def transfer(self, ident):
        r = self.cc("transfer", "show", ident, "--json")
        return json.loads(r.stdout) if r.returncode == 0 else None

    def account(self, ident):
        r = self.cc("account", "show", ident, "--json")
        return json.loads(r.stdout) if r.returncode == 0 else None

    def events(self):
        """How many events the audit log holds: a batch that wrote nothing adds none."""
        r = self.cc("checkpoint", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)["size"]

    def refused(self, op, status="invalid", contains=None):
        """op is refused with status (its message containing `contains`), writing nothing."""
        before = self.events()
        r = self.apply(op)
        self.assertEqual(r[0]["status"], status, r)
        if contains is not None:
            self.assertIn(contains, r[0].get("message", ""), r)
        self.assertEqual(self.events(), before, "a refused operation wrote an event")
        return r[0]

    def through(self, ident, last, **moves):
        """Moves consignment ident through every stage after registered up to last."""
        for to in STAGES[1:STAGES.index(last) + 1]:
            r = self.apply(move(ident, to, **moves.get(to, {})))
            self.assertEqual(r[0]["status"], "created", (to, r))

    def intact(self):
        r = self.cc("verify")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("intact", r.stdout)
        r = self.cc("check")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    # ------------------------------------------------------------ definitions

    def test_definitions_make_their_accounts_and_records(self):
        self.assertEqual(self.account("aid.org.wfp.trucks")["unit"], "TRUCK")
        self.assertEqual(self.account("aid.org.wfp.trucks")["owner"], "wfp")
        parties = json.loads(self.cc("party", "list", "--json").stdout)
        self.assertIn(("wfp", "organisation"), [(p["id"], p["kind"]) for p in parties])
        self.assertEqual(self.account("aid.commodity.water")["unit"], "LITRE")
        self.assertEqual(self.account("aid.commodity.flour")["unit"], "KG")
        self.assertEqual(self.account("aid.commodity.flour")["name"], "Wheat flour")
        for suffix in ("capacity", "declared", "override", "used", "screened_trucks"):
            self.assertEqual(self.account(f"aid.crossing.rafah.{suffix}")["unit"], "TRUCK")
        crossing = self.transfer("crossing.rafah")
        self.assertEqual((crossing["debit"], crossing["credit"], crossing["amount"],
                          crossing["kind"]),
                         ("aid.crossing.rafah.capacity", "aid.crossing.rafah.declared", 3,
                          "crossing"))
        self.assertEqual(crossing["meta"], {"name": "Rafah", "trucks_per_day": 3,
                                            "screening_per_day": 5})
        warehouse = self.transfer("warehouse.deir")
        self.assertEqual((warehouse["credit"], warehouse["amount"], warehouse["kind"]),
                         ("aid.site.deir.declared", 500000, "warehouse"))
        point = self.transfer("point.camp7")
        self.assertEqual((point["credit"], point["amount"], point["kind"]),
                         ("aid.point.camp7.population", 12000, "distribution_point"))
        self.assertEqual(point["meta"]["need"], {"flour": 1200, "water": 36000})
        # Defined again, the same: every step exists.
        self.assertEqual([r["status"] for r in self.apply(*SETUP[5:])], ["exists"] * 6)

    # ------------------------------------------------------------ the whole way

    def test_a_consignment_through_every_stage(self):
        self.ok(consignment("c1", items=(("flour", 1000), ("water", 2000)), trucks=2))
        master = self.transfer("c1")
        self.assertEqual((master["debit"], master["credit"], master["amount"], master["kind"]),
                         ("aid.org.wfp.trucks", "aid.consignments", 2, "consignment"))
        self.assertEqual(master["meta"], {
            "organisation": "wfp", "crossing": "rafah", "pallets": 20,
            "items": [{"commodity": "flour", "quantity": 1000},
                      {"commodity": "water", "quantity": 2000}],
            "trucks": {"screening": 2, "delivery": 3}})
        self.assertEqual(self.net("aid.registered.rafah.flour"), 1000)
        self.assertEqual(self.net("aid.registered.rafah.water"), 2000)
        self.assertEqual(self.account("aid.registered.rafah.water")["unit"], "LITRE")
        self.assertEqual(self.account("aid.registered.rafah.water")["flags"],
                         ["debits_must_not_exceed_credits"])
        self.assertEqual(self.net("aid.source.wfp.flour"), -1000)
        where = {"flour": 1000, "water": 2000}
        for i, to in enumerate(STAGES[1:-1], start=1):
            r = self.apply(move("c1", to, date=f"2026-03-0{min(i + 1, 9)}T09:00:00Z"))
            self.assertEqual(r[0]["status"], "created", (to, r))
            for commodity, quantity in where.items():
                self.assertEqual(self.stage(to, commodity), quantity, (to, commodity))
                self.assertEqual(self.stage(STAGES[i - 1], commodity), 0, (to, commodity))
            record = self.transfer(f"c1/{to}/flour")
            self.assertEqual(record["kind"], f"aid.{to}")
            self.assertEqual(record["meta"]["consignment"], "c1")
        self.assertEqual(self.net("aid.entered.rafah.flour"), 0)
        self.assertEqual(self.net("aid.warehoused.deir.water"), 0)
        self.assertEqual(self.net("aid.dispatched.camp7.water"), 2000)
        self.assertEqual(self.transfer("c1/collected/water")["meta"]["delivery_trucks"], 3)
        self.assertEqual(self.transfer("c1/warehoused/flour")["meta"]["warehouse"], "deir")
        self.assertEqual(self.transfer("c1/dispatched/flour")["meta"]["point"], "camp7")
        # Screening and entry each took the consignment's two trucks from their day.
        self.assertEqual(self.net("aid.crossing.rafah.screened_trucks"), 2)
        self.assertEqual(self.net("aid.crossing.rafah.used"), 2)
        self.assertEqual(self.net("aid.crossing.rafah.screening.20260302"), 3)
        self.assertEqual(self.net("aid.crossing.rafah.day.20260303"), 1)
        self.assertEqual(self.transfer("c1/entered/trucks")["date"][:10], "2026-03-03")
        # Proof of delivery: flour all good, water partly damaged and lost.
        r = self.apply(move("c1", "distributed", date="2026-03-09",
                            received={"flour": {"good": 1000},
                                      "water": {"good": 1900, "damaged": 60, "lost": 40}}))
        self.assertEqual(r[0]["status"], "created", r)
        self.assertEqual(self.net("aid.distributed.camp7.flour"), 1000)
        self.assertEqual(self.net("aid.distributed.camp7.water"), 1900)
        self.assertEqual(self.net("aid.damaged.camp7.water"), 60)
        self.assertEqual(self.net("aid.lost.camp7.water"), 40)
        self.assertEqual(self.net("aid.dispatched.camp7"), 0)
        self.assertIsNone(self.transfer("c1/damaged/flour"))  # only the parts that are not zero
        self.assertIsNone(self.account("aid.lost.camp7.flour"))
        lost = self.transfer("c1/lost/water")
        self.assertEqual((lost["kind"], lost["amount"], lost["credit"]),
                         ("aid.lost", 40, "aid.lost.camp7.water"))
        self.assertEqual(lost["meta"]["received"], {"good": 1900, "damaged": 60, "lost": 40})
        # Nothing moves twice: a later stage again only answers exists.
        self.assertEqual(self.apply(move("c1", "warehoused", date="2026-03-06T09:00:00Z"))[0]
                         ["status"], "exists")
        self.intact()

    # ------------------------------------------------------------ refusals

    def test_rejected_at_screening_goes_no_further(self):
        self.ok(consignment("c2"))
        r = self.apply(move("c2", "screened", decision="rejected"))
        self.assertEqual(r[0]["status"], "invalid", r)
        self.assertIn("reason", r[0]["message"])
        self.ok(move("c2", "screened", decision="rejected", reason="dual-use items"))
        self.assertEqual(self.net("aid.rejected.rafah.flour"), 1000)
        self.assertEqual(self.net("aid.registered.rafah.flour"), 0)
        rejected = self.transfer("c2/rejected/flour")
        self.assertEqual((rejected["kind"], rejected["memo"], rejected["meta"]["reason"]),
                         ("aid.rejected", "dual-use items", "dual-use items"))
        self.assertIsNone(self.transfer("c2/screened/flour"))
        # Screening took its truck all the same.
        self.assertEqual(self.net("aid.crossing.rafah.screened_trucks"), 1)
        self.refused(move("c2", "entered"), contains="rejected at screening")
        self.assertIsNone(self.transfer("c2/entered/flour"))
        self.assertIsNone(self.transfer("c2/entered/trucks"))
        self.assertIsNone(self.account("aid.crossing.rafah.day.20260302"))
        # Cleared after being rejected: refused, the goods are not screened twice.
        self.refused(move("c2", "screened"), contains="already rejected")
        self.intact()

    def test_skipped_stages_are_refused_and_write_nothing(self):
        self.ok(consignment("c3", items=(("flour", 500), ("water", 700))))
        refusal = self.refused(move("c3", "entered"), contains="not screened yet")
        self.assertIn("consignment c3", refusal["message"])
        self.assertIsNone(self.transfer("c3/entered/flour"))
        self.assertIsNone(self.account("aid.entered.rafah.flour"))
        self.through("c3", "entered")
        self.refused(move("c3", "warehoused"), contains="not collected yet")
        self.refused(move("c3", "distributed", received={"flour": {"good": 500},
                                                       "water": {"good": 700}}),
                     contains="not dispatched yet")
        self.assertEqual(self.stage("entered", "flour"), 500)
        self.assertEqual(self.stage("entered", "water"), 700)
        self.assertIsNone(self.account("aid.warehoused.deir.flour"))
        self.refused(move("nothing", "screened"), contains="consignment nothing")
        self.refused(move("c3", "registered"), contains="to:")
        self.intact()

    def test_unknown_definitions_are_named(self):
        for op, contains in [
                (consignment("u1", items=(("rice", 10),)), "commodity rice is not defined"),
                (consignment("u2", crossing="kerem"), "crossing kerem is not defined"),
                (consignment("u3", organisation="unicef"), "organisation unicef is not defined"),
                (consignment("u4", items=(("flour", 1), ("flour", 2))), "listed twice"),
                ({"op": "distribution_point", "id": "p9", "name": "P9", "population": 10,
                  "need": {"rice": 3}}, "commodity rice is not defined")]:
            self.refused(op, contains=contains)
        self.ok(consignment("c4"))
        self.through("c4", "collected")
        self.refused(move("c4", "warehoused", warehouse="gaza"),
                     contains="warehouse gaza is not defined")
        self.refused(move("c4", "warehoused", point="camp7"), contains="point: not for")
        self.ok(move("c4", "warehoused"))
        self.refused(move("c4", "dispatched", point="camp9"),
                     contains="distribution point camp9 is not defined")
        self.assertIsNone(self.transfer("u1"))
        self.intact()

    # ------------------------------------------------------------ capacity

    def test_a_crossing_takes_its_trucks_per_day_and_overrides_are_recorded(self):
        self.ok(*[consignment(f"k{i}") for i in range(1, 6)])
        results = self.apply(*[move(f"k{i}", "screened") for i in range(1, 6)])
        self.assertEqual([r["status"] for r in results], ["created"] * 5, results)
        # A sixth screening that day is beyond the crossing's five.
        self.ok(consignment("k6"))
        r = self.apply(move("k6", "screened"))
        self.assertEqual(r[0]["status"], "exceeds_credits", r)
        self.assertIn("k6/screened/trucks", r[0]["message"])
        # Three trucks enter on day 1; the fourth is refused by the day's capacity.
        results = self.apply(*[move(f"k{i}", "entered", date=DAY1_LATER) for i in (1, 2, 3)])
        self.assertEqual([r["status"] for r in results], ["created"] * 3, results)
        before = self.events()
        r = self.apply(move("k4", "entered", date=DAY1_LATER))
        self.assertEqual(r[0]["status"], "exceeds_credits", r)
        self.assertIn("k4/entered/trucks", r[0]["message"])
        self.assertEqual(self.events(), before)
        self.assertIsNone(self.transfer("k4/entered/flour"))
        self.assertEqual(self.net("aid.crossing.rafah.day.20260302"), 0)
        # The fifth enters the same day under an override, which is recorded.
        self.ok(move("k5", "entered", date=DAY1_LATER,
                     override={"reason": "medical convoy, cleared by the coordinator"}))
        trucks = self.transfer("k5/entered/trucks")
        self.assertEqual((trucks["debit"], trucks["credit"], trucks["kind"], trucks["memo"]),
                         ("aid.crossing.rafah.override", "aid.crossing.rafah.used", "override",
                          "medical convoy, cleared by the coordinator"))
        self.assertEqual(trucks["meta"]["reason"], "medical convoy, cleared by the coordinator")
        self.assertEqual(self.net("aid.crossing.rafah.override"), -1)
        self.assertEqual(self.net("aid.crossing.rafah.used"), 4)
        self.assertEqual(self.net("aid.entered.rafah.flour"), 4000)
        # The next day's capacity is fresh.
        self.ok(move("k4", "entered", date=DAY2))
        self.assertEqual(self.net("aid.crossing.rafah.day.20260303"), 2)
        funding = self.transfer("crossing.rafah.day.20260303")
        self.assertEqual((funding["debit"], funding["amount"], funding["date"]),
                         ("aid.crossing.rafah.capacity", 3, "2026-03-03"))  # the day's start
        self.intact()

    # ------------------------------------------------------------ proof of delivery

    def test_proof_of_delivery_adds_up_to_what_was_dispatched(self):
        self.ok(consignment("c5", items=(("flour", 800), ("water", 300))))
        self.through("c5", "dispatched")
        good = {"flour": {"good": 800}, "water": {"good": 300}}
        self.refused(move("c5", "distributed", received={"flour": {"good": 700, "damaged": 101},
                                                       "water": {"good": 300}}),
                     contains="delivering more than was dispatched")
        self.refused(move("c5", "distributed", received={"flour": {"good": 790},
                                                       "water": {"good": 300}}),
                     contains="10 of the 800 dispatched are missing")
        self.refused(move("c5", "distributed", received={"flour": {"good": 800}}),
                     contains="water: required for every item")
        self.refused(move("c5", "distributed", received=dict(good, rice={"good": 1})),
                     contains="rice is not an item")
        self.refused(move("c5", "distributed", received={"flour": {"good": 800, "stolen": 0},
                                                       "water": {"good": 300}}),
                     contains="stolen: unknown field")
        self.refused(move("c5", "distributed"), contains="received: required")
        self.ok(move("c5", "distributed", received={"flour": {"good": 600, "damaged": 150,
                                                              "lost": 50},
                                                    "water": {"lost": 300}}))
        self.assertEqual(self.net("aid.distributed.camp7.flour"), 600)
        self.assertEqual(self.net("aid.damaged.camp7.flour"), 150)
        self.assertEqual(self.net("aid.lost.camp7.flour"), 50)
        self.assertEqual(self.net("aid.lost.camp7.water"), 300)
        self.assertIsNone(self.transfer("c5/distributed/water"))
        # Another proof for the same consignment cannot move the goods again.
        self.refused(move("c5", "distributed", received=good), contains="already delivered")
        self.assertEqual(self.net("aid.distributed.camp7.water"), 0)
        self.intact()

    # ------------------------------------------------------------ batches

    def test_the_same_batch_twice_exists_and_changes_nothing(self):
        batch = [consignment("c6", items=(("flour", 400), ("water", 900)), date=None,
                             linked=True),
                 move("c6", "screened", date=None, linked=True),
                 move("c6", "entered", date=None)]
        first = self.apply(*batch)
        self.assertEqual([r["status"] for r in first], ["created"] * 3, first)
        before = {p: self.net(p) for p in ("aid.entered", "aid.registered", "aid.source",
                                           "aid.crossing.rafah")}
        events = self.events()
        again = self.apply(*batch)
        self.assertEqual([r["status"] for r in again], ["exists"] * 3, again)
        self.assertEqual({p: self.net(p) for p in before}, before)
        self.assertEqual(self.events(), events)
        # A move without a date, sent again in a later batch, finds its first date.
        self.assertEqual(self.apply(move("c6", "awaiting", date=None))[0]["status"], "created")
        self.assertEqual(self.apply(move("c6", "awaiting", date=None))[0]["status"], "exists")
        # The same move under another id is another operation: refused, nothing moves twice.
        other = dict(move("c6", "awaiting", date=None), id="c6.awaiting-again")
        self.assertEqual(self.apply(other)[0]["status"], "exists_with_different_fields")
        self.intact()

    def test_a_move_after_an_unlinked_one_in_the_same_batch_is_refused(self):
        self.ok(consignment("c7"))
        r = self.apply(move("c7", "screened"), move("c7", "entered"))
        self.assertEqual([x["status"] for x in r], ["created", "invalid"], r)
        self.assertIn("link the two", r[1]["message"])
        self.assertIsNone(self.transfer("c7/entered/flour"))
        # Linked, the chain holds or fails whole: here it holds.
        r = self.apply(move("c7", "entered", linked=True), move("c7", "awaiting"))
        self.assertEqual([x["status"] for x in r], ["created", "created"], r)
        # Linked behind a move that fails, the next one fails with it.
        self.ok(consignment("c8", trucks=9))
        r = self.apply(move("c8", "screened", linked=True), move("c8", "entered"))
        self.assertEqual([x["status"] for x in r], ["exceeds_credits", "linked_event_failed"], r)
        self.assertIsNone(self.transfer("c8/screened/flour"))
        self.intact()

    # ------------------------------------------------------------ the API

    def test_consignment_and_move_through_post_v1_batch(self):
        token = json.loads(self.cc("token", "create", "--user", "u", "--role", "admin",
                                   "--json").stdout)["token"]
        proc = subprocess.Popen([CONCORD, "--db", self.db, "serve", "--listen", "127.0.0.1:0",
                                 "--threads", "2"], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            port = None
            for line in proc.stderr:
                m = re.match(r"^concord: listening on http://127\.0\.0\.1:(\d+)\s*$", line)
                if m:
                    port = int(m.group(1))
                    break
            self.assertIsNotNone(port, "the server did not say where it listens")
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            body = json.dumps([consignment("h1", items=(("flour", 250), ("water", 90)),
                                           linked=True),
                               move("h1", "screened")])
            conn.request("POST", "/v1/batch", body=body,
                         headers={"Authorization": "Bearer " + token,
                                  "Content-Type": "application/json"})
            resp = conn.getresponse()
            results = json.loads(resp.read())
            conn.close()
            self.assertEqual(resp.status, 200, results)
            self.assertEqual([(r["op"], r["status"]) for r in results],
                             [("consignment", "created"), ("consignment_move", "created")],
                             results)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("POST", "/v1/batch", body=json.dumps([move("h1", "entered")]),
                         headers={"Authorization": "Bearer " + token,
                                  "Content-Type": "application/json"})
            resp = conn.getresponse()
            results = json.loads(resp.read())
            conn.close()
            self.assertEqual(resp.status, 200, results)
            self.assertEqual([r["status"] for r in results], ["created"], results)
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assertNotRegex(err, r"AddressSanitizer|runtime error:")
        self.assertEqual(self.net("aid.entered.rafah.flour"), 250)
        self.assertEqual(self.net("aid.entered.rafah.water"), 90)
        self.assertEqual(self.transfer("h1/screened/water")["kind"], "aid.screened")
        self.intact()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: test_aid.py CONCORD_BINARY [unittest arguments]")
    CONCORD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
