#!/usr/bin/env python3
"""IATI 2.03 import and export end to end, through the command line.

Reads the IATI Standard's own files in place (../shared/data/iati beside
the project, or $CONCORD_SHARED_DATA/iati): the official schema, the
schema's should-pass and should-fail test documents, and the annotated
example. The other documents are written here, small and by hand: one
transaction of every type, hostile inputs, the two reports of one flow.

What it holds concord to:
- the schema comes from --schema or $CONCORD_IATI_SCHEMA, never from the
  build, and its absence is refused with a message that says how to give it;
- every should-pass document imports (exit 0), every should-fail one is
  refused (exit 2) naming file, line and element, and nothing of it is
  recorded, not even of the valid files imported with it;
- each of the 13 transaction types lands as the mapping says (kind, stage
  account, pending or posted, unit and scale), amounts exact in minor units;
- re-importing records nothing new and reports the same summary, which is
  read back from the ledger;
- a flow reported by both sides is counted once, whichever side comes
  first, both reports kept;
- an export validates against the schema, imports back to the same
  figures (the funding report's pledged, committed and disbursed; every
  iati.* balance), and exports again to the same document;
- a large file is streamed: memory stays far below its size.

usage: test_iati.py CONCORD_BINARY [unittest arguments]
"""
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import small_disk  # beside this file

CONCORD = None
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("CONCORD_SHARED_DATA") or os.path.join(ROOT, "..", "shared", "data")
IATI = os.path.join(SHARED, "iati")
SCHEMA = os.path.join(IATI, "schema", "iati-activities-schema.xsd")
EXAMPLE = os.path.join(IATI, "examples", "activity-standard-example-annotated.xml")


def documents(kind):
    found = []
    for directory, _, files in os.walk(os.path.join(IATI, "tests", kind)):
        found += [os.path.join(directory, f) for f in files if f.endswith(".xml")]
    return sorted(found)


def org(element, ref=None, name=None, activity=None, type_=None):
    """<provider-org …>, <receiver-org …>: attributes only when given."""
    attrs = ""
    if ref is not None:
        attrs += f' ref="{ref}"'
    if activity is not None:
        attrs += f' {element.split("-")[0]}-activity-id="{activity}"'
    if type_ is not None:
        attrs += f' type="{type_}"'
    inner = f"<narrative>{name}</narrative>" if name else ""
    return f"<{element}-org{attrs}>{inner}</{element}-org>"


def transaction(code, value, date="2026-03-01", currency=None, ref=None, provider=None,
                receiver=None, description=None):
    """One <transaction>; provider and receiver are (ref, name[, activity id]) or None."""
    cur = f' currency="{currency}"' if currency else ""
    out = [f'<transaction{f" ref={chr(34)}{ref}{chr(34)}" if ref else ""}>',
           f'<transaction-type code="{code}"/>',
           f'<transaction-date iso-date="{date}"/>',
           f'<value{cur} value-date="{date}">{value}</value>']
    if description:
        out.append(f"<description><narrative>{description}</narrative></description>")
    if provider:
        out.append(org("provider", *provider))
    if receiver:
        out.append(org("receiver", *receiver))
    out.append("</transaction>")
    return "\n".join(out)


def activity(identifier, reporter, transactions, currency="EUR", participants=(),
             title="An activity"):
    """One <iati-activity> with what the schema requires, and the transactions given."""
    cur = f' default-currency="{currency}"' if currency else ""
    parts = "\n".join(
        f'<participating-org ref="{r}" role="{role}" type="{t}"><narrative>{n}</narrative>'
        f'</participating-org>' for r, role, t, n in participants) or \
        f'<participating-org ref="{reporter}" role="4"/>'
    return (f'<iati-activity{cur}>\n<iati-identifier>{identifier}</iati-identifier>\n'
            f'<reporting-org ref="{reporter}" type="40"><narrative>Reporter {reporter}'
            f'</narrative></reporting-org>\n<title><narrative>{title}</narrative></title>\n'
            f'<description><narrative>About {identifier}</narrative></description>\n'
            f'{parts}\n<activity-status code="2"/>\n'
            f'<activity-date type="2" iso-date="2026-01-01"/>\n'
            + "\n".join(transactions) + "\n</iati-activity>")


def document(*activities):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<iati-activities version="2.03">\n'
            + "\n".join(activities) + "\n</iati-activities>\n")


GOV = ("GB-GOV-1", "United Kingdom")
PARTNER = ("XM-PARTNER", "Partner NGO")
BIZ = ("XM-BIZ", "A business")

# One transaction of each type (reported by XM-TEST), and what concord cannot record.
ALL_TYPES = document(activity("XM-TEST-ALL", "XM-TEST", [
    transaction(1, "1000.50", ref="T1", provider=GOV, description="Funds in"),
    transaction(2, "500", ref="T2", receiver=PARTNER),
    transaction(3, "200", ref="T3", receiver=PARTNER),
    transaction(4, "50.25", ref="T4"),
    transaction(5, "10", ref="T5", provider=PARTNER),
    transaction(6, "20", ref="T6", provider=PARTNER),
    transaction(7, "30", ref="T7", receiver=PARTNER),
    transaction(8, "40", ref="T8", receiver=BIZ),
    transaction(9, "45", ref="T9", provider=BIZ),
    transaction(10, "1000", currency="USD", ref="T10", receiver=PARTNER),
    transaction(11, "5000", ref="T11", provider=GOV),
    transaction(12, "300", ref="T12", receiver=PARTNER),
    transaction(13, "8000", ref="T13", provider=GOV),
    transaction(3, "-50.00", ref="DUP", receiver=PARTNER, description="A refund"),
    transaction(3, "12.345", currency="JOD", ref="DUP", receiver=PARTNER),
    transaction(3, "0.00", ref="ZERO", receiver=PARTNER),
    transaction(99, "10", ref="ODD", receiver=PARTNER),
], participants=[("GB-GOV-1", 1, 10, "United Kingdom"), ("XM-TEST", 4, 40, "Test agency")]))

# The same flow reported by the provider (XM-DONOR-A1) and by the recipient (XM-NGO-B1).
DONOR = ("XM-DONOR", "Donor")
NGO = ("XM-NGO", "NGO")
PROVIDER_SIDE = document(activity("XM-DONOR-A1", "XM-DONOR", [
    transaction(2, "5000", date="2026-02-01", receiver=NGO + ("XM-NGO-B1",)),
    transaction(3, "1000", date="2026-02-10", receiver=NGO + ("XM-NGO-B1",)),
]))
RECIPIENT_SIDE = document(activity("XM-NGO-B1", "XM-NGO", [
    transaction(11, "5000.00", date="2026-02-03", provider=DONOR + ("XM-DONOR-A1",)),
    transaction(1, "1000.0", date="2026-02-12", provider=DONOR + ("XM-DONOR-A1",)),
]))

FUNDING = [
    {"op": "unit", "code": "USD", "scale": 2},
    {"op": "party", "id": "fund", "kind": "fund", "name": "Pooled fund"},
    {"op": "account", "id": "fund.pool", "unit": "USD", "owner": "fund", "name": "Pooled fund"},
    {"op": "account", "id": "force.salaries", "unit": "USD", "owner": "fund",
     "name": "Force salaries"},
    {"op": "condition", "name": "ceasefire", "probability": 0.7},
    {"op": "condition", "name": "war_ends", "probability": 0.2},
    {"op": "donor", "id": "us", "name": "United States"},
    {"op": "donor", "id": "fr", "name": "France"},
    {"op": "pledge", "id": "p-us", "donor": "us", "amount": 1000000, "date": "2026-10-01",
     "memo": "for salaries"},
    {"op": "commitment", "id": "c-us", "pledge": "p-us", "amount": 600000,
     "date": "2026-10-02"},
    {"op": "pledge", "id": "p-fr", "donor": "fr", "amount": 500000, "if": "ceasefire",
     "date": "2026-10-03"},
    {"op": "pledge", "id": "p-void", "donor": "fr", "amount": 700000, "if": "war_ends",
     "date": "2026-10-03"},
    {"op": "commitment", "id": "c-fr", "donor": "fr", "amount": 200000, "date": "2026-10-04"},
    {"op": "disbursement", "id": "d-1", "to": "force.salaries", "amount": 400000,
     "date": "2026-10-05"},
    {"op": "resolve", "name": "war_ends", "state": "failed"},
]

PLACE = re.compile(r"^concord: (?P<file>[^:]+):(?P<line>\d+): element (?P<element>[\w:!()-]+): ")


