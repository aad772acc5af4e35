#!/usr/bin/env python3
"""The authorization matrix of concord's HTTP API, binary in argv[1].

1. Routes x callers. The routes come from GET /v1/openapi.json, so a route
   added to the server's table cannot escape: the test's own table of who
   may use each route (EXPECTED_ROLES) must cover exactly the routes the
   server describes, and each route's x-roles must equal it. Every route is
   called by every caller: admin, coordinator, editor of party `us`, viewer
   of `us`, auditor, and with no token, a malformed token, a well-formed
   unknown token, an expired token and a revoked token. Expected: 401 (with
   WWW-Authenticate: Bearer) for the last five, 403 for a role the route does
   not allow or a row of another party, 200 otherwise, 404 for a missing row.
2. Operations x writing roles, through POST /v1/batch: every operation kind
   (unit, account, transfer, post, void, condition, resolve, requirement,
   rate, party, approve) by admin, coordinator and editor, allowed and
   denied. Every denial must have the status `forbidden` and write nothing:
   the row read back as admin is absent (404) and a fingerprint of the whole
   database (row counts, every balance, every condition's state, every
   transfer's state) is unchanged.
3. Reads of a viewer: its own account 200, another party's account and
   transfer 403, prefix sums 200, account listings hold only its own.
4. Approvals of a guarded account end to end (k = 2 of a, b, c).

usage: CONCORD_ASSETS_LIST=LIST test_authz.py CONCORD_BINARY [unittest arguments]
(LIST: the build's list of the dashboard's files, generated/http/assets.list)
"""
import http.client
import json
import os
import sqlite3
import sys
import tempfile
import time
import unittest
from urllib.parse import quote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_http  # noqa: E402  (Server, cli, make_db)

ROLES = ["admin", "coordinator", "editor", "viewer", "auditor"]
BAD_CALLERS = ["none", "malformed", "unknown", "expired", "revoked"]
CALLERS = ROLES + BAD_CALLERS
EVERYONE = set(ROLES)
WRITERS = {"admin", "coordinator", "editor"}
READ_ALL = {"admin", "coordinator", "auditor"}  # roles that read every party's rows
ANONYMOUS = "anonymous"   # the route needs no token

# Who may use each route: the test's own copy of the server's table.
EXPECTED_ROLES = {
    "POST /v1/batch": WRITERS,
    "POST /v1/import/fts": WRITERS,
    "POST /v1/import/iati": WRITERS,
    "POST /v1/import/hxl": WRITERS,
    "GET /v1/export/iati": READ_ALL,
    "GET /v1/export/hxl": EVERYONE,
    "GET /v1/export/csv": EVERYONE,
    "GET /v1/accounts": EVERYONE,
    "GET /v1/accounts/{id}": EVERYONE,
    "GET /v1/accounts/{id}/transfers": EVERYONE,
    "GET /v1/transfers/{id}": EVERYONE,
    "GET /v1/balances": EVERYONE,
    "GET /v1/conditions": EVERYONE,
    "GET /v1/requirements": EVERYONE,
    "GET /v1/me": EVERYONE,
    "GET /v1/parties": EVERYONE,
    "GET /v1/units": EVERYONE,
    "GET /v1/gaps": EVERYONE,
    "POST /v1/scenario": EVERYONE,
    "GET /v1/forecast": EVERYONE,
    "GET /v1/reports/funding": EVERYONE,
    "GET /v1/reports/force": EVERYONE,
    "GET /v1/reports/aid": EVERYONE,
    "GET /v1/reports/overview": EVERYONE,
    "GET /v1/audit/checkpoint": EVERYONE,
    "GET /v1/audit/key": EVERYONE,
    "GET /v1/audit/proof/{id}": EVERYONE,
    # Hashes only: every party may check that the log only grew.
    "GET /v1/audit/consistency": EVERYONE,
    # An event holds every party's operations of its batch.
    "GET /v1/audit/events/{id}/proof": {"admin", "coordinator", "auditor"},
    "GET /v1/audit/events": {"admin", "coordinator", "auditor"},
    "GET /healthz": ANONYMOUS,
    "GET /v1/openapi.json": ANONYMOUS,
    "GET /": ANONYMOUS,
    "GET /assets/{path}": ANONYMOUS,
}
# The routes that name a row: which row of the other party (eg) and which missing row.
ROW_ROUTES = {
    "GET /v1/accounts/{id}": ("eg.a", "nope"),
    "GET /v1/accounts/{id}/transfers": ("eg.a", "nope"),
    "GET /v1/transfers/{id}": ("t-eg", "nope"),
    "GET /v1/audit/proof/{id}": ("t-eg", "nope"),
}
# A row of the caller's own party (us) for the same routes: every allowed role reads it.
OWN_ROWS = {
    "GET /v1/accounts/{id}": "us.a",
    "GET /v1/accounts/{id}/transfers": "us.a",
    "GET /v1/transfers/{id}": "t-us",
    "GET /v1/audit/proof/{id}": "t-us",
}
# The dashboard's files: the build's list (CMake writes it; tests/http.cmake
# passes it in CONCORD_ASSETS_LIST). Every caller, even one with a bad token,
# gets the same answer: the file, or 404 for a file the build does not hold.
with open(os.environ["CONCORD_ASSETS_LIST"]) as listing:
    WEB_FILES = [line.strip() for line in listing if line.strip()]
