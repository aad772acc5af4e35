#!/usr/bin/env python3
"""Integration tests of concord's HTTP API (`concord serve`), binary in argv[1].

Each test class starts one server on a database of its own, on a port the OS
picks (`--listen 127.0.0.1:0`, the port read from the `listening on` line on
stderr), and stops it with SIGTERM, expecting exit status 0 and no sanitizer
report. What the API answers is compared with what the command line's --json
answers on the same database: they must be the same JSON (same keys, same
values, same types). Every request carries an administrator's bearer token,
made with `concord token create` on the server's database before it starts
(tests/http/test_authz.py tests who may do what). Python's standard library only.

usage: test_http.py CONCORD_BINARY [unittest arguments]
"""
import http.client
import base64
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from urllib.parse import quote, urlencode

CONCORD = None

MAX_BODY = 8 * 1024 * 1024          # bytes of a POST body
MAX_BATCH = 8189                    # operations of one POST /v1/batch
START_TIMEOUT = 60                  # seconds for the server to say it listens
STOP_TIMEOUT = 60                   # seconds for it to exit after SIGTERM/SIGINT
CMD_TIMEOUT = 120                   # seconds for one CLI command or one request

LISTENING = re.compile(r"^concord: listening on http://127\.0\.0\.1:(\d+)\s*$")
SANITIZER = re.compile(r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|"
                       r"runtime error:")

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples",
                       "conditions.jsonl")
with open(EXAMPLE) as example:
    CONDITIONS_EXAMPLE = [json.loads(line) for line in example if line.strip()]

# Every route of the API and its methods: what /v1/openapi.json must describe,
# and what `Allow` must list on a 405. The document may describe itself too.
ROUTES = {
    "/v1/batch": {"post"},
    "/v1/import/fts": {"post"},
    "/v1/import/iati": {"post"},
    "/v1/import/hxl": {"post"},
    "/v1/export/iati": {"get"},
    "/v1/export/hxl": {"get"},
    "/v1/export/csv": {"get"},
    "/v1/accounts": {"get"},
    "/v1/accounts/{id}": {"get"},
    "/v1/accounts/{id}/transfers": {"get"},
    "/v1/transfers/{id}": {"get"},
    "/v1/balances": {"get"},
    "/v1/conditions": {"get"},
    "/v1/requirements": {"get"},
    "/v1/gaps": {"get"},
    "/v1/scenario": {"post"},
    "/v1/me": {"get"},
    "/v1/parties": {"get"},
    "/v1/units": {"get"},
    "/v1/reports/funding": {"get"},
    "/v1/reports/force": {"get"},
    "/v1/reports/aid": {"get"},
    "/v1/reports/overview": {"get"},
    "/v1/forecast": {"get"},
    "/v1/audit/checkpoint": {"get"},
    "/v1/audit/key": {"get"},
    "/v1/audit/proof/{id}": {"get"},
    "/v1/audit/consistency": {"get"},
    "/v1/audit/events": {"get"},
    "/v1/audit/events/{id}/proof": {"get"},
    "/healthz": {"get"},
    "/": {"get"},
    "/assets/{path}": {"get"},
}
# Routes that answer with one of the dashboard's files, and the media type
# their 200 describes (tests/http/test_assets.py tests what they serve).
FILE_ROUTES = {"/": "text/html", "/assets/{path}": "*/*", "/v1/export/iati": "application/xml",
               "/v1/export/hxl": "text/csv", "/v1/export/csv": "text/csv"}
# The media types of request bodies that are not JSON (the import routes').
BODY_MEDIA = {"/v1/import/iati": {"application/xml", "text/xml"},
              "/v1/import/hxl": {"text/csv", "text/tab-separated-values", "text/plain"}}
OPTIONAL_ROUTES = {"/v1/openapi.json": {"get"}}
QUERY_PARAMETERS = {
    "/v1/accounts": {"prefix", "unit", "owner", "limit", "after"},
    "/v1/accounts/{id}/transfers": {"since", "until", "limit", "after"},
    "/v1/balances": {"prefix", "at"},
    "/v1/gaps": {"at", "in"},
    "/v1/forecast": {"samples", "seed", "in"},
    "/v1/audit/consistency": {"from", "to"},
    "/v1/audit/events": {"after", "limit"},
    "/v1/reports/funding": {"at", "source"},
    "/v1/export/iati": {"activity_prefix"},
    "/v1/import/hxl": {"selector"},
    "/v1/export/hxl": {"what", "prefix", "at"},
    "/v1/export/csv": {"what", "prefix", "at"},
    "/v1/reports/force": {"at"},
    "/v1/reports/aid": {"at"},
    "/v1/reports/overview": {"at"},
}
# Query parameters the server documents beyond the specification above.
# GET /v1/balances?in=UNIT converts every figure into UNIT (no CLI equivalent);
# POST /v1/import/{fts,iati,hxl}?dry_run=true is `concord import … --dry-run`.
QUERY_EXTENSIONS = {
    "/v1/balances": {"in"},
    "/v1/import/fts": {"dry_run"},
    "/v1/import/iati": {"dry_run"},
    "/v1/import/hxl": {"dry_run"},
}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def canonical(value):
    """JSON text that two equal documents share whatever their key order; an
    integer and a real of the same value differ."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def jsonl(items):
    return "".join(json.dumps(i) + "\n" for i in items)


def cli(db, *args, input=None, check=True):
    r = subprocess.run([CONCORD, "--db", db] + list(args), input=input, capture_output=True,
                       text=True, timeout=CMD_TIMEOUT)
    if check and r.returncode != 0:
        raise AssertionError(f"concord {' '.join(args)} exited {r.returncode}: {r.stderr}")
    return r


# The bearer token of each server's database, by port: request() sends it.
TOKENS = {}


def admin_token(db):
    """A new administrator's token on db (the local CLI is the administrator)."""
    return cli(db, "token", "create", "--user", "test-admin", "--role", "admin").stdout.strip()


def auth_line(port):
    """The Authorization header line for a raw request to the server on port."""
    return b"Authorization: Bearer %s\r\n" % TOKENS[port].encode()


def cli_json(db, *args):
    return json.loads(cli(db, *args, "--json").stdout)


def make_db(directory, name, fixtures=()):
    db = os.path.join(directory, name)
    cli(db, "init")
    if fixtures:
        r = cli(db, "apply", input=jsonl(fixtures))
        results = [json.loads(line) for line in r.stdout.splitlines()]
        bad = [res for res in results if res["status"] not in ("created", "resolved")]
        if bad:
            raise AssertionError(f"fixtures rejected: {bad}")
    return db


class Response:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers          # list of (name, value)
        self.raw = raw
        self.json = None
        self.json_error = None
        try:
            self.json = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            self.json_error = e

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def __repr__(self):
        return f"HTTP {self.status} {self.raw[:600]!r}"


class Server:
    """`concord serve` on a port the OS picks; stderr and stdout are collected
    line by line by reader threads."""

    def __init__(self, db, quiet=False, threads=4):
        token = admin_token(db)
        cmd = [CONCORD, "--db", db, "serve", "--listen", "127.0.0.1:0", "--threads",
               str(threads)] + (["--quiet"] if quiet else [])
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.lines = []
        self.out = []
        self.cond = threading.Condition()
        self.readers = [threading.Thread(target=self._read, args=(self.proc.stderr, self.lines),
                                         daemon=True),
                        threading.Thread(target=self._read, args=(self.proc.stdout, self.out),
                                         daemon=True)]
        for t in self.readers:
            t.start()
        self.port = None
        deadline = time.monotonic() + START_TIMEOUT
        with self.cond:
            while True:
                for line in self.lines:
                    m = LISTENING.match(line)
                    if m:
                        self.port = int(m.group(1))
                        break
                if self.port is not None:
                    break
                if self.proc.poll() is not None and not self.readers[0].is_alive():
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(min(left, 0.2))
        if self.port is None:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"{' '.join(cmd)}: no 'concord: listening on "
                                 f"http://127.0.0.1:PORT' line on stderr (exit "
                                 f"{self.proc.returncode}); stderr: {self.stderr()[-3000:]}")
        TOKENS[self.port] = token

    def _read(self, stream, into):
        for raw in stream:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.cond:
                into.append(line)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def stderr(self):
        with self.cond:
            return "\n".join(self.lines)

    def wait_line(self, predicate, timeout=10):
        """The first stderr line for which predicate holds, waiting for it."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines:
                    if predicate(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(min(left, 0.2))

    def send(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=STOP_TIMEOUT):
        """Exit status, or None if still running after timeout (then killed)."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        for t in self.readers:
            t.join(10)
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()
        return rc

    def stop(self, sig=signal.SIGTERM):
        """Signals the server and checks it exits 0 with no sanitizer report."""
        if self.proc.poll() is None:
            self.send(sig)
        rc = self.wait()
        problems = []
        if rc is None:
            problems.append(f"still running {STOP_TIMEOUT} s after {sig.name} (killed)")
        elif rc != 0:
            problems.append(f"exit status {rc} after {sig.name}, expected 0")
        text = self.stderr()
        if SANITIZER.search(text):
            problems.append("sanitizer report on stderr")
        if problems:
            raise AssertionError("concord serve: " + "; ".join(problems) +
                                 "\nstderr (end):\n" + text[-6000:])


