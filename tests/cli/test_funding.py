#!/usr/bin/env python3
"""The funding domain end to end, through the command line and the API.

Each test builds a small mission on a fresh database: USD, the pooled fund
(guarded: approvers ann, bob and cy, two needed), an account for salaries,
a condition, and donors registered with the `donor` operation. It then runs
the funding operations (pledge, commitment, disbursement, expenditure) as
`apply` lines and as commands, and checks every balance the steps must
leave, every refusal and that a refusal writes nothing, idempotency, and
that the audit log replays the operations to the same ledger.

usage: test_funding.py CONCORD_BINARY [unittest arguments]
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
    {"op": "party", "id": "fund", "kind": "fund", "name": "Pooled fund"},
    {"op": "account", "id": "fund.pool", "unit": "USD", "owner": "fund", "flags": ["guarded"],
     "approvers": ["ann", "bob", "cy"], "approvals_required": 2},
    {"op": "account", "id": "force.salaries", "unit": "USD", "owner": "fund",
     "flags": ["debits_must_not_exceed_credits"]},
    {"op": "condition", "name": "ceasefire", "probability": 0.7},
    {"op": "donor", "id": "us", "name": "United States"},
    {"op": "donor", "id": "fr", "name": "France"},
]


def lines(*ops):
    return "".join(json.dumps(o) + "\n" for o in ops)


class Funding(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.db = os.path.join(self.dir.name, "f.db")
        self.assertEqual(self.cc("init").returncode, 0)
        results = self.apply(*SETUP)
        self.assertEqual([r["status"] for r in results], ["created"] * len(SETUP), results)

    def tearDown(self):
        self.dir.cleanup()

    def cc(self, *args, input=None, token=None):
        cmd = [CONCORD, "--db", self.db] + (["--token", token] if token else []) + list(args)
        return subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=120)

    def apply(self, *ops, token=None):
        r = self.cc("apply", input=lines(*ops), token=token)
        self.assertIn(r.returncode, (0, 1), r.stderr)
        return [json.loads(line) for line in r.stdout.splitlines()]

    def balance(self, account):
        r = self.cc("balance", account, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        row = json.loads(r.stdout)[0]
        return (row["debits_pending"], row["debits_posted"], row["credits_pending"],
                row["credits_posted"])

    def transfer(self, ident):
        r = self.cc("transfer", "show", ident, "--json")
        return json.loads(r.stdout) if r.returncode == 0 else None

    def token(self, user):
        r = self.cc("token", "create", "--user", user, "--role", "coordinator", "--json")
        return json.loads(r.stdout)["token"]

    def test_donor_registers_its_party_and_account(self):
        parties = json.loads(self.cc("party", "list", "--json").stdout)
        self.assertIn({"id": "us", "kind": "nation", "name": "United States"},
                      [{k: p[k] for k in ("id", "kind", "name")} for p in parties])
        account = json.loads(self.cc("account", "show", "donor.us", "--json").stdout)
        self.assertEqual((account["owner"], account["unit"]), ("us", "USD"))

    def test_pledge_commitment_disbursement_expenditure(self):
        r = self.apply(
            {"op": "pledge", "id": "p-us", "donor": "us", "amount": 1000000, "sector": "security",
             "requirement": "salaries-2027", "date": "2026-10-01"},
            {"op": "commitment", "id": "c-us", "pledge": "p-us", "amount": 600000,
             "date": "2026-10-02"},
            {"op": "disbursement", "id": "d-1", "to": "force.salaries", "amount": 400000,
             "approval": True, "requirement": "salaries-2027", "date": "2026-10-03"})
        self.assertEqual([x["status"] for x in r], ["created"] * 3, r)
        self.assertEqual([x["op"] for x in r], ["pledge", "commitment", "disbursement"])
        # The commitment posted 6,000.00 of the 10,000.00 pledge and released the rest.
        self.assertEqual(self.balance("donor.us"), (0, 600000, 0, 0))
        # The pool: 6,000.00 in, 4,000.00 reserved for the pending disbursement.
        self.assertEqual(self.balance("fund.pool"), (400000, 0, 0, 600000))
        pledge = self.transfer("p-us")
        self.assertEqual((pledge["state"], pledge["kind"]), ("posted", "pledge"))
        self.assertEqual(pledge["meta"], {"donor": "us", "requirement": "salaries-2027",
                                          "sector": "security", "usd_amount": 1000000})
        self.assertEqual(self.transfer("c-us")["kind"], "commitment")
        # Two of the board approve: the disbursement posts.
        for user in ("ann", "bob"):
            r = self.apply({"op": "approve", "id": f"d-1.{user}", "pending_id": "d-1",
                            "decision": "approve"}, token=self.token(user))
            self.assertEqual(r[0]["status"], "created", r)
        self.assertEqual(self.transfer("d-1")["state"], "posted")
        self.assertEqual(self.balance("force.salaries"), (0, 0, 0, 400000))
        r = self.apply({"op": "expenditure", "id": "e-1", "from": "force.salaries",
                        "amount": 150000, "sector": "security", "date": "2026-10-10"})
        self.assertEqual(r[0]["status"], "created", r)
        self.assertEqual(self.balance("force.salaries"), (0, 150000, 0, 400000))
        self.assertEqual(self.balance("spent.force.salaries"), (0, 0, 0, 150000))
        # Spending more than was disbursed: the account's limit refuses it.
        r = self.apply({"op": "expenditure", "id": "e-2", "from": "force.salaries",
                        "amount": 250001})
        self.assertEqual(r[0]["status"], "exceeds_credits", r)
        self.assertIn("transfer e-2", r[0]["message"])
        self.assertIsNone(self.transfer("e-2"))
        # The funding report reads the same story off the ledger: pledged 10,000.00, of
        # which 6,000.00 committed (the rest released), 4,000.00 disbursed, 1,500.00 spent.
        report = json.loads(self.cc("report", "funding", "--json").stdout)
        totals = report["totals"]
        self.assertEqual((totals["pledged"], totals["committed"], totals["disbursed"],
                          totals["spent"], totals["awaiting_approval"]),
                         (1000000, 600000, 400000, 150000, 0), totals)
        donors = {d["donor"]: d for d in report["by_donor"]}
        self.assertEqual((donors["us"]["pledged"], donors["us"]["committed"]),
                         (1000000, 600000), donors)
        by_requirement = {q["requirement"]: q for q in report["by_requirement"]}
        self.assertEqual(by_requirement["salaries-2027"]["disbursed"], 400000, by_requirement)
        self.assertEqual(self.cc("verify").returncode, 0)
        self.assertEqual(self.cc("check").returncode, 0)

    def test_conditional_pledge_follows_its_condition(self):
        self.apply({"op": "pledge", "id": "p-c", "donor": "fr", "amount": 500000,
                    "if": "ceasefire", "currency": "EUR", "original_amount": 460000,
                    "rate": "1.0869"})
        self.assertEqual(self.transfer("p-c")["state"], "pending")
        self.assertEqual(self.transfer("p-c")["meta"]["currency"], "EUR")
        r = self.apply({"op": "resolve", "name": "ceasefire", "state": "met"})
        self.assertEqual((r[0]["status"], r[0]["posted"]), ("resolved", 1), r)
        self.assertEqual(self.transfer("p-c")["state"], "posted")
        self.assertEqual(self.balance("fund.pool"), (0, 0, 0, 500000))
        self.assertEqual(self.cc("verify").returncode, 0)

    def test_idempotent_and_different_fields(self):
        op = {"op": "pledge", "id": "p-1", "donor": "us", "amount": 100}
        self.assertEqual(self.apply(op)[0]["status"], "created")
        again = self.apply(op)[0]
        self.assertEqual(again["status"], "exists", again)
        self.assertEqual(self.balance("fund.pool"), (0, 0, 100, 0))
        changed = dict(op, amount=101)
        self.assertEqual(self.apply(changed)[0]["status"], "exists_with_different_fields")
        self.assertEqual(self.balance("fund.pool"), (0, 0, 100, 0))

    def test_refusals_write_nothing(self):
        cases = [
            ({"op": "pledge", "id": "x1", "donor": "nobody", "amount": 5},
             "debit_account_not_found", "no account donor.nobody"),
            ({"op": "pledge", "id": "x2", "donor": "us"}, "invalid", "amount: required"),
            ({"op": "pledge", "id": "x3", "donor": "us", "amount": 5, "colour": "red"},
             "invalid", "colour: unknown field"),
            ({"op": "pledge", "id": "x4", "donor": "us", "amount": 5, "currency": "EUR"},
             "invalid", "original_amount and rate are required"),
            ({"op": "pledge", "id": "x5", "donor": "us", "amount": 5, "currency": "EUR",
              "original_amount": 4, "rate": "one"}, "invalid", "rate"),
            ({"op": "disbursement", "id": "x6", "to": "force.salaries", "amount": 5},
             "approval_required", "fund.pool is guarded"),
            ({"op": "commitment", "id": "x7", "pledge": "none"}, "pending_transfer_not_found",
             "post x7"),
            ({"op": "donor", "id": "Bad Id"}, "invalid", "id"),
            ({"op": "frobnicate", "id": "x8"}, "invalid", "unknown operation"),
        ]
        before = json.loads(self.cc("balance", "--prefix", "", "--json").stdout)
        for op, status, says in cases:
            r = self.apply(op)[0]
            self.assertEqual(r["status"], status, (op, r))
            self.assertIn(says, r.get("message", ""), (op, r))
            self.assertIsNone(self.transfer(op["id"]), op)
        after = json.loads(self.cc("balance", "--prefix", "", "--json").stdout)
        self.assertEqual(before, after)

    def test_linked_domain_operations_fail_together(self):
        r = self.apply({"op": "pledge", "id": "l-1", "donor": "us", "amount": 5, "linked": True},
                       {"op": "pledge", "id": "l-2", "donor": "nobody", "amount": 5})
        self.assertEqual([x["status"] for x in r],
                         ["linked_event_failed", "debit_account_not_found"], r)
        self.assertIsNone(self.transfer("l-1"))

    def test_commands_and_events(self):
        r = self.cc("pledge", "p-cmd", "--donor", "us", "--amount", "2500", "--if", "ceasefire",
                    "--sector", "health")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith("pledge p-cmd created at "), r.stdout)
        p = self.transfer("p-cmd")
        self.assertEqual((p["amount"], p["if"], p["meta"]["sector"]), (2500, "ceasefire", "health"))
        r = self.cc("pledge", "p-cmd2", "--donor", "nobody", "--amount", "1")
        self.assertEqual(r.returncode, 1)
        self.assertIn("pledge p-cmd2: debit_account_not_found", r.stderr)
        self.assertEqual(self.cc("pledge", "--help").returncode, 0)
        self.assertIn("pledge", self.cc("--help").stdout)
        # The log keeps the operation as given, and replays it.
        proof = json.loads(self.cc("proof", "p-cmd", "--json").stdout)
        event = json.loads(proof["event"])
        self.assertEqual(event["ops"][0], {"op": "pledge", "id": "p-cmd", "donor": "us",
                                           "amount": 2500, "if": "ceasefire",
                                           "sector": "health"})
        self.assertEqual(event["results"][0]["status"], "created")
        self.assertEqual(self.cc("verify").returncode, 0)


class FundingOverHttp(unittest.TestCase):
    """Funding operations through POST /v1/batch, each step authorized for its actor."""

    def test_an_editor_pledges_for_its_own_donor_only(self):
        import http.client
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import test_force  # its Server runs `concord serve` on a port the OS picks
        test_force.CONCORD = CONCORD
        with tempfile.TemporaryDirectory() as directory:
            db = os.path.join(directory, "f.db")
            run = [CONCORD, "--db", db]
            subprocess.run(run + ["init"], check=True, capture_output=True, timeout=120)
            subprocess.run(run + ["apply"], input=lines(*SETUP), check=True, capture_output=True,
                           text=True, timeout=120)
            made = subprocess.run(run + ["token", "create", "--user", "uma", "--role", "editor",
                                         "--party", "us", "--json"], check=True,
                                  capture_output=True, text=True, timeout=120)
            token = json.loads(made.stdout)["token"]
            server = test_force.Server(db)
            try:
                body = json.dumps([
                    {"op": "pledge", "id": "p-us", "donor": "us", "amount": 700,
                     "if": "ceasefire"},
                    {"op": "pledge", "id": "p-fr", "donor": "fr", "amount": 700},
                    {"op": "donor", "id": "xx", "name": "Not the editor's to make"}])
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
                conn.request("POST", "/v1/batch", body=body.encode(),
                             headers={"Authorization": "Bearer " + token,
                                      "Content-Type": "application/json"})
                response = conn.getresponse()
                answer = json.loads(response.read())
                conn.close()
            finally:
                rc = server.stop()
            self.assertEqual(rc, 0, server.stderr())
            self.assertEqual(response.status, 200, answer)
            self.assertEqual([(r["op"], r["status"]) for r in answer],
                             [("pledge", "created"), ("pledge", "forbidden"),
                              ("donor", "forbidden")], answer)
            self.assertIn("transfer p-fr", answer[1]["message"])
            shown = subprocess.run(run + ["transfer", "show", "p-fr"], capture_output=True,
                                   text=True, timeout=120)
            self.assertEqual(shown.returncode, 1, "a forbidden pledge writes nothing")
            parties = subprocess.run(run + ["party", "list", "--json"], capture_output=True,
                                     text=True, timeout=120)
            self.assertNotIn("xx", [p["id"] for p in json.loads(parties.stdout)])
            verify = subprocess.run(run + ["verify"], capture_output=True, text=True, timeout=120)
            self.assertEqual(verify.returncode, 0, verify.stderr)


if __name__ == "__main__":
    CONCORD = os.path.abspath(sys.argv.pop(1))
    unittest.main()