OTHER_FILES = [f for f in WEB_FILES if f != "index.html"]
FILE_ROWS = {
    "GET /": {"any" if "index.html" in WEB_FILES else "missing": "/"},
    "GET /assets/{path}": dict({"missing": "/assets/nope"},
                               **({"own": "/assets/" + quote(OTHER_FILES[0])}
                                  if OTHER_FILES else {})),
    # The fixtures hold no funding: an IATI export has no activity to write (404).
    "GET /v1/export/iati": {"missing": "/v1/export/iati"},
    # Not a file, but rows the same way: an event that is there, one that is not.
    "GET /v1/audit/events/{id}/proof": {"any": "/v1/audit/events/1/proof",
                                        "missing": "/v1/audit/events/999999/proof"},
}
QUERIES = {"GET /v1/audit/consistency": "?from=1",  # the fixtures are one batch
           "GET /v1/export/hxl": "?what=balances", "GET /v1/export/csv": "?what=transfers"}
# An IATI activity with nothing to record, and an HXL table with no rows: bodies
# every writer may send (the import records nothing, so no step is denied).
IATI_EMPTY = b"""<?xml version="1.0"?>
<iati-activities version="2.03"><iati-activity>
 <iati-identifier>XX-AUTHZ-1</iati-identifier>
 <reporting-org type="10" ref="XX-AUTHZ"><narrative>Authz</narrative></reporting-org>
 <title><narrative>Nothing</narrative></title>
 <description><narrative>Nothing to record</narrative></description>
 <participating-org role="1"></participating-org>
 <activity-status code="2"/><activity-date type="1" iso-date="2026-01-01"/>
</iati-activity></iati-activities>
"""
BODIES = {"POST /v1/batch": [], "POST /v1/scenario": {"assume": {}},
          "POST /v1/import/fts": {"data": {"flows": []}, "meta": {"count": 0}},
          "POST /v1/import/iati": ("application/xml", IATI_EMPTY),
          "POST /v1/import/hxl": ("text/csv", b"#org+funder,#org+impl,#value+usd\r\n")}
PARTY_READERS = {"editor", "viewer"}   # roles that read only their party's rows