def request(port, method, path, body=None, content_type="application/json", headers=None,
            conn=None):
    """One request; a new connection unless conn is given. body: bytes, str, or
    a JSON value (serialized). Returns a Response."""
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=CMD_TIMEOUT)
    h = dict(headers or {})
    if port in TOKENS and not any(k.lower() == "authorization" for k in h):
        h["Authorization"] = "Bearer " + TOKENS[port]
    if body is not None:
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode("utf-8")
        if content_type is not None:
            h.setdefault("Content-Type", content_type)
    try:
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        raw = resp.read()
        return Response(resp.status, resp.getheaders(), raw)
    finally:
        if own:
            conn.close()


def raw_exchange(port, head, body_parts, timeout=CMD_TIMEOUT):
    """Sends head then body_parts on a raw socket from a thread while reading
    the response, so that an early answer (411, 413) is read even if the server
    stops reading the body. Returns a Response."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        sock.sendall(head)

        def send():
            try:
                for part in body_parts:
                    sock.sendall(part)
            except OSError:
                pass        # the server answered early and closed: allowed
        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        resp = http.client.HTTPResponse(sock, method="POST")
        resp.begin()
        raw = resp.read()
        sender.join(timeout)
        return Response(resp.status, resp.getheaders(), raw)
    finally:
        sock.close()


def transfer_ops(prefix, n, accounts, rng, amounts_into=None):
    """n transfers with ids PREFIX-i between distinct accounts; adds each
    amount to amounts_into[(account, 'debits'|'credits')]."""
    out = []
    for i in range(n):
        d = rng.randrange(len(accounts))
        c = (d + 1 + rng.randrange(len(accounts) - 1)) % len(accounts)
        amount = rng.randint(1, 100_000)
        out.append({"op": "transfer", "id": f"{prefix}-{i}", "debit": accounts[d],
                    "credit": accounts[c], "amount": amount})
        if amounts_into is not None:
            amounts_into[(accounts[d], "debits")] = amounts_into.get((accounts[d], "debits"), 0) + amount
            amounts_into[(accounts[c], "credits")] = amounts_into.get((accounts[c], "credits"), 0) + amount
    return out


class ApiTestCase(unittest.TestCase):
    """One server per class, on self.db."""
    server = None
    db = None

    @classmethod
    def start(cls, fixtures=(), quiet=False):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.db = make_db(cls.tmp.name, "api.db", fixtures)
        cls.server = Server(cls.db, quiet=quiet)
        cls.port = cls.server.port

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.server is not None:
                cls.server.stop()
        finally:
            cls.tmp.cleanup()

    # requests ------------------------------------------------------------

    def call(self, method, path, body=None, content_type="application/json", headers=None,
             conn=None):
        r = request(self.port, method, path, body, content_type, headers, conn)
        self.check_response(method, path, r)
        return r

    def check_response(self, method, path, r):
        self.assertNotEqual(r.status, 500, f"{method} {path}: 500 (never for bad input): {r}")
        ctype = r.header("Content-Type") or ""
        self.assertEqual(ctype.split(";")[0].strip().lower(), "application/json",
                         f"{method} {path}: Content-Type {ctype!r}: {r}")
        self.assertIsNone(r.json_error, f"{method} {path}: body is not JSON: {r}")
        if r.status >= 400:
            self.assert_error_shape(method, path, r)

    def assert_error_shape(self, method, path, r):
        body = r.json
        self.assertIsInstance(body, dict, f"{method} {path}: {r}")
        self.assertEqual(set(body), {"error"}, f"{method} {path}: {r}")
        self.assertIsInstance(body["error"], dict, f"{method} {path}: {r}")
        self.assertEqual(set(body["error"]), {"code", "message"}, f"{method} {path}: {r}")
        self.assertIsInstance(body["error"]["code"], str)
        self.assertIsInstance(body["error"]["message"], str)
        self.assertTrue(body["error"]["message"], f"{method} {path}: empty message")

    def get(self, path, status=200):
        r = self.call("GET", path)
        self.assertEqual(r.status, status, f"GET {path}: {r}")
        return r.json

    def post(self, path, body, status=200, content_type="application/json"):
        r = self.call("POST", path, body, content_type)
        self.assertEqual(r.status, status, f"POST {path}: {r}")
        return r.json

    def expect_error(self, method, path, status, code, body=None,
                     content_type="application/json"):
        r = self.call(method, path, body, content_type)
        self.assertEqual((r.status, (r.json or {}).get("error", {}).get("code")), (status, code),
                         f"{method} {path}: {r}")
        return r

    def assert_same_json(self, got, expected, what):
        if canonical(got) != canonical(expected):
            self.assertEqual(got, expected, what)       # a readable diff
            self.fail(f"{what}: same values, different JSON types:\n  got      "
                      f"{canonical(got)}\n  expected {canonical(expected)}")

    def cli_json(self, *args):
        return cli_json(self.db, *args)

    def batch(self, ops, status=200):
        return self.post("/v1/batch", ops, status)


# ---------------------------------------------------------------------------
# The read routes, on the conditions example plus a few accounts and dated
# transfers; every answer compared with the CLI's on the same database.

ROUTES_FIXTURES = CONDITIONS_EXAMPLE + [
    {"op": "unit", "code": "KG", "scale": 3},
    {"op": "account", "id": "fund", "unit": "USD", "name": "Fund root", "owner": "fund"},
    {"op": "account", "id": "fundraising", "unit": "USD", "name": "Fundraising", "owner": "ngo",
     "flags": ["credits_must_not_exceed_debits"]},
    {"op": "account", "id": "crossing.ks.queued", "unit": "KG", "owner": "wfp"},
    {"op": "account", "id": "crossing.ks.cleared", "unit": "KG", "owner": "wfp",
     "name": "Cleared at the crossing", "flags": []},
    {"op": "transfer", "id": "kg-1", "debit": "crossing.ks.queued", "credit": "crossing.ks.cleared",
     "amount": 20000000, "date": "2026-01-10", "kind": "screening", "memo": "20 t of flour",
     "meta": {"trucks": 2, "crossing": "ks"}},
    {"op": "transfer", "id": "kg-2", "debit": "crossing.ks.queued", "credit": "crossing.ks.cleared",
     "amount": 15000000, "date": "2026-02-10T08:30:00Z"},
    {"op": "transfer", "id": "kg-3", "debit": "crossing.ks.queued", "credit": "crossing.ks.cleared",
     "amount": 5000000, "pending": True, "date": "2026-03-10"},
    {"op": "post", "id": "kg-3.post", "pending_id": "kg-3", "amount": 2000000, "date": "2026-04-01"},
    {"op": "transfer", "id": "kg/4?x=1#y%z", "debit": "crossing.ks.queued",
     "credit": "crossing.ks.cleared", "amount": 1, "date": "2026-05-01"},
    {"op": "condition", "name": "kg_ok"},
    {"op": "transfer", "id": "kg-5", "debit": "crossing.ks.queued", "credit": "crossing.ks.cleared",
     "amount": 7, "pending": True, "if": "kg_ok", "date": "2026-06-01"},
    {"op": "resolve", "name": "kg_ok", "state": "met"},
    {"op": "rate", "unit": "PERSON", "to": "USD", "rate": "1428", "date": "2020-01-01"},
]
TRANSFER_IDS = ["p-us", "p-eu", "p-jp", "c-jp", "p-eg", "kg-1", "kg-2", "kg-3", "kg-3.post",
                "kg/4?x=1#y%z", "kg-5", "kg-5/condition"]


class Routes(ApiTestCase):
    @classmethod
    def setUpClass(cls):
        cls.start(ROUTES_FIXTURES)

    def test_healthz(self):
        self.assert_same_json(self.get("/healthz"), {"status": "ok"}, "GET /healthz")

    def test_account_show(self):
        ids = [a["id"] for a in self.cli_json("account", "list")]
        self.assertGreaterEqual(len(ids), 11)
        for account in ids:
            with self.subTest(account=account):
                self.assert_same_json(self.get("/v1/accounts/" + quote(account, safe="")),
                                      self.cli_json("account", "show", account),
                                      f"GET /v1/accounts/{account}")

    def test_account_list_and_filters(self):
        cases = [
            ({}, []),
            ({"prefix": "fund"}, ["--prefix", "fund"]),
            ({"prefix": "fund."}, ["--prefix", "fund."]),
            ({"prefix": "crossing.ks"}, ["--prefix", "crossing.ks"]),
        ]
        for query, args in cases:
            with self.subTest(query=query):
                path = "/v1/accounts" + ("?" + urlencode(query) if query else "")
                got = self.get(path)
                self.assertEqual(set(got), {"accounts", "next"}, path)
                self.assertIsNone(got["next"], path)
                self.assert_same_json(got["accounts"], self.cli_json("account", "list", *args),
                                      path)
        # prefix follows dots
        ids = [a["id"] for a in self.get("/v1/accounts?prefix=fund")["accounts"]]
        self.assertEqual(ids, ["fund", "fund.pool", "fund.reserve"])
        everything = self.cli_json("account", "list")
        for query, pick in [
                ({"unit": "KG"}, lambda a: a["unit"] == "KG"),
                ({"unit": "PERSON"}, lambda a: a["unit"] == "PERSON"),
                ({"owner": "wfp"}, lambda a: a.get("owner") == "wfp"),
                ({"owner": "fund"}, lambda a: a.get("owner") == "fund"),
                ({"unit": "USD", "owner": "ngo"}, lambda a: a["unit"] == "USD"
                 and a.get("owner") == "ngo"),
                ({"unit": "KG", "owner": "ngo"}, lambda a: False),
                ({"prefix": "fund", "owner": "fund"}, lambda a: a["id"] == "fund"),
                ({"unit": "NOPE"}, lambda a: False)]:
            with self.subTest(query=query):
                path = "/v1/accounts?" + urlencode(query)
                got = self.get(path)
                self.assertIsNone(got["next"], path)
                self.assert_same_json(got["accounts"], [a for a in everything if pick(a)], path)
        self.assertEqual([a["id"] for a in self.get("/v1/accounts?unit=KG")["accounts"]],
                         ["crossing.ks.cleared", "crossing.ks.queued"])

    def test_transfer_show(self):
        for t in TRANSFER_IDS:
            with self.subTest(transfer=t):
                path = "/v1/transfers/" + quote(t, safe="")
                self.assert_same_json(self.get(path), self.cli_json("transfer", "show", t),
                                      f"GET {path}")
        self.assertEqual(self.get("/v1/transfers/kg-5%2Fcondition")["reason"], "condition")

    def test_account_transfers(self):
        cases = [
            ("fund.pool", {}, []),
            ("crossing.ks.cleared", {}, []),
            ("crossing.ks.queued", {"since": "2026-02-01", "until": "2026-04-01"},
             ["--since", "2026-02-01", "--until", "2026-04-01"]),
            ("crossing.ks.cleared", {"since": "2026-02-10T08:30:00Z"},
             ["--since", "2026-02-10T08:30:00Z"]),
            ("crossing.ks.cleared", {"until": "2026-01-10"}, ["--until", "2026-01-10"]),
            ("fundraising", {}, []),
        ]
        for account, query, args in cases:
            with self.subTest(account=account, query=query):
                path = f"/v1/accounts/{account}/transfers" + ("?" + urlencode(query)
                                                              if query else "")
                got = self.get(path)
                self.assertEqual(set(got), {"transfers", "next"}, path)
                self.assertIsNone(got["next"], path)
                self.assert_same_json(got["transfers"],
                                      self.cli_json("history", account, *args), path)
        ids = [t["id"] for t in self.get("/v1/accounts/crossing.ks.cleared/transfers")["transfers"]]
        self.assertEqual(ids, ["kg-1", "kg-2", "kg-3", "kg-3.post", "kg/4?x=1#y%z", "kg-5",
                               "kg-5/condition"])

    def test_balances(self):
        cases = [
            ({}, []),
            ({"prefix": "fund"}, ["--prefix", "fund"]),
            ({"prefix": "crossing"}, ["--prefix", "crossing"]),
            ({"prefix": "fund."}, ["--prefix", "fund."]),
            ({"at": "2026-02-10"}, ["--at", "2026-02-10"]),
            ({"at": "2026-02-10T08:00:00Z"}, ["--at", "2026-02-10T08:00:00Z"]),
            ({"at": "2020-01-01"}, ["--at", "2020-01-01"]),
            ({"prefix": "crossing", "at": "2026-03-31"}, ["--prefix", "crossing", "--at",
                                                          "2026-03-31"]),
        ]
        for query, args in cases:
            with self.subTest(query=query):
                path = "/v1/balances" + ("?" + urlencode(query) if query else "")
                self.assert_same_json(self.get(path), self.cli_json("balance", *args), path)
        rows = self.get("/v1/balances?prefix=fund")
        self.assertEqual([(r["unit"], r["accounts"]) for r in rows], [("USD", 3)])
        at = {r["id"]: r for r in self.get("/v1/balances?at=2026-02-10")}
        self.assertEqual(at["crossing.ks.cleared"]["credits_posted"], 35000000)
        at = {r["id"]: r for r in self.get("/v1/balances?at=2026-02-10T08:00:00Z")}
        self.assertEqual(at["crossing.ks.cleared"]["credits_posted"], 20000000)

    def test_conditions_and_requirements(self):
        self.assert_same_json(self.get("/v1/conditions"), self.cli_json("condition", "list"),
                              "GET /v1/conditions")
        self.assert_same_json(self.get("/v1/requirements"),
                              self.cli_json("requirement", "list"), "GET /v1/requirements")

    def test_units(self):
        units = self.get("/v1/units")
        self.assert_same_json(units, self.cli_json("unit", "list"), "GET /v1/units")
        self.assertTrue(units, "the fixture defines units")
        for unit in units:
            self.assertIsInstance(unit["code"], str)
            self.assertIsInstance(unit["scale"], int)

    def test_gaps(self):
        for query, args in [({}, []), ({"at": "2026-06-01"}, ["--at", "2026-06-01"]),
                            ({"in": "USD"}, ["--in", "USD"]),
                            ({"at": "2026-12-31", "in": "USD"}, ["--at", "2026-12-31",
                                                                 "--in", "USD"])]:
            with self.subTest(query=query):
                path = "/v1/gaps" + ("?" + urlencode(query) if query else "")
                self.assert_same_json(self.get(path), self.cli_json("gaps", *args), path)
        gaps = {g["id"]: g for g in self.get("/v1/gaps")}
        self.assertEqual((gaps["salaries"]["gap"], gaps["salaries"]["gap_if_pending_post"]),
                         (11000000000, 1000000000))
        self.assertEqual((gaps["troops"]["gap"], gaps["troops"]["gap_if_pending_post"]),
                         (500, 200))

    def test_scenario(self):
        before = self.get("/v1/conditions")
        cases = [
            ({"assume": {}}, []),
            ({"assume": {"ceasefire": "met"}}, ["--assume", "ceasefire=met"]),
            ({"assume": {"two_state": "failed", "ceasefire": "met"}},
             ["--assume", "two_state=failed", "--assume", "ceasefire=met"]),
            ({"assume": {"two_state": "met"}, "in": "USD"},
             ["--assume", "two_state=met", "--in", "USD"]),
        ]
        for body, args in cases:
            with self.subTest(body=body):
                self.assert_same_json(self.post("/v1/scenario", body),
                                      self.cli_json("scenario", *args), f"POST /v1/scenario {body}")
        got = self.post("/v1/scenario", {"assume": {"ceasefire": "met"}},
                        content_type="application/json; charset=utf-8")
        sal = {r["id"]: r for r in got["requirements"]}["salaries"]
        self.assertEqual((sal["low"], sal["high"]), (3000000000, 11000000000))
        # a scenario writes nothing
        self.assert_same_json(self.get("/v1/conditions"), before, "conditions after scenarios")
        self.assertEqual([c["state"] for c in before if c["name"] != "kg_ok"], ["open"] * 3)
        self.assertEqual(self.get("/v1/transfers/p-eg")["state"], "pending")

    def test_forecast(self):
        for query, args in [({}, []), ({"samples": "1000", "seed": "7"},
                                        ["--samples", "1000", "--seed", "7"]),
                            ({"in": "USD"}, ["--in", "USD"])]:
            with self.subTest(query=query):
                path = "/v1/forecast" + ("?" + urlencode(query) if query else "")
                self.assert_same_json(self.get(path), self.cli_json("forecast", *args), path)
        f = self.get("/v1/forecast")
        req = {r["id"]: r for r in f["requirements"]}
        self.assertEqual(f["method"], "exact")
        self.assertEqual(req["salaries"]["expected"], 5485000000)
        self.assertEqual(req["troops"]["expected"], 241.5)

    # errors ----------------------------------------------------------------

    def test_not_found(self):
        for path in ["/v1/accounts/nope", "/v1/accounts/nope/transfers", "/v1/transfers/nope",
                     "/v1/transfers/kg-5%2Fnope", "/v1/transfers/p-us%2Fexpiry"]:
            with self.subTest(path=path):
                self.expect_error("GET", path, 404, "not_found")
        for method, path in [("GET", "/assets"), ("GET", "/assets/"), ("GET", "/v1"), ("GET", "/v1/"), ("GET", "/v1/nope"),
                             ("GET", "/v2/accounts"), ("GET", "/v1/accounts/fund.pool/nope"),
                             ("GET", "/v1/accounts/fund.pool/transfers/x"),
                             ("GET", "/v1/transfers"), ("GET", "/healthz/x"),
                             ("POST", "/v1/nope"), ("DELETE", "/v1/nope"),
                             ("GET", "/v1/batchx"), ("GET", "/V1/ACCOUNTS")]:
            with self.subTest(method=method, path=path):
                self.expect_error(method, path, 404, "not_found",
                                  body=b"[]" if method == "POST" else None)

    def test_method_not_allowed(self):
        concrete = {"/v1/accounts/{id}": "/v1/accounts/fund.pool",
                    "/v1/accounts/{id}/transfers": "/v1/accounts/fund.pool/transfers",
                    "/v1/transfers/{id}": "/v1/transfers/p-us",
                    "/v1/audit/proof/{id}": "/v1/audit/proof/p-us",
                    "/assets/{path}": "/assets/nope"}
        for template, methods in ROUTES.items():
            path = concrete.get(template, template)
            for method in sorted({"GET", "POST", "PUT", "DELETE", "PATCH"} -
                                 {m.upper() for m in methods}):
                with self.subTest(method=method, path=path):
                    body = b"[]" if method in ("POST", "PUT", "PATCH") else None
                    r = self.expect_error(method, path, 405, "method_not_allowed", body=body)
                    allow = r.header("Allow")
                    self.assertIsNotNone(allow, f"{method} {path}: 405 without Allow")
                    listed = {m.strip().upper() for m in allow.split(",") if m.strip()}
                    self.assertEqual(listed - {"HEAD"}, {m.upper() for m in methods},
                                     f"{method} {path}: Allow: {allow}")
                    if "HEAD" in listed:
                        self.assertIn("GET", listed)

    def test_bad_query_parameters(self):
        for path in ["/v1/accounts?limit=1001", "/v1/accounts?limit=0", "/v1/accounts?limit=-1",
                     "/v1/accounts?limit=abc", "/v1/accounts?limit=10x",
                     "/v1/accounts?limit=99999999999999999999999",
                     "/v1/accounts/fund.pool/transfers?limit=abc",
                     "/v1/accounts/fund.pool/transfers?since=yesterday",
                     "/v1/accounts/fund.pool/transfers?until=2026-13-45",
                     "/v1/balances?at=garbage", "/v1/gaps?at=garbage",
                     "/v1/forecast?samples=abc", "/v1/forecast?seed=x1",
                     "/v1/reports/funding?source=FTS", "/v1/reports/funding?source=bogus"]:
            with self.subTest(path=path):
                self.expect_error("GET", path, 400, "bad_request")
        # the bounds themselves are fine
        self.assertIsNone(self.get("/v1/accounts?limit=1000")["next"])
        self.assertEqual(len(self.get("/v1/accounts?limit=1")["accounts"]), 1)

    def test_unknown_query_parameters_are_refused(self):
        # Not ignored: a misspelt prefix would answer for every account.
        for path, named, takes in (
                ("/v1/accounts?prefx=fund.", "prefx", "takes prefix, unit, owner, limit, after"),
                ("/v1/accounts/fund.pool?at=2026-01-01", "at", "takes none"),
                ("/v1/balances?prefix=fund.&limit=5", "limit", "takes prefix, at, in"),
                ("/v1/reports/funding?source=fts&x=", "x", "takes at, source")):
            with self.subTest(path=path):
                r = self.call("GET", path)
                self.assertEqual((r.status, r.json["error"]["code"]), (400, "bad_request"), r)
                self.assertIn(f'unknown query parameter "{named}"', r.json["error"]["message"])
                self.assertIn(takes, r.json["error"]["message"])
        # An empty name names nothing: harmless, like a trailing &.
        for path in ("/v1/accounts?prefix=fund.&&limit=2", "/v1/accounts?&", "/v1/accounts?&&"):
            with self.subTest(path=path):
                self.assertEqual(self.call("GET", path).status, 200)
        # The name is shown as sent, cut on a character; bytes that are not UTF-8 as \xNN.
        for path, shown in (("/v1/accounts?%FF%FE=1", '"\\xff\\xfe"'),
                            ("/v1/accounts?" + "%E2%82%AC" * 30 + "=1", '"' + "\u20ac" * 21 + '"')):
            with self.subTest(path=path):
                r = self.call("GET", path)
                self.assertEqual(r.status, 400, r)
                self.assertIn("unknown query parameter " + shown, r.json["error"]["message"])
                self.assertIn("takes prefix, unit, owner, limit, after",
                              r.json["error"]["message"])
        # A NUL would cut the name or the value short: limit%00junk is not limit.
        for path in ("/v1/accounts?limit%00junk=1", "/v1/accounts?prefix=fund%00.x"):
            with self.subTest(path=path):
                r = self.call("GET", path)
                self.assertEqual(r.status, 400, r)
                self.assertIn("a NUL character (%00) in its name or value",
                              r.json["error"]["message"])
        # A misspelt dry_run on an import must not import: refused before the body is read.
        before = self.get("/v1/balances?prefix=hxl")
        r = self.call("POST", "/v1/import/hxl?dryrun=true",
                      b"#org+funder,#org+impl,#value+usd\r\nA,B,10\r\n", "text/csv")
        self.assertEqual(r.status, 400, r)
        self.assertIn('unknown query parameter "dryrun"', r.json["error"]["message"])
        self.assertIn("takes selector, dry_run", r.json["error"]["message"])
        self.assertEqual(self.get("/v1/balances?prefix=hxl"), before)

    def test_scenario_errors(self):
        for body in [b"", b"{", b"[]", b"42", b'{"assume": []}', b'{"assume": {"ceasefire": 1}}',
                     b'{"assume": {"ceasefire": "maybe"}}', b'{"assume": {}, "in": 5}',
                     b'{"assume": {"ceasefire": "met", "ceasefire": "failed"}}']:
            with self.subTest(body=body):
                self.expect_error("POST", "/v1/scenario", 400, "bad_request", body=body)
        # an unknown or derived condition, a missing rate: refused, never 500
        for body in [{"assume": {"nope": "met"}}, {"assume": {"all_clear": "met"}},
                     {"assume": {}, "in": "KG"}]:
            with self.subTest(body=body):
                r = self.call("POST", "/v1/scenario", body)
                self.assertTrue(400 <= r.status < 500, f"POST /v1/scenario {body}: {r}")
        for path in ["/v1/gaps?in=KG", "/v1/forecast?in=KG"]:
            with self.subTest(path=path):
                r = self.call("GET", path)
                self.assertTrue(400 <= r.status < 500, f"GET {path}: {r}")
        self.expect_error("POST", "/v1/scenario", 415, "unsupported_media_type",
                          body={"assume": {}}, content_type="text/plain")
        r = raw_exchange(self.port, b"POST /v1/scenario HTTP/1.1\r\nHost: x\r\n" +
                         auth_line(self.port) + b"Content-Type: "
                         b"application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
                         [b"d\r\n{\"assume\":{}}\r\n0\r\n\r\n"])
        self.check_response("POST", "/v1/scenario (chunked)", r)
        self.assertEqual((r.status, r.json["error"]["code"]), (411, "length_required"), r)

    # the OpenAPI document ----------------------------------------------------

    def test_openapi(self):
        doc = self.get("/v1/openapi.json")
        self.assertRegex(doc.get("openapi", ""), r"^3\.1\.\d+$")
        self.assertIsInstance(doc.get("info", {}).get("title"), str)
        self.assertIsInstance(doc.get("info", {}).get("version"), str)

        def deref(node):
            seen = 0
            while isinstance(node, dict) and "$ref" in node:
                ref = node["$ref"]
                self.assertTrue(ref.startswith("#/"), f"non-local $ref {ref}")
                node = doc
                for part in ref[2:].split("/"):
                    part = part.replace("~1", "/").replace("~0", "~")
                    self.assertIn(part, node, f"dangling $ref {ref}")
                    node = node[part]
                seen += 1
                self.assertLess(seen, 20, "circular $ref")
            return node

        paths = doc.get("paths", {})
        described = {p: {m for m in deref(item) if m in HTTP_METHODS}
                     for p, item in paths.items()}
        allowed = dict(ROUTES, **OPTIONAL_ROUTES)
        self.assertEqual(set(described) - set(allowed), set(),
                         "paths that are not routes of the API")
        self.assertEqual(set(ROUTES) - set(described), set(), "routes missing from paths")
        for p, methods in described.items():
            with self.subTest(path=p):
                self.assertEqual(methods, allowed[p], f"methods of {p}")
                item = deref(paths[p])
                for m in methods:
                    op = deref(item[m])
                    params = [deref(x) for x in item.get("parameters", []) + op.get("parameters", [])]
                    for x in params:
                        self.assertIn(x.get("in"), {"query", "path", "header", "cookie"}, x)
                    path_params = {x["name"] for x in params if x.get("in") == "path"}
                    self.assertEqual(path_params, set(re.findall(r"\{(\w+)\}", p)),
                                     f"{m} {p}: path parameters")
                    for x in params:
                        if x.get("in") == "path":
                            self.assertIs(x.get("required"), True, f"{m} {p}: {x}")
                    query = {x["name"] for x in params if x.get("in") == "query"}
                    self.assertEqual(query - QUERY_EXTENSIONS.get(p, set()),
                                     QUERY_PARAMETERS.get(p, set()),
                                     f"{m} {p}: query parameters")
                    responses = op.get("responses", {})
                    self.assertIn("200", responses, f"{m} {p}: no 200 response")
                    ok = deref(responses["200"])
                    self.assertIn(FILE_ROUTES.get(p, "application/json"), ok.get("content", {}),
                                  f"{m} {p}: 200 is not {FILE_ROUTES.get(p, 'application/json')}")
                    if m == "post":
                        body = deref(op.get("requestBody", {}))
                        self.assertEqual(set(body.get("content", {})),
                                         BODY_MEDIA.get(p, {"application/json"}),
                                         f"{m} {p}: the media types of its request body")
                    else:
                        self.assertNotIn("requestBody", op, f"{m} {p}")
        batch = deref(deref(paths["/v1/batch"])["post"])
        codes = set(deref(batch)["responses"])
        for code in ["400", "411", "413", "415"]:
            self.assertIn(code, codes, f"POST /v1/batch: response {code} not described")

    # keep-alive and the access log ---------------------------------------------

    def test_keep_alive(self):
        """Requests that reach their route, answered 200 or not, share one
        connection; one refused at its headers (unknown route, 405) may close
        it, but then says so (Connection: close) and the next request goes on."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=CMD_TIMEOUT)
        try:
            conn.connect()
            sock = conn.sock
            steps = [("GET", "/healthz", None, 200), ("GET", "/v1/accounts/fund.pool", None, 200),
                     ("GET", "/v1/accounts/nope", None, 404),
                     ("POST", "/v1/scenario", {"assume": {"ceasefire": "met"}}, 200),
                     ("GET", "/v1/accounts?limit=5000", None, 400),
                     ("GET", "/v1/conditions", None, 200),
                     ("POST", "/v1/scenario", b"{", 400),
                     ("GET", "/v1/transfers/nope", None, 404),
                     ("GET", "/v1/openapi.json", None, 200), ("GET", "/v1/gaps", None, 200),
                     ("GET", "/healthz", None, 200)]
            for i, (method, path, body, status) in enumerate(steps):
                r = self.call(method, path, body, conn=conn)
                self.assertEqual(r.status, status, f"request {i}: {method} {path}: {r}")
                self.assertIs(conn.sock, sock, f"request {i} ({method} {path}): the server "
                              f"closed the connection (Connection: {r.header('Connection')})")
            for method, path, status in [("DELETE", "/v1/conditions", 405),
                                         ("GET", "/v1/nope", 404), ("GET", "/v1/batch", 405)]:
                r = self.call(method, path, conn=conn)
                self.assertEqual(r.status, status, f"{method} {path}: {r}")
                if conn.sock is not sock:
                    self.assertEqual((r.header("Connection") or "").lower(), "close",
                                     f"{method} {path}: closed without Connection: close")
                r = self.call("GET", "/healthz", conn=conn)
                self.assertEqual(r.status, 200, f"GET /healthz after {method} {path}: {r}")
                sock = conn.sock
        finally:
            conn.close()

    def test_access_log(self):
        marker = f"log-probe-{random.randrange(10**6)}"
        r = self.call("GET", f"/v1/accounts/{marker}")
        self.assertEqual(r.status, 404)
        line = self.server.wait_line(lambda l: f"/v1/accounts/{marker}" in l)
        self.assertIsNotNone(line, f"no access-log line for GET /v1/accounts/{marker}:\n"
                             + self.server.stderr()[-2000:])
        self.assertIn("GET", line)
        numbers = [int(n) for n in re.findall(r"\d+", line.replace(marker, ""))]
        self.assertIn(404, numbers, f"status not in {line!r}")
        self.assertIn(len(r.raw), numbers, f"bytes ({len(r.raw)}) not in {line!r}")
        self.assertGreaterEqual(len(numbers), 3, f"microseconds not in {line!r}")
        # exactly one line per request
        time.sleep(0.2)
        self.assertEqual(sum(f"/v1/accounts/{marker}" in l for l in self.server.lines), 1)
        def is_scenario(l):
            return "POST" in l and "/v1/scenario" in l
        seen = sum(map(is_scenario, self.server.lines))
        r = self.call("POST", "/v1/scenario", {"assume": {}})
        self.assertEqual(r.status, 200)
        line = self.server.wait_line(
            lambda l: sum(map(is_scenario, self.server.lines)) > seen and is_scenario(l)
            and l == [x for x in self.server.lines if is_scenario(x)][-1])
        self.assertIsNotNone(line, "no access-log line for POST /v1/scenario")
        numbers = [int(n) for n in re.findall(r"\d+", line)]
        self.assertIn(200, numbers, line)
        self.assertIn(len(r.raw), numbers, line)


