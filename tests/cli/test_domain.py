#!/usr/bin/env python3
"""What every domain operation owes the audit log and the other parties.

- A line refused as it was read (an unknown field) is invisible to the
  operations after it: the log keeps nothing of it, so replay must expand
  them the same way, and `verify` stays intact.
- A proof of a transfer a domain operation made verifies offline: the event
  lists the records its steps created.
- An editor's operations cannot read another party's records: a move of
  another nation's contingent reads exactly like a move of none, and ids of
  the forms the operations derive cannot be taken by hand.
- As commands, decimals typed for text fields stay text; an integer meant
  as text is quoted as JSON.
- What an operation makes (units, parties, accounts) stands apart from the
  rest of it, for the operations after it; the operation stays whole: a
  maker refused writes nothing of it.

usage: test_domain.py CONCORD_BINARY [unittest arguments]
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

CONCORD = None

SETUP = [
    {"op": "unit", "code": "USD", "scale": 2},
    {"op": "unit", "code": "PERSON", "scale": 0},
    {"op": "party", "id": "fund", "kind": "fund"},
    {"op": "account", "id": "fund.pool", "unit": "USD", "owner": "fund"},
    {"op": "party", "id": "bd", "kind": "nation"},
    {"op": "party", "id": "eg", "kind": "nation"},
    {"op": "donor", "id": "us", "name": "United States"},
    {"op": "contingent", "id": "bd-inf-1", "nation": "bd", "type": "infantry",
     "personnel": 300, "readiness": "2", "date": "2026-09-01"},
]


def lines(*ops):
    return "".join(json.dumps(o) + "\n" for o in ops)


class Domain(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.db = os.path.join(self.dir.name, "d.db")
        self.assertEqual(self.cc("init").returncode, 0)
        results = self.apply(*SETUP)
        self.assertTrue(all(r["status"] == "created" for r in results), results)

    def tearDown(self):
        self.dir.cleanup()

    def cc(self, *args, input=None):
        return subprocess.run([CONCORD, "--db", self.db] + list(args), input=input,
                              capture_output=True, text=True, timeout=120)

    def apply(self, *ops, token=None):
        args = (["--token", token] if token else []) + ["apply"]
        r = self.cc(*args, input=lines(*ops))
        self.assertIn(r.returncode, (0, 1), r.stderr)
        return [json.loads(line) for line in r.stdout.splitlines()]

    def editor(self, user, party):
        r = self.cc("token", "create", "--user", user, "--role", "editor", "--party", party,
                    "--json")
        return json.loads(r.stdout)["token"]

    def test_a_refused_line_is_invisible_to_the_operations_after_it(self):
        r = self.apply(
            {"op": "transfer", "id": "k1", "debit": "force.nations.bd",
             "credit": "force.pledged.k1", "amount": 5, "bogus": 1},
            {"op": "contingent_move", "id": "m1", "contingent": "k1", "to": "accepted"},
            {"op": "account", "id": "x.y", "unit": "USD", "bogus": 1},
            {"op": "pledge", "id": "p1", "donor": "us", "amount": 5})
        self.assertEqual([x["status"] for x in r], ["invalid", "invalid", "invalid", "created"], r)
        self.assertIn("no such contingent", r[1]["message"])
        v = self.cc("verify")
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)

    def test_what_an_operation_makes_stands_apart_and_it_stays_whole(self):
        # An operation refused after its accounts were made (here: its transfer exists
        # with other fields) leaves them; the next operation of the batch, which uses
        # them, is recorded. Nothing else of the refused one is written.
        self.apply({"op": "account", "id": "force.salaries", "unit": "USD", "owner": "fund"},
                   {"op": "account", "id": "src", "unit": "USD"},
                   {"op": "transfer", "id": "f1", "debit": "src", "credit": "force.salaries",
                    "amount": 100000},
                   {"op": "transfer", "id": "e-1", "debit": "src", "credit": "fund.pool",
                    "amount": 1})
        r = self.apply({"op": "expenditure", "id": "e-1", "from": "force.salaries",
                        "amount": 5000},
                       {"op": "expenditure", "id": "e-2", "from": "force.salaries",
                        "amount": 7000})
        self.assertEqual([x["status"] for x in r], ["exists_with_different_fields", "created"], r)
        # A maker refused (an account there with other fields; an editor's account it may
        # not make) refuses the operation whole: nothing of it is written, every time.
        other = {"op": "expenditure", "id": "e-3", "from": "force.salaries", "amount": 10}
        self.apply({"op": "account", "id": "spent.fund.pool", "unit": "USD", "name": "x"})
        for _ in range(2):
            r = self.apply({"op": "expenditure", "id": "e-3", "from": "fund.pool", "amount": 1})
            self.assertEqual(r[0]["status"], "exists_with_different_fields", r)
            self.assertNotEqual(self.cc("transfer", "show", "e-3").returncode, 0)
        self.assertEqual(self.apply(other)[0]["status"], "created")
        bd = self.editor("bob", "bd")
        r = self.apply({"op": "account", "id": "force.certified.bd-inf-2", "unit": "PERSON",
                        "owner": "bd", "name": "certified bd-inf-2"},
                       {"op": "contingent", "id": "bd-inf-2", "nation": "bd",
                        "type": "infantry", "personnel": 300, "readiness": "2"}, token=bd)
        self.assertEqual([x["status"] for x in r], ["created", "exists_with_different_fields"])
        r = self.apply({"op": "contingent_move", "id": "bd-inf-2-deploy",
                        "contingent": "bd-inf-2", "to": "deployed"})
        self.assertIn("no such contingent", r[0]["message"])  # no stage skipped
        v = self.cc("verify")
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)

    def test_proofs_of_what_a_domain_operation_made(self):
        self.apply({"op": "pledge", "id": "p-us", "donor": "us", "amount": 900})
        key = self.cc("key").stdout.strip()
        for transfer in ["p-us", "bd-inf-1"]:
            proof = self.cc("proof", transfer, "--json")
            self.assertEqual(proof.returncode, 0, proof.stderr)
            path = os.path.join(self.dir.name, f"{transfer}.json")
            with open(path, "w") as f:
                f.write(proof.stdout)
            r = self.cc("verify-proof", path, "--key", key)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn(f"transfer {transfer} is in event", r.stdout)
            event = json.loads(json.loads(proof.stdout)["event"])
            self.assertTrue(any(transfer in x.get("records", []) for x in event["results"]),
                            event["results"])
            # Relabelled to a transfer the event did not make, the proof fails.
            forged = json.loads(proof.stdout)
            forged["transfer_id"] = "never-made"
            with open(path, "w") as f:
                json.dump(forged, f)
            r = self.cc("verify-proof", path, "--key", key)
            self.assertEqual(r.returncode, 1, r.stdout)

    def test_an_editor_cannot_read_another_nations_contingent(self):
        eg = self.editor("eli", "eg")
        theirs = self.apply({"op": "contingent_move", "id": "m-x", "contingent": "bd-inf-1",
                             "to": "accepted"}, token=eg)[0]
        none = self.apply({"op": "contingent_move", "id": "m-y", "contingent": "no-such",
                           "to": "accepted"}, token=eg)[0]
        self.assertEqual(theirs["status"], "invalid", theirs)
        self.assertEqual(theirs["message"].replace("bd-inf-1", "X"),
                         none["message"].replace("no-such", "X"))
        # The nation's own editor may.
        bd = self.editor("bob", "bd")
        mine = self.apply({"op": "contingent_move", "id": "m-z", "contingent": "bd-inf-1",
                           "to": "accepted"}, token=bd)[0]
        self.assertEqual(mine["status"], "created", mine)

    def test_the_force_report_reads_the_operations(self):
        r = self.apply({"op": "contingent_move", "id": "m-acc", "contingent": "bd-inf-1",
                        "to": "accepted", "personnel": 200, "date": "2026-09-03"})
        self.assertEqual(r[0]["status"], "created", r)
        report = json.loads(self.cc("report", "force", "--json").stdout)
        # 300 pledged, 200 of them accepted: 100 still at pledged.
        self.assertEqual((report["stages"]["pledged"], report["stages"]["accepted"]), (100, 200),
                         report["stages"])
        row = [c for c in report["contingents"] if c["contingent"] == "bd-inf-1"][0]
        self.assertEqual((row["nation"], row["personnel"], row["accepted"]), ("bd", 300, 200), row)

    def test_derived_ids_are_not_taken_by_hand(self):
        bd = self.editor("bob", "bd")
        r = self.apply({"op": "transfer", "id": "crossing.ks.day.20270101",
                        "debit": "force.nations.bd", "credit": "force.pledged.bd-inf-1",
                        "amount": 1},
                       {"op": "transfer", "id": "bd-inf-1/seats",
                        "debit": "force.nations.bd", "credit": "force.pledged.bd-inf-1",
                        "amount": 1}, token=bd)
        self.assertEqual([x["status"] for x in r], ["forbidden", "forbidden"], r)
        self.assertIn("made by the mission's operations", r[0]["message"])

    def test_numbers_typed_for_text_stay_text(self):
        self.apply({"op": "donor", "id": "fr", "name": "France"})
        r = self.cc("pledge", "p-fr", "--donor", "fr", "--amount", "108690", "--currency", "EUR",
                    "--original-amount", "100000", "--rate", "1.0869")
        self.assertEqual(r.returncode, 0, r.stderr)
        meta = json.loads(self.cc("transfer", "show", "p-fr", "--json").stdout)["meta"]
        self.assertEqual((meta["rate"], meta["original_amount"]), ("1.0869", 100000))
        # An integer meant as text is quoted as JSON on the command line.
        r = self.cc("contingent", "bd-inf-2", "--nation", "bd", "--type", "infantry",
                    "--personnel", "100", "--readiness", '"2"')
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.cc("contingent", "bd-inf-3", "--nation", "bd", "--type", "infantry",
                    "--personnel", "100", "--readiness", "2")
        self.assertEqual(r.returncode, 1)
        self.assertIn("readiness", r.stderr)
        r = self.cc("pledge", "p-x", "--op", "transfer", "--donor", "us", "--amount", "1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--op", r.stderr)

    def test_the_unknown_operation_message_lists_every_operation(self):
        r = self.apply({"op": "frobnicate", "id": "x"})[0]
        self.assertEqual(r["status"], "invalid")
        self.assertTrue(r["message"].endswith("consignment_move)"), r["message"])


if __name__ == "__main__":
    CONCORD = os.path.abspath(sys.argv.pop(1))
    unittest.main()
