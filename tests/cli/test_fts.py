#!/usr/bin/env python3
"""`concord import fts` on OCHA FTS's own answers, end to end.

The files are FTS's flow search answers for Afghanistan and Jordan, 2020
(../shared/data/fts, three pages each). Each first page carries FTS's own
totals; the import must reproduce them from what the ledger recorded, and
this test checks the ledger itself too: the transfers, their accounts,
their meta, re-import, newer versions superseding older ones with
correcting entries, stale versions, refusals that record nothing, and that
the audit log replays the import.

usage: test_fts.py CONCORD_BINARY DATA_DIR [unittest arguments]
"""
import copy
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

import small_disk  # beside this file

CONCORD = None
DATA = None


def pages(country):
    return sorted(glob.glob(os.path.join(DATA, "fts", f"{country}-2020-page-*.json")))


def flows_of(country):
    out = []
    for p in pages(country):
        with open(p, encoding="utf-8") as f:
            out += json.load(f)["data"]["flows"]
    return out


def fts_totals(country):
    with open(pages(country)[0], encoding="utf-8") as f:
        return json.load(f)["data"]["incoming"]


def numbered_flows(count, first):
    """count copies of one paid, incoming, single Afghan flow, each a flow of its own
    (ids first + 1, first + 2, …, version 1, 1,001 USD, 1,002 USD, …)."""
    base = next(f for f in flows_of("afg") if f["amountUSD"] > 0 and f["status"] == "paid"
                and f["boundary"] == "incoming" and f["onBoundary"] == "single")
    flows = []
    for i in range(1, count + 1):
        f = copy.deepcopy(base)
        f.update(id=str(first + i), versionId=1, amountUSD=1000 + i, parentFlowId=None,
                 childFlowIds=None)
        flows.append(f)
    return flows