# ---------------------------------------------------------------------------
# POST /v1/batch: results as `concord apply` gives them, and bodies refused
# whole (400, 411, 413, 415) with nothing committed.

BATCH_FIXTURES = [
    {"op": "unit", "code": "USD", "scale": 2},
    {"op": "account", "id": "b.src", "unit": "USD"},
    {"op": "account", "id": "b.dst", "unit": "USD"},
]

TWIN_OPS = [
    {"op": "unit", "code": "TST", "scale": 0, "name": "test"},
    {"op": "unit", "code": "TST", "scale": 0, "name": "test"},
    {"op": "unit", "code": "TST", "scale": 1},
    {"op": "account", "id": "tst.a", "unit": "TST", "flags": ["debits_must_not_exceed_credits"]},
    {"op": "account", "id": "tst.b", "unit": "TST", "owner": "ngo", "name": "B"},
    {"op": "account", "id": "tst.c", "unit": "NOPE"},
    {"op": "account", "id": "Tst.Bad", "unit": "TST"},
    {"op": "transfer", "id": "tt-1", "debit": "tst.b", "credit": "tst.a", "amount": 100,
     "kind": "grant", "memo": "first", "meta": {"k": [1, 2]}, "date": "2026-03-01"},
    {"op": "transfer", "id": "tt-2", "debit": "tst.a", "credit": "tst.b", "amount": 500},
    {"op": "transfer", "id": "tt-3", "debit": "tst.x", "credit": "tst.b", "amount": 5},
    {"op": "transfer", "id": "tt-4", "debit": "tst.b", "credit": "tst.b", "amount": 5},
    {"op": "transfer", "id": "tt-5", "debit": "tst.b", "credit": "tst.a", "amount": 0},
    {"op": "transfer", "id": "tt-6", "debit": "tst.b", "credit": "tst.a", "amount": 5, "bogus": 1},
    1,
    [1, 2],
    "text",
    {"op": "frobnicate"},
    {"op": "condition", "name": "tst_go", "probability": 0.5},
    {"op": "transfer", "id": "tt-7", "debit": "tst.b", "credit": "tst.a", "amount": 7,
     "pending": True, "if": "tst_go"},
    {"op": "transfer", "id": "tt-7b", "debit": "tst.b", "credit": "tst.a", "amount": 7,
     "if": "tst_go"},
    {"op": "resolve", "name": "tst_go", "state": "met"},
    {"op": "resolve", "name": "tst_go", "state": "failed"},
    {"op": "post", "id": "tt-7.post", "pending_id": "tt-7"},
    {"op": "transfer", "id": "tt-8", "debit": "tst.b", "credit": "tst.a", "amount": 1,
     "linked": True},
    {"op": "transfer", "id": "tt-9", "debit": "tst.b", "credit": "tst.nope", "amount": 1},
    {"op": "transfer", "id": "tt-10", "debit": "tst.b", "credit": "tst.a", "amount": 2,
     "pending": True},
    {"op": "void", "id": "tt-10.void", "pending_id": "tt-10"},
    {"op": "transfer", "id": "tt-11", "debit": "tst.b", "credit": "tst.a", "amount": 3,
     "linked": True},
]


