#!/usr/bin/env python3
"""The dashboard's files as `concord serve` serves them, binary in argv[1].

The files are whatever web/ holds at build time (argv[2]: web/, argv[3]: the
build's list of them, one path relative to web/ a line), so the test is
generic: every listed file is served at its URL (index.html at /, any other
at /assets/PATH) with exactly its bytes, the Content-Type of its extension,
an ETag of its SHA-256, no-cache, nosniff; the HTML with its Content-Security-
Policy; gzip for the text types when Accept-Encoding takes it (Vary:
Accept-Encoding, the body inflating to the file), the file as it is when it
does not; 304 on a matching If-None-Match; HEAD; no token needed, even a bad
one ignored; 404 JSON for what the build does not hold (/ included, when
web/index.html did not exist).

usage: test_assets.py CONCORD_BINARY WEB_DIR ASSETS_LIST [unittest arguments]
"""
import gzip
import hashlib
import http.client
import json
import os
import sys
import tempfile
import unittest
from urllib.parse import quote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_http  # noqa: E402  (Server, make_db)

WEB_DIR = None
WEB_FILES = []

# The Content-Type of each extension, and whether the server gzips it.
TYPES = {
    "html": ("text/html; charset=utf-8", True),
    "js": ("text/javascript; charset=utf-8", True),
    "mjs": ("text/javascript; charset=utf-8", True),
    "css": ("text/css; charset=utf-8", True),
    "svg": ("image/svg+xml; charset=utf-8", True),
    "json": ("application/json", True),
    "map": ("application/json", True),
    "png": ("image/png", False),
    "woff2": ("font/woff2", False),
}
UNKNOWN_TYPE = ("application/octet-stream", False)
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "connect-src 'self'; frame-ancestors 'none'")


def url_of(name):
    return "/" if name == "index.html" else "/assets/" + quote(name)


def type_of(name):
    base = name.rsplit("/", 1)[-1]
    return TYPES.get(base.rsplit(".", 1)[-1] if "." in base else "", UNKNOWN_TYPE)