FIXTURES = [
    {"op": "party", "id": "us", "kind": "nation", "name": "United States"},
    {"op": "party", "id": "eg", "kind": "nation"},
    {"op": "party", "id": "fund", "kind": "fund"},
    {"op": "unit", "code": "USD", "scale": 2},
    {"op": "account", "id": "us.a", "unit": "USD", "owner": "us"},
    {"op": "account", "id": "us.b", "unit": "USD", "owner": "us"},
    {"op": "account", "id": "eg.a", "unit": "USD", "owner": "eg"},
    {"op": "account", "id": "eg.liab", "unit": "USD", "owner": "eg",
     "flags": ["credits_must_not_exceed_debits"]},
    {"op": "account", "id": "fund.pool", "unit": "USD", "owner": "fund"},
    # Guarded: everyone's test users approve fund.g; nobody who writes here approves us.g2.
    {"op": "account", "id": "fund.g", "unit": "USD", "owner": "fund", "flags": ["guarded"],
     "approvers": ["boss", "coord", "ed-us"], "approvals_required": 3},
    {"op": "account", "id": "us.g2", "unit": "USD", "owner": "us", "flags": ["guarded"],
     "approvers": ["zz", "yy"], "approvals_required": 2},
    {"op": "transfer", "id": "t-us", "debit": "us.a", "credit": "us.b", "amount": 100},
    {"op": "transfer", "id": "t-eg", "debit": "eg.a", "credit": "fund.pool", "amount": 200},
    {"op": "transfer", "id": "t-mixed", "debit": "eg.a", "credit": "us.a", "amount": 300},
    {"op": "transfer", "id": "p-fund-g", "debit": "fund.g", "credit": "fund.pool", "amount": 5,
     "pending": True},
    {"op": "transfer", "id": "p-g2", "debit": "us.g2", "credit": "us.a", "amount": 5,
     "pending": True},
    {"op": "transfer", "id": "pe-post", "debit": "eg.a", "credit": "us.a", "amount": 7,
     "pending": True},
    {"op": "transfer", "id": "pe-void", "debit": "eg.a", "credit": "us.a", "amount": 7,
     "pending": True},
    {"op": "condition", "name": "cond_eg", "authority": "eg"},
    {"op": "requirement", "id": "r-pool", "account": "fund.pool", "target": 1000,
     "measure": "credits"},
] + [op for role in WRITERS for op in [
    {"op": "transfer", "id": f"pp-{role}", "debit": "us.a", "credit": "eg.a", "amount": 3,
     "pending": True},
    {"op": "transfer", "id": f"pv-{role}", "debit": "us.a", "credit": "eg.a", "amount": 3,
     "pending": True},
    {"op": "condition", "name": f"cu_{role}", "authority": "us"},
]]
USERS = {"admin": ("boss", None), "coordinator": ("coord", None), "editor": ("ed-us", "us"),
         "viewer": ("view-us", "us"), "auditor": ("aud", None)}