def without_timestamps(results):
    out = []
    for r in results:
        r = dict(r)
        if "timestamp" in r:
            r["timestamp"] = "T"
        out.append(r)
    return out


class Batch(ApiTestCase):
    @classmethod
    def setUpClass(cls):
        cls.start(BATCH_FIXTURES)
        cls.twin = make_db(cls.tmp.name, "twin.db", BATCH_FIXTURES)

    def apply_twin(self, ops):
        r = cli(self.twin, "apply", input=jsonl(ops), check=False)
        self.assertIn(r.returncode, (0, 1), r.stderr)
        return [json.loads(line) for line in r.stdout.splitlines()]

    def assert_absent(self, *paths):
        for path in paths:
            self.expect_error("GET", path, 404, "not_found")

    def test_results_as_apply(self):
        for round_ in range(2):         # the second time: exists, and the same rejections
            with self.subTest(round=round_):
                got = self.batch(TWIN_OPS)
                expected = self.apply_twin(TWIN_OPS)
                self.assertEqual(len(got), len(TWIN_OPS))
                self.assertEqual([r["index"] for r in got], list(range(len(TWIN_OPS))))
                for r in got:
                    if r["status"] in ("created", "exists", "resolved"):
                        self.assertRegex(r.get("timestamp", ""),
                                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$", r)
                self.assert_same_json(without_timestamps(got), without_timestamps(expected),
                                      f"round {round_}: POST /v1/batch vs concord apply")
        # what was written reads back as the CLI shows it on the same database
        for account in ["tst.a", "tst.b"]:
            self.assert_same_json(self.get(f"/v1/accounts/{account}"),
                                  self.cli_json("account", "show", account), account)
        for t in ["tt-1", "tt-7", "tt-7/condition", "tt-10", "tt-10.void"]:
            self.assert_same_json(self.get("/v1/transfers/" + quote(t, safe="")),
                                  self.cli_json("transfer", "show", t), t)
        self.assert_absent("/v1/transfers/tt-8", "/v1/transfers/tt-9", "/v1/transfers/tt-11",
                           "/v1/transfers/tt-2", "/v1/accounts/tst.c")
        a = self.get("/v1/accounts/tst.a")
        self.assertEqual(a["credits_posted"], 107)
        self.assertEqual(self.batch([]), [])

    def test_charset_is_fine(self):
        got = self.post("/v1/batch", [{"op": "account", "id": "b.charset", "unit": "USD"}],
                        content_type="application/json; charset=utf-8")
        self.assertEqual([r["status"] for r in got], ["created"])
        self.get("/v1/accounts/b.charset")

    def test_malformed_json(self):
        body = ('[\n  {"op": "account", "id": "b.bad1", "unit": "USD"},\n'
                '  {"op": "account", "id": "b.bad2" "unit": "USD"}\n]\n')
        r = self.expect_error("POST", "/v1/batch", 400, "bad_request", body=body)
        message = r.json["error"]["message"]
        self.assertRegex(message, r"(?i)\bline\D{0,3}3\b", f"line not named: {message}")
        self.assertRegex(message, r"(?i)\bcol(umn)?\D{0,3}\d+", f"column not named: {message}")
        bodies = [
            b"",
            b"   ",
            b"[",
            b'{"op": "account", "id": "b.bad3", "unit": "USD"}',
            b'[{"op": "account", "id": "b.bad4", "unit": "USD"}] []',
            b'[{"op": "account", "id": "b.bad5", "unit": "USD", "unit": "USD"}]',
            b'[{"op": "account", "id": "b.bad6", "unit": "USD"}, {"op": "account", "id": "\xff"}]',
            b'[{"op": "account", "id": "b.bad7", "unit": "USD"},]',
            b"null",
            b"[1, 2] x",
        ]
        for body in bodies:
            with self.subTest(body=body):
                self.expect_error("POST", "/v1/batch", 400, "bad_request", body=body)
        self.assert_absent(*[f"/v1/accounts/b.bad{i}" for i in range(1, 8)])

    def test_huge_number_is_not_a_500(self):
        body = (b'[{"op": "transfer", "id": "b.big", "debit": "b.src", "credit": "b.dst", '
                b'"amount": 99999999999999999999999}]')
        r = self.call("POST", "/v1/batch", body)
        self.assertIn(r.status, (200, 400), r)
        if r.status == 200:
            self.assertEqual([x["status"] for x in r.json], ["invalid"], r)
        self.assert_absent("/v1/transfers/b.big")

    def test_unsupported_media_type(self):
        ops = [{"op": "account", "id": "b.media", "unit": "USD"}]
        for ctype in ["text/plain", "application/x-www-form-urlencoded", "application/xml",
                      "application/jsonl", "multipart/form-data; boundary=x"]:
            with self.subTest(content_type=ctype):
                self.expect_error("POST", "/v1/batch", 415, "unsupported_media_type", body=ops,
                                  content_type=ctype)
        self.assert_absent("/v1/accounts/b.media")

    def test_length_required(self):
        body = json.dumps([{"op": "account", "id": "b.chunked", "unit": "USD"}]).encode()
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        r = raw_exchange(self.port, b"POST /v1/batch HTTP/1.1\r\nHost: x\r\n" +
                         auth_line(self.port) + b"Content-Type: "
                         b"application/json\r\nTransfer-Encoding: chunked\r\n\r\n", [chunked])
        self.check_response("POST", "/v1/batch (chunked)", r)
        self.assertEqual((r.status, r.json["error"]["code"]), (411, "length_required"), r)
        self.assert_absent("/v1/accounts/b.chunked")

    def test_body_limit(self):
        def padded(account, size):
            start = json.dumps([{"op": "account", "id": account, "unit": "USD"}]).encode()
            return start[:-1] + b" " * (size - len(start)) + b"]"
        over = padded("b.over", MAX_BODY + 1)
        self.assertEqual(len(over), MAX_BODY + 1)
        head = (b"POST /v1/batch HTTP/1.1\r\nHost: x\r\n" + auth_line(self.port) +
                b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(over))
        r = raw_exchange(self.port, head, [over[i:i + 65536] for i in range(0, len(over), 65536)])
        self.check_response("POST", "/v1/batch (8 MiB + 1)", r)
        self.assertEqual((r.status, r.json["error"]["code"]), (413, "payload_too_large"), r)
        self.assert_absent("/v1/accounts/b.over")
        # exactly 8 MiB is accepted
        exact = padded("b.exact", MAX_BODY)
        self.assertEqual(len(exact), MAX_BODY)
        got = self.batch(exact)
        self.assertEqual([x["status"] for x in got], ["created"])
        self.get("/v1/accounts/b.exact")

    def test_batch_limit(self):
        ops = [{"op": "transfer", "id": f"b.lim-{i}", "debit": "b.src", "credit": "b.dst",
                "amount": 1} for i in range(MAX_BATCH + 1)]
        before = self.get("/v1/accounts/b.dst")
        self.expect_error("POST", "/v1/batch", 413, "payload_too_large", body=ops)
        self.assert_absent("/v1/transfers/b.lim-0", f"/v1/transfers/b.lim-{MAX_BATCH}")
        self.assert_same_json(self.get("/v1/accounts/b.dst"), before, "b.dst after the 413")


# ---------------------------------------------------------------------------
# Pagination: 250 accounts under acct. and an account with 120+ transfers.

def pagination_fixtures():
    ops = [{"op": "unit", "code": "USD", "scale": 2}, {"op": "unit", "code": "KG", "scale": 0}]
    for i in range(250):
        ops.append({"op": "account", "id": f"acct.{i:03d}", "unit": "KG" if i % 5 == 0 else "USD",
                    "owner": f"o{i % 3}"})
    ops += [{"op": "account", "id": "hub.main", "unit": "USD"},
            {"op": "account", "id": "hub.src", "unit": "USD"}]
    for i in range(120):
        ops.append({"op": "transfer", "id": f"h-{i:03d}", "debit": "hub.src", "credit": "hub.main",
                    "amount": i + 1, "date": f"2026-01-{1 + (119 - i) // 4:02d}"})
    ops += [{"op": "transfer", "id": "h-pending", "debit": "hub.src", "credit": "hub.main",
             "amount": 1000, "pending": True, "date": "2026-01-15"},
            {"op": "post", "id": "h-pending.post", "pending_id": "h-pending", "amount": 400,
             "date": "2026-01-16"}]
    return ops


class Pagination(ApiTestCase):
    @classmethod
    def setUpClass(cls):
        cls.start(pagination_fixtures())

    def pages(self, base, key, **query):
        """Every page of a listing, following `next` as `after`."""
        pages, after = [], None
        while True:
            q = dict(query)
            if after is not None:
                q["after"] = after
            path = base + ("?" + urlencode(q) if q else "")
            got = self.get(path)
            self.assertEqual(set(got), {key, "next"}, path)
            pages.append(got[key])
            self.assertLess(len(pages), 100, "pagination does not end")
            if got["next"] is None:
                return pages
            self.assertIsInstance(got["next"], str, path)
            after = got["next"]

    def test_accounts_pages(self):
        pages = self.pages("/v1/accounts", "accounts", prefix="acct", limit=100)
        self.assertEqual([len(p) for p in pages], [100, 100, 50])
        ids = [a["id"] for p in pages for a in p]
        self.assertEqual(ids, [f"acct.{i:03d}" for i in range(250)])
        self.assert_same_json([a for p in pages for a in p],
                              self.cli_json("account", "list", "--prefix", "acct"), "pages")
        everything = self.cli_json("account", "list")
        self.assertEqual(len(everything), 252)
        pages = self.pages("/v1/accounts", "accounts", limit=100)
        self.assertEqual([len(p) for p in pages], [100, 100, 52])
        self.assert_same_json([a for p in pages for a in p], everything, "all pages")
        # the default limit is 100
        got = self.get("/v1/accounts")
        self.assertEqual(len(got["accounts"]), 100)
        self.assertIsNotNone(got["next"])
        self.assert_same_json(got["accounts"], everything[:100], "default page")
        got = self.get("/v1/accounts?limit=1000")
        self.assertIsNone(got["next"])
        self.assert_same_json(got["accounts"], everything, "limit=1000")
        # after is a cursor: ids strictly after it
        got = self.get("/v1/accounts?prefix=acct&limit=5&after=acct.099")
        self.assertEqual([a["id"] for a in got["accounts"]],
                         [f"acct.{i}" for i in range(100, 105)])
        got = self.get("/v1/accounts?prefix=acct&after=acct.2485")
        self.assertEqual([a["id"] for a in got["accounts"]], ["acct.249"])
        self.assertIsNone(got["next"])

    def test_filtered_pages(self):
        pages = self.pages("/v1/accounts", "accounts", unit="KG", limit=20)
        self.assertEqual([len(p) for p in pages], [20, 20, 10])
        self.assertEqual([a["id"] for p in pages for a in p],
                         [f"acct.{i:03d}" for i in range(0, 250, 5)])
        pages = self.pages("/v1/accounts", "accounts", unit="USD", owner="o1", limit=30)
        expected = [f"acct.{i:03d}" for i in range(250) if i % 3 == 1 and i % 5 != 0]
        self.assertEqual([a["id"] for p in pages for a in p], expected)
        self.assertTrue(all(len(p) == 30 for p in pages[:-1]), [len(p) for p in pages])
        self.assertTrue(all(a["unit"] == "USD" and a["owner"] == "o1"
                            for p in pages for a in p))

    def test_transfer_pages(self):
        full = self.cli_json("history", "hub.main")
        self.assertEqual(len(full), 122)
        pages = self.pages("/v1/accounts/hub.main/transfers", "transfers", limit=50)
        self.assertEqual([len(p) for p in pages], [50, 50, 22])
        self.assert_same_json([t for p in pages for t in p], full, "transfer pages")
        ids = [t["id"] for p in pages for t in p]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertEqual(ids[:2], ["h-000", "h-001"])   # oldest first
        stamps = [t["timestamp"] for p in pages for t in p]
        self.assertEqual(stamps, sorted(stamps))
        # filtered by date, paged 7 at a time
        filt = self.cli_json("history", "hub.main", "--since", "2026-01-10", "--until",
                             "2026-01-20")
        self.assertGreater(len(filt), 30)
        pages = self.pages("/v1/accounts/hub.main/transfers", "transfers", since="2026-01-10",
                           until="2026-01-20", limit=7)
        self.assertTrue(all(len(p) == 7 for p in pages[:-1]), [len(p) for p in pages])
        self.assert_same_json([t for p in pages for t in p], filt, "filtered transfer pages")
        # without a limit: a prefix of the history, consistent with next
        got = self.get("/v1/accounts/hub.main/transfers")
        n = len(got["transfers"])
        self.assertGreater(n, 0)
        self.assert_same_json(got["transfers"], full[:n], "first page")
        self.assertEqual(got["next"] is None, n == len(full))


# ---------------------------------------------------------------------------
# Concurrent writers: 8 threads x 50 batches x 20 transfers.

WRITERS, BATCHES, PER_BATCH = 8, 50, 20
CONC_ACCOUNTS = [f"conc.a{i}" for i in range(10)]


class ConcurrentWriters(ApiTestCase):
    @classmethod
    def setUpClass(cls):
        cls.start([{"op": "unit", "code": "USD", "scale": 2}] +
                  [{"op": "account", "id": a, "unit": "USD"} for a in CONC_ACCOUNTS])

    def test_concurrent_batches(self):
        sums = [dict() for _ in range(WRITERS)]
        refused = [0] * WRITERS
        failures = []
        results = [[] for _ in range(WRITERS)]

        def writer(w):
            rng = random.Random(1000 + w)
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=CMD_TIMEOUT)
            try:
                for b in range(BATCHES):
                    ops = transfer_ops(f"w{w}-b{b}", PER_BATCH, CONC_ACCOUNTS, rng, sums[w])
                    # A server whose workers are all taken by batches answers 503 with
                    # Retry-After and commits nothing: a client waits and sends it again.
                    for attempt in range(400):
                        r = request(self.port, "POST", "/v1/batch", ops, conn=conn)
                        if r.status != 503:
                            break
                        self.assertEqual(r.json["error"]["code"], "overloaded")
                        refused[w] += 1
                        time.sleep(0.02)
                    if r.status != 200 or not isinstance(r.json, list):
                        failures.append(f"writer {w} batch {b}: {r}")
                        return
                    results[w].append((ops, r.json))
            except Exception as e:       # reported below
                failures.append(f"writer {w}: {e!r}")
            finally:
                conn.close()

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(600)
        self.assertEqual(failures, [])
        for w in range(WRITERS):
            self.assertEqual(len(results[w]), BATCHES)
            for ops, res in results[w]:
                self.assertEqual([(r["index"], r["id"], r["status"]) for r in res],
                                 [(i, op["id"], "created") for i, op in enumerate(ops)])
        stamps = [r["timestamp"] for w in range(WRITERS) for _, res in results[w] for r in res]
        self.assertEqual(len(set(stamps)), WRITERS * BATCHES * PER_BATCH, "timestamps not unique")
        expected = {}
        for s in sums:
            for k, v in s.items():
                expected[k] = expected.get(k, 0) + v
        total = sum(v for (a, side), v in expected.items() if side == "debits")
        rows = {r["id"]: r for r in self.get("/v1/balances") if r["id"].startswith("conc.")}
        self.assertEqual(set(rows), set(CONC_ACCOUNTS))
        for a in CONC_ACCOUNTS:
            self.assertEqual((rows[a]["debits_posted"], rows[a]["credits_posted"],
                              rows[a]["debits_pending"], rows[a]["credits_pending"]),
                             (expected.get((a, "debits"), 0), expected.get((a, "credits"), 0),
                              0, 0), a)
        summed = self.get("/v1/balances?prefix=conc")
        self.assertEqual([(r["accounts"], r["debits_posted"], r["credits_posted"]) for r in summed],
                         [(10, total, total)])
        history = self.get("/v1/accounts/conc.a0/transfers?limit=1000")
        n0 = sum(1 for w in range(WRITERS) for ops, _ in results[w] for op in ops
                 if "conc.a0" in (op["debit"], op["credit"]))
        got0 = len(history["transfers"])
        while history["next"] is not None:
            history = self.get("/v1/accounts/conc.a0/transfers?limit=1000&after="
                               + quote(history["next"], safe=""))
            got0 += len(history["transfers"])
        self.assertEqual(got0, n0)
        # the stored ledger holds, read by the CLI after the server is gone
        self.server.stop()
        type(self).server = None
        r = cli(self.db, "check", check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        cli_rows = {r["id"]: r for r in cli_json(self.db, "balance")}
        for a in CONC_ACCOUNTS:
            self.assertEqual(cli_rows[a], rows[a])


# ---------------------------------------------------------------------------
# Graceful shutdown, SIGINT, --quiet. Each test runs its own server.

SHUT_ACCOUNTS = [f"s.a{i}" for i in range(10)]
SHUT_FIXTURES = ([{"op": "unit", "code": "USD", "scale": 2}] +
                 [{"op": "account", "id": a, "unit": "USD"} for a in SHUT_ACCOUNTS])


class Shutdown(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.db = make_db(self.tmp.name, "s.db", SHUT_FIXTURES)
        self.server = None

    def tearDown(self):
        if self.server is not None and self.server.proc.poll() is None:
            self.server.proc.kill()
            self.server.wait()
        self.tmp.cleanup()

    def big_batch(self):
        sums = {}
        ops = transfer_ops("big", MAX_BATCH, SHUT_ACCOUNTS, random.Random(7), sums)
        body = json.dumps(ops).encode()
        self.assertLess(len(body), MAX_BODY)
        head = (b"POST /v1/batch HTTP/1.1\r\nHost: x\r\n" + auth_line(self.server.port) +
                b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body))
        return ops, sums, head, body

    def read_response(self, sock):
        resp = http.client.HTTPResponse(sock, method="POST")
        resp.begin()
        return Response(resp.status, resp.getheaders(), resp.read())

    def check_committed(self, ops, sums, r, sig=signal.SIGTERM):
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(r.json), len(ops))
        self.assertEqual([(x["index"], x["id"], x["status"]) for x in r.json],
                         [(i, op["id"], "created") for i, op in enumerate(ops)])
        self.server.stop(sig)
        self.assertEqual(cli(self.db, "check", check=False).returncode, 0)
        rows = {x["id"]: x for x in cli_json(self.db, "balance")}
        for a in SHUT_ACCOUNTS:
            self.assertEqual((rows[a]["debits_posted"], rows[a]["credits_posted"]),
                             (sums.get((a, "debits"), 0), sums.get((a, "credits"), 0)), a)
        for op in (ops[0], ops[-1]):
            self.assertEqual(cli_json(self.db, "transfer", "show", op["id"])["amount"],
                             op["amount"])

    def server_sockets(self):
        """How many sockets the server holds open (its listening one included)."""
        fds = f"/proc/{self.server.proc.pid}/fd"
        count = 0
        for fd in os.listdir(fds):
            try:
                count += os.readlink(os.path.join(fds, fd)).startswith("socket:")
            except OSError:
                pass  # closed meanwhile
        return count

    def test_sigterm_while_batch_is_processed(self):
        """The whole body is sent, then SIGTERM at once: the request still gets
        its 200 with every result, the batch is committed, the exit is 0."""
        self.server = Server(self.db)
        ops, sums, head, body = self.big_batch()
        before = self.server_sockets()
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=CMD_TIMEOUT)
        try:
            sock.sendall(head + body)
            # Once the server has accepted the connection: before, the request is only in
            # the kernel's queue, which a server that stops listening never reads.
            deadline = time.monotonic() + CMD_TIMEOUT
            while self.server_sockets() <= before and time.monotonic() < deadline:
                time.sleep(0.005)
            self.server.send(signal.SIGTERM)
            r = self.read_response(sock)
        finally:
            sock.close()
        self.check_committed(ops, sums, r)

    def test_sigterm_while_body_is_uploading(self):
        """SIGTERM when half the body has arrived: no new connection is served,
        the request in flight is finished (200, committed), the exit is 0."""
        self.server = Server(self.db)
        ops, sums, head, body = self.big_batch()
        half = len(body) // 2
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=CMD_TIMEOUT)
        try:
            sock.sendall(head + body[:half])
            time.sleep(0.3)
            self.server.send(signal.SIGTERM)
            time.sleep(0.5)
            self.assertIsNone(self.server.proc.poll(),
                              "the server exited with a request in flight:\n"
                              + self.server.stderr()[-2000:])
            served = None
            try:
                probe = socket.create_connection(("127.0.0.1", self.server.port), timeout=3)
                try:
                    probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                    resp = http.client.HTTPResponse(probe)
                    resp.begin()
                    served = resp.status
                finally:
                    probe.close()
            except (OSError, http.client.HTTPException):
                pass        # refused, reset, closed or left unanswered: not accepted
            self.assertNotEqual(served, 200, "a new connection was served after SIGTERM")
            sock.sendall(body[half:])
            r = self.read_response(sock)
        finally:
            sock.close()
        self.check_committed(ops, sums, r)

    def test_sigint_with_idle_keep_alive_connection(self):
        """An idle keep-alive connection does not hold the server up: SIGINT,
        exit 0 promptly."""
        self.server = Server(self.db)
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=CMD_TIMEOUT)
        try:
            r = request(self.server.port, "GET", "/healthz", conn=conn)
            self.assertEqual(r.status, 200)
            started = time.monotonic()
            self.server.stop(signal.SIGINT)
            self.assertLess(time.monotonic() - started, 15, "slow to stop")
        finally:
            conn.close()

    def test_quiet_has_no_access_log(self):
        self.server = Server(self.db, quiet=True)
        port = self.server.port
        for path in ["/healthz", "/v1/accounts/s.a1", "/v1/accounts/quiet-probe"]:
            request(port, "GET", path)
        self.assertEqual(request(port, "POST", "/v1/batch", []).status, 200)
        time.sleep(0.5)
        self.server.stop()
        logged = [l for l in self.server.lines
                  if "/healthz" in l or "/v1/accounts" in l or "/v1/batch" in l]
        self.assertEqual(logged, [], "access-log lines with --quiet")