class Fts(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.db = os.path.join(self.dir.name, "f.db")
        r = self.cc("init")
        self.assertEqual(r.returncode, 0, r.stderr)

    def tearDown(self):
        self.dir.cleanup()

    def cc(self, *args, input=None):
        return subprocess.run([CONCORD, "--db", self.db] + list(args), input=input,
                              capture_output=True, text=True, timeout=300)

    def write(self, name, answer):
        path = os.path.join(self.dir.name, name)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(answer, f)
        return path

    def imported(self, *files, code=0):
        r = self.cc("import", "fts", *files, "--json")
        self.assertEqual(r.returncode, code, r.stderr)
        return json.loads(r.stdout)

    def transfer(self, ident):
        r = self.cc("transfer", "show", ident, "--json")
        return json.loads(r.stdout) if r.returncode == 0 else None

    def balances(self):
        r = self.cc("balance", "--prefix", "fts.", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def one_flow_answer(self, flow, **changes):
        """An answer of one page holding one flow, changed as given."""
        f = copy.deepcopy(flow)
        f.update(changes)
        return {"status": 200, "data": {"flows": [f]}, "meta": {"count": 1}}

    def test_reproduces_fts_totals_from_the_ledger(self):
        for country in ("afg", "jor"):
            with self.subTest(country=country):
                s = self.imported(*pages(country))
                fts = fts_totals(country)
                flows = flows_of(country)
                self.assertEqual(s["incoming"]["flows"], fts["flowCount"])
                self.assertEqual(s["incoming"]["funding_usd"], fts["fundingTotal"])
                self.assertEqual(s["incoming"]["pledges_usd"], fts["pledgeTotal"])
                self.assertEqual(s["flows"], len(flows))
                self.assertEqual(s["internal"]["flows"],
                                 sum(f["boundary"] == "internal" for f in flows))
                self.assertEqual(s["outgoing"], {"flows": 0, "funding_usd": 0})
                self.assertEqual(s["rejected"], [])
                self.assertEqual(s["zero_usd"], sum(f["amountUSD"] == 0 for f in flows))
                self.assertEqual(s["reported_by_fts"]["incoming"]["funding_usd"],
                                 fts["fundingTotal"])
        # Both imports share one ledger: every invariant holds and the log replays them.
        self.assertEqual(self.cc("check").returncode, 0)
        r = self.cc("verify")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_the_ledger_holds_each_flow(self):
        self.imported(*pages("jor"))
        flows = flows_of("jor")
        money = [f for f in flows if f["amountUSD"] > 0]
        # Every flow with money is one transfer, cents, between its organisations.
        for f in money:
            t = self.transfer(f"fts.{f['id']}.v{f['versionId']}")
            self.assertIsNotNone(t, f["id"])
            self.assertEqual(t["amount"], f["amountUSD"] * 100)
            self.assertEqual(t["kind"], f["status"])
            self.assertEqual(t["state"], "pending" if f["status"] == "pledge" else "posted")
            src = [o for o in f["sourceObjects"] if o["type"] == "Organization"]
            dst = [o for o in f["destinationObjects"] if o["type"] == "Organization"]
            self.assertEqual(t["debit"], f"fts.org.{src[0]['id']}.given" if src
                             else "fts.org.unspecified.given")
            self.assertEqual(t["credit"], f"fts.org.{dst[0]['id']}.received" if dst
                             else "fts.org.unspecified.received")
            fts = t["meta"]["fts"]
            self.assertEqual((fts["boundary"], fts["on_boundary"], fts["flow"]),
                             (f["boundary"], f["onBoundary"], f["id"]))
            self.assertEqual(t["meta"]["source"], "fts")
            self.assertEqual(len(fts["reports"]), len(f["reportDetails"] or []))
        # A flow of 0 USD moves nothing: no transfer.
        for f in flows:
            if f["amountUSD"] == 0:
                self.assertIsNone(self.transfer(f"fts.{f['id']}.v{f['versionId']}"))
        # What the organisations' accounts hold is the sum of the flows, to the cent.
        total = sum(f["amountUSD"] for f in money if f["status"] != "pledge") * 100
        pledged = sum(f["amountUSD"] for f in money if f["status"] == "pledge") * 100
        rows = self.balances()
        self.assertEqual([r["unit"] for r in rows], ["USD"])
        self.assertEqual(rows[0]["credits_posted"], total)
        self.assertEqual(rows[0]["debits_posted"], total)
        self.assertEqual(rows[0]["credits_pending"], pledged)
        # A government is a nation, the rest organisations; names as FTS gives them.
        parties = {p["id"]: p for p in json.loads(self.cc("party", "list", "--json").stdout)}
        org = [o for o in money[0]["sourceObjects"] if o["type"] == "Organization"][0]
        party = parties[f"fts-{org['id']}"]
        self.assertEqual(party["name"], org["name"])
        self.assertEqual(party["kind"], "nation" if "Government" in org.get(
            "organizationTypes", []) else "organisation")

    def test_original_currency_and_rate_kept(self):
        self.imported(*pages("afg"))
        f = next(f for f in flows_of("afg")
                 if f.get("originalCurrency") not in (None, "USD") and f["amountUSD"] > 0)
        t = self.transfer(f"fts.{f['id']}.v{f['versionId']}")
        fts = t["meta"]["fts"]
        self.assertEqual(fts["currency"], f["originalCurrency"])
        self.assertEqual(fts["original_amount"], f["originalAmount"])
        self.assertAlmostEqual(float(fts["rate"]), f["exchangeRate"], places=9)
        self.assertEqual(t["meta"]["usd_amount"], f["amountUSD"] * 100)

    def test_parent_and_child_linked_and_counted_once(self):
        self.imported(*pages("afg"))
        flows = {f["id"]: f for f in flows_of("afg")}
        child = next(f for f in flows.values()
                     if f["parentFlowId"] and str(f["parentFlowId"]) in flows
                     and f["amountUSD"] > 0)
        parent = flows[str(child["parentFlowId"])]
        t = self.transfer(f"fts.{child['id']}.v{child['versionId']}")
        self.assertEqual(t["meta"]["fts"]["parent"], str(parent["id"]))
        if parent["amountUSD"] > 0:
            p = self.transfer(f"fts.{parent['id']}.v{parent['versionId']}")
            self.assertIn(child["id"], p["meta"]["fts"]["children"])
        # Counted once: the incoming total is FTS's, not parent plus children.
        s = self.imported(*pages("afg"))
        self.assertEqual(s["incoming"]["funding_usd"], fts_totals("afg")["fundingTotal"])

    def test_a_dry_run_says_what_an_import_would_record_and_records_nothing(self):
        before = [self.cc(*c).stdout for c in (("balance", "--prefix", "", "--json"),
                                                ("unit", "list", "--json"),
                                                ("party", "list", "--json"), ("verify",))]
        r = self.cc("import", "fts", *pages("jor"), "--dry-run", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        dry = json.loads(r.stdout)
        self.assertIs(dry.pop("dry_run"), True)
        after = [self.cc(*c).stdout for c in (("balance", "--prefix", "", "--json"),
                                               ("unit", "list", "--json"),
                                               ("party", "list", "--json"), ("verify",))]
        self.assertEqual(after, before, "a dry run records nothing, not even an audit event")
        r = self.cc("import", "fts", *pages("jor"), "--dry-run")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith("dry run: nothing was recorded"), r.stdout)
        # The import itself then records exactly what the dry run said.
        self.assertEqual(self.imported(*pages("jor")), dry)

    def test_reimport_records_nothing_new(self):
        first = self.imported(*pages("afg"))
        before = self.balances()
        again = self.imported(*reversed(pages("afg")))
        self.assertEqual(again["transfers"], {"created": 0, "superseded": 0})
        self.assertEqual(self.balances(), before)
        for key in ("flows", "incoming", "internal", "outgoing"):
            self.assertEqual(again[key], first[key])

    def test_newer_version_supersedes_with_a_correcting_entry(self):
        self.imported(*pages("afg"))
        flow = next(f for f in flows_of("afg") if f["amountUSD"] > 0 and f["status"] == "paid"
                    and f["boundary"] == "incoming" and f["onBoundary"] == "single")
        v, fid = flow["versionId"], flow["id"]
        old = self.transfer(f"fts.{fid}.v{v}")
        newer = self.write("v2.json", self.one_flow_answer(flow, versionId=v + 1,
                                                           amountUSD=flow["amountUSD"] + 1000))
        s = self.imported(newer)
        self.assertEqual(s["transfers"], {"created": 1, "superseded": 1})
        self.assertEqual(s["incoming"]["funding_usd"], flow["amountUSD"] + 1000)
        fix = self.transfer(f"fts.{fid}.v{v + 1}.supersedes")
        self.assertEqual((fix["debit"], fix["credit"], fix["amount"], fix["kind"]),
                         (old["credit"], old["debit"], old["amount"], "correction"))
        self.assertEqual(fix["date"], old["date"])
        self.assertEqual(self.transfer(f"fts.{fid}.v{v + 1}")["amount"],
                         (flow["amountUSD"] + 1000) * 100)
        # The whole search again: the older version is stale and changes nothing.
        before = self.balances()
        s = self.imported(*pages("afg"))
        self.assertEqual(s["stale"], 1)
        self.assertEqual(s["incoming"]["funding_usd"], fts_totals("afg")["fundingTotal"] + 1000)
        self.assertEqual(self.balances(), before)
        # A version of 0 USD undoes the last one and leaves nothing counted.
        zero = self.write("v3.json", self.one_flow_answer(flow, versionId=v + 2, amountUSD=0))
        s = self.imported(zero)
        self.assertEqual((s["transfers"]["superseded"], s["zero_usd"]), (1, 1))
        self.assertEqual(s["incoming"]["funding_usd"], 0)
        self.assertEqual(self.imported(newer)["stale"], 1)
        self.assertEqual(self.cc("verify").returncode, 0)

    def test_more_flows_than_a_batch_are_one_import(self):
        # 5,000 flows and a second version of the last: the two versions fall in two
        # batches (5,000 flow versions each), and the import still counts each flow once.
        flows = numbered_flows(5000, 100000)
        last = copy.deepcopy(flows[-1])
        last.update(versionId=2, amountUSD=last["amountUSD"] + 7)
        flows.append(last)
        answer = {"status": 200, "data": {"flows": flows}, "meta": {"count": 5000}}
        s = self.imported(self.write("many.json", answer))
        self.assertEqual((s["flows"], s["incoming"]["flows"]), (5000, 5000))
        self.assertEqual(s["transfers"], {"created": 5001, "superseded": 1})
        self.assertEqual(s["incoming"]["funding_usd"], sum(1000 + i for i in range(1, 5001)) + 7)
        self.assertEqual(s["stale"], 0)
        self.assertEqual(self.transfer("fts.105000.v2.supersedes")["kind"], "correction")
        r = self.cc("verify")
        self.assertEqual(r.returncode, 0, r.stderr)
        events = int(re.search(r"intact: (\d+) events?,", r.stdout).group(1))
        self.assertGreaterEqual(events, 2, r.stdout)  # the import was more than one batch
        self.assertEqual(self.imported(self.write("again.json", answer))["transfers"],
                         {"created": 0, "superseded": 0})

    def test_a_repeated_flow_too_large_for_the_ledger_is_refused_once(self):
        # Pages overlap: the same flow on two of them is one flow, even one whose
        # operation is over the ledger's 16 KiB (it is refused and listed, once).
        flows = flows_of("afg")
        base = next(f for f in flows if f["amountUSD"] > 0 and f["status"] == "paid")
        huge = copy.deepcopy(base)
        huge.update(id="900001", versionId=1, parentFlowId=None, childFlowIds=None,
                    reportDetails=[{"sourceType": "Primary", "organization": "x" * 400,
                                    "reportChannel": "Email", "date": "2020-03-01"}] * 60)
        other = copy.deepcopy(base)
        other.update(id="900002", versionId=1, parentFlowId=None, childFlowIds=None)
        a = self.write("a.json", {"status": 200, "data": {"flows": [huge, other]},
                                  "meta": {"count": 2}})
        b = self.write("b.json", {"status": 200, "data": {"flows": [huge]}, "meta": {"count": 2}})
        s = self.imported(a, b, code=1)
        self.assertEqual([r["id"] for r in s["rejected"]], ["fts.900001.v1"])
        self.assertIn("16 KiB", s["rejected"][0]["message"])
        self.assertEqual(s["transfers"]["created"], 1)
        self.assertIsNotNone(self.transfer("fts.900002.v1"))

    def test_a_report_whose_sums_go_beyond_64_bits_is_refused_not_clamped(self):
        # 1,100 flows at FTS's limit, each between organisations of its own (one account
        # holds at most 2^63-1 cents, which the ledger keeps): every account fits, but the
        # funding report's totals would pass 2^63-1 cents.
        flows = numbered_flows(1100, 700000)
        for i, f in enumerate(flows):
            f["amountUSD"] = 90000000000000
            for side in ("sourceObjects", "destinationObjects"):
                for o in f[side]:
                    if o["type"] == "Organization":
                        o.update(id=str(800000 + 2 * i + (side == "destinationObjects")),
                                 name=f"Organisation {side} {i}")
        s = self.imported(self.write("max.json", {"status": 200, "data": {"flows": flows},
                                                  "meta": {"count": 1100}}))
        self.assertEqual(s["incoming"]["funding_usd"], 1100 * 90000000000000)
        for args in (("--source", "fts"), ()):
            with self.subTest(args=args):
                r = self.cc("report", "funding", *args, "--json")
                self.assertEqual(r.returncode, 1, r.stdout[:300])
                self.assertIn("report funding: totals.", r.stderr)
                self.assertIn("is beyond 2^63-1 minor units", r.stderr)
                self.assertEqual(r.stdout, "")
        r = self.cc("report", "force", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_a_version_given_twice_differently_names_both_pages(self):
        flows = flows_of("afg")
        base = next(f for f in flows if f["amountUSD"] > 0 and f["status"] == "paid")
        flow = copy.deepcopy(base)
        flow.update(id="900003", versionId=1, parentFlowId=None, childFlowIds=None)
        changed = copy.deepcopy(flow)
        changed["amountUSD"] += 1
        a = self.write("a.json", {"status": 200, "data": {"flows": [flow]}, "meta": {"count": 1}})
        b = self.write("b.json", {"status": 200, "data": {"flows": [changed]},
                                  "meta": {"count": 1}})
        for order, first, second in (((a, b), "a.json", "b.json"), ((b, a), "b.json", "a.json")):
            with self.subTest(first=first):
                r = self.cc("import", "fts", *order)
                self.assertEqual(r.returncode, 2, r.stdout)
                self.assertIn("flow version fts.900003.v1 appears twice with different "
                              f"contents, in {os.path.join(self.dir.name, first)} and "
                              f"{os.path.join(self.dir.name, second)}", r.stderr)
        one = self.write("one.json", {"status": 200, "data": {"flows": [flow, changed]},
                                      "meta": {"count": 1}})
        r = self.cc("import", "fts", one)
        self.assertEqual(r.returncode, 2, r.stdout)
        self.assertIn(f"flow version fts.900003.v1 appears twice in {one}, with different "
                      "contents", r.stderr)
        self.assertEqual(self.balances(), [])

    def test_an_import_is_recorded_whole_or_not_at_all(self):
        # 20,000 flows, four batches; the database may grow by 8 MB only (a file size
        # limit, as a full disk would): the import fails with the store's error, and
        # not one of its batches is left recorded.
        path = self.write("many.json", {"status": 200,
                                        "data": {"flows": numbered_flows(20000, 200000)},
                                        "meta": {"count": 20000}})
        r = small_disk.run([CONCORD, "--db", self.db, "import", "fts", path], 8)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("disk I/O error", r.stderr)
        self.assertEqual(self.balances(), [])
        self.assertEqual(json.loads(self.cc("unit", "list", "--json").stdout), [])
        self.assertEqual(self.cc("check").returncode, 0)

    def report(self, *args):
        r = self.cc("report", "funding", "--json", *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_funding_report_by_source(self):
        self.cc("apply", input="".join(json.dumps(o) + "\n" for o in [
            {"op": "unit", "code": "USD", "scale": 2},
            {"op": "account", "id": "fund.pool", "unit": "USD"},
            {"op": "donor", "id": "us", "name": "United States"},
            {"op": "pledge", "id": "p-us", "donor": "us", "amount": 500}]))
        self.imported(*pages("jor"))
        fts = fts_totals("jor")
        # Filtered to FTS: FTS's own figures (incoming flows, whole), in cents.
        only = self.report("--source", "fts")
        self.assertEqual(only["source"], "fts")
        self.assertEqual(only["totals"]["committed"], fts["fundingTotal"] * 100)
        self.assertEqual(only["totals"]["pledged"], fts["pledgeTotal"] * 100)
        self.assertEqual([b["source"] for b in only["by_source"]], ["fts"])
        # Every source, each apart.
        every = self.report()
        self.assertEqual({b["source"]: b["pledged"] for b in every["by_source"]},
                         {"fts": fts["pledgeTotal"] * 100, "mission": 500})
        self.assertEqual(self.report("--source", "mission")["totals"]["pledged"], 500)
        # A superseded version counts no more; its successor does.
        flow = next(f for f in flows_of("jor") if f["amountUSD"] > 0 and f["status"] == "paid"
                    and f["boundary"] == "incoming" and f["onBoundary"] == "single")
        self.imported(self.write("v.json", self.one_flow_answer(
            flow, versionId=flow["versionId"] + 1, amountUSD=flow["amountUSD"] + 7)))
        self.assertEqual(self.report("--source", "fts")["totals"]["committed"],
                         (fts["fundingTotal"] + 7) * 100)
        r = self.cc("report", "force", "--source", "fts")
        self.assertEqual(r.returncode, 2)
        self.assertIn("only the funding report has sources", r.stderr)
        # A source no transfer can have is refused, not answered with zeros.
        for source in ("FTS", "bogus", "", "ftsx"):
            with self.subTest(source=source):
                r = self.cc("report", "funding", "--source", source, "--json")
                self.assertEqual(r.returncode, 2, r.stdout)
                self.assertIn("source: fts, iati, hxl or mission", r.stderr)

    def test_an_editor_can_neither_take_import_ids_nor_forge_what_counts(self):
        self.imported(*pages("afg"))
        setup = [{"op": "party", "id": "p", "kind": "organisation"},
                 {"op": "account", "id": "p.a", "unit": "USD", "owner": "p"},
                 {"op": "account", "id": "p.b", "unit": "USD", "owner": "p"}]
        self.cc("apply", input="".join(json.dumps(o) + "\n" for o in setup))
        made = self.cc("token", "create", "--user", "ed", "--role", "editor", "--party", "p",
                       "--json")
        token = json.loads(made.stdout)["token"]
        flow = next(f for f in flows_of("afg") if f["amountUSD"] > 0 and f["status"] == "paid"
                    and f["boundary"] == "incoming" and f["onBoundary"] == "single")
        ops = [
            # An FTS record's id, or a table's: the import's, not the editor's.
            {"op": "transfer", "id": f"fts.{flow['id']}.v999", "debit": "p.a", "credit": "p.b",
             "amount": 1},
            {"op": "transfer", "id": "hxl.0123456789abcdef", "debit": "p.a", "credit": "p.b",
             "amount": 1},
            # Funding dressed as FTS's, and a correction of another party's flow.
            {"op": "transfer", "id": "p-fake", "debit": "p.a", "credit": "p.b",
             "amount": 5000000000, "kind": "paid",
             "meta": {"source": "fts", "fts": {"boundary": "incoming", "on_boundary": "single"}}},
            {"op": "transfer", "id": "p-hide", "debit": "p.a", "credit": "p.b", "amount": 1,
             "kind": "correction", "meta": {"corrects": f"fts.{flow['id']}.v{flow['versionId']}"}},
        ]
        r = self.cc("--token", token, "apply", input="".join(json.dumps(o) + "\n" for o in ops))
        results = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual([x["status"] for x in results],
                         ["forbidden", "forbidden", "created", "created"], results)
        self.assertIn("fts. or hxl.", results[0]["message"])
        # FTS's figures stand: the forged funding is the mission's, the correction ignored.
        report = self.report("--source", "fts")
        self.assertEqual(report["totals"]["committed"], fts_totals("afg")["fundingTotal"] * 100)
        mission = self.report("--source", "mission")
        self.assertEqual(mission["totals"]["committed"], 5000000000)

    def test_a_pledge_superseded_is_voided(self):
        flow = next(f for f in flows_of("jor") if f["status"] == "pledge")
        s = self.imported(self.write("p.json", self.one_flow_answer(flow)))
        self.assertEqual(s["incoming"]["pledges_usd"], flow["amountUSD"])
        paid = self.write("c.json", self.one_flow_answer(
            flow, versionId=flow["versionId"] + 1, status="commitment"))
        s = self.imported(paid)
        self.assertEqual((s["incoming"]["pledges_usd"], s["incoming"]["funding_usd"]),
                         (0, flow["amountUSD"]))
        pledge = self.transfer(f"fts.{flow['id']}.v{flow['versionId']}")
        self.assertEqual(pledge["state"], "voided")
        void = self.transfer(f"fts.{flow['id']}.v{flow['versionId'] + 1}.supersedes")
        self.assertEqual(void["pending_id"], f"fts.{flow['id']}.v{flow['versionId']}")

    def test_a_missing_page_is_refused(self):
        r = self.cc("import", "fts", *pages("afg")[:2])
        self.assertEqual(r.returncode, 2)
        self.assertIn("meta.count says the search found 484 flows", r.stderr)
        self.assertIn("hold 400", r.stderr)
        self.assertEqual(self.balances(), [])

    def test_pages_are_opened_one_at_a_time(self):
        # Sixty pages with room for 32 open files: each is opened, read and closed in its
        # turn, so the import gets as far as counting the flows (one page, sixty times).
        import resource

        def few_files():
            resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))

        r = subprocess.run([CONCORD, "--db", self.db, "import", "fts"] + [pages("jor")[0]] * 60,
                           capture_output=True, text=True, timeout=300, preexec_fn=few_files)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("meta.count says the search found 478 flows; the 60 pages given", r.stderr)

    def test_pages_of_two_searches_are_refused(self):
        r = self.cc("import", "fts", pages("afg")[0], pages("jor")[1])
        self.assertEqual(r.returncode, 2)
        self.assertIn("one import takes the pages of one search", r.stderr)
        self.assertEqual(self.balances(), [])

    def test_malformed_input_names_file_place_and_field(self):
        with open(pages("afg")[0], encoding="utf-8") as f:
            text = f.read()
        cut = os.path.join(self.dir.name, "cut.json")
        with open(cut, "w", encoding="utf-8") as f:
            f.write(text[: len(text) // 2])
        r = self.cc("import", "fts", cut)
        self.assertEqual(r.returncode, 2)
        self.assertRegex(r.stderr, r"cut\.json:\d+:\d+: not JSON")
        flow = flows_of("afg")[3]
        cases = [
            ({"amountUSD": "lots"}, "amountUSD: must be a number of dollars"),
            ({"amountUSD": -5}, "amountUSD: must be a number of dollars"),
            ({"amountUSD": 1e300}, "amountUSD: must be a number of dollars"),
            # The limit holds for an integer as for a decimal: no sum of a page can wrap.
            ({"amountUSD": 90000000000001}, "amountUSD: must be a number of dollars from 0 to"),
            ({"amountUSD": 92233720368547758}, "amountUSD: must be a number of dollars"),
            ({"status": "promised"}, "status: must be one of pledge, commitment, paid"),
            ({"versionId": 0}, "versionId: must be an integer"),
            ({"id": "12a"}, "id: must be a decimal id"),
            ({"date": "yesterday"}, "date: must be an ISO 8601 date"),
            ({"originalCurrency": "euro"}, "originalCurrency: must be a three-letter code"),
            ({"description": "caf\udce9"}, None),
        ]
        for change, message in cases:
            with self.subTest(change=list(change)):
                answer = self.one_flow_answer(flow, **change)
                path = os.path.join(self.dir.name, "bad.json")
                with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
                    json.dump(answer, f, ensure_ascii=False)
                r = self.cc("import", "fts", path)
                self.assertEqual(r.returncode, 2, r.stdout)
                if message is None:  # bytes that are not UTF-8: refused by the JSON reader
                    self.assertIn("bad.json", r.stderr)
                elif "id" in change:
                    self.assertIn("bad.json: data.flows[0]: ", r.stderr)
                else:
                    self.assertIn(f"bad.json: data.flows[0] (id {flow['id']}): ", r.stderr)
                    self.assertIn(message, r.stderr)
        self.assertEqual(self.balances(), [])
        # The limit itself is fine.
        r = self.cc("import", "fts", self.write("max.json",
                                                self.one_flow_answer(flow,
                                                                     amountUSD=90000000000000)))
        self.assertEqual(r.returncode, 0, r.stderr)
        totals = self.one_flow_answer(flow)
        totals["data"]["incoming"] = {"flowCount": 1, "fundingTotal": 1e300, "pledgeTotal": -1}
        r = self.cc("import", "fts", self.write("totals.json", totals))
        self.assertEqual(r.returncode, 2)
        self.assertIn("data.incoming: flowCount, fundingTotal and pledgeTotal must be", r.stderr)
        r = self.cc("import", "fts", self.write("x.json", {"data": {}}))
        self.assertEqual(r.returncode, 2)
        self.assertIn("not an FTS flow search answer", r.stderr)

    def write_text(self, name, text):
        path = os.path.join(self.dir.name, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_a_page_is_read_the_same_whatever_its_layout(self):
        # Keys in any order, flows before or after the totals, any whitespace:
        # the same flows, the same summary, the same transfers.
        with open(pages("afg")[0], encoding="utf-8") as f:
            page = json.load(f)
        del page["meta"]["count"]  # one page of the three, given alone
        compact = self.imported(self.write_text("compact.json", json.dumps(page)))
        rows = self.balances()
        fresh = os.path.join(self.dir.name, "g.db")
        for name, text in (
                ("reversed.json", json.dumps({k: page[k] for k in reversed(list(page))},
                                             indent="\t")),
                ("data-first.json", json.dumps(
                    {"data": {k: page["data"][k] for k in reversed(list(page["data"]))},
                     **{k: v for k, v in page.items() if k != "data"}},
                    indent=3, separators=(" ,\r\n", " :  ")))):
            with self.subTest(layout=name):
                if os.path.exists(fresh):
                    os.remove(fresh)
                self.db, db = fresh, self.db
                try:
                    self.assertEqual(self.cc("init").returncode, 0)
                    self.assertEqual(self.imported(self.write_text(name, text)), compact)
                    self.assertEqual(self.balances(), rows)
                finally:
                    self.db = db

    def test_a_page_refused_after_its_flows_were_read_records_none(self):
        # Each page below holds good flows first; what is wrong comes after
        # them, or is one they share. Nothing of it is recorded, and each
        # refusal says what it always said, the first in the page's order of
        # checks (its shape, meta.count, its totals, then its flows).
        flows = numbered_flows(3, 300000)
        good = json.dumps(flows)[1:-1]
        last = copy.deepcopy(flows[-1])
        last["id"] = "300009"
        last["amountUSD"] = "lots"
        cases = [
            ("count.json", '{"data":{"flows":[%s]},"meta":{"count":"three"}}' % good,
             "count.json: meta.count: must be a number of flows"),
            ("flow-and-count.json",
             '{"data":{"flows":[%s,%s]},"meta":{"count":-1}}' % (good, json.dumps(last)),
             "flow-and-count.json: meta.count: must be a number of flows"),
            ("flow.json", '{"data":{"flows":[%s,%s]},"meta":{"count":4}}' % (good,
                                                                           json.dumps(last)),
             "flow.json: data.flows[3] (id 300009): amountUSD: must be a number of dollars"),
            ("twice.json", '{"data":{"flows":[%s]},"data":{"flows":[]}}' % good,
             "twice.json:1:"),
            ("flows-twice.json", '{"data":{"flows":[%s],"flows":[]}}' % good,
             "flows-twice.json:1:"),
            ("after.json", '{"data":{"flows":[%s]}} {}' % good, "after.json:1:"),
            ("big.json", '{"data":{"flows":[%s,{"amountUSD":123456789012345678901234}]}}' % good,
             "big.json:1:"),
            ("totals.json", '{"data":{"flows":[%s],"incoming":{"flowCount":3}}}' % good,
             "totals.json: data.incoming: must hold flowCount, fundingTotal and pledgeTotal"),
        ]
        for name, text, message in cases:
            with self.subTest(page=name):
                r = self.cc("import", "fts", self.write_text(name, text))
                self.assertEqual(r.returncode, 2, r.stdout)
                self.assertIn(message, r.stderr)
                self.assertEqual(self.balances(), [])
        r = self.cc("import", "fts", self.write_text("twice.json",
                                                     '{"data":{"flows":[%s]},"data":{}}' % good))
        self.assertIn("not JSON: duplicate object key", r.stderr)
        r = self.cc("import", "fts", self.write_text("big.json", '{"data":{"flows":[%s,'
                                                     '{"amountUSD":123456789012345678901234}]}}'
                                                     % good))
        self.assertIn("a number beyond 64 bits", r.stderr)
        # Nested deeper than a page may be (jansson's 2,048 levels, counted from the
        # page): refused, though each flow alone is not; one level less is read.
        flow = json.dumps(flows[0])
        deep = '{"data":{"flows":[{"m":%s,%s]}}' % ("[" * 2045 + "]" * 2045, flow[1:])
        r = self.cc("import", "fts", self.write_text("deep.json", deep))
        self.assertEqual(r.returncode, 2, r.stdout)
        self.assertIn("deep.json:1:", r.stderr)
        self.assertIn("maximum parsing depth", r.stderr)
        self.assertEqual(self.balances(), [])
        fits = '{"data":{"flows":[{"m":%s,%s]}}' % ("[" * 2044 + "]" * 2044, flow[1:])
        self.assertEqual(self.imported(self.write_text("fits.json", fits))["flows"], 1)
        # The same flows in a good page: recorded.
        s = self.imported(self.write_text("good.json", '{"data":{"flows":[%s]}}' % good))
        self.assertEqual(s["incoming"]["flows"], 3)

    def test_a_page_too_large_to_read_whole_is_refused_as_the_stream_found_it(self):
        # A page over 16 MiB is not read whole only to word its refusal (its tree
        # would take some fifteen times its text): what stopped the stream is said,
        # with the line and column where the text is not JSON.
        flows = numbered_flows(3, 300000)
        good = json.dumps(flows)[1:-1]
        last = copy.deepcopy(flows[-1])
        last["id"] = "300009"
        last["amountUSD"] = "lots"
        pad = "x" * (17 << 20)  # a field FTS may add, passed over
        head = '{"padding":"%s",\n"data":{"flows":[%s]}' % (pad, good)
        line2 = '"data":{"flows":[%s]}' % good
        cases = [
            (head + ',"meta":{"count":"three"}}',
             "big.json: meta.count: must be a number of flows"),
            ('{"padding":"%s",\n"data":{"flows":[%s,%s]}}' % (pad, good, json.dumps(last)),
             "big.json: data.flows[3] (id 300009): amountUSD: must be a number of dollars"),
            (head + '}\n  x', "big.json:3:3: not JSON: something after the page"),
            (head + ',\n"meta":{"count":123456789012345678901234}}',
             "big.json:3:17: a number beyond 64 bits"),
            (head + ',\n"meta":{"count":-1e400}}', "big.json:3:17: a number beyond 64 bits"),
            ('{"padding":"%s",\n"data":tru}' % pad, "big.json:2:", "not JSON: invalid token"),
            ('{"padding":"%s",\n"data":{"flows":-}}' % pad, "big.json:2:", "not JSON: "),
            ('{"padding":"%s",\n"data":{"flows":7}}' % pad,
             "big.json: not an FTS flow search answer: data.flows is missing"),
            (head, "big.json:2:%d: not JSON: the text ends where ',' or '}' was expected"
             % (len(line2) + 1)),
            (head + ',\n"data":{}}', 'big.json:3:1: not JSON: duplicate object key "data"'),
            (head + ',\n"meta":{"count":tru}}', "big.json:3:", "not JSON: invalid token"),
        ]
        for case in cases:
            text, messages = case[0], case[1:]
            with self.subTest(message=messages[-1]):
                r = self.cc("import", "fts", self.write_text("big.json", text))
                self.assertEqual(r.returncode, 2, r.stdout)
                for message in messages:
                    self.assertIn(message, r.stderr)
                self.assertEqual(self.balances(), [])
        # The same page, good, is read.
        s = self.imported(self.write_text("big.json", head + ',"meta":{"count":3}}'))
        self.assertEqual(s["incoming"]["flows"], 3)

    def test_a_page_wrong_in_itself_is_refused_so_even_when_its_flows_cannot_be_kept(self):
        # More flows' text than memory keeps (64 MiB), and no temporary file to be had:
        # a page whose count is wrong is refused for its count, as it always was, not
        # for the file; a good page, for the file (a system error, exit 3).
        flows = numbered_flows(24000, 400000)
        for f in flows:
            f["description"] = "Support to people in need " * 75  # 1,950 bytes, kept
        body = '{"data":{"flows":%s},"meta":{"count":%%s}}' % json.dumps(flows)
        env = dict(os.environ, TMPDIR=os.path.join(self.dir.name, "missing"))
        for count, code, message in (('"many"', 2, "meta.count: must be a number of flows"),
                                     ("24000", 3, "cannot keep the flows in a temporary file")):
            with self.subTest(count=count):
                path = self.write_text("big.json", body % count)
                r = subprocess.run([CONCORD, "--db", self.db, "import", "fts", path],
                                   capture_output=True, text=True, timeout=600, env=env)
                self.assertEqual(r.returncode, code, r.stderr)
                self.assertIn(message, r.stderr)
                self.assertEqual(self.balances(), [])

    def test_a_refused_flow_is_reported_and_the_rest_recorded(self):
        flows = [f for f in flows_of("afg") if f["amountUSD"] > 0]
        a, b = copy.deepcopy(flows[0]), copy.deepcopy(flows[1])
        self.imported(self.write("a.json", self.one_flow_answer(a)))
        # The same version again, with another amount: FTS broke its own versioning.
        a["amountUSD"] += 1
        answer = {"data": {"flows": [a, b]}, "meta": {"count": 2}}
        r = self.cc("import", "fts", self.write("ab.json", answer), "--json")
        self.assertEqual(r.returncode, 1, r.stderr)
        s = json.loads(r.stdout)
        self.assertEqual([x["id"] for x in s["rejected"]], [f"fts.{a['id']}.v{a['versionId']}"])
        self.assertEqual(s["rejected"][0]["status"], "exists_with_different_fields")
        self.assertIsNotNone(self.transfer(f"fts.{b['id']}.v{b['versionId']}"))

    def test_for_people(self):
        r = self.cc("import", "fts", *pages("jor"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("incoming     440 flows  funding 714,246,261 USD  pledges 81,128 USD",
                      r.stdout)
        self.assertIn("FTS's own incoming totals: 440 flows, funding 714,246,261 USD, "
                      "pledges 81,128 USD: the same", r.stdout)


class FtsOverHttp(unittest.TestCase):
    """POST /v1/import/fts: the pages as an array, its own body limit, writers only."""

    def test_import_over_http(self):
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import test_force  # its Server runs `concord serve` on a port the OS picks
        test_force.CONCORD = CONCORD
        with tempfile.TemporaryDirectory() as directory:
            db = os.path.join(directory, "f.db")
            run = [CONCORD, "--db", db]
            subprocess.run(run + ["init"], check=True, capture_output=True, timeout=120)
            tokens = {}
            for user, role in (("cora", "coordinator"), ("vic", "viewer")):
                made = subprocess.run(run + ["token", "create", "--user", user, "--role", role]
                                      + (["--party", "fund"] if role == "viewer" else [])
                                      + ["--json"], capture_output=True, text=True, timeout=120)
                self.assertEqual(made.returncode, 0, made.stderr)
                tokens[role] = json.loads(made.stdout)["token"]
            answer = []
            for p in pages("jor"):
                with open(p, encoding="utf-8") as f:
                    answer.append(json.load(f))
            body = json.dumps(answer).encode()
            # Over the 8 MiB of a batch, which this route's own limit allows.
            padded = body + b" " * (9 << 20)
            server = test_force.Server(db)
            try:
                def post(data, token, media="application/json", path="/v1/import/fts"):
                    return server.request("POST", path, token, data, media)

                status, dry = post(body, tokens["coordinator"], path="/v1/import/fts?dry_run=true")
                self.assertEqual(status, 200, dry)
                self.assertIs(dry.pop("dry_run"), True)
                for query in ("dry_run", "dry_run=", "dry_run=yes"):
                    status, error = post(body, tokens["coordinator"], path="/v1/import/fts?" + query)
                    self.assertEqual(status, 400, (query, error))
                status, summary = post(padded, tokens["coordinator"])
                self.assertEqual(status, 200, summary)
                self.assertEqual(summary, dry)  # the dry run recorded nothing: the same again
                fts = fts_totals("jor")
                self.assertEqual((summary["incoming"]["flows"], summary["incoming"]["funding_usd"],
                                  summary["incoming"]["pledges_usd"]),
                                 (fts["flowCount"], fts["fundingTotal"], fts["pledgeTotal"]))
                status, again = post(body, tokens["coordinator"])
                self.assertEqual((status, again["transfers"]["created"]), (200, 0))
                status, error = post(json.dumps(answer[0]).encode(), tokens["coordinator"])
                self.assertEqual(status, 400)
                self.assertIn("meta.count says the search found 478 flows", error["error"]["message"])
                # One page alone (read a flow at a time): the same figures as the command's,
                # and a body that is not JSON answered as every route answers it.
                alone = copy.deepcopy(answer[0])
                del alone["meta"]["count"]
                alone_path = os.path.join(directory, "alone.json")
                with open(alone_path, "w", encoding="utf-8") as f:
                    json.dump(alone, f)
                status, page = post(b"\r\n " + json.dumps(alone).encode(), tokens["coordinator"],
                                    path="/v1/import/fts?dry_run=true")
                self.assertEqual(status, 200, page)
                page.pop("dry_run")
                fresh = os.path.join(directory, "g.db")
                subprocess.run([CONCORD, "--db", fresh, "init"], check=True, capture_output=True,
                               timeout=120)
                cli = subprocess.run([CONCORD, "--db", fresh, "import", "fts", alone_path,
                                      "--json"], capture_output=True, text=True, timeout=120)
                self.assertEqual(cli.returncode, 0, cli.stderr)
                by_cli = json.loads(cli.stdout)
                # The server's ledger holds these flows already: nothing new there.
                self.assertEqual((page.pop("transfers"), by_cli.pop("transfers")["created"]),
                                 ({"created": 0, "superseded": 0}, 180))
                self.assertEqual(page, by_cli)
                for data, words in ((json.dumps(alone).encode()[:100], "line 1, column "),
                                    (b'{"data":{"flows":[]},"m":123456789012345678901234}',
                                     "a number does not fit 64 bits")):
                    status, error = post(data, tokens["coordinator"])
                    self.assertEqual((status, error["error"]["code"]), (400, "bad_request"), error)
                    self.assertIn(words, error["error"]["message"])
                # Pages in an array (each read a flow at a time) are answered as the array
                # parsed whole always was: a body that is not JSON as any route answers it,
                # a page refused by its name in the array.
                empty = b'{"data":{"flows":[]}}'
                for data, code, words in (
                        (b'[' + empty + b',{"data":]', "bad_request", "line 1, column "),
                        (b'[' + empty + b',\n' + empty + b'] x', "bad_request", "line 2, column "),
                        (b'[' + empty + b',{"data":{"flows":[]},"data":{}}]', "bad_request",
                         "duplicate"),
                        (b'[' + empty + b',{"data":{"flows":[]},"m":123456789012345678901234}]',
                         "bad_request", "a number does not fit 64 bits"),
                        (b'[' + empty + b',{"data":{"flows":[{"id":"7"}]}}]', "bad_request",
                         "page [1]: data.flows[0] (id 7): "),
                        (b'[' + empty + b',"]\\"["]', "bad_request",
                         "page [1]: not an FTS flow search answer"),
                        (b'[' + empty + b',' + empty + b',' + b',' + empty + b']', "bad_request",
                         "line 1, column "),
                        (b' [ ]', "bad_request", "an array of 1 to ")):
                    status, error = post(data, tokens["coordinator"])
                    self.assertEqual((status, error["error"]["code"]), (400, code), (data, error))
                    self.assertIn(words, error["error"]["message"], data)
                # A page over the command's 16 MiB is still worded as it always was here
                # (the route's limit bounds its tree): its count first, then its flows.
                bad = copy.deepcopy(answer[0]["data"]["flows"][0])
                bad["amountUSD"] = "lots"
                large = ('{"pad":"%s","data":{"flows":[%s]},"meta":{"count":"three"}}'
                         % ("x" * (17 << 20), json.dumps(bad))).encode()
                for data, name in ((large, "the body"), (b'[' + empty + b',' + large + b']',
                                                         "page [1]")):
                    status, error = post(data, tokens["coordinator"])
                    self.assertEqual(status, 400, error)
                    self.assertEqual(error["error"]["message"],
                                     name + ": meta.count: must be a number of flows")
                status, two = post(b' [' + empty + b' ,\n\t' + empty + b' ] \n',
                                   tokens["coordinator"], path="/v1/import/fts?dry_run=true")
                self.assertEqual((status, two["flows"]), (200, 0), two)
                # Refused from its headers (a small body: a large one would be cut off unread).
                status, error = post(b"[]", tokens["viewer"])
                self.assertEqual(status, 403, error)
                status, error = post(b"flow,amount", tokens["coordinator"], "text/csv")
                self.assertEqual(status, 415, error)
                status, error = post(body[:100], tokens["coordinator"])
                self.assertEqual(status, 400, error)
            finally:
                rc = server.stop()
            self.assertEqual(rc, 0, server.stderr())
            verify = subprocess.run(run + ["verify"], capture_output=True, text=True, timeout=120)
            self.assertEqual(verify.returncode, 0, verify.stderr)


if __name__ == "__main__":
    CONCORD = os.path.abspath(sys.argv.pop(1))
    DATA = os.path.abspath(sys.argv.pop(1))
    if not os.path.isdir(os.path.join(DATA, "fts")):
        sys.exit(f"test_fts.py: no FTS data under {DATA} (the shared data beside the project)")
    unittest.main()