def call(port, method, path, token=None, body=None, raw_authorization=None):
    """One request on a new connection, with exactly the Authorization given."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=test_http.CMD_TIMEOUT)
    headers = {}
    if raw_authorization is not None:
        headers["Authorization"] = raw_authorization
    elif token is not None:
        headers["Authorization"] = "Bearer " + token
    data = None
    if isinstance(body, tuple):  # (media type, bytes): a body that is not JSON
        headers["Content-Type"], data = body
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        return test_http.Response(resp.status, resp.getheaders(), resp.read())
    finally:
        conn.close()


def make_token(db, role, user=None, party=None, expires=None):
    args = ["token", "create", "--user", user, "--role", role, "--json"]
    if party:
        args += ["--party", party]
    if expires:
        args += ["--expires", expires]
    return json.loads(test_http.cli(db, *args).stdout)


class Matrix(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.db = test_http.make_db(cls.tmp.name, "authz.db", FIXTURES)
        cls.tokens = {}
        for role, (user, party) in USERS.items():
            cls.tokens[role] = make_token(cls.db, role, user, party)["token"]
        expired = make_token(cls.db, "admin", "old", expires="2099-01-01")
        with sqlite3.connect(cls.db) as c:    # made to expire in the past, as time would
            c.execute("UPDATE tokens SET expires = 1 WHERE id = ?", (expired["id"],))
        cls.tokens["expired"] = expired["token"]
        revoked = make_token(cls.db, "admin", "gone")
        test_http.cli(cls.db, "token", "revoke", revoked["id"])
        cls.tokens["revoked"] = revoked["token"]
        good = cls.tokens["admin"]
        cls.tokens["unknown"] = "cct_0123456789abcdef_" + good[len("cct_0123456789abcdef_"):]
        cls.tokens["malformed"] = "not-a-token"
        cls.tokens["none"] = None
        cls.server = test_http.Server(cls.db, quiet=True)
        cls.port = cls.server.port

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            cls.tmp.cleanup()

    def as_(self, caller, method, path, body=None):
        return call(self.port, method, path, self.tokens[caller], body)

    def assert_status(self, r, status, what):
        self.assertEqual(r.status, status, f"{what}: {r}")
        if status >= 400:
            self.assertIsNotNone(r.json, f"{what}: {r}")
            code = {401: "unauthorized", 403: "forbidden", 404: "not_found"}[status]
            self.assertEqual(r.json["error"]["code"], code, f"{what}: {r}")
        if status == 401:
            self.assertTrue((r.header("WWW-Authenticate") or "").startswith("Bearer"),
                            f"{what}: 401 without WWW-Authenticate: Bearer")

    # 1. routes x callers ----------------------------------------------------------

    def routes(self):
        doc = call(self.port, "GET", "/v1/openapi.json").json
        out = {}
        for path, item in doc["paths"].items():
            for method, op in item.items():
                out[f"{method.upper()} {path}"] = op
        return doc, out

    def expected(self, route, caller, row):
        allowed = EXPECTED_ROLES[route]
        if allowed == ANONYMOUS:
            return 404 if row == "missing" else 200
        if caller in BAD_CALLERS:
            return 401
        if caller not in allowed:
            return 403
        if row == "missing":
            return 404
        if row == "other" and caller in PARTY_READERS:
            return 403
        return 200

    def test_table_covers_every_route(self):
        doc, routes = self.routes()
        self.assertEqual(set(routes), set(EXPECTED_ROLES),
                         "the test's table of roles must list exactly the server's routes")
        self.assertEqual(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer")
        for route, op in routes.items():
            allowed = EXPECTED_ROLES[route]
            want = [] if allowed == ANONYMOUS else sorted(allowed)
            self.assertEqual(sorted(op["x-roles"]), want, f"{route}: x-roles")
            self.assertEqual(op["security"], [] if allowed == ANONYMOUS else [{"bearer": []}],
                             f"{route}: security")

    def test_every_route_by_every_caller(self):
        _, routes = self.routes()
        checked = 0
        for route in sorted(routes):
            method, pattern = route.split(" ", 1)
            rows = {"any": pattern}
            if route in ROW_ROUTES:
                other, missing = ROW_ROUTES[route]
                rows = {"other": pattern.replace("{id}", quote(other, safe="")),
                        "missing": pattern.replace("{id}", missing),
                        "own": pattern.replace("{id}", OWN_ROWS[route])}
            rows = FILE_ROWS.get(route, rows)
            rows = {row: path + QUERIES.get(route, "") for row, path in rows.items()}
            for row, path in rows.items():
                for caller in CALLERS:
                    r = self.as_(caller, method, path, BODIES.get(route))
                    self.assert_status(r, self.expected(route, caller, row),
                                       f"{caller} {method} {path}")
                    checked += 1
        self.assertGreaterEqual(checked, len(routes) * len(CALLERS))

    def test_proofs_carry_the_event_only_for_those_who_read_everything(self):
        # An event holds every operation of its batch: other parties' too.
        for caller in ["viewer", "editor"]:
            r = self.as_(caller, "GET", "/v1/audit/proof/t-us")
            self.assert_status(r, 200, f"{caller} proof of its own transfer")
            self.assertNotIn("event", r.json, f"{caller}: the event leaks other parties' ops")
            self.assertEqual(r.json["transfer_id"], "t-us")
        for caller in ["admin", "coordinator", "auditor"]:
            r = self.as_(caller, "GET", "/v1/audit/proof/t-us")
            self.assert_status(r, 200, f"{caller} proof")
            self.assertIn('"t-us"', r.json["event"], f"{caller}: the event names the transfer")

    def test_long_authorization_header_is_refused(self):
        r = call(self.port, "GET", "/v1/accounts", raw_authorization="Bearer " + "a" * 300)
        self.assert_status(r, 401, "Authorization over 256 bytes")
        r = call(self.port, "GET", "/v1/accounts",
                 raw_authorization="Basic " + self.tokens["admin"])
        self.assert_status(r, 401, "Basic instead of Bearer")
        r = call(self.port, "POST", "/v1/batch", raw_authorization="Bearer nope", body=[
            {"op": "unit", "code": "NOAUTH", "scale": 0}])
        self.assert_status(r, 401, "a body with a bad token")

    def test_revocation_takes_effect_within_five_seconds(self):
        """The server remembers verified tokens for a moment; a revoked one is
        refused within 5 s, and an unknown secret for a known id at once."""
        t = make_token(self.db, "viewer", "short", "us")
        self.assert_status(call(self.port, "GET", "/v1/accounts/us.a", t["token"]), 200, "fresh")
        forged = t["token"][:-4] + ("AAAA" if not t["token"].endswith("AAAA") else "BBBB")
        self.assert_status(call(self.port, "GET", "/v1/accounts/us.a", forged), 401,
                           "a known id with another secret, while the real one is cached")
        test_http.cli(self.db, "token", "revoke", t["id"])
        deadline = time.monotonic() + 5.0
        while True:
            r = call(self.port, "GET", "/v1/accounts/us.a", t["token"])
            if r.status == 401 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assert_status(r, 401, "a revoked token, 5 s later")

    # 3. a viewer's reads --------------------------------------------------------

    def test_viewer_reads(self):
        v = "viewer"
        self.assert_status(self.as_(v, "GET", "/v1/accounts/us.a"), 200, "own account")
        self.assert_status(self.as_(v, "GET", "/v1/accounts/eg.a"), 403, "other's account")
        self.assert_status(self.as_(v, "GET", "/v1/transfers/t-eg"), 403, "other's transfer")
        self.assert_status(self.as_(v, "GET", "/v1/transfers/t-us"), 200, "own transfer")
        self.assert_status(self.as_(v, "GET", "/v1/transfers/t-mixed"), 200,
                           "a transfer that credits its account")
        self.assert_status(self.as_(v, "GET", "/v1/accounts/eg.a/transfers"), 403,
                           "other's history")
        r = self.as_(v, "GET", "/v1/balances?prefix=")
        self.assert_status(r, 200, "prefix sum over everything")
        # One row per unit (the matrix's imports may have added units): every account counted.
        self.assertEqual(sum(row["accounts"] for row in r.json), len(self.admin_accounts()))
        self.assert_status(self.as_(v, "GET", "/v1/balances?prefix=eg"), 200, "other's prefix")
        ids = [a["id"] for a in self.as_(v, "GET", "/v1/accounts?limit=1").json["accounts"]]
        self.assertEqual(ids, ["us.a"])
        seen, after = [], ""
        while True:
            page = self.as_(v, "GET", f"/v1/accounts?limit=1&after={after}").json
            seen += [a["id"] for a in page["accounts"]]
            if page["next"] is None:
                break
            after = page["next"]
        own = sorted(a["id"] for a in self.admin_accounts() if a.get("owner") == "us")
        self.assertIn("us.g2", own)
        self.assertEqual(seen, own, "pages of own accounts only")
        rows = self.as_(v, "GET", "/v1/balances").json
        self.assertEqual(sorted(b["id"] for b in rows), own)
        for route in ["/v1/gaps", "/v1/forecast", "/v1/conditions", "/v1/requirements",
                      "/v1/parties", "/v1/units"]:
            self.assert_status(self.as_(v, "GET", route), 200, route)

    def admin_accounts(self):
        return self.as_("admin", "GET", "/v1/accounts?limit=1000").json["accounts"]

    # 2. operations x writing roles ------------------------------------------------

    def fingerprint(self):
        with sqlite3.connect(self.db) as c:
            counts = {t: c.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in
                      ["units", "accounts", "transfers", "conditions", "requirements", "rates",
                       "parties", "approvals"]}
            states = c.execute("SELECT id, state FROM transfers ORDER BY id").fetchall()
            conds = c.execute("SELECT name, state FROM conditions ORDER BY name").fetchall()
        balances = self.as_("admin", "GET", "/v1/balances").json
        return counts, states, conds, balances

    def batch(self, role, op):
        r = self.as_(role, "POST", "/v1/batch", [op])
        self.assert_status(r, 200, f"{role} batch {op}")
        return r.json[0]

    def absent(self, path):
        self.assert_status(self.as_("admin", "GET", path), 404, f"admin GET {path}")

    def cases(self, role):
        """(op, allowed, read_back) for role: read_back(op) checks a denial wrote nothing."""
        r = role
        missing_party = lambda op: self.assertNotIn(op["id"], [p["id"] for p in self.as_(
            "admin", "GET", "/v1/parties").json])
        missing_cond = lambda op: self.assertNotIn(op["name"], [c["name"] for c in self.as_(
            "admin", "GET", "/v1/conditions").json])
        missing_req = lambda op: self.assertNotIn(op["id"], [q["id"] for q in self.as_(
            "admin", "GET", "/v1/requirements").json])
        pending = lambda op: self.assertEqual(self.as_(
            "admin", "GET", f"/v1/transfers/{op['pending_id']}").json["state"], "pending")

        def sql_absent(table, column):
            def check(op):
                with sqlite3.connect(self.db) as c:
                    n = c.execute(f"SELECT count(*) FROM {table} WHERE {column} = ?",
                                  (op["id"] if table != "rates" else op["unit"],)).fetchone()[0]
                self.assertEqual(n, 0, f"{table}: {op}")
            return check

        def open_cond(op):
            conds = {c["name"]: c for c in self.as_("admin", "GET", "/v1/conditions").json}
            self.assertEqual(conds[op["name"]]["state"], "open")

        staff = role in ("admin", "coordinator")
        tag = r[:5]
        out = [
            ({"op": "unit", "code": f"U{tag.upper()}", "scale": 0}, staff,
             lambda op: sql_absent("units", "code")({"id": op["code"]})),
            ({"op": "account", "id": f"us.new-{r}", "unit": "USD", "owner": "us"}, True,
             lambda op: self.absent(f"/v1/accounts/{op['id']}")),
            ({"op": "account", "id": f"eg.new-{r}", "unit": "USD", "owner": "eg"}, staff,
             lambda op: self.absent(f"/v1/accounts/{op['id']}")),
            ({"op": "transfer", "id": f"t-own-{r}", "debit": "us.a", "credit": "eg.a",
              "amount": 1}, True, lambda op: self.absent(f"/v1/transfers/{op['id']}")),
            ({"op": "transfer", "id": f"t-other-{r}", "debit": "eg.a", "credit": "us.a",
              "amount": 1}, staff, lambda op: self.absent(f"/v1/transfers/{op['id']}")),
            ({"op": "post", "id": f"pp-{r}.post", "pending_id": f"pp-{r}"}, True, None),
            ({"op": "void", "id": f"pv-{r}.void", "pending_id": f"pv-{r}"}, True, None),
            ({"op": "condition", "name": f"new_{r}"}, staff, missing_cond),
            ({"op": "resolve", "name": f"cu_{r}", "state": "met"}, True, None),
            ({"op": "requirement", "id": f"rq-{r}", "account": "us.a", "target": 5,
              "measure": "credits"}, staff,
             missing_req),
            ({"op": "rate", "unit": f"R{tag.upper()}", "to": "USD", "rate": "2",
              "date": "2026-01-01"}, staff, sql_absent("rates", "unit")),
            ({"op": "party", "id": f"party-{r}", "kind": "nation"}, staff, missing_party),
            ({"op": "approve", "id": f"ap-{r}", "pending_id": "p-fund-g",
              "decision": "approve"}, True, None),
            ({"op": "approve", "id": f"ap-g2-{r}", "pending_id": "p-g2", "decision": "approve"},
             False, lambda op: sql_absent("approvals", "id")(op)),
        ]
        if role == "editor":   # the editor's own denials of post, void and resolve
            out += [
                ({"op": "post", "id": f"pe-post.post", "pending_id": "pe-post"}, False, pending),
                ({"op": "void", "id": f"pe-void.void", "pending_id": "pe-void"}, False, pending),
                ({"op": "resolve", "name": "cond_eg", "state": "met"}, False, open_cond),
                # Rejections must not tell an outsider another party's states or balances.
                ({"op": "post", "id": "t-eg.post", "pending_id": "t-eg"}, False,
                 lambda op: self.absent(f"/v1/transfers/{op['id']}")),
                ({"op": "approve", "id": "ap-pe", "pending_id": "pe-post",
                  "decision": "approve"}, False, sql_absent("approvals", "id")),
                ({"op": "approve", "id": "ap-none", "pending_id": "no-such",
                  "decision": "approve"}, False, sql_absent("approvals", "id")),
                ({"op": "transfer", "id": "t-huge", "debit": "us.a", "credit": "eg.a",
                  "amount": 2**53 + 1}, False,
                 lambda op: self.absent(f"/v1/transfers/{op['id']}")),
                ({"op": "transfer", "id": "t-liab", "debit": "us.a", "credit": "eg.liab",
                  "amount": 1}, False, lambda op: self.absent(f"/v1/transfers/{op['id']}")),
            ]
        return out

    def test_operations_by_writing_roles(self):
        kinds_allowed, kinds_denied = {}, {}
        for role in ["admin", "coordinator", "editor"]:
            for op, allowed, read_back in self.cases(role):
                if op["op"] == "rate":   # a rate needs its unit
                    self.batch("admin", {"op": "unit", "code": op["unit"], "scale": 0})
                before = self.fingerprint()
                res = self.batch(role, op)
                what = f"{role} {op}"
                if allowed:
                    self.assertIn(res["status"], ("created", "resolved"), f"{what}: {res}")
                    kinds_allowed.setdefault(op["op"], set()).add(role)
                    continue
                self.assertEqual(res["status"], "forbidden", f"{what}: {res}")
                self.assertTrue(res.get("message"), f"{what}: a denial says why")
                self.assertEqual(self.fingerprint(), before, f"{what}: something was written")
                if read_back is not None:
                    read_back(op)
                kinds_denied.setdefault(op["op"], set()).add(role)
        every = {"unit", "account", "transfer", "post", "void", "condition", "resolve",
                 "requirement", "rate", "party", "approve"}
        self.assertEqual(set(kinds_allowed), every)
        self.assertEqual(set(kinds_denied), every, "each kind has a denial")
        for kind in every:
            self.assertIn("admin", kinds_allowed[kind])
            self.assertIn("coordinator", kinds_allowed[kind])
        # The editor's rows exist, with their owner, as admin reads them.
        self.assertEqual(self.as_("admin", "GET", "/v1/accounts/us.new-editor").json["owner"],
                         "us")
        self.assertEqual(self.as_("admin", "GET", "/v1/transfers/pp-editor").json["state"],
                         "posted")

    def test_viewer_and_auditor_cannot_batch(self):
        for role in ["viewer", "auditor"]:
            before = self.fingerprint()
            r = self.as_(role, "POST", "/v1/batch",
                         [{"op": "account", "id": f"us.by-{role}", "unit": "USD", "owner": "us"}])
            self.assert_status(r, 403, f"{role} POST /v1/batch")
            self.assertEqual(self.fingerprint(), before)
            self.absent(f"/v1/accounts/us.by-{role}")


class Approvals(unittest.TestCase):
    """A guarded account, approvers a, b, c, two approvals required."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.db = test_http.make_db(cls.tmp.name, "approvals.db", [
            {"op": "party", "id": "fund", "kind": "fund"},
            {"op": "unit", "code": "USD", "scale": 2},
            {"op": "account", "id": "fund.safe", "unit": "USD", "owner": "fund",
             "flags": ["guarded"], "approvers": ["a", "b", "c"], "approvals_required": 2},
            {"op": "account", "id": "force.pay", "unit": "USD", "owner": "force"},
        ])
        cls.tokens = {u: make_token(cls.db, "editor", u, "fund")["token"]
                      for u in ["a", "b", "c", "d"]}
        cls.tokens["coord"] = make_token(cls.db, "coordinator", "coord")["token"]
        cls.server = test_http.Server(cls.db, quiet=True)
        cls.port = cls.server.port

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            cls.tmp.cleanup()

    def op(self, who, op):
        r = call(self.port, "POST", "/v1/batch", self.tokens[who], [op])
        self.assertEqual(r.status, 200, r)
        return r.json[0]

    def state(self, tid):
        r = call(self.port, "GET", f"/v1/transfers/{quote(tid, safe='')}", self.tokens["coord"])
        self.assertEqual(r.status, 200, r)
        return r.json

    def approve(self, who, op_id, pending, decision="approve"):
        return self.op(who, {"op": "approve", "id": op_id, "pending_id": pending,
                             "decision": decision})

    def pending(self, tid):
        res = self.op("coord", {"op": "transfer", "id": tid, "debit": "fund.safe",
                                "credit": "force.pay", "amount": 1000, "pending": True})
        self.assertEqual(res["status"], "created", res)

    def test_two_of_three(self):
        res = self.op("coord", {"op": "transfer", "id": "single", "debit": "fund.safe",
                                "credit": "force.pay", "amount": 1000})
        self.assertEqual(res["status"], "approval_required", res)
        self.pending("p1")
        self.assertEqual(self.approve("a", "ap-a1", "p1")["status"], "created")
        self.assertEqual(self.state("p1")["state"], "pending")
        self.assertEqual(self.approve("a", "ap-a2", "p1")["status"], "approval_already_given")
        self.assertEqual(self.approve("d", "ap-d", "p1")["status"], "forbidden")
        self.assertEqual(self.approve("b", "ap-b", "p1")["status"], "created")
        self.assertEqual(self.state("p1")["state"], "posted")
        record = self.state("p1/approval")
        self.assertEqual((record["reason"], record["pending_id"]), ("approval", "p1"))
        bal = call(self.port, "GET", "/v1/accounts/force.pay", self.tokens["coord"]).json
        self.assertEqual(bal["credits_posted"], 1000)

    def test_rejections_void(self):
        self.pending("p2")
        self.assertEqual(self.approve("a", "rj-a", "p2", "reject")["status"], "created")
        self.assertEqual(self.state("p2")["state"], "pending")
        self.assertEqual(self.approve("b", "rj-b", "p2", "reject")["status"], "created")
        self.assertEqual(self.state("p2")["state"], "voided", "2 of 3 can no longer approve")

    def test_direct_post_needs_approvals(self):
        self.pending("p3")
        res = self.op("coord", {"op": "post", "id": "p3.post", "pending_id": "p3"})
        self.assertEqual(res["status"], "approval_required", res)
        self.assertEqual(self.state("p3")["state"], "pending")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    test_http.CONCORD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=1)