class OtherWriters(ApiTestCase):
    """The server keeps committed account rows between batches: another process's
    writes to the same file must reach it, or its next batch would write back a
    balance it read before them."""

    @classmethod
    def setUpClass(cls):
        cls.start([{"op": "unit", "code": "USD", "scale": 2},
                   {"op": "account", "id": "o.a", "unit": "USD"},
                   {"op": "account", "id": "o.b", "unit": "USD"},
                   {"op": "account", "id": "o.limited", "unit": "USD",
                    "flags": ["debits_must_not_exceed_credits"]}])

    def balance(self, account):
        a = self.get(f"/v1/accounts/{account}")
        return (a["debits_posted"], a["credits_posted"])

    def test_writes_of_another_process_are_seen(self):
        for round in range(3):
            # The server reads (and keeps) o.a, o.b and o.limited …
            self.batch([{"op": "transfer", "id": f"srv-{round}", "debit": "o.a",
                         "credit": "o.limited", "amount": 100}])
            # … another process moves them …
            r = cli(self.db, "apply", input=jsonl([
                {"op": "transfer", "id": f"cli-{round}", "debit": "o.b", "credit": "o.a",
                 "amount": 7},
                {"op": "transfer", "id": f"cli-out-{round}", "debit": "o.limited",
                 "credit": "o.b", "amount": 100}]))
            self.assertNotIn('"status":"exceeds_credits"', r.stdout.replace(" ", ""))
            # … and the server's next batch starts from what the file holds now.
            self.batch([{"op": "transfer", "id": f"srv2-{round}", "debit": "o.a",
                         "credit": "o.b", "amount": 1}])
        self.assertEqual(self.balance("o.a"), (303, 21))
        self.assertEqual(self.balance("o.b"), (21, 303))
        self.assertEqual(self.balance("o.limited"), (300, 300))
        # o.limited holds nothing now: the server must refuse to debit it.
        r = self.batch([{"op": "transfer", "id": "srv-over", "debit": "o.limited",
                         "credit": "o.a", "amount": 1}])
        self.assertEqual(r[0]["status"], "exceeds_credits")
        cli(self.db, "check")

    def test_a_batch_kept_waiting_by_another_writer_is_a_503_to_retry(self):
        # Another process holds the write lock past the busy timeout (a long import).
        import sqlite3
        holder = sqlite3.connect(self.db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            r = self.call("POST", "/v1/batch", [{"op": "unit", "code": "XAF", "scale": 0}])
            reads = self.get("/v1/units")  # reads do not wait for the writer
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        self.assertEqual((r.status, r.json["error"]["code"]), (503, "busy"), r)
        self.assertEqual(r.header("Retry-After"), "1")
        self.assertIn("nothing was recorded", r.json["error"]["message"])
        self.assertNotIn("XAF", [u["code"] for u in reads])
        # Once the other writer is done, the same batch goes through.
        self.assertEqual(self.batch([{"op": "unit", "code": "XAF", "scale": 0}])[0]["status"],
                         "created")


class AuditRoutes(ApiTestCase):
    """The audit log's routes answer in the CLI's shapes, on the same database."""

    @classmethod
    def setUpClass(cls):
        cls.start(ROUTES_FIXTURES)

    def test_checkpoint(self):
        c = self.get("/v1/audit/checkpoint")
        self.assertEqual(set(c), {"size", "root", "time", "checkpoint"})
        self.assertGreaterEqual(c["size"], 1)
        self.assertEqual(len(base64.b64decode(c["root"])), 32)
        self.assertEqual(c["checkpoint"].split("\n")[1], str(c["size"]))
        self.assert_same_json(c, self.cli_json("checkpoint", "--json"), "checkpoint")

    def test_proof(self):
        p = self.get("/v1/audit/proof/kg-1")
        self.assertEqual(set(p), {"transfer_id", "leaf_index", "tree_size", "leaf_hash",
                                  "hashes", "checkpoint", "event"})
        self.assertEqual(p["transfer_id"], "kg-1")
        self.assertLess(p["leaf_index"], p["tree_size"])
        self.assertIn('"kg-1"', p["event"])
        self.assert_same_json(p, self.cli_json("proof", "kg-1", "--json"), "proof")
        self.expect_error("GET", "/v1/audit/proof/no-such", 404, "not_found")

    def test_key(self):
        k = self.get("/v1/audit/key")
        self.assertEqual(set(k), {"name", "verifier"})
        self.assertEqual(k["verifier"], cli(self.db, "key").stdout.strip())
        self.assertTrue(k["verifier"].startswith(k["name"] + "+"))

    def test_event_proof(self):
        size = self.get("/v1/audit/checkpoint")["size"]
        for seq in (1, size):
            p = self.get(f"/v1/audit/events/{seq}/proof")
            self.assertEqual(set(p), {"leaf_index", "tree_size", "leaf_hash", "hashes",
                                      "checkpoint", "event"})
            self.assertEqual((p["leaf_index"], p["tree_size"]), (seq - 1, size))
            self.assertEqual(json.loads(p["event"])["seq"], seq)
            self.assert_same_json(p, json.loads(cli(self.db, "proof", "--seq", str(seq)).stdout),
                                  f"event {seq}'s proof")
        self.expect_error("GET", f"/v1/audit/events/{size + 1}/proof", 404, "not_found")
        for bad in ["0", "-1", "x", "1x", "99999999999999999999"]:
            with self.subTest(seq=bad):
                self.expect_error("GET", f"/v1/audit/events/{bad}/proof", 400, "bad_request")

    def test_me(self):
        me = self.get("/v1/me")
        self.assertEqual(me, {"user": "test-admin", "role": "admin", "party": None,
                              "may": {"write": True, "read_all": True, "read_log": True}})
        viewer = cli(self.db, "token", "create", "--user", "vic", "--role", "viewer",
                     "--party", "us").stdout.strip()
        r = request(self.port, "GET", "/v1/me", headers={"Authorization": "Bearer " + viewer})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"user": "vic", "role": "viewer", "party": "us",
                                  "may": {"write": False, "read_all": False, "read_log": False}})
        self.assertEqual(r.json, json.loads(cli(self.db, "--token", viewer, "whoami",
                                                "--json").stdout))

    def test_consistency(self):
        size = self.get("/v1/audit/checkpoint")["size"]
        c = self.get(f"/v1/audit/consistency?from=1&to={size}")
        self.assertEqual(set(c), {"from", "to", "hashes", "from_checkpoint", "to_checkpoint"})
        self.assertEqual((c["from"], c["to"]), (1, size))
        for path in ["/v1/audit/consistency", "/v1/audit/consistency?from=x",
                     "/v1/audit/consistency?from=-1", f"/v1/audit/consistency?from={size + 1}"]:
            with self.subTest(path=path):
                r = self.call("GET", path)
                self.assertIn(r.status, (400, 404))

    def test_events(self):
        page = self.get("/v1/audit/events?limit=1")
        self.assertEqual(len(page["events"]), 1)
        e = page["events"][0]
        self.assertEqual(set(e), {"seq", "time", "actor", "leaf_hash", "event"})
        self.assertEqual((e["seq"], e["event"]["seq"]), (1, 1))
        self.assertEqual(e["actor"], e["event"]["actor"])
        self.assertEqual(page["next"], 1)
        rest = self.get("/v1/audit/events?after=1&limit=1000")
        self.assertTrue(all(x["seq"] > 1 for x in rest["events"]))
        self.assertIsNone(rest["next"])
        for path in ["/v1/audit/events?limit=0", "/v1/audit/events?limit=1001",
                     "/v1/audit/events?after=x"]:
            with self.subTest(path=path):
                self.expect_error("GET", path, 400, "bad_request")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    CONCORD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