class Iati(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.db = self.new_db("a.db")

    def tearDown(self):
        self.dir.cleanup()

    # ---- running concord, reading the ledger

    def new_db(self, name):
        path = os.path.join(self.dir.name, name)
        r = subprocess.run([CONCORD, "--db", path, "init"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        return path

    def demo_db(self, name="demo.db"):
        """A new database holding the demo mission."""
        path = os.path.join(self.dir.name, name)
        r = self.cc("demo", db=path)
        self.assertEqual(r.returncode, 0, r.stderr)
        return path

    def cc(self, *args, db=None, input=None, env=None):
        run_env = dict(os.environ)
        run_env.pop("CONCORD_IATI_SCHEMA", None)
        run_env.update(env or {})
        return subprocess.run([CONCORD, "--db", db or self.db] + list(args), input=input,
                              capture_output=True, text=True, timeout=600, env=run_env)

    def write(self, name, text):
        path = os.path.join(self.dir.name, name)
        with open(path, "wb") as f:
            f.write(text.encode() if isinstance(text, str) else text)
        return path

    def imp(self, *files, db=None, code=0):
        r = self.cc("import", "iati", *files, "--schema", SCHEMA, "--json", db=db)
        self.assertEqual(r.returncode, code, r.stderr)
        return json.loads(r.stdout) if r.stdout else None

    def state(self, db=None):
        """Everything a refused import must leave as it was."""
        accounts = self.cc("account", "list", "--json", db=db)
        balances = self.cc("balance", "--prefix", "", "--json", db=db)
        units = self.cc("unit", "list", "--json", db=db)
        parties = self.cc("party", "list", "--json", db=db)
        for r in (accounts, balances, units, parties):
            self.assertEqual(r.returncode, 0, r.stderr)
        return accounts.stdout, balances.stdout, units.stdout, parties.stdout

    def account(self, ident, db=None):
        r = self.cc("account", "show", ident, "--json", db=db)
        self.assertEqual(r.returncode, 0, f"{ident}: {r.stderr}")
        a = json.loads(r.stdout)
        return (a["debits_pending"], a["debits_posted"], a["credits_pending"],
                a["credits_posted"])

    def transfer(self, ident, db=None):
        r = self.cc("transfer", "show", ident, "--json", db=db)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def iati_balances(self, db=None):
        listed = json.loads(self.cc("account", "list", "--prefix", "iati.", "--json",
                                    db=db).stdout)
        return {a["id"]: (a["unit"], a["debits_pending"], a["debits_posted"],
                          a["credits_pending"], a["credits_posted"]) for a in listed}

    def refused(self, path, element, words, line=None):
        """The import of path is refused naming it, its line and element (any, when element
        is None); nothing recorded."""
        before = self.state()
        r = self.cc("import", "iati", path, "--schema", SCHEMA)
        self.assertEqual(r.returncode, 2, r.stderr)
        first = r.stderr.splitlines()[0]
        m = PLACE.match(first)
        self.assertIsNotNone(m, first)
        self.assertEqual(m["file"], path, first)
        if element is not None:
            self.assertEqual(m["element"], element, first)
        if line is not None:
            self.assertEqual(int(m["line"]), line, first)
        for w in words:
            self.assertIn(w, first)
        self.assertEqual(self.state(), before, f"{path} changed the ledger")
        return first

    # ---- the schema

    def test_schema_is_required_and_comes_from_option_or_environment(self):
        path = self.write("all.xml", ALL_TYPES)
        before = self.state()
        r = self.cc("import", "iati", path)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--schema PATH", r.stderr)
        self.assertIn("CONCORD_IATI_SCHEMA", r.stderr)
        r = self.cc("import", "iati", path, "--schema", os.path.join(self.dir.name, "none.xsd"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("none.xsd: cannot be read", r.stderr)
        self.assertEqual(self.state(), before)
        r = self.cc("import", "iati", path, "--json", env={"CONCORD_IATI_SCHEMA": SCHEMA})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["transactions"], 15)
        help_text = self.cc("import", "iati", "--help").stdout
        self.assertIn("--schema", help_text)
        self.assertIn("CONCORD_IATI_SCHEMA", help_text)

    # ---- the standard's own test documents

    def test_every_should_pass_document_imports(self):
        passing = documents("should-pass")
        self.assertGreaterEqual(len(passing), 43)
        for path in passing:
            s = self.imp(path)
            self.assertEqual(sorted(s["by_type"]), sorted(str(k) for k in range(1, 14)), path)
            self.assertEqual(s["rejected"]["count"], 0, path)
        # All at once, and the example (whose one transaction has a real type) with them.
        s = self.imp(EXAMPLE, *passing)
        self.assertEqual((s["activities"], s["transactions"]), (1, 1))
        self.assertEqual(s["by_type"]["1"], 1)
        # The templates' activities have no identifier and their types are "X": not recorded,
        # each listed with its place.
        self.assertGreater(s["skipped"]["count"], len(passing))
        for item in s["skipped"]["listed"]:
            self.assertTrue(os.path.exists(item["file"]))
            self.assertGreater(item["line"], 0)
            self.assertIn(item["element"], ("iati-activity", "transaction", "value"))
        self.assertEqual(self.cc("verify").returncode, 0)

    def test_every_should_fail_document_is_refused_and_records_nothing(self):
        failing = documents("should-fail")
        self.assertGreaterEqual(len(failing), 40)
        self.imp(EXAMPLE)  # a ledger with something in it, that must stay as it is
        before = self.state()
        for path in failing:
            r = self.cc("import", "iati", path, "--schema", SCHEMA)
            self.assertEqual(r.returncode, 2, f"{path}: {r.stderr}")
            m = PLACE.match(r.stderr)
            self.assertIsNotNone(m, f"{path}: {r.stderr}")
            self.assertEqual(m["file"], path)
            self.assertGreater(int(m["line"]), 0)
        self.assertEqual(self.state(), before)
        # With valid files before it in the same import: the whole import is refused.
        fresh = self.new_db("b.db")
        before = self.state(db=fresh)
        r = self.cc("import", "iati", EXAMPLE, self.write("all.xml", ALL_TYPES), failing[0],
                    "--schema", SCHEMA, db=fresh)
        self.assertEqual(r.returncode, 2)
        self.assertIn(failing[0], r.stderr)
        self.assertEqual(self.state(db=fresh), before)

    def test_a_should_fail_message_names_file_line_and_element(self):
        path = os.path.join(IATI, "tests", "should-fail", "01-empty-activity.xml")
        first = self.refused(path, "iati-activity", ["Missing child element", "iati-identifier"])
        self.assertRegex(first, r":\d+: element iati-activity: not valid IATI 2\.03: ")

    # ---- the mapping

    def test_the_annotated_example(self):
        s = self.imp(EXAMPLE)
        self.assertEqual((s["activities"], s["transactions"]), (1, 1))
        self.assertEqual(s["amounts"], {"EUR": {"1": 100000}})
        # Incoming funds from Agency B to the reporter, Agency A, in euro cents.
        self.assertEqual(self.account("iati.funds.bb-bbb-123456789.given.eur"), (0, 100000, 0, 0))
        self.assertEqual(self.account("iati.funds.aa-aaa-123456789.received.eur"),
                         (0, 0, 0, 100000))
        parties = {p["id"]: p for p in json.loads(self.cc("party", "list", "--json").stdout)}
        self.assertEqual(parties["iati-bb-bbb-123456789"]["name"], "Name of Agency B (BB-BBB-123456789)")
        self.assertEqual(parties["iati-cc-ccc-123456789"]["kind"], "nation")  # type 10, Government
        # The provider names its own activity: the report is one side's of a flow.
        history = json.loads(self.cc("history", "iati.funds.aa-aaa-123456789.received.eur",
                                     "--json").stdout)
        self.assertEqual(len(history), 1)
        t = history[0]
        self.assertTrue(t["id"].startswith("iati/pair/") and t["id"].endswith("/r"), t["id"])
        self.assertEqual((t["kind"], t["state"], t["date"], t["memo"]),
                         ("iati.incoming_funds", "posted", "2012-01-01",
                          "Transaction description text"))
        meta = t["meta"]
        self.assertEqual(meta["provider"]["activity_id"], "BB-BBB-123456789-1234AA")
        self.assertEqual(meta["receiver"]["activity_id"], "AA-AAA-123456789-1234")
        self.assertEqual((meta["value"], meta["currency"], meta["value_date"], meta["ref"]),
                         ("1000", "EUR", "2012-01-01", "1234"))
        self.assertEqual(meta["classifications"]["sectors"], [{"code": "111", "vocabulary": "2"}])
        record = self.transfer("iati/a/AA-AAA-123456789-ABC123")
        self.assertEqual(record["meta"]["title"], "Activity title")
        self.assertEqual(record["meta"]["description"].split(".")[0],
                         "General activity description text")
        self.assertEqual(len(record["meta"]["participating"]), 3)

    def test_every_transaction_type(self):
        s = self.imp(self.write("all.xml", ALL_TYPES))
        self.assertEqual(s["activities"], 1)
        self.assertEqual(s["transactions"], 15)
        expected = {str(k): 1 for k in range(1, 14)}
        expected["3"] = 3
        self.assertEqual(s["by_type"], expected)
        self.assertEqual(s["amounts"]["EUR"]["3"], 20000 - 5000)  # a refund is negative
        self.assertEqual(s["amounts"]["JOD"], {"3": 12345})
        self.assertEqual(s["amounts"]["USD"], {"10": 100000})
        # Zero and a type outside 1–13: not recorded, listed with their lines.
        reasons = {i["reason"].split(":")[0]: i for i in s["skipped"]["listed"]}
        self.assertIn("a value of 0", reasons)
        self.assertIn('transaction-type code "99" is not one of IATI 2.03\'s transaction types '
                      '(1 to 13)', reasons)
        units = {u["code"]: u["scale"] for u in json.loads(self.cc("unit", "list",
                                                                   "--json").stdout)}
        self.assertEqual((units["EUR"], units["USD"], units["JOD"]), (2, 2, 3))
        # Funds that moved: given by the provider, received by the receiver.
        self.assertEqual(self.account("iati.funds.gb-gov-1.given.eur"), (0, 100050, 0, 0))
        self.assertEqual(self.account("iati.funds.xm-test.received.eur"),
                         (0, 0, 0, 100050 + 1000 + 2000 + 4500))
        self.assertEqual(self.account("iati.funds.xm-test.given.eur"),
                         (0, 20000 + 5025 + 3000 + 4000, 0, 5000))
        self.assertEqual(self.account("iati.funds.xm-partner.received.eur"),
                         (0, 5000, 0, 20000 + 3000))
        self.assertEqual(self.account("iati.funds.unspecified.received.eur"), (0, 0, 0, 5025))
        self.assertEqual(self.account("iati.funds.xm-partner.received.jod"), (0, 0, 0, 12345))
        # Commitments and the guarantee on their own stages; pledges pending.
        self.assertEqual(self.account("iati.commitment.xm-test.given.eur"), (0, 50000, 0, 0))
        self.assertEqual(self.account("iati.commitment.gb-gov-1.given.eur"), (0, 500000, 0, 0))
        self.assertEqual(self.account("iati.guarantee.xm-test.given.usd"), (0, 100000, 0, 0))
        self.assertEqual(self.account("iati.pledge.xm-test.given.eur"), (30000, 0, 0, 0))
        self.assertEqual(self.account("iati.pledge.gb-gov-1.given.eur"), (800000, 0, 0, 0))
        kinds = {
            "T1": ("iati.incoming_funds", "posted"), "T2": ("iati.outgoing_commitment", "posted"),
            "T3": ("iati.disbursement", "posted"), "T4": ("iati.expenditure", "posted"),
            "T5": ("iati.interest_payment", "posted"), "T6": ("iati.loan_repayment", "posted"),
            "T7": ("iati.reimbursement", "posted"), "T8": ("iati.purchase_of_equity", "posted"),
            "T9": ("iati.sale_of_equity", "posted"), "T10": ("iati.credit_guarantee", "posted"),
            "T11": ("iati.incoming_commitment", "posted"),
            "T12": ("iati.outgoing_pledge", "pending"),
            "T13": ("iati.incoming_pledge", "pending")}
        for ref, (kind, state) in kinds.items():
            t = self.transfer(f"iati/t/XM-TEST-ALL#r{ref}")
            self.assertIsNotNone(t, ref)
            self.assertEqual((t["kind"], t["state"], t["meta"]["type"]), (kind, state,
                                                                          int(ref[1:])))
        # A repeated @ref cannot key its transactions: their positions do.
        refund = self.transfer("iati/t/XM-TEST-ALL#14")
        self.assertEqual((refund["debit"], refund["credit"], refund["amount"], refund["memo"]),
                         ("iati.funds.xm-partner.received.eur", "iati.funds.xm-test.given.eur",
                          5000, "A refund"))
        self.assertEqual(self.transfer("iati/t/XM-TEST-ALL#15")["unit"], "JOD")
        parties = {p["id"]: p for p in json.loads(self.cc("party", "list", "--json").stdout)}
        self.assertEqual((parties["iati-gb-gov-1"]["kind"], parties["iati-gb-gov-1"]["name"]),
                         ("nation", "United Kingdom (GB-GOV-1)"))
        self.assertEqual(parties["iati-xm-partner"]["kind"], "organisation")
        self.assertEqual(self.cc("verify").returncode, 0)
        self.assertEqual(self.cc("check").returncode, 0)

    def test_reimport_records_nothing_and_reports_the_same(self):
        path = self.write("all.xml", ALL_TYPES)
        first = self.imp(path, EXAMPLE)
        before = self.state()
        again = self.imp(path, EXAMPLE)
        self.assertEqual(again, first)
        self.assertEqual(self.state(), before)
        # The same activity twice in one import is taken once (what is not recorded is
        # listed for each file it is in).
        fresh = self.new_db("b.db")
        twice = self.imp(path, path, EXAMPLE, db=fresh)
        self.assertEqual(twice["skipped"]["count"], 2 * first["skipped"]["count"])
        del twice["skipped"], first["skipped"]
        self.assertEqual(twice, first)
        self.assertEqual(self.iati_balances(db=fresh), self.iati_balances())
        # Standard input.
        with open(path) as f:
            r = self.cc("import", "iati", "-", "--schema", SCHEMA, "--json", input=f.read())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["transactions"], 15)

    def test_long_text_in_any_script_is_cut_on_a_character_boundary(self):
        # Names and titles are kept to 256 bytes, descriptions to 1,024: a cut that falls
        # inside a character (é is two bytes) is made before it, and the file imports.
        doc = document(activity("XM-TEST-LONG", "XM-TEST", [
            transaction(3, " " * 100 + "200", ref="T1", receiver=("XM-P", "a" + "é" * 300),
                        description="a" + "é" * 700)], title="a" + "é" * 300))
        s = self.imp(self.write("long.xml", doc))
        self.assertEqual(s["transactions"], 1)
        t = self.transfer("iati/t/XM-TEST-LONG#rT1")
        self.assertEqual(t["amount"], 20000)
        self.assertEqual(t["memo"], "a" + "é" * 511)  # 1,023 bytes: the 1,024th is half an é
        self.assertEqual(t["meta"]["receiver"]["name"], "a" + "é" * 127)
        title = self.transfer("iati/a/XM-TEST-LONG")["meta"]["title"]
        self.assertEqual(title, "a" + "é" * 127)

    def test_a_refused_transaction_leaves_the_accounts_the_next_one_needs(self):
        # Republished with R1 changed (now in USD: refused) and R2 new in USD: R1's steps
        # made the USD accounts first in the batch, and R2 needs them. They stand apart
        # from R1's refusal, so R2 is recorded, and so is a flow both sides report.
        v1 = document(activity("XM-A", "XM-T", [transaction(3, "100", ref="R1",
                                                            receiver=PARTNER)]))
        self.imp(self.write("v1.xml", v1))
        donor = ("XM-T", "Reporter XM-T")
        v2 = document(activity("XM-A", "XM-T", [
            transaction(3, "100", ref="R1", currency="USD", receiver=PARTNER),
            transaction(3, "250", currency="USD", ref="R2", receiver=PARTNER),
            transaction(3, "1000", currency="USD", receiver=PARTNER + ("XM-NGO-B1",))]))
        ngo = document(activity("XM-NGO-B1", "XM-PARTNER", [
            transaction(1, "1000", currency="USD", provider=donor[:2] + ("XM-A",))]))
        r = self.cc("import", "iati", self.write("v2.xml", v2), self.write("ngo.xml", ngo),
                    "--schema", SCHEMA, "--json")
        self.assertEqual(r.returncode, 1, r.stderr)
        s = json.loads(r.stdout)
        self.assertEqual([(x["id"], x["status"]) for x in s["rejected"]["listed"]],
                         [("iati/t/XM-A#rR1", "exists_with_different_fields")])
        self.assertEqual(self.transfer("iati/t/XM-A#rR2")["amount"], 25000)
        self.assertEqual(int(s["amounts"]["USD"]["3"]), 125000)  # in cents
        pair = s["double_reported"]
        self.assertEqual(pair["count"], 1)
        self.assertEqual((pair["listed"][0]["provider_activity"], pair["listed"][0]["value"]),
                         ("XM-A", "1000"))
        r = self.cc("verify")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_a_changed_transaction_is_refused_by_the_ledger(self):
        self.imp(self.write("all.xml", ALL_TYPES))
        changed = ALL_TYPES.replace(">200<", ">201<")
        r = self.cc("import", "iati", self.write("changed.xml", changed), "--schema", SCHEMA,
                    "--json")
        self.assertEqual(r.returncode, 1, r.stderr)
        s = json.loads(r.stdout)
        self.assertEqual(s["rejected"]["count"], 1)
        self.assertEqual(s["rejected"]["listed"][0]["id"], "iati/t/XM-TEST-ALL#rT3")
        self.assertEqual(s["rejected"]["listed"][0]["status"], "exists_with_different_fields")
        self.assertEqual(self.transfer("iati/t/XM-TEST-ALL#rT3")["amount"], 20000)

    def test_a_transaction_moved_within_its_activity_is_the_same_one(self):
        # The publisher lists its transactions newest first: a new one moves every
        # other down. Known by their refs, they are the ones recorded, and only the
        # new one is recorded; their records keep the places they were first given.
        older = [transaction(3, "100", date="2026-01-10", ref="a", provider=GOV, receiver=PARTNER),
                 transaction(3, "200", date="2026-02-10", ref="b", provider=GOV, receiver=PARTNER)]
        newer = transaction(3, "300", date="2026-03-10", ref="c", provider=GOV, receiver=PARTNER)
        first = self.imp(self.write("jan.xml", document(activity("XM-MOVE-1", "XM-TEST",
                                                                 older[::-1]))))
        self.assertEqual(first["transactions"], 2)
        before = self.iati_balances()
        r = self.cc("import", "iati", self.write("mar.xml", document(activity(
            "XM-MOVE-1", "XM-TEST", [newer] + older[::-1]))), "--schema", SCHEMA, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        s = json.loads(r.stdout)
        self.assertEqual((s["transactions"], s["rejected"]["count"]), (3, 0))
        self.assertEqual(self.transfer("iati/t/XM-MOVE-1#ra")["meta"]["position"], 2)
        self.assertEqual(self.transfer("iati/t/XM-MOVE-1#rc")["meta"]["position"], 1)
        # Only the new one moved money: 300 EUR more given and received, nothing else.
        after = self.iati_balances()
        moved = {k: tuple(b - a for a, b in zip(before.get(k, (v[0], 0, 0, 0, 0))[1:], v[1:]))
                 for k, v in after.items()}
        self.assertEqual({k: d for k, d in moved.items() if any(d)},
                         {"iati.funds.gb-gov-1.given.eur": (0, 30000, 0, 0),
                          "iati.funds.xm-partner.received.eur": (0, 0, 0, 30000)})
        after = self.state()
        # Moved and changed: still a change, refused, the record as it was.
        changed = [transaction(3, "201", date="2026-02-10", ref="b", provider=GOV,
                               receiver=PARTNER), older[0], newer]
        r = self.cc("import", "iati", self.write("changed.xml", document(activity(
            "XM-MOVE-1", "XM-TEST", changed))), "--schema", SCHEMA, "--json")
        self.assertEqual(r.returncode, 1, r.stderr)
        s = json.loads(r.stdout)
        self.assertEqual([(x["id"], x["status"]) for x in s["rejected"]["listed"]],
                         [("iati/t/XM-MOVE-1#rb", "exists_with_different_fields")])
        self.assertEqual(self.transfer("iati/t/XM-MOVE-1#rb")["amount"], 20000)
        self.assertEqual(self.state(), after)
        # The audit log replays the moves as they were recorded.
        self.assertEqual(self.cc("verify").returncode, 0)
        # The operation says so (the import sets same_if_moved): one logged without it
        # meets, replayed, the refusal it met when it was recorded.
        recorded = self.transfer("iati/t/XM-MOVE-1#ra")
        op = dict(recorded["meta"], op="iati_transaction", id="iati/t/XM-MOVE-1#ra",
                  amount=recorded["amount"], position=7)
        del op["source"]
        for flag, status in ((None, "exists_with_different_fields"), (True, "exists")):
            if flag is not None:
                op["same_if_moved"] = flag
            r = self.cc("apply", input=json.dumps(op) + "\n")
            self.assertEqual(json.loads(r.stdout)["status"], status, r.stdout)
        op["same_if_moved"] = "yes"
        r = self.cc("apply", input=json.dumps(op) + "\n")
        self.assertIn("same_if_moved: must be true or false", r.stdout)
        # Moved and changed where only its record shows (the provider's name): a change.
        renamed = [transaction(3, "100", date="2026-01-10", ref="a",
                               provider=("GB-GOV-1", "His Majesty's Government"),
                               receiver=PARTNER), newer, older[1]]
        r = self.cc("import", "iati", self.write("renamed.xml", document(activity(
            "XM-MOVE-1", "XM-TEST", renamed))), "--schema", SCHEMA, "--json")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual([(x["id"], x["status"]) for x in json.loads(r.stdout)["rejected"]["listed"]],
                         [("iati/t/XM-MOVE-1#ra", "exists_with_different_fields")])
        self.assertEqual(self.transfer("iati/t/XM-MOVE-1#ra")["meta"]["provider"]["name"],
                         "United Kingdom")
        # Changed in one file and moved unchanged in another of the same import: the
        # change is refused, once; the move is the one recorded.
        moved = [newer, older[0], older[1]]
        r = self.cc("import", "iati", self.write("changed.xml", document(activity(
            "XM-MOVE-1", "XM-TEST", changed))), self.write("moved.xml", document(activity(
                "XM-MOVE-1", "XM-TEST", moved))), "--schema", SCHEMA, "--json")
        self.assertEqual([(x["id"], x["status"]) for x in json.loads(r.stdout)["rejected"]["listed"]],
                         [("iati/t/XM-MOVE-1#rb", "exists_with_different_fields")])

    def test_a_transaction_known_by_its_place_and_moved_is_listed_as_doubtful(self):
        # No ref on P: known by its place (#2). The publisher inserts N at the top, and
        # P, now third, is recorded again as #3: its money twice. The summary says so.
        a = transaction(3, "100", date="2026-01-10", ref="a", provider=GOV, receiver=PARTNER)
        p = transaction(3, "200", date="2026-02-10", provider=GOV, receiver=PARTNER)
        n = transaction(3, "300", date="2026-03-10", ref="n", provider=GOV, receiver=PARTNER)
        q = transaction(3, "400", date="2026-04-10", provider=GOV, receiver=PARTNER)
        first = self.imp(self.write("v1.xml", document(activity("XM-M", "XM-TEST", [a, p, p]))))
        # Two like transactions of one file, both new: nothing doubtful.
        self.assertEqual(first["doubtful"], {"count": 0, "listed": []})
        v2 = self.write("v2.xml", document(activity("XM-M", "XM-TEST", [n, a, p, p, q])))
        text = self.cc("import", "iati", v2, "--schema", SCHEMA, "--dry-run")
        self.assertEqual(text.returncode, 0, text.stderr)
        self.assertIn("1 transactions known only by their place are like ones recorded before",
                      text.stdout)
        self.assertIn("\n  iati/t/XM-M#4 like iati/t/XM-M#2\n", text.stdout)
        r = self.cc("import", "iati", v2, "--schema", SCHEMA, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        s = json.loads(r.stdout)
        # #3 is P at the place it had; #4, P too, is new under its place and like #2 (its
        # money now counts twice); #5 (Q) is new and like nothing.
        self.assertEqual(s["doubtful"], {"count": 1, "listed": [
            {"id": "iati/t/XM-M#4", "like": "iati/t/XM-M#2"}]})
        self.assertEqual(self.transfer("iati/t/XM-M#5")["amount"], 40000)
        # Imported again: nothing new, nothing doubtful.
        self.assertEqual(self.imp(v2)["doubtful"]["count"], 0)
        # A second P beside the first, which the file still names at its place: it
        # cannot be the first one moved.
        self.imp(self.write("y1.xml", document(activity("XM-Y", "XM-TEST", [p]))))
        s = self.imp(self.write("y2.xml", document(activity("XM-Y", "XM-TEST", [p, p]))))
        self.assertEqual((s["doubtful"]["count"], self.transfer("iati/t/XM-Y#2")["amount"]),
                         (0, 20000))
        # None has a ref: one inserted at the top moves them all. Each old place now
        # holds another transaction (refused as a change); the last place is new, and
        # holds the old last one, now counted twice.
        p1, p2, p0 = (transaction(3, v, date=d, provider=GOV, receiver=PARTNER)
                      for v, d in (("100", "2026-01-10"), ("200", "2026-02-10"),
                                   ("300", "2026-03-10")))
        self.imp(self.write("z1.xml", document(activity("XM-Z", "XM-TEST", [p1, p2]))))
        r = self.cc("import", "iati", self.write("z2.xml", document(activity(
            "XM-Z", "XM-TEST", [p0, p1, p2]))), "--schema", SCHEMA, "--json")
        self.assertEqual(r.returncode, 1, r.stderr)
        s = json.loads(r.stdout)
        self.assertEqual(sorted(x["id"] for x in s["rejected"]["listed"]),
                         ["iati/t/XM-Z#1", "iati/t/XM-Z#2"])
        self.assertEqual(s["doubtful"]["listed"], [{"id": "iati/t/XM-Z#3",
                                                    "like": "iati/t/XM-Z#2"}])

    def test_a_report_of_a_pair_moved_within_its_activity_is_the_same_one(self):
        # Both sides of two flows: the provider's reports move the money, the
        # recipient's are kept as second reports. Each side then inserts a transaction
        # of another flow before them: every report is the one recorded.
        provider, recipient = self.write("p.xml", PROVIDER_SIDE), self.write("r.xml",
                                                                             RECIPIENT_SIDE)
        first = self.imp(provider, recipient)
        self.assertEqual(first["second_reports"], 2)
        before = self.iati_balances()
        seconds = [p["second_report"] for p in first["double_reported"]["listed"]]
        counted = [p["counted"] for p in first["double_reported"]["listed"]]
        inserted_p = document(activity("XM-DONOR-A1", "XM-DONOR", [
            transaction(3, "70", date="2026-03-01", receiver=NGO + ("XM-NGO-Q",)),
            transaction(2, "5000", date="2026-02-01", receiver=NGO + ("XM-NGO-B1",)),
            transaction(3, "1000", date="2026-02-10", receiver=NGO + ("XM-NGO-B1",))]))
        inserted_r = document(activity("XM-NGO-B1", "XM-NGO", [
            transaction(1, "30", date="2026-03-02", provider=DONOR + ("XM-DONOR-Z",)),
            transaction(11, "5000.00", date="2026-02-03", provider=DONOR + ("XM-DONOR-A1",)),
            transaction(1, "1000.0", date="2026-02-12", provider=DONOR + ("XM-DONOR-A1",))]))
        r = self.cc("import", "iati", self.write("p2.xml", inserted_p),
                    self.write("r2.xml", inserted_r), "--schema", SCHEMA, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        s = json.loads(r.stdout)
        self.assertEqual((s["transactions"], s["second_reports"], s["rejected"]["count"]),
                         (4, 2, 0))
        # Only the two new flows moved money; the pairs are still counted once.
        after = self.iati_balances()
        self.assertEqual(after["iati.funds.xm-donor.given.eur"][2],
                         before["iati.funds.xm-donor.given.eur"][2] + 7000 + 3000)
        self.assertEqual(after["iati.commitment.xm-ngo.received.eur"],
                         before["iati.commitment.xm-ngo.received.eur"])
        self.assertEqual(self.account("iati.records.second_reports"), (0, 0, 0, 2))
        # The records keep the places they were first given.
        for ident in seconds + counted:
            self.assertIn(self.transfer(ident)["meta"]["position"], (1, 2), ident)
        self.assertEqual(self.cc("verify").returncode, 0)
    def test_hostile_inputs_are_refused_by_place_and_record_nothing(self):
        self.imp(EXAMPLE)
        good = ALL_TYPES
        value_line = good.splitlines().index(
            '<value value-date="2026-03-01">200</value>') + 1
        cases = [
            ("truncated.xml", good[:len(good) // 2], None,
             ["not well-formed XML", "the file ends before this element does"]),
            # Cut inside a tag's name: the schema is handed the cut name first ("<narr").
            ("cut-tag.xml", good[:good.index("<narrative", len(good) // 2) + 5], None,
             ["not well-formed XML", "the file ends before this element does"]),
            ("cut-attribute.xml", good[:good.index('ref="', len(good) // 2) + 3], None,
             ["not well-formed XML", "the file ends before this element does"]),
            # A whole file whose last bytes are a wrong end tag is not a truncated one.
            ("end-tag.xml", good.rstrip().removesuffix("</iati-activities>")
             + "</iati-activitiez>", "iati-activities",
             ["not well-formed XML", "Opening and ending tag mismatch"]),
            ("end-charref.xml", good.rstrip().removesuffix("</iati-activities>") + "&#1;",
             "iati-activities", ["not well-formed XML", "invalid xmlChar value 1"]),
            ("end-entity.xml", good.rstrip().removesuffix("</iati-activities>") + "&foo;",
             "iati-activities", ["not well-formed XML", "Entity 'foo' not defined"]),
            ("utf8.xml", good.encode().replace(b"Funds in", b"Funds \xff\xfe in"), "narrative",
             ["not well-formed XML", "not proper UTF-8"]),
            # 2^63 cents and more: a decimal the schema takes, an amount the ledger cannot hold.
            ("huge.xml", good.replace(">200<", ">92233720368547758.08<"), "value",
             ["92233720368547758.08 EUR is beyond what the ledger records"]),
            ("long.xml", good.replace(">200<", ">" + "1" * 70 + "<"), "value",
             ["xs:decimal"]),
            ("precise.xml", good.replace(">200<", ">200.125<"), "value",
             ["200.125 EUR has more decimal places", "scale 2"]),
            ("currency.xml", good.replace('currency="USD"', 'currency="XYZ"'), "value",
             ['currency "XYZ" is not an ISO 4217 currency code']),
            ("nocurrency.xml", good.replace(' default-currency="EUR"', ""), "value",
             ["no currency"]),
            ("date.xml", good.replace('iso-date="2026-03-01"/>\n<value value-date="2026-03-01">'
                                      '200', 'iso-date="1800-03-01"/>\n<value value-date='
                                      '"2026-03-01">200'), "transaction-date",
             ["1800-03-01", "from 1900 to 2199"]),
            ("identifier.xml", good.replace("XM-TEST-ALL", "X" * 300), "iati-identifier",
             ["longer than 256 bytes"]),
            ("ref.xml", good.replace('ref="GB-GOV-1"', 'ref="' + "G" * 200 + '"', 1),
             "participating-org", ["attribute ref: longer than 128 bytes"]),
            ("doctype.xml", good.replace(
                '<iati-activities version="2.03">',
                '<!DOCTYPE iati-activities [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                '\n<iati-activities version="2.03">'), "!DOCTYPE",
             ["document type declaration is not accepted"]),
            # With its prolog, and an entity used: the schema's validator would stop first.
            ("doctype2.xml", '<?xml version="1.0"?>\n<!-- note -->\n<!DOCTYPE lolz [<!ENTITY '
             'lol "lol"><!ENTITY lol2 "&lol;&lol;">]>\n<iati-activities version="2.03">'
             '<iati-activity><iati-identifier>&lol2;</iati-identifier></iati-activity>'
             '</iati-activities>\n', "!DOCTYPE", ["document type declaration is not accepted"]),
            ("root.xml", '<?xml version="1.0"?>\n<organisations version="2.03"/>\n',
             "organisations", ["not valid IATI 2.03"]),
            ("empty.xml", "", "(document)", ["no root element"]),
        ]
        for name, text, element, words in cases:
            with self.subTest(name):
                self.refused(self.write(name, text), element, words)
        # The line is the value element's.
        first = self.refused(self.write("precise2.xml", good.replace(">200<", ">200.125<")),
                             "value", ["more decimal places"], line=value_line)
        self.assertIn("precise2.xml", first)
        r = self.cc("import", "iati", os.path.join(self.dir.name, "missing.xml"), "--schema",
                    SCHEMA)
        self.assertEqual(r.returncode, 2)
        self.assertIn("missing.xml: cannot open", r.stderr)

    # ---- a flow reported by both sides

    def test_a_flow_reported_by_both_sides_is_counted_once(self):
        provider = self.write("provider.xml", PROVIDER_SIDE)
        recipient = self.write("recipient.xml", RECIPIENT_SIDE)
        s = self.imp(provider, recipient)
        self.assertEqual((s["transactions"], s["second_reports"]), (2, 2))
        self.assertEqual(s["by_type"]["3"], 1)
        self.assertEqual(s["by_type"]["2"], 1)
        self.assertEqual((s["by_type"]["1"], s["by_type"]["11"]), (0, 0))
        self.assertEqual(s["double_reported"]["count"], 2)
        listed = {p["counted"]: p for p in s["double_reported"]["listed"]}
        self.assertEqual(len(listed), 2)
        for counted, p in listed.items():
            self.assertTrue(counted.endswith("/p"))
            self.assertEqual(p["second_report"], counted[:-1] + "r")
            self.assertEqual((p["provider_activity"], p["receiver_activity"]),
                             ("XM-DONOR-A1", "XM-NGO-B1"))
            second = self.transfer(p["second_report"])
            self.assertEqual((second["kind"], second["unit"], second["debit"], second["credit"]),
                             ("iati.second_report", "IATI_RECORD", "iati.records.published",
                              "iati.records.second_reports"))
            self.assertEqual(second["meta"]["counted_as"], counted)
            self.assertEqual(second["meta"]["activity"], "XM-NGO-B1")
            self.assertEqual(self.transfer(counted)["meta"]["activity"], "XM-DONOR-A1")
        # The money once: 1,000.00 disbursed, 5,000.00 committed.
        once = self.iati_balances()
        self.assertEqual(once["iati.funds.xm-donor.given.eur"][2], 100000)
        self.assertEqual(once["iati.funds.xm-ngo.received.eur"][4], 100000)
        self.assertEqual(once["iati.commitment.xm-ngo.received.eur"][4], 500000)
        self.assertEqual(self.account("iati.records.second_reports"), (0, 0, 0, 2))
        # One side now, the other later: the second import recognises the first's report.
        later = self.new_db("later.db")
        self.assertEqual(self.imp(provider, db=later)["double_reported"]["count"], 0)
        s2 = self.imp(recipient, db=later)
        self.assertEqual((s2["transactions"], s2["second_reports"]), (0, 2))
        self.assertEqual(s2["double_reported"]["count"], 2)
        self.assertEqual(self.iati_balances(db=later), once)
        # The recipient first: its reports are the ones counted, the money the same.
        reverse = self.new_db("reverse.db")
        s3 = self.imp(recipient, provider, db=reverse)
        self.assertEqual((s3["by_type"]["1"], s3["by_type"]["11"], s3["by_type"]["3"]),
                         (1, 1, 0))
        self.assertEqual(s3["double_reported"]["count"], 2)
        self.assertEqual(self.iati_balances(db=reverse), once)
        # Again: nothing new.
        self.assertEqual(self.imp(provider, recipient), s)
        self.assertEqual(self.iati_balances(), once)
        # Reports that disagree on the value are two flows.
        apart = self.new_db("apart.db")
        s4 = self.imp(provider, self.write("r900.xml", RECIPIENT_SIDE.replace("1000.0", "900")),
                      db=apart)
        self.assertEqual(s4["double_reported"]["count"], 1)  # the commitment still pairs
        self.assertEqual(self.iati_balances(db=apart)["iati.funds.xm-donor.given.eur"][2],
                         190000)
        for db in (self.db, later, reverse):
            self.assertEqual(self.cc("verify", db=db).returncode, 0)

    def test_an_hxl_export_names_the_organisations_of_each_transaction(self):
        self.imp(self.write("named.xml", document(activity("XM-DONOR-N1", "XM-DONOR", [
            transaction(3, "250", ref="paid", provider=DONOR, receiver=NGO),
            transaction(3, "70", ref="unnamed", provider=("XM-DONOR",), receiver=("XM-NGO",)),
        ]))))
        for fmt, skip in (("hxl", 1), ("csv", 0)):
            r = self.cc("export", fmt, "--what", "transfers", "--prefix", "iati.funds")
            self.assertEqual(r.returncode, 0, r.stderr)
            rows = list(csv.reader(io.StringIO(r.stdout)))
            header = rows[0]
            if skip:
                self.assertEqual(rows[1][header.index("funder")], "#org+name+funder")
                self.assertEqual(rows[1][header.index("recipient")], "#org+name+impl")
            by_id = {row[0]: dict(zip(header, row)) for row in rows[1 + skip:]}
            paid = by_id["iati/t/XM-DONOR-N1#rpaid"]
            self.assertEqual((paid["funder"], paid["recipient"], paid["amount"], paid["unit"]),
                             ("Donor", "NGO", "250.00", "EUR"))
            unnamed = by_id["iati/t/XM-DONOR-N1#runnamed"]  # no narrative: no name to give
            self.assertEqual((unnamed["funder"], unnamed["recipient"]), ("", ""))
            # The activity's identifier is each transaction's activity code.
            self.assertEqual((paid["ref_code"], unnamed["ref_code"]),
                             ("XM-DONOR-N1", "XM-DONOR-N1"))
            if skip:
                self.assertEqual(rows[1][header.index("ref_code")], "#activity+code")

    def test_an_hxl_export_gives_the_activity_record_its_identifier_as_code(self):
        self.imp(self.write("coded.xml", document(activity("XM-DONOR-C1", "XM-DONOR", [
            transaction(3, "5", ref="t", provider=DONOR, receiver=NGO)]))))
        r = self.cc("export", "hxl", "--what", "transfers", "--prefix", "iati.records")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = list(csv.reader(io.StringIO(r.stdout)))
        header = rows[0]
        records = [dict(zip(header, row)) for row in rows[2:]]
        activity_rows = [row for row in records if row["kind"] == "iati.activity"]
        self.assertEqual([row["ref_code"] for row in activity_rows], ["XM-DONOR-C1"])

    # ---- export

    def apply(self, ops, db=None):
        r = self.cc("apply", db=db, input="".join(json.dumps(o) + "\n" for o in ops))
        self.assertEqual(r.returncode, 0, r.stderr)
        return [json.loads(line) for line in r.stdout.splitlines()]

    def export(self, db=None, *args):
        r = self.cc("export", "iati", *args, db=db)
        self.assertEqual(r.returncode, 0, r.stderr)
        path = self.write(f"export-{len(os.listdir(self.dir.name))}.xml", r.stdout)
        return path, r.stdout

    def validates(self, path):
        if shutil.which("xmllint") is None:
            self.fail("xmllint (libxml2-utils) is needed to check exports")
        r = subprocess.run(["xmllint", "--noout", "--schema", SCHEMA, path], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_export_of_funding_imports_back_to_the_same_figures(self):
        results = self.apply(FUNDING)
        self.assertTrue(all(r["status"] in ("created", "resolved") for r in results), results)
        path, text = self.export()
        self.validates(path)
        self.assertIn("<iati-identifier>concord-fund.pool</iati-identifier>", text)
        self.assertNotIn('ref="p-void"', text)  # a pledge whose condition failed: no longer
        report = json.loads(self.cc("report", "funding", "--json").stdout)["totals"]
        fresh = self.new_db("b.db")
        s = self.imp(path, db=fresh)
        self.assertEqual(s["activities"], 1)
        usd = s["amounts"]["USD"]
        self.assertEqual((usd["13"], usd["11"], usd["3"]),
                         (report["pledged"], report["committed"], report["disbursed"]))
        self.assertEqual((usd["13"], usd["11"], usd["3"]), (1500000, 800000, 400000))
        # Pledges pending, commitments and disbursements posted, by organisation.
        b = self.iati_balances(db=fresh)
        self.assertEqual(b["iati.pledge.us.given.usd"][1:], (1000000, 0, 0, 0))
        self.assertEqual(b["iati.commitment.fr.given.usd"][1:], (0, 200000, 0, 0))
        self.assertEqual(b["iati.funds.fund.received.usd"][1:], (0, 0, 0, 400000))
        pledge = self.transfer("iati/t/concord-fund.pool#rp-us", db=fresh)
        self.assertEqual((pledge["kind"], pledge["state"], pledge["memo"], pledge["date"]),
                         ("iati.incoming_pledge", "pending", "for salaries", "2026-10-01"))
        # The export of the import is the export: a fixed point.
        _, again = self.export(fresh)
        self.assertEqual(again, text)
        # Another reporting organisation's identifier.
        _, prefixed = self.export(None, "--activity-prefix", "XM-TEST")
        self.assertIn("<iati-identifier>XM-TEST-fund.pool</iati-identifier>", prefixed)
        r = self.cc("export", "iati", "--activity-prefix", "has space")
        self.assertEqual(r.returncode, 2)

    def test_export_of_imported_activities_round_trips(self):
        self.apply(FUNDING)
        report = json.loads(self.cc("report", "funding", "--json").stdout)["totals"]
        first = self.imp(self.write("all.xml", ALL_TYPES), EXAMPLE,
                         self.write("provider.xml", PROVIDER_SIDE),
                         self.write("recipient.xml", RECIPIENT_SIDE))
        # IATI's transfers, in other currencies, stay out of the fund's USD report.
        self.assertEqual(json.loads(self.cc("report", "funding", "--json").stdout)["totals"],
                         report)
        path, text = self.export()
        self.validates(path)
        fresh = self.new_db("b.db")
        s = self.imp(path, db=fresh)
        # Every activity, the fund's included; the IATI figures as they were.
        self.assertEqual(s["activities"], first["activities"] + 1)
        self.assertEqual(s["double_reported"]["count"], first["double_reported"]["count"])
        fund = {"13": 1500000, "11": 800000, "3": 400000}  # the fund's, in USD
        for unit, per in first["amounts"].items():
            expected = dict(per)
            if unit == "USD":
                expected.update({k: expected.get(k, 0) + v for k, v in fund.items()})
            self.assertEqual(s["amounts"][unit], expected, unit)
        for code, n in first["by_type"].items():
            extra = {"13": 2, "11": 2, "3": 1}.get(code, 0)  # the fund's transactions
            self.assertEqual(s["by_type"][code], n + extra, code)
        before = self.iati_balances()
        after = self.iati_balances(db=fresh)
        # The fund's activity is one record more; every other account as it was.
        u, dp, dpo, cp, cpo = before.pop("iati.records.activities")
        self.assertEqual(after.pop("iati.records.activities"), (u, dp, dpo, cp, cpo + 1))
        u, dp, dpo, cp, cpo = before.pop("iati.records.published")
        self.assertEqual(after.pop("iati.records.published"), (u, dp, dpo + 1, cp, cpo))
        for ident, row in before.items():
            self.assertEqual(after.get(ident), row, ident)
        _, again = self.export(fresh)
        self.assertEqual(again, text)

    def test_export_of_the_demo_mission_imports_back_to_the_same_figures(self):
        # The demo's disbursements are posted by its board's approvals and one pledge when
        # its condition was met: the export's refs are the ledger's ids of those postings.
        demo = self.demo_db()
        path, text = self.export(demo)
        self.validates(path)
        refs = re.findall(r'<transaction ref="([^"]*)">', text)
        self.assertTrue(any(ref.endswith("/approval") for ref in refs), refs)
        self.assertTrue(any(ref.endswith("/condition") for ref in refs), refs)
        report = json.loads(self.cc("report", "funding", "--json", db=demo).stdout)
        fresh = self.new_db("b.db")
        s = self.imp(path, db=fresh)
        self.assertEqual(s["rejected"]["count"], 0, s["rejected"])
        self.assertEqual(s["transactions"], len(refs))
        self.assertEqual(list(s["amounts"]), ["USD"])
        usd = s["amounts"]["USD"]
        totals = report["totals"]
        self.assertEqual((usd["13"], usd["11"], usd["3"]),
                         (totals["pledged"], totals["committed"], totals["disbursed"]))
        self.assertGreater(totals["disbursed"], 0)
        # The funding report of the import: IATI's figures, in total and by month.
        figures = ("pledged", "committed", "disbursed")
        again = json.loads(self.cc("report", "funding", "--json", db=fresh).stdout)
        self.assertEqual({k: again["totals"][k] for k in figures},
                         {k: totals[k] for k in figures})
        self.assertEqual([{k: m[k] for k in ("month",) + figures} for m in again["by_month"]],
                         [{k: m[k] for k in ("month",) + figures} for m in report["by_month"]])
        # A ref the ledger could not take as it is keys its transaction by position.
        for position, ref in enumerate(refs, 1):
            reserved = ref.endswith(("/approval", "/condition", "/expiry"))
            key = str(position) if reserved else "r" + ref
            t = self.transfer(f"iati/t/concord-fund.pool#{key}", db=fresh)
            self.assertIsNotNone(t, ref)
            self.assertEqual(t["meta"]["ref"], ref)
        # Imported again: nothing new. Exported again: the same document.
        before = self.state(db=fresh)
        self.assertEqual(self.imp(path, db=fresh), s)
        self.assertEqual(self.state(db=fresh), before)
        _, exported = self.export(fresh)
        self.assertEqual(exported, text)

    def test_a_ledgers_own_export_coming_back_is_not_counted_twice(self):
        # A mission publishes its export; a registry's copy of it comes back in a
        # country's file. Its funding is the ledger's already: not counted again.
        demo = self.demo_db()
        path, text = self.export(demo)
        self.validates(path)
        log = json.loads(self.cc("checkpoint", "--json", db=demo).stdout)["checkpoint"]
        name = log.splitlines()[0]
        self.assertIn(f'<other-identifier ref="fund.pool@{name}" type="A1"/>', text)
        # Beside another publisher's activity, in one file.
        mixed = self.write("mixed.xml", text.replace(
            "</iati-activities>", ALL_TYPES.split("<iati-activities version=\"2.03\">")[1]))
        self.validates(mixed)
        before = self.state(db=demo)
        report = self.cc("report", "funding", "--json", db=demo).stdout
        s = self.imp(mixed, db=demo)
        self.assertEqual(s["activities"], 1)  # the other publisher's
        own = [k for k in s["skipped"]["listed"] if "this ledger's own export" in k["reason"]]
        self.assertEqual([(k["element"], k["line"]) for k in own], [("iati-activity", 3)])
        self.assertIsNone(self.transfer("iati/a/concord-fund.pool", db=demo))
        self.assertIsNotNone(self.transfer("iati/a/XM-TEST-ALL", db=demo))
        funding = json.loads(self.cc("report", "funding", "--json", db=demo).stdout)
        self.assertEqual(funding["totals"], json.loads(report)["totals"])
        self.assertNotEqual(self.state(db=demo), before)
        # Another ledger records it; that ledger's export carries the same identifier, and
        # the first ledger still knows its own funding in it.
        fresh = self.new_db("b.db")
        self.assertEqual(self.imp(path, db=fresh)["activities"], 1)
        exported_path, exported = self.export(fresh)
        self.assertEqual(exported, text)
        again = self.imp(exported_path, db=demo)
        self.assertEqual(again["activities"], 0)
        self.assertEqual([k["reason"] for k in again["skipped"]["listed"]
                          if "this ledger's own export" in k["reason"]], [own[0]["reason"]])
        self.assertIsNone(self.transfer("iati/a/concord-fund.pool", db=demo))

    def test_own_funding_of_a_fund_that_only_disburses_is_known_too(self):
        # The export writes an activity for the account a disbursement debits as well.
        self.apply([{"op": "unit", "code": "USD", "scale": 2},
                    {"op": "account", "id": "donor.x", "unit": "USD"},
                    {"op": "account", "id": "ngo.y", "unit": "USD"},
                    {"op": "transfer", "id": "d1", "debit": "donor.x", "credit": "ngo.y",
                     "amount": 1000, "kind": "disbursement"}])
        path, text = self.export()
        self.assertIn('<other-identifier ref="donor.x@', text)
        report = self.cc("report", "funding", "--json").stdout
        s = self.imp(path)
        self.assertEqual((s["activities"], s["transactions"]), (0, 0))
        self.assertIn("this ledger's own export", s["skipped"]["listed"][0]["reason"])
        self.assertEqual(self.cc("report", "funding", "--json").stdout, report)

    def test_one_activity_with_and_without_its_own_identifier_in_one_import_is_one(self):
        document_a1 = ALL_TYPES.replace(
            '<activity-status', '<other-identifier ref="ALL-1@elsewhere" type="A1"/>\n'
            '<activity-status', 1)
        s = self.imp(self.write("plain.xml", ALL_TYPES), self.write("a1.xml", document_a1))
        self.assertEqual(s["rejected"]["count"], 0, s["rejected"])
        self.assertEqual(s["activities"], 1)
        r = self.cc("verify")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_another_ledger_with_the_same_key_is_not_this_one(self):
        # Two ledgers given one key file share a log name; only this one's funds are its own.
        key = os.path.join(self.dir.name, "shared.key")
        first, second = (os.path.join(self.dir.name, n) for n in ("s1.db", "s2.db"))
        r = subprocess.run([CONCORD, "--db", first, "--key", key, "demo"], capture_output=True,
                           text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = subprocess.run([CONCORD, "--db", second, "--key", key, "init"], capture_output=True,
                           text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = subprocess.run([CONCORD, "--db", second, "--key", key, "apply"],
                           input='{"op":"unit","code":"USD","scale":2}\n', capture_output=True,
                           text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        names = [subprocess.run([CONCORD, "--db", db, "--key", key, "checkpoint"],
                                capture_output=True, text=True,
                                timeout=300).stdout.splitlines()[0] for db in (first, second)]
        self.assertEqual(names[0], names[1])  # one key, one log name
        r = subprocess.run([CONCORD, "--db", first, "--key", key, "export", "iati"],
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        path = self.write("s1.xml", r.stdout)
        r = subprocess.run([CONCORD, "--db", second, "--key", key, "import", "iati", path,
                            "--schema", SCHEMA, "--json"], capture_output=True, text=True,
                           timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        s = json.loads(r.stdout)
        self.assertEqual(s["activities"], 1)
        self.assertGreater(s["transactions"], 0)

    def test_a_fund_whose_identifier_another_publisher_took_is_not_dropped(self):
        # Two missions export with the default prefix: both funds are concord-fund.pool.
        # The second, holding the first's activity, must not drop its own fund silently.
        first, second = self.demo_db("m1.db"), self.demo_db("m2.db")
        path, _ = self.export(first)
        self.assertEqual(self.imp(path, db=second)["activities"], 1)
        r = self.cc("export", "iati", db=second)
        self.assertEqual(r.returncode, 2, r.stdout[:200])
        self.assertEqual(r.stdout, "")  # refused before anything is written
        self.assertIn("the fund fund.pool would be the activity concord-fund.pool, which is "
                      "another publisher's activity imported here", r.stderr)
        self.assertIn("--activity-prefix", r.stderr)
        # With its own prefix, both are written: its fund, and the other's activity.
        _, text = self.export(second, "--activity-prefix", "XM-MISSION-2")
        identifiers = re.findall(r"<iati-identifier>([^<]*)</iati-identifier>", text)
        self.assertEqual(sorted(identifiers), ["XM-MISSION-2-fund.pool", "concord-fund.pool"])

    def test_an_activity_recorded_before_its_own_identifier_was_kept_exists(self):
        # Read before, the A1 identifier was not kept: the record made then has none, and
        # the same file now (which does keep it) must find that record, not differ from it.
        document_a1 = ALL_TYPES.replace(
            '<activity-status', '<other-identifier ref="ALL-1@elsewhere" type="A1"/>\n'
            '<activity-status', 1)
        self.assertIn("other-identifier", document_a1)
        self.imp(self.write("before.xml", ALL_TYPES))
        before = self.state()
        s = self.imp(self.write("after.xml", document_a1))
        self.assertEqual(s["rejected"]["count"], 0, s["rejected"])
        self.assertEqual(self.state(), before)
        # A fresh ledger keeps it, and its export writes it back.
        fresh = self.new_db("c.db")
        self.imp(os.path.join(self.dir.name, "after.xml"), db=fresh)
        _, text = self.export(fresh)
        self.assertIn('<other-identifier ref="ALL-1@elsewhere" type="A1"/>', text)

    def test_a_ref_ending_as_the_ledgers_own_records_imports_by_position(self):
        # A publisher's ref may be anything; the ledger keeps ids ending in /approval,
        # /condition and /expiry for the records it makes itself.
        text = document(activity("XM-TEST-REF", "XM-TEST", [
            transaction(3, "100", ref="T/approval", receiver=PARTNER),
            transaction(11, "200", ref="T/condition", provider=GOV),
            transaction(13, "300", ref="T/expiry", provider=GOV),
            transaction(3, "400", ref="/approval", receiver=PARTNER),
            transaction(3, "500", ref="T", receiver=PARTNER),
        ]))
        path = self.write("reserved.xml", text)
        s = self.imp(path)
        self.assertEqual(s["rejected"]["count"], 0, s["rejected"])
        self.assertEqual(s["amounts"]["EUR"], {"3": 100000, "11": 20000, "13": 30000})
        for key, ref, amount in (("1", "T/approval", 10000), ("2", "T/condition", 20000),
                                 ("3", "T/expiry", 30000), ("4", "/approval", 40000),
                                 ("rT", "T", 50000)):
            t = self.transfer(f"iati/t/XM-TEST-REF#{key}")
            self.assertIsNotNone(t, key)
            self.assertEqual((t["meta"]["ref"], t["amount"]), (ref, amount))
        before = self.state()
        self.assertEqual(self.imp(path), s)
        self.assertEqual(self.state(), before)
        # The export writes the refs as published, and imports back the same.
        exported, exported_text = self.export()
        self.validates(exported)
        for ref in ("T/approval", "T/condition", "T/expiry", "/approval"):
            self.assertIn(f'<transaction ref="{ref}">', exported_text)
        fresh = self.new_db("b.db")
        self.assertEqual(self.imp(exported, db=fresh), s)
        self.assertEqual(self.iati_balances(db=fresh), self.iati_balances())
        _, again = self.export(fresh)
        self.assertEqual(again, exported_text)

    def test_an_empty_ledger_has_nothing_to_export(self):
        r = self.cc("export", "iati")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "")
        self.assertIn("nothing to export", r.stderr)

    def test_the_funding_report_counts_usd_transactions_by_type(self):
        def tx(code, value, currency="USD"):
            return (f'<transaction><transaction-type code="{code}"/>'
                    f'<transaction-date iso-date="2026-03-0{code % 9 + 1}"/>'
                    f'<value currency="{currency}" value-date="2026-03-01">{value}</value>'
                    f'</transaction>')
        doc = ('<?xml version="1.0"?>\n<iati-activities version="2.03">'
               '<iati-activity default-currency="USD"><iati-identifier>XM-REPORT-1</iati-identifier>'
               '<reporting-org ref="XM-REPORT" type="40"><narrative>Agency</narrative>'
               '</reporting-org><title><narrative>Report</narrative></title>'
               '<description><narrative>Funding by type</narrative></description>'
               '<participating-org ref="GB-GOV-1" role="1" type="10"/>'
               '<activity-status code="2"/><activity-date type="1" iso-date="2026-01-01"/>'
               + tx(13, "1000") + tx(12, "500") + tx(11, "700") + tx(2, "300")
               + tx(3, "400") + tx(1, "250") + tx(3, "-50") + tx(4, "120.50")
               + tx(5, "9") + tx(11, "999", "EUR") +
               '</iati-activity></iati-activities>\n')
        self.imp(self.write("report.xml", doc))
        r = self.cc("report", "funding", "--source", "iati", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        totals = json.loads(r.stdout)["totals"]
        # Pledges 13 and 12; commitments 11 and 2; disbursements 3 and the funds they
        # bring (1), a negative one subtracted; expenditure 4. Interest (5) is not
        # funding, and the report converts no EUR.
        self.assertEqual((totals["pledged"], totals["committed"], totals["disbursed"],
                          totals["spent"]), (150000, 100000, 60000, 12050))
        every = json.loads(self.cc("report", "funding", "--json").stdout)
        self.assertEqual([b["source"] for b in every["by_source"]], ["iati"])

    def test_only_readers_of_everything_export(self):
        self.cc("apply", input="".join(json.dumps(o) + "\n" for o in [
            {"op": "unit", "code": "USD", "scale": 2},
            {"op": "account", "id": "fund.pool", "unit": "USD"},
            {"op": "donor", "id": "us", "name": "United States"},
            {"op": "pledge", "id": "p-us", "donor": "us", "amount": 500}]))
        made = self.cc("token", "create", "--user", "v", "--role", "viewer", "--party", "us",
                       "--json")
        self.assertEqual(made.returncode, 0, made.stderr)
        r = self.cc("--token", json.loads(made.stdout)["token"], "export", "iati")
        self.assertEqual((r.returncode, r.stdout), (1, ""))
        self.assertIn("administrator, coordinator or auditor", r.stderr)
        self.assertIn("<iati-activities", self.cc("export", "iati").stdout)

    # ---- streaming

    def test_a_large_file_is_streamed_in_bounded_memory(self):
        # The same 100 activities and 100 transactions, around 10, 3,000 or 6,000 budgets
        # each (what concord does not keep): 0.2, 44 and 89 MB. Streamed, the reader holds
        # one activity, never the document: the larger files cost what the small one does.
        budget = ('<budget><period-start iso-date="2026-01-01"/><period-end '
                  'iso-date="2026-12-31"/><value currency="EUR" value-date="2026-01-01">'
                  '1000</value></budget>\n')
        sizes, peaks = [], []
        for budgets in (10, 3000, 6000):
            path = os.path.join(self.dir.name, f"budgets-{budgets}.xml")
            with open(path, "w") as f:
                f.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                        '<iati-activities version="2.03">\n')
                for a in range(100):
                    head = activity(f"XM-BIG-{a}", "XM-BIG", []).replace("</iati-activity>", "")
                    f.write(head + budget * budgets)
                    f.write(transaction(3, "10", receiver=PARTNER) + "\n</iati-activity>\n")
                f.write("</iati-activities>\n")
                sizes.append(f.tell())
            db = self.new_db(f"budgets-{budgets}.db")
            code, out, peak = peak_rss([CONCORD, "--db", db, "import", "iati", path, "--schema",
                                        SCHEMA, "--json"])
            self.assertEqual(code, 0)
            s = json.loads(out)
            self.assertEqual((s["activities"], s["transactions"]), (100, 100))
            peaks.append(peak)
        self.assertGreater(sizes[2], 85_000_000)
        # Held whole, a file costs its size at least (a tree of it, several times that).
        self.assertLess(peaks[1] - peaks[0], sizes[1] // 4, f"{peaks} for {sizes} bytes")
        self.assertLess(peaks[2] - peaks[1], (sizes[2] - sizes[1]) // 8,
                        f"{peaks} for {sizes} bytes")

    def test_a_file_over_one_batch_is_committed_in_batches_all_or_nothing(self):
        # 2,100 activities of 10 transactions: over 20,000 operations, so more than one
        # batch; from standard input (a pipe, read through a copy by the two readers).
        before = self.state()
        r = self.cc("import", "iati", "-", "--schema", SCHEMA, "--json",
                    input=many_activities("invalid"))
        self.assertEqual(r.returncode, 2, r.stdout)
        self.assertIn("nonsense", r.stderr)
        self.assertEqual(self.state(), before, "a file refused at its end records nothing")
        # Valid IATI whose last value the ledger cannot record (USD keeps cents): the
        # schema passes it, the recording refuses it after committing earlier batches.
        r = self.cc("import", "iati", "-", "--schema", SCHEMA, "--json",
                    input=many_activities("precise"))
        self.assertEqual(r.returncode, 2, r.stdout)
        self.assertRegex(r.stderr, r"stdin:\d+: element value: 1\.001 USD has more decimal places")
        self.assertEqual(self.state(), before, "a value refused at the end records nothing")
        document = many_activities
        r = self.cc("import", "iati", "-", "--schema", SCHEMA, "--json", input=document())
        self.assertEqual(r.returncode, 0, r.stderr)
        s = json.loads(r.stdout)
        self.assertEqual((s["activities"], s["transactions"], s["by_type"]["3"]),
                         (2100, 21000, 21000))
        self.assertEqual(s["rejected"]["count"], 0)
        expected = sum((a % 97 + 1) * 100 * 10 + sum(range(10)) * 10 for a in range(2100))
        self.assertEqual(int(s["amounts"]["USD"]["3"]), expected)
        # Committed in batches: the import is more than one event of the audit log (a
        # new ledger has none before it), and the log replays them all.
        log = self.cc("verify")
        self.assertEqual(log.returncode, 0, log.stderr)
        self.assertRegex(log.stdout, r"intact: ([2-9]|\d\d+) events, .* 23100 transfers")
        again = json.loads(self.cc("import", "iati", "-", "--schema", SCHEMA, "--json",
                                   input=document()).stdout)
        self.assertEqual((again["activities"], again["transactions"]), (2100, 21000))

    def test_the_two_reports_of_a_flow_pair_across_batches(self):
        # A thousand activities between the two sides: the provider's reports and the
        # recipient's are recorded in different batches, and still make pairs.
        provider = self.write("provider.xml", PROVIDER_SIDE)
        recipient = self.write("recipient.xml", RECIPIENT_SIDE)
        filler = self.write("filler.xml", many_activities(prefix="XM-FILL", count=1000))
        s = self.imp(provider, filler, recipient)
        self.assertEqual((s["transactions"], s["second_reports"]), (10002, 2))
        self.assertEqual(s["double_reported"]["count"], 2)
        alone = self.new_db("alone.db")
        self.imp(provider, recipient, db=alone)
        once = self.iati_balances(db=alone)
        spread = self.iati_balances()
        self.assertEqual({k: spread[k] for k in once if not k.startswith("iati.records.")},
                         {k: v for k, v in once.items() if not k.startswith("iati.records.")})

    def test_the_first_problem_in_the_files_is_the_one_reported(self):
        # The schema is checked in a thread beside the reading; which of its refusals
        # and the reading's is reported does not depend on which thread is faster.
        def doc(*activities):
            return ('<?xml version="1.0" encoding="UTF-8"?>\n<iati-activities version="2.03">\n'
                    + "".join(activities) + "</iati-activities>\n")
        good = [activity(f"XM-ORDER-{a}", "XM-ORDER",
                         [transaction(3, "10", receiver=PARTNER)] * 5, currency="USD")
                for a in range(300)]
        precise = activity("XM-ORDER-P", "XM-ORDER", [transaction(3, "1.001", receiver=PARTNER)],
                           currency="USD")
        invalid = activity("XM-ORDER-I", "XM-ORDER", [transaction(3, "10", receiver=PARTNER)],
                           currency="USD").replace("<title>", "<nonsense/><title>")
        value_first = self.write("value-first.xml", doc(precise, *good, invalid))
        schema_first = self.write("schema-first.xml", doc(invalid, *good, precise))
        value_only = self.write("value-only.xml", doc(*good, precise))
        schema_only = self.write("schema-only.xml", doc(invalid, *good))
        cases = [((value_first,), "value-first.xml", "more decimal places"),
                 ((schema_first,), "schema-first.xml", "nonsense"),
                 ((value_only, schema_only), "value-only.xml", "more decimal places"),
                 ((schema_only, value_only), "schema-only.xml", "nonsense")]
        before = self.state()
        for files, named, words in cases:
            for _ in range(3):
                with self.subTest(files=files):
                    r = self.cc("import", "iati", *files, "--schema", SCHEMA)
                    self.assertEqual(r.returncode, 2, r.stderr)
                    self.assertIn(named + ":", r.stderr)
                    self.assertIn(words, r.stderr)
        self.assertEqual(self.state(), before)

    def test_a_dry_run_says_what_an_import_would_record_and_records_nothing(self):
        provider = self.write("provider.xml", PROVIDER_SIDE)
        recipient = self.write("recipient.xml", RECIPIENT_SIDE)
        many = self.write("many.xml", many_activities(count=600))  # over one batch
        before = self.state()
        events = self.cc("verify").stdout
        r = self.cc("import", "iati", provider, many, recipient, "--schema", SCHEMA, "--json",
                    "--dry-run")
        self.assertEqual(r.returncode, 0, r.stderr)
        dry = json.loads(r.stdout)
        self.assertIs(dry.pop("dry_run"), True)
        self.assertEqual(self.state(), before)
        self.assertEqual(self.cc("verify").stdout, events)
        # Amounts in currencies the ledger does not have yet read as the import would make them.
        r = self.cc("import", "iati", provider, "--schema", SCHEMA, "--dry-run")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith("dry run: nothing was recorded"), r.stdout)
        self.assertRegex(r.stdout, r"EUR type  2 Outgoing Commitment +\d[\d,]*\.\d\d\n")
        self.assertEqual(self.imp(provider, many, recipient), dry)

    def test_a_full_disk_is_reported_as_such_and_records_nothing(self):
        # The database may grow by no more than 4 MB (a file size limit, as a full disk
        # would): with 20,000 activities the recorder's writes outgrow SQLite's page cache
        # and fail partway, while the reader waits to hand over a batch. The store's error
        # is what the import reports (exit 3), not a problem of the file, which is valid.
        path = self.write("many.xml", many_activities(count=20000))
        before = self.state()
        r = small_disk.run([CONCORD, "--db", self.db, "import", "iati", path, "--schema", SCHEMA],
                           4)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertNotIn("stopped", r.stderr)
        self.assertNotIn("many.xml", r.stderr)
        self.assertEqual(self.state(), before)
        self.assertEqual(self.cc("check").returncode, 0)

    def test_a_party_or_unit_first_met_in_a_later_batch_is_made_there(self):
        late = transaction(3, "12.5", currency="CHF", receiver=("XM-LATE", "A late partner"))
        r = self.cc("import", "iati", "-", "--schema", SCHEMA, "--json",
                    input=many_activities(late=late))
        self.assertEqual(r.returncode, 0, r.stderr)
        s = json.loads(r.stdout)
        self.assertEqual((s["transactions"], s["rejected"]["count"]), (21001, 0))
        self.assertEqual(s["amounts"]["CHF"], {"3": 1250})
        parties = {p["id"]: p["name"] for p in
                   json.loads(self.cc("party", "list", "--json").stdout)}
        self.assertEqual(parties.get("iati-xm-late"), "A late partner (XM-LATE)")
        # Every account an import made is owned by a party the ledger has.
        for account in json.loads(self.cc("account", "list", "--json").stdout):
            if account.get("owner"):
                self.assertIn(account["owner"], parties, account["id"])
        units = [u["code"] for u in json.loads(self.cc("unit", "list", "--json").stdout)]
        self.assertIn("CHF", units)


def many_activities(broken=None, prefix="XM-MANY", count=2100, late=None):
    """count activities of 10 USD disbursements to PARTNER: over one batch at 2,100.
    broken: "invalid" (the last activity is not valid IATI) or "precise" (its last
    value has more decimal places than USD keeps). late: a transaction the last
    activity adds, to an organisation and in a currency that no other names."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<iati-activities version="2.03">\n']
    for a in range(count):
        txs = [transaction(3, f"{a % 97 + 1}.{t}0", receiver=PARTNER) for t in range(10)]
        if late and a == count - 1:
            txs.append(late)
        if broken == "precise" and a == count - 1:
            txs[-1] = transaction(3, "1.001", receiver=PARTNER)
        parts.append(activity(f"{prefix}-{a}", "XM-MANY", txs, currency="USD"))
        if broken == "invalid" and a == count - 1:
            parts[-1] = parts[-1].replace("<title>", "<nonsense/><title>")
    parts.append("</iati-activities>\n")
    return "".join(parts)


class IatiOverHttp(unittest.TestCase):
    """POST /v1/import/iati in a server that lives on: a refused import leaves its caches
    as the ledger is, so that what comes next counts from the right balances."""

    def serve(self, directory, schema):
        """A new ledger in directory, served with schema as the server's IATI schema; the
        server, its database's command line and a coordinator's token."""
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import test_force  # its Server runs `concord serve` on a port the OS picks
        test_force.CONCORD = CONCORD
        db = os.path.join(directory, "h.db")
        run = [CONCORD, "--db", db]
        subprocess.run(run + ["init"], check=True, capture_output=True, timeout=120)
        made = subprocess.run(run + ["token", "create", "--user", "cora", "--role",
                                     "coordinator", "--json"],
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(made.returncode, 0, made.stderr)
        saved = os.environ.get("CONCORD_IATI_SCHEMA")
        os.environ["CONCORD_IATI_SCHEMA"] = schema  # the server's, where imports find it
        try:
            return test_force.Server(db), run, json.loads(made.stdout)["token"]
        finally:
            if saved is None:
                del os.environ["CONCORD_IATI_SCHEMA"]
            else:
                os.environ["CONCORD_IATI_SCHEMA"] = saved

    def test_a_refused_import_leaves_the_server_as_it_was(self):
        with tempfile.TemporaryDirectory() as directory:
            server, run, token = self.serve(directory, SCHEMA)
            account = "iati.funds.xm-partner.received.usd"
            try:
                def request(method, path, data=None):
                    return server.request(method, path, token, data, "application/xml", 600)

                def received():
                    status, body = request("GET", "/v1/accounts/" + account)
                    self.assertEqual(status, 200, body)
                    return body

                status, first = request("POST", "/v1/import/iati",
                                        many_activities(prefix="XM-ONE").encode())
                self.assertEqual(status, 200, first)
                after_first = received()
                # Over one batch, refused at its end: its earlier batches moved the same
                # account inside the import, and all of it is undone.
                status, error = request("POST", "/v1/import/iati",
                                        many_activities("precise", prefix="XM-TWO").encode())
                self.assertEqual(status, 400, error)
                self.assertIn("more decimal places", error["error"]["message"])
                self.assertEqual(received(), after_first)
                # A dry run answers what the import would record, and records nothing.
                three = many_activities(prefix="XM-THREE", count=10).encode()
                status, dry = request("POST", "/v1/import/iati?dry_run=true", three)
                self.assertEqual(status, 200, dry)
                self.assertIs(dry.pop("dry_run"), True)
                self.assertEqual(received(), after_first)
                # Anything but true or false is refused: a bare ?dry_run is not a real import.
                for query in ("dry_run=maybe", "dry_run", "dry_run=", "dry_run=TRUE"):
                    status, error = request("POST", "/v1/import/iati?" + query, three)
                    self.assertEqual(status, 400, (query, error))
                    self.assertIn("dry_run", error["error"]["message"])
                self.assertEqual(received(), after_first)
                status, third = request("POST", "/v1/import/iati?dry_run=false", three)
                self.assertEqual(status, 200, third)
                self.assertEqual(third, dry)
                after_third = received()
                one = int(first["amounts"]["USD"]["3"])
                three = int(third["amounts"]["USD"]["3"])
                self.assertEqual(three, sum((a % 97 + 1) * 1000 + 450 for a in range(10)))
                self.assertEqual(after_first["credits_posted"], one)
                self.assertEqual(after_third["credits_posted"], one + three)
            finally:
                rc = server.stop()
            self.assertEqual(rc, 0, server.stderr())
            for check in (["check"], ["verify"]):
                r = subprocess.run(run + check, capture_output=True, text=True, timeout=600)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_a_schema_the_server_cannot_read_is_the_server_s_fault(self):
        with tempfile.TemporaryDirectory() as directory:
            server, _, token = self.serve(directory, os.path.join(directory, "missing.xsd"))
            try:
                status, error = server.request("POST", "/v1/import/iati", token,
                                               ALL_TYPES.encode(), "application/xml")
                self.assertEqual((status, error["error"]["code"]), (503, "unavailable"), error)
                self.assertIn("missing.xsd", error["error"]["message"])
            finally:
                rc = server.stop()
            self.assertEqual(rc, 0, server.stderr())


# Runs a command in a process of its own and reports its peak resident memory, so that
# no other child of this test counts (getrusage of children keeps the largest so far).
PEAK = """
import json, resource, subprocess, sys
r = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stderr.write(r.stderr)
print(json.dumps({"code": r.returncode, "out": r.stdout,
                  "peak": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024}))
"""


def peak_rss(args):
    env = dict(os.environ)
    env.pop("CONCORD_IATI_SCHEMA", None)
    # Freed memory is memory again: sanitizer builds hold freed blocks back otherwise, in a
    # quarantine of their own and one per thread (the import validates in a thread).
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") +
                           ":quarantine_size_mb=0:thread_local_quarantine_size_kb=0").lstrip(":")
    r = subprocess.run([sys.executable, "-c", PEAK] + args, capture_output=True, text=True,
                       env=env, timeout=600)
    result = json.loads(r.stdout)
    if result["code"] != 0:
        sys.stderr.write(r.stderr)
    return result["code"], result["out"], result["peak"]


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    CONCORD = os.path.abspath(sys.argv.pop(1))
    if not os.path.exists(SCHEMA):
        sys.exit(f"test_iati: no IATI schema at {SCHEMA} (set CONCORD_SHARED_DATA)")
    unittest.main()