def fetch(port, method, path, headers=None):
    """One request with exactly these headers (no token unless given)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=test_http.CMD_TIMEOUT)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return test_http.Response(resp.status, resp.getheaders(), resp.read())
    finally:
        conn.close()


class Assets(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.db = test_http.make_db(cls.tmp.name, "assets.db")
        cls.server = test_http.Server(cls.db, quiet=True)
        cls.port = cls.server.port
        cls.files = {}
        for name in WEB_FILES:
            with open(os.path.join(WEB_DIR, name), "rb") as f:
                cls.files[name] = f.read()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            cls.tmp.cleanup()

    def etag(self, name):
        return '"' + hashlib.sha256(self.files[name]).hexdigest()[:16] + '"'

    def assert_not_found(self, method, path, headers=None):
        r = fetch(self.port, method, path, headers)
        self.assertEqual(r.status, 404, f"{method} {path}: {r}")
        self.assertEqual((r.header("Content-Type") or "").split(";")[0], "application/json")
        if method != "HEAD":
            self.assertEqual(r.json["error"]["code"], "not_found", f"{method} {path}: {r}")

    def test_every_file_as_it_is(self):
        for name, body in self.files.items():
            with self.subTest(file=name):
                mime, _ = type_of(name)
                r = fetch(self.port, "GET", url_of(name))
                self.assertEqual(r.status, 200, f"{name}: {r}")
                self.assertEqual(r.raw, body, f"{name}: not the file's bytes")
                self.assertIsNone(r.header("Content-Encoding"), name)
                self.assertEqual(r.header("Content-Type"), mime, name)
                self.assertEqual(r.header("ETag"), self.etag(name), name)
                self.assertEqual(r.header("Cache-Control"), "no-cache", name)
                self.assertEqual(r.header("X-Content-Type-Options"), "nosniff", name)
                if mime.startswith("text/html"):
                    self.assertEqual(r.header("Content-Security-Policy"), CSP, name)
                else:
                    self.assertIsNone(r.header("Content-Security-Policy"), name)

    def test_gzip_when_accepted(self):
        for name, body in self.files.items():
            _, compresses = type_of(name)
            for accept, wanted in [("gzip", True), ("gzip, deflate, br", True),
                                   ("br;q=1.0, GZIP;q=0.5", True), ("*", True),
                                   ("gzip;q=0", False), ("*, gzip;q=0", False),
                                   ("deflate, br", False), ("identity", False)]:
                with self.subTest(file=name, accept=accept):
                    r = fetch(self.port, "GET", url_of(name), {"Accept-Encoding": accept})
                    self.assertEqual(r.status, 200, f"{name}: {r}")
                    self.assertEqual(r.header("ETag"), self.etag(name), name)
                    if compresses:
                        self.assertEqual(r.header("Vary"), "Accept-Encoding", name)
                    if compresses and wanted:
                        self.assertEqual(r.header("Content-Encoding"), "gzip", name)
                        self.assertEqual(r.raw[:2], b"\x1f\x8b", f"{name}: no gzip header")
                        self.assertEqual(gzip.decompress(r.raw), body, name)
                    else:
                        self.assertIsNone(r.header("Content-Encoding"), name)
                        self.assertEqual(r.raw, body, name)

    def test_not_modified(self):
        for name in self.files:
            etag = self.etag(name)
            for header, status in [(etag, 304), ("W/" + etag, 304), ('"0000", ' + etag, 304),
                                   ("*", 304), ('"0123456789abcdef"', 200),
                                   (etag[:-2] + '"', 200)]:
                with self.subTest(file=name, if_none_match=header):
                    r = fetch(self.port, "GET", url_of(name),
                              {"If-None-Match": header, "Accept-Encoding": "gzip"})
                    self.assertEqual(r.status, status, f"{name} If-None-Match {header}: {r}")
                    self.assertEqual(r.header("ETag"), etag, name)
                    self.assertEqual(r.header("Cache-Control"), "no-cache", name)
                    if status == 304:
                        self.assertEqual(r.raw, b"", f"{name}: a 304 with a body")

    def test_head(self):
        for name, body in self.files.items():
            with self.subTest(file=name):
                r = fetch(self.port, "HEAD", url_of(name))
                self.assertEqual(r.status, 200, f"{name}: {r}")
                self.assertEqual(r.raw, b"")
                self.assertEqual(r.header("Content-Length"), str(len(body)), name)
                self.assertEqual(r.header("ETag"), self.etag(name), name)

    def test_no_token_needed_and_none_looked_at(self):
        for name in self.files:
            for auth in ["Bearer not-a-token", "Basic x", "Bearer " + "a" * 300]:
                with self.subTest(file=name, authorization=auth[:20]):
                    r = fetch(self.port, "GET", url_of(name), {"Authorization": auth})
                    self.assertEqual(r.status, 200, f"{name}: {r}")
                    self.assertEqual(r.raw, self.files[name], name)

    def test_what_the_build_does_not_hold(self):
        if "index.html" not in self.files:
            self.assert_not_found("GET", "/")
        for path in ["/assets/nope", "/assets/vendor/nope.js", "/assets/index.html",
                     "/index.html", "/app.js", "/assets/../index.html", "/assets/%2e%2e/x"]:
            with self.subTest(path=path):
                self.assert_not_found("GET", path)
        for name in self.files:
            with self.subTest(file=name):
                self.assert_not_found("GET", ("/assets/index.html" if name == "index.html"
                                              else url_of(name)) + ".nope")

    def test_api_answers_stay_json(self):
        r = fetch(self.port, "GET", "/healthz")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Content-Type"), "application/json")
        self.assertIsNone(r.header("Content-Security-Policy"))
        doc = fetch(self.port, "GET", "/v1/openapi.json").json
        for path, media in [("/", "text/html"), ("/assets/{path}", "*/*")]:
            op = doc["paths"][path]["get"]
            self.assertIn(media, op["responses"]["200"]["content"], path)
            self.assertIn("304", op["responses"], path)
            self.assertEqual(op["security"], [], path)


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit("usage: test_assets.py CONCORD_BINARY WEB_DIR ASSETS_LIST [unittest args]")
    test_http.CONCORD = os.path.abspath(sys.argv[1])
    WEB_DIR = sys.argv[2]
    with open(sys.argv[3]) as listing:
        WEB_FILES = [line.strip() for line in listing if line.strip()]
    unittest.main(argv=[sys.argv[0]] + sys.argv[4:])
