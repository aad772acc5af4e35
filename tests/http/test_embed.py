#!/usr/bin/env python3
"""The generator of the dashboard's embedded files (tools/embed.c), its
binary in argv[1]. It is run on files the test writes into a temporary
directory, and the C it writes is read back (never compiled here): each
file's URL path, Content-Type, ETag (SHA-256 computed here), size, bytes,
and gzipped bytes that inflate to the file; an empty list; a file over the
8 MiB limit and a path outside the base directory refused, leaving no output.

usage: test_embed.py CONCORD_EMBED [unittest arguments]
"""
import gzip
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import unittest

EMBED = None
FILE_BYTES_MAX = 8 * 1024 * 1024
TIMEOUT = 120

FIXTURES = {
    "index.html": ("/", "text/html; charset=utf-8",
                   "<!doctype html><title>t</title><p>é \"quoted\" ??= \\ back</p>\n" * 40),
    "vendor/chart.min.js": ("/assets/vendor/chart.min.js", "text/javascript; charset=utf-8",
                            "export const x = 1;\n" * 100),
    "img/dot.png": ("/assets/img/dot.png", "image/png", bytes(range(256)) * 3),
    "empty.css": ("/assets/empty.css", "text/css; charset=utf-8", ""),
    "notes.txt": ("/assets/notes.txt", "application/octet-stream", "plain"),
}


def c_string(text):
    """The value of a sequence of adjacent C string literals with octal escapes."""
    out = b""
    for literal in re.findall(r'"((?:[^"\\]|\\.)*)"', text):
        out += re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]),
                      literal.encode("latin-1"))
    return out.decode("utf-8")


def c_bytes(source, index, array):
    m = re.search(r"static const unsigned char asset_%d_%s\[(\d+)\] = \{([^}]*)\};"
                  % (index, array), source)
    if m is None:
        return None
    return bytes(int(x) for x in m.group(2).replace("\n", "").split(",") if x.strip())


def define(source, index, name):
    m = re.search(r"^#define ASSET_%d_%s (.*)$" % (index, name), source, re.M)
    return m.group(1) if m else None


def run(output, base, names):
    return subprocess.run([EMBED, output, base] + names, capture_output=True, text=True,
                          timeout=TIMEOUT)


class Embed(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.base = os.path.join(self.tmp.name, "web")
        self.out = os.path.join(self.tmp.name, "assets.c")

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, content):
        path = os.path.join(self.base, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(content.encode() if isinstance(content, str) else content)
        return content.encode() if isinstance(content, str) else content

    def test_files(self):
        names = list(FIXTURES)
        contents = [self.write(n, FIXTURES[n][2]) for n in names]
        r = run(self.out, self.base, names)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.out) as f:
            source = f.read()
        self.assertTrue(source.startswith("/*"), "the generated file says what it is")
        self.assertIn('#include "http/assets.h"', source)
        self.assertIn("const size_t http_assets_count = %d;" % len(names), source)
        for i, name in enumerate(names):
            path, mime, _ = FIXTURES[name]
            body = contents[i]
            with self.subTest(file=name):
                self.assertEqual(c_string(define(source, i, "PATH")), path)
                self.assertEqual(c_string(define(source, i, "MIME")), mime)
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                self.assertEqual(c_string(define(source, i, "ETAG")), etag)
                self.assertEqual(define(source, i, "SIZE"), str(len(body)))
                embedded = c_bytes(source, i, "body")
                self.assertEqual(embedded, body if body else b"\0")
                packed = c_bytes(source, i, "gzip")
                if mime.startswith("text/"):
                    self.assertEqual(define(source, i, "GZIP"),
                                     "asset_%d_gzip, %d" % (i, len(packed)))
                    self.assertEqual(packed[:2], b"\x1f\x8b", "a gzip header")
                    self.assertEqual(gzip.decompress(packed), body)
                else:
                    self.assertIsNone(packed)
                    self.assertEqual(define(source, i, "GZIP"), "NULL, 0")
                self.assertIn("{ASSET_%d_PATH, ASSET_%d_MIME, asset_%d_body," % (i, i, i), source)
        # The same inputs give the same output (no time in the gzip header).
        first = source
        r = run(self.out, self.base, names)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.out) as f:
            self.assertEqual(f.read(), first)

    def test_no_files(self):
        r = run(self.out, self.base, [])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.out) as f:
            source = f.read()
        self.assertIn("const size_t http_assets_count = 0;", source)
        self.assertIn("const struct http_asset http_assets[] = {", source)

    def test_refusals(self):
        self.write("big.js", b"x" * (FILE_BYTES_MAX + 1))
        self.write("ok.js", b"x" * FILE_BYTES_MAX)
        for names, needle in [(["big.js"], "big.js"), (["../outside.js"], "../outside.js"),
                              (["/etc/hostname"], "/etc/hostname"), (["missing.js"], "missing.js")]:
            with self.subTest(names=names):
                r = run(self.out, self.base, names)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn(needle, r.stderr)
                self.assertFalse(os.path.exists(self.out), "output left after a refusal")
                self.assertEqual(os.listdir(self.tmp.name), ["web"], "a partial file was left")
        r = run(self.out, self.base, ["ok.js"])
        self.assertEqual(r.returncode, 0, "exactly 8 MiB is allowed: " + r.stderr)
        r = subprocess.run([EMBED, self.out], capture_output=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 2, "usage")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    EMBED = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=1)
