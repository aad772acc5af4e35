#!/usr/bin/env python3
"""Integration tests of the tamper-evident audit log through the command line.

Runs the real binary (argv[1]). A ledger built from a rich set of batches
(units, parties, guarded accounts and approvals, pending transfers posted,
voided, expired and settled by conditions, derived conditions, requirements,
rates, a failed linked chain) is copied fresh for every tamper test; each
test changes one row of one table with the sqlite3 shell and `concord verify`
must exit 1 naming what changed; the tokens table likewise, after tokens
are created and revoked (each an event of its own). Proofs are checked with
`verify-proof` and `verify-consistency` and, independently, with the RFC 6962
algorithms written again in Python.
"""
import base64
import datetime
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import unittest

CONCORD = None
SQLITE3 = shutil.which("sqlite3")


def jsonl(ops):
    return "".join(json.dumps(o) + "\n" for o in ops)


def soon(seconds):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


SETUP = [
    {"op": "unit", "code": "USD", "scale": 2, "name": "US dollar"},
    {"op": "unit", "code": "EUR", "scale": 2},
    {"op": "party", "id": "us", "name": "United States", "kind": "nation"},
    {"op": "party", "id": "fund", "kind": "fund"},
    {"op": "account", "id": "donor.us", "unit": "USD", "owner": "us"},
    {"op": "account", "id": "fund.pool", "unit": "USD", "owner": "fund", "name": "Pool"},
    {"op": "account", "id": "fund.guarded", "unit": "USD", "flags": ["guarded"],
     "approvers": ["local", "bob"], "approvals_required": 1},
    {"op": "account", "id": "force.salaries", "unit": "USD"},
    {"op": "condition", "name": "two_state", "title": "Two states", "probability": 0.35},
    {"op": "condition", "name": "ceasefire"},
    {"op": "condition", "name": "all_clear", "when": "two_state & ceasefire"},
    {"op": "requirement", "id": "sal-2027", "title": "Salaries", "account": "force.salaries",
     "measure": "credits", "target": 100000, "due": "2027-12-31"},
    {"op": "rate", "unit": "EUR", "to": "USD", "rate": "1.0843", "date": "2026-01-01"},
]


def pending_batch(expires):
    return [
        {"op": "transfer", "id": "t-1", "debit": "donor.us", "credit": "fund.pool",
         "amount": 5000, "memo": "first \"one\"\n", "meta": {"b": [1, 2.5], "a": "x"}},
        {"op": "transfer", "id": "p-post", "debit": "donor.us", "credit": "fund.pool",
         "amount": 1000, "pending": True},
        {"op": "transfer", "id": "p-void", "debit": "donor.us", "credit": "fund.pool",
         "amount": 700, "pending": True},
        {"op": "transfer", "id": "p-exp", "debit": "donor.us", "credit": "fund.pool",
         "amount": 300, "pending": True, "expires": expires},
        {"op": "transfer", "id": "p-cond", "debit": "donor.us", "credit": "fund.pool",
         "amount": 400, "pending": True, "if": "two_state"},
        {"op": "transfer", "id": "p-derived", "debit": "donor.us", "credit": "fund.pool",
         "amount": 500, "pending": True, "if": "all_clear"},
        {"op": "transfer", "id": "g-1", "debit": "fund.guarded", "credit": "force.salaries",
         "amount": 100, "pending": True},
        {"op": "transfer", "id": "g-2", "debit": "fund.guarded", "credit": "force.salaries",
         "amount": 50, "pending": True},
    ]


RESOLUTIONS = [
    {"op": "post", "id": "p-post.post", "pending_id": "p-post", "amount": 600},
    {"op": "void", "id": "p-void.void", "pending_id": "p-void"},
    {"op": "resolve", "name": "two_state", "state": "met"},
    {"op": "approve", "id": "ap-1", "pending_id": "g-1", "decision": "approve"},
    {"op": "approve", "id": "ap-2", "pending_id": "g-2", "decision": "reject"},
    {"op": "bogus"},
]

AFTER_EXPIRY = [
    {"op": "transfer", "id": "t-2", "debit": "donor.us", "credit": "fund.pool", "amount": 10},
    {"op": "transfer", "id": "c-1", "debit": "donor.us", "credit": "fund.pool", "amount": 10,
     "linked": True},
    {"op": "transfer", "id": "c-2", "debit": "donor.us", "credit": "nope", "amount": 10},
    {"op": "resolve", "name": "ceasefire", "state": "failed"},
]


def run(db, *args, input=None, key=None, env=None):
    cmd = [CONCORD, "--db", db] + (["--key", key] if key else []) + list(args)
    return subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=120,
                          env=env)


def sql(db, statements):
    r = subprocess.run([SQLITE3, db], input=statements, capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0:
        raise AssertionError(f"sqlite3: {r.stderr}")
    return r.stdout


# ---- RFC 6962 / 9162, independently of the C code

def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def note_root(note):
    return base64.b64decode(note.split("\n")[2])


def verify_inclusion(index, size, leaf, proof, root):
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_root, second_root, proof):
    if first == second:
        return not proof and first_root == second_root
    if first & (first - 1) == 0:
        proof = [first_root] + proof
    if not proof:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


class Rich:
    """The rich ledger, built once; tests copy it."""
    dir = None
    db = None
    batches = 0


def build_rich():
    Rich.dir = tempfile.mkdtemp(prefix="concord-audit-")
    Rich.db = os.path.join(Rich.dir, "rich.db")
    assert run(Rich.db, "init").returncode == 0
    batches = [SETUP, pending_batch(soon(2)), RESOLUTIONS]
    for ops in batches:
        r = run(Rich.db, "apply", input=jsonl(ops))
        assert r.returncode in (0, 1), r.stderr
    time.sleep(2.5)
    r = run(Rich.db, "apply", input=jsonl(AFTER_EXPIRY))  # expires p-exp; a chain fails
    assert r.returncode == 1, r.stderr
    Rich.batches = 4


class AuditTestCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.db = os.path.join(self.tmp.name, "t.db")
        for suffix in ("", ".key", "-wal"):
            if os.path.exists(Rich.db + suffix):
                shutil.copy(Rich.db + suffix, self.db + suffix)

    def tearDown(self):
        self.tmp.cleanup()

    def cc(self, *args, **kw):
        return run(self.db, *args, **kw)

    def verifier(self):
        r = self.cc("key")
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip()


class KeyAndCheckpoints(AuditTestCase):
    def test_init_creates_key(self):
        db = os.path.join(self.tmp.name, "new.db")
        r = run(db, "init")
        self.assertEqual(r.returncode, 0, r.stderr)
        mode = stat.S_IMODE(os.stat(db + ".key").st_mode)
        self.assertEqual(mode, 0o600)
        with open(db + ".key") as f:
            text = f.read()
        self.assertTrue(text.startswith("PRIVATE+KEY+concord/") and text.endswith("\n"))
        key = run(db, "key")
        self.assertEqual(key.returncode, 0, key.stderr)
        name, key_id, public = key.stdout.strip().split("+", 2)
        self.assertRegex(name, r"^concord/[0-9a-f]{16}$")
        self.assertRegex(key_id, r"^[0-9a-f]{8}$")
        self.assertEqual(len(base64.b64decode(public)), 33)
        # each ledger has its own key
        other = os.path.join(self.tmp.name, "other.db")
        run(other, "init")
        self.assertNotEqual(run(other, "key").stdout, key.stdout)

    def test_init_never_replaces_a_key_file(self):
        db = os.path.join(self.tmp.name, "new.db")
        with open(db + ".key", "w") as f:
            f.write("not a key\n")
        self.assertEqual(run(db, "init").returncode, 0)
        with open(db + ".key") as f:
            self.assertEqual(f.read(), "not a key\n")
        r = run(db, "apply", input=jsonl(SETUP[:1]))
        self.assertEqual(r.returncode, 3)
        self.assertIn(db + ".key", r.stderr)

    def test_key_option_and_environment(self):
        db = os.path.join(self.tmp.name, "k.db")
        key = os.path.join(self.tmp.name, "elsewhere.key")
        self.assertEqual(run(db, "init", key=key).returncode, 0)
        self.assertTrue(os.path.exists(key))
        self.assertFalse(os.path.exists(db + ".key"))
        self.assertEqual(run(db, "apply", input=jsonl(SETUP[:1]), key=key).returncode, 0)
        env = dict(os.environ, CONCORD_KEY=key)
        r = run(db, "apply", input=jsonl(SETUP[1:2]), env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(run(db, "verify", key=key).returncode, 0)

    def test_checkpoint_size_is_batches(self):
        r = self.cc("checkpoint", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        c = json.loads(r.stdout)
        self.assertEqual(set(c), {"size", "root", "time", "checkpoint"})
        self.assertEqual(c["size"], Rich.batches)
        lines = c["checkpoint"].split("\n")
        self.assertEqual(lines[1], str(Rich.batches))
        self.assertEqual(lines[2], c["root"])
        self.assertTrue(lines[4].startswith("\u2014 concord/"))
        text = self.cc("checkpoint")
        self.assertEqual(text.stdout, c["checkpoint"])
        # a batch that changes nothing adds nothing; one that does adds one
        self.assertEqual(self.cc("apply", input=jsonl(SETUP[:1])).returncode, 0)
        self.assertEqual(json.loads(self.cc("checkpoint", "--json").stdout)["size"],
                         Rich.batches)
        self.cc("apply", input=jsonl([{"op": "unit", "code": "KG", "scale": 3}]))
        self.assertEqual(json.loads(self.cc("checkpoint", "--json").stdout)["size"],
                         Rich.batches + 1)

    def test_missing_key_refuses_writes_not_reads(self):
        os.rename(self.db + ".key", self.db + ".key.bak")
        r = self.cc("apply", input=jsonl([{"op": "unit", "code": "KG", "scale": 3}]))
        self.assertEqual(r.returncode, 3)
        self.assertIn(self.db + ".key", r.stderr)
        self.assertEqual(self.cc("unit", "list", "--json").returncode, 0)
        c = json.loads(self.cc("checkpoint", "--json").stdout)
        self.assertEqual(c["size"], Rich.batches)  # nothing committed
        self.assertNotIn("KG", self.cc("unit", "list").stdout)

    def test_events_contain_canonical_bodies(self):
        rows = sql(self.db, "SELECT seq, body FROM events ORDER BY seq;").splitlines()
        self.assertEqual(len(rows), Rich.batches)
        body = json.loads(rows[1].split("|", 1)[1])
        self.assertEqual(list(body), ["seq", "time", "actor", "ops", "results", "expired",
                                      "settled"])
        self.assertEqual(body["settled"], [])
        self.assertEqual(body["actor"], {"user": "local", "role": "admin"})
        t1 = body["ops"][0]
        self.assertEqual(list(t1), ["op", "id", "debit", "credit", "amount", "memo", "meta"])
        self.assertEqual(t1["meta"], {"a": "x", "b": [1, 2.5]})
        last = json.loads(rows[3].split("|", 1)[1])
        self.assertEqual(last["expired"], ["p-exp"])
        self.assertEqual(last["ops"][1].get("linked"), True)
        self.assertEqual(last["settled"], ["p-derived/condition"])  # ceasefire failed
        # the records the rules made, in the order made; approvals say what they decided
        resolutions = json.loads(rows[2].split("|", 1)[1])
        self.assertEqual(resolutions["settled"], ["p-cond/condition", "g-1/approval"])
        ap1, ap2 = resolutions["results"][3], resolutions["results"][4]
        self.assertEqual((ap1["status"], ap1["posted"], ap1["voided"]), ("created", 1, 0))
        self.assertEqual(list(ap1), ["index", "status", "timestamp", "posted", "voided"])
        self.assertNotIn("posted", ap2)  # g-2: one rejection of two approvers, k = 1

    def test_approve_result_says_what_it_decided(self):
        r = self.cc("apply", input=jsonl([
            {"op": "transfer", "id": "g-3", "debit": "fund.guarded", "credit": "force.salaries",
             "amount": 5, "pending": True},
            {"op": "approve", "id": "ap-3", "pending_id": "g-3", "decision": "approve"}]))
        self.assertEqual(r.returncode, 0, r.stderr)
        results = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual((results[1]["posted"], results[1]["voided"]), (1, 0))
        self.assertNotIn("posted", results[0])
        # bob's rejection of g-2 leaves no one who could approve: it voids g-2
        bob = json.loads(self.cc("token", "create", "--user", "bob", "--role", "admin",
                                 "--json").stdout)["token"]
        r = run(self.db, "--token", bob, "apply", input=jsonl([
            {"op": "approve", "id": "ap-4", "pending_id": "g-2", "decision": "reject"}]))
        self.assertEqual(r.returncode, 0, r.stderr)
        result = json.loads(r.stdout)
        self.assertEqual((result["status"], result["posted"], result["voided"]),
                         ("created", 0, 1))
        body = json.loads(sql(self.db, "SELECT body FROM events ORDER BY seq DESC LIMIT 1;"))
        self.assertEqual(body["settled"], ["g-2/approval"])
        self.assertEqual((body["results"][0]["posted"], body["results"][0]["voided"]), (0, 1))
        self.assertEqual(self.cc("verify").returncode, 0)


class Proofs(AuditTestCase):
    def proof(self, transfer="t-1"):
        r = self.cc("proof", transfer, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def check(self, proof, key=None, raw=None):
        path = os.path.join(self.tmp.name, "proof.json")
        with open(path, "w") as f:
            f.write(raw if raw is not None else json.dumps(proof))
        return subprocess.run([CONCORD, "verify-proof", path, "--key", key or self.verifier()],
                              capture_output=True, text=True, timeout=60)

    def test_proof_shape_and_independent_check(self):
        p = self.proof()
        self.assertEqual(set(p), {"transfer_id", "leaf_index", "tree_size", "leaf_hash",
                                  "hashes", "checkpoint", "event"})
        self.assertEqual((p["leaf_index"], p["tree_size"]), (1, Rich.batches))
        self.assertEqual(base64.b64decode(p["leaf_hash"]), leaf_hash(p["event"].encode()))
        self.assertTrue(verify_inclusion(p["leaf_index"], p["tree_size"],
                                         base64.b64decode(p["leaf_hash"]),
                                         [base64.b64decode(h) for h in p["hashes"]],
                                         note_root(p["checkpoint"])))

    def test_valid_proofs_verify(self):
        key = self.verifier()
        key_file = os.path.join(self.tmp.name, "verifier.txt")
        with open(key_file, "w") as f:
            f.write(key + "\n")
        for transfer in ["t-1", "p-post.post", "p-exp/expiry", "p-cond/condition",
                         "g-1/approval", "p-derived/condition", "t-2"]:
            with self.subTest(transfer=transfer):
                p = self.proof(transfer)
                r = self.check(p, key)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("valid", r.stdout)
                self.assertEqual(self.check(p, key_file).returncode, 0)
        r = self.cc("proof", "no-such", "--json")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no-such", r.stderr)

    def test_condition_decided_on_arrival_verifies(self):
        # two_state is met: a transfer gated on it posts as it arrives, in the same event
        r = self.cc("apply", input=jsonl([
            {"op": "transfer", "id": "p-late", "debit": "donor.us", "credit": "fund.pool",
             "amount": 20, "pending": True, "if": "two_state"}]))
        self.assertEqual(r.returncode, 0, r.stderr)
        p = self.proof("p-late/condition")
        self.assertEqual(json.loads(p["event"])["settled"], ["p-late/condition"])
        r = self.check(p)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.check(self.proof("p-late")).returncode, 0)
        self.assertEqual(self.cc("verify").returncode, 0)

    def test_relabelled_proofs_of_the_ledgers_own_records_fail(self):
        # another batch answers `exists` for t-1 and creates t-3
        r = self.cc("apply", input=jsonl([
            pending_batch(soon(60))[0],
            {"op": "transfer", "id": "t-3", "debit": "donor.us", "credit": "fund.pool",
             "amount": 1}]))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout.splitlines()[0])["status"], "exists")
        forged = {
            # event 3 approved g-1 and rejected g-2; g-2 is still pending
            "approval of another pending transfer": dict(self.proof("g-1/approval"),
                                                         transfer_id="g-2/approval"),
            # event 3 resolved two_state; p-derived was settled in event 4
            "condition of another transfer": dict(self.proof("p-cond/condition"),
                                                  transfer_id="p-derived/condition"),
            # event 4 resolved ceasefire; p-cond was settled in event 3
            "condition settled elsewhere": dict(self.proof("p-derived/condition"),
                                                transfer_id="p-cond/condition"),
            "expiry of another transfer": dict(self.proof("p-exp/expiry"),
                                               transfer_id="p-post/expiry"),
            # the event found t-1 (exists): it did not create it
            "an operation answered exists": dict(self.proof("t-3"), transfer_id="t-1"),
        }
        key = self.verifier()
        for what, proof in forged.items():
            with self.subTest(what=what):
                r = self.check(proof, key)
                self.assertEqual(r.returncode, 1, f"{what}: {r.stdout} {r.stderr}")
                self.assertIn("does not record transfer " + proof["transfer_id"], r.stderr)
        # the real ones still verify
        for transfer in ["g-1/approval", "p-cond/condition", "p-derived/condition",
                         "p-exp/expiry", "t-1", "t-3"]:
            with self.subTest(transfer=transfer):
                self.assertEqual(self.check(self.proof(transfer), key).returncode, 0)

    def test_corrupted_proofs_fail(self):
        p = self.proof()
        self.assertGreater(len(p["hashes"]), 0)

        def flipped(h):
            raw = bytearray(base64.b64decode(h))
            raw[0] ^= 1
            return base64.b64encode(bytes(raw)).decode()

        other_db = os.path.join(self.tmp.name, "other.db")
        run(other_db, "init")
        other_key = run(other_db, "key").stdout.strip()
        bad = {
            "hash byte flipped": dict(p, hashes=[flipped(p["hashes"][0])] + p["hashes"][1:]),
            "leaf hash flipped": dict(p, leaf_hash=flipped(p["leaf_hash"])),
            "leaf_index changed": dict(p, leaf_index=p["leaf_index"] + 1),
            "tree_size changed": dict(p, tree_size=p["tree_size"] - 1),
            "hash dropped": dict(p, hashes=p["hashes"][:-1]),
            "hash added": dict(p, hashes=p["hashes"] + [p["hashes"][0]]),
            "event altered": dict(p, event=p["event"].replace('"amount":5000', '"amount":5001')),
            "event of another transfer": dict(p, transfer_id="p-post.post"),
            "checkpoint body altered": dict(
                p, checkpoint=p["checkpoint"].replace(f"\n{p['tree_size']}\n",
                                                      f"\n{p['tree_size'] + 1}\n", 1)),
        }
        for what, proof in bad.items():
            with self.subTest(what=what):
                r = self.check(proof)
                self.assertEqual(r.returncode, 1, f"{what}: {r.stdout} {r.stderr}")
                self.assertIn("invalid proof", r.stderr)
        with self.subTest(what="another ledger's key"):
            r = self.check(p, other_key)
            self.assertEqual(r.returncode, 1, r.stderr)
        with self.subTest(what="signed by another ledger"):
            other = dict(p, checkpoint=run(other_db, "checkpoint").stdout or p["checkpoint"])
            run(other_db, "apply", input=jsonl(SETUP[:1]))
            other["checkpoint"] = run(other_db, "checkpoint").stdout
            self.assertEqual(self.check(other).returncode, 1)
        malformed = {
            "truncated": json.dumps(p)[:-20],
            "not an object": "[]",
            "unknown field": json.dumps(dict(p, extra=1)),
            "wrong type": json.dumps(dict(p, leaf_index="1")),
            "bad base64": json.dumps(dict(p, hashes=["***"])),
            "short hash": json.dumps(dict(p, leaf_hash=base64.b64encode(b"x" * 31).decode())),
            "too many hashes": json.dumps(dict(p, hashes=[p["hashes"][0]] * 65)),
            "missing checkpoint": json.dumps({k: v for k, v in p.items() if k != "checkpoint"}),
        }
        for what, raw in malformed.items():
            with self.subTest(what=what):
                r = self.check(None, raw=raw)
                self.assertEqual(r.returncode, 2, f"{what}: {r.stdout} {r.stderr}")
        r = subprocess.run([CONCORD, "verify-proof", os.path.join(self.tmp.name, "none.json"),
                            "--key", self.verifier()], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        r = self.check(p, key="not a key")
        self.assertEqual(r.returncode, 2)

    def test_consistency(self):
        r = self.cc("consistency", "--from", "1", "--to", str(Rich.batches), "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        c = json.loads(r.stdout)
        self.assertEqual(set(c), {"from", "to", "hashes", "from_checkpoint", "to_checkpoint"})
        self.assertGreater(len(c["hashes"]), 0)
        for first in range(1, Rich.batches + 1):
            c = json.loads(self.cc("consistency", "--from", str(first), "--json").stdout)
            self.assertEqual(c["to"], Rich.batches)
            self.assertTrue(verify_consistency(c["from"], c["to"],
                                               note_root(c["from_checkpoint"]),
                                               note_root(c["to_checkpoint"]),
                                               [base64.b64decode(h) for h in c["hashes"]]))
        self.assertEqual(self.cc("consistency", "--from", "99", "--json").returncode, 1)
        self.assertEqual(self.cc("consistency", "--json").returncode, 2)


class VerifyConsistency(AuditTestCase):
    """`verify-consistency`: a consistency proof checked with the verifier key alone."""

    def consistency(self, first, second=None, db=None):
        args = ["consistency", "--from", str(first), "--json"]
        if second is not None:
            args[3:3] = ["--to", str(second)]
        r = run(db or self.db, *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def check(self, proof, key=None, raw=None):
        path = os.path.join(self.tmp.name, "consistency.json")
        with open(path, "w") as f:
            f.write(raw if raw is not None else json.dumps(proof))
        return subprocess.run([CONCORD, "verify-consistency", path, "--key",
                               key or self.verifier()],
                              capture_output=True, text=True, timeout=60)

    def other_ledger(self, batches):
        """Another ledger, with its own key, after `batches` batches."""
        db = os.path.join(self.tmp.name, "other.db")
        self.assertEqual(run(db, "init").returncode, 0)
        for i in range(batches):
            r = run(db, "apply", input=jsonl([{"op": "unit", "code": f"U{i}", "scale": 2}]))
            self.assertEqual(r.returncode, 0, r.stderr)
        return db

    def test_every_pair_verifies(self):
        key = self.verifier()
        key_file = os.path.join(self.tmp.name, "verifier.txt")
        with open(key_file, "w") as f:
            f.write(key + "\n")
        for first in range(1, Rich.batches + 1):
            for second in range(first, Rich.batches + 1):
                with self.subTest(first=first, second=second):
                    c = self.consistency(first, second)
                    self.assertEqual((c["from"], c["to"]), (first, second))
                    r = self.check(c, key)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    self.assertTrue(r.stdout.startswith(f"consistent: {first} \u2192 {second}"),
                                    r.stdout)
                    self.assertEqual(self.check(c, key_file).returncode, 0)

    def test_from_equals_to(self):
        c = self.consistency(Rich.batches, Rich.batches)
        self.assertEqual(c["hashes"], [])
        self.assertEqual(c["from_checkpoint"], c["to_checkpoint"])
        r = self.check(c)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"consistent: {Rich.batches} \u2192 {Rich.batches}", r.stdout)
        other_root = self.consistency(1, 1)["from_checkpoint"]
        r = self.check(dict(c, hashes=[base64.b64encode(b"\0" * 32).decode()]))
        self.assertEqual(r.returncode, 1, r.stdout)
        r = self.check(dict(c, from_checkpoint=other_root, to_checkpoint=other_root))
        self.assertEqual(r.returncode, 1, r.stdout)  # notes of size 1, numbers of size 4

    def test_reads_stdin(self):
        c = self.consistency(1, Rich.batches)
        r = subprocess.run([CONCORD, "verify-consistency", "-", "--key", self.verifier()],
                           input=json.dumps(c), capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_corrupted_proofs_fail(self):
        c = self.consistency(1, Rich.batches)
        self.assertGreater(len(c["hashes"]), 1)
        mid = self.consistency(2, Rich.batches)

        def flipped(h):
            raw = bytearray(base64.b64decode(h))
            raw[7] ^= 0x10
            return base64.b64encode(bytes(raw)).decode()

        bad = {
            "hash byte flipped": (dict(c, hashes=[flipped(c["hashes"][0])] + c["hashes"][1:]),
                                  "do not prove"),
            "last hash byte flipped": (
                dict(c, hashes=c["hashes"][:-1] + [flipped(c["hashes"][-1])]), "do not prove"),
            "hash dropped": (dict(c, hashes=c["hashes"][:-1]), "do not prove"),
            "hash added": (dict(c, hashes=c["hashes"] + [c["hashes"][0]]), "do not prove"),
            "hashes of another proof": (dict(c, hashes=mid["hashes"]), "do not prove"),
            "notes swapped": (dict(c, from_checkpoint=c["to_checkpoint"],
                                   to_checkpoint=c["from_checkpoint"]),
                              "from_checkpoint's size"),
            "notes and numbers swapped": (dict(c, **{"from": c["to"], "to": c["from"],
                                                     "from_checkpoint": c["to_checkpoint"],
                                                     "to_checkpoint": c["from_checkpoint"]}),
                                          "greater than"),
            "from changed": (dict(c, **{"from": 2}), "from is 2 but"),
            "to changed": (dict(c, to=Rich.batches - 1), "to_checkpoint's size"),
            "from 0": (dict(c, **{"from": 0}), "from is 0 but"),
            "from note of another size": (dict(c, from_checkpoint=mid["from_checkpoint"]),
                                          "from_checkpoint's size"),
            "from note body altered": (dict(c, from_checkpoint=c["from_checkpoint"].replace(
                "\n1\n", "\n2\n", 1)), "from_checkpoint:"),
            "to note body altered": (dict(c, to_checkpoint=c["to_checkpoint"].replace(
                f"\n{Rich.batches}\n", f"\n{Rich.batches + 1}\n", 1)), "to_checkpoint:"),
        }
        for what, (proof, says) in bad.items():
            with self.subTest(what=what):
                r = self.check(proof)
                self.assertEqual(r.returncode, 1, f"{what}: {r.stdout} {r.stderr}")
                self.assertIn("not consistent", r.stderr)
                self.assertIn(says, r.stderr)
                self.assertEqual(r.stdout, "")

    def test_other_ledgers_fail(self):
        c = self.consistency(1, Rich.batches)
        other_db = self.other_ledger(Rich.batches)
        other_key = run(other_db, "key").stdout.strip()
        theirs = self.consistency(1, Rich.batches, db=other_db)
        self.assertEqual(self.check(theirs, other_key).returncode, 0)
        cases = {
            "verified with another ledger's key": (c, other_key, "from_checkpoint:"),
            "to note signed by another ledger's key": (
                dict(c, to_checkpoint=theirs["to_checkpoint"]), None, "to_checkpoint:"),
            "from note signed by another ledger's key": (
                dict(c, from_checkpoint=theirs["from_checkpoint"]), None, "from_checkpoint:"),
            "notes from two ledgers, the other's key": (
                dict(c, to_checkpoint=theirs["to_checkpoint"]), other_key, "from_checkpoint:"),
            "the other's proof, our key": (theirs, None, "from_checkpoint:"),
            "the other's hashes, our notes": (dict(c, hashes=theirs["hashes"]), None,
                                              "do not prove"),
        }
        for what, (proof, key, says) in cases.items():
            with self.subTest(what=what):
                r = self.check(proof, key)
                self.assertEqual(r.returncode, 1, f"{what}: {r.stdout} {r.stderr}")
                self.assertIn("not consistent", r.stderr)
                self.assertIn(says, r.stderr)

    def test_malformed_files_fail(self):
        c = self.consistency(1, Rich.batches)
        malformed = {
            "truncated": (json.dumps(c)[:-20], "not JSON"),
            "empty": ("", "not JSON"),
            "not an object": ("[]", "must be a JSON object"),
            "unknown field": (json.dumps(dict(c, extra=1)), "extra: unknown field"),
            "from as a string": (json.dumps(dict(c, **{"from": "1"})), "from:"),
            "negative to": (json.dumps(dict(c, to=-1)), "to:"),
            "hashes not an array": (json.dumps(dict(c, hashes=c["hashes"][0])), "hashes:"),
            "bad base64": (json.dumps(dict(c, hashes=["***"])), "hashes[0]:"),
            "short hash": (json.dumps(dict(c, hashes=[base64.b64encode(b"x" * 31).decode()])),
                           "hashes[0]:"),
            "too many hashes": (json.dumps(dict(c, hashes=[c["hashes"][0]] * 65)), "hashes:"),
            "note not a string": (json.dumps(dict(c, to_checkpoint=4)), "to_checkpoint:"),
            "note too long": (json.dumps(dict(c, from_checkpoint="x" * 4097)),
                              "from_checkpoint:"),
            "missing to_checkpoint": (json.dumps({k: v for k, v in c.items()
                                                  if k != "to_checkpoint"}), "to_checkpoint:"),
            "duplicate field": (json.dumps(c)[:-1] + ', "from": 1}', "not JSON"),
        }
        for what, (raw, says) in malformed.items():
            with self.subTest(what=what):
                r = self.check(None, raw=raw)
                self.assertEqual(r.returncode, 2, f"{what}: {r.stdout} {r.stderr}")
                self.assertIn("malformed consistency proof", r.stderr)
                self.assertIn(says, r.stderr)
        path = os.path.join(self.tmp.name, "c.json")
        with open(path, "w") as f:
            json.dump(c, f)
        usage = {
            "no such file": [os.path.join(self.tmp.name, "none.json"), "--key", self.verifier()],
            "not a key": [path, "--key", "not a key"],
            "no key": [path],
            "no file": ["--key", self.verifier()],
            "two files": [path, path, "--key", self.verifier()],
        }
        for what, args in usage.items():
            with self.subTest(what=what):
                r = subprocess.run([CONCORD, "verify-consistency"] + args, capture_output=True,
                                   text=True, timeout=60)
                self.assertEqual(r.returncode, 2, f"{what}: {r.stdout} {r.stderr}")

    def test_help(self):
        r = subprocess.run([CONCORD, "verify-consistency", "--help"], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("verify-consistency FILE --key VERIFIER_KEY", r.stdout)


class LedgerActor(AuditTestCase):
    def test_expiries_no_one_asked_for_are_the_ledgers_own(self):
        # A read that finds a transfer due records its expiry as the ledger's, not the reader's.
        r = self.cc("apply", input=jsonl([
            {"op": "transfer", "id": "p-lapse", "debit": "fund.pool", "credit": "force.salaries",
             "amount": 1, "pending": True, "expires": soon(3)}]))
        # soon() keeps whole seconds: the expiry is 2 to 3 s away, enough for a busy machine.
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        time.sleep(3.2)
        viewer = json.loads(self.cc("token", "create", "--user", "vic", "--role", "viewer",
                                    "--party", "fund", "--json").stdout)["token"]
        self.assertEqual(run(self.db, "--token", viewer, "balance", "--prefix", "fund").returncode,
                         0)
        rows = sql(self.db, "SELECT body FROM events ORDER BY seq DESC LIMIT 1;")
        last = json.loads(rows)
        self.assertEqual(last["expired"], ["p-lapse"])
        self.assertEqual(last["ops"], [])
        self.assertEqual(last["actor"], {"user": "concord", "role": "admin"})
        self.assertEqual(self.cc("verify").returncode, 0)

    def test_the_ledgers_names_are_reserved(self):
        for user in ["concord", "local"]:
            r = self.cc("token", "create", "--user", user, "--role", "admin")
            self.assertEqual(r.returncode, 2, r.stdout)
            self.assertIn("reserved", r.stderr)


class TokenEvents(AuditTestCase):
    """Creating and revoking a token are events; verify replays them into the tokens table."""

    def size(self):
        return json.loads(self.cc("checkpoint", "--json").stdout)["size"]

    def token(self, *args):
        r = self.cc("token", "create", *args, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def last_event(self):
        return json.loads(sql(self.db, "SELECT body FROM events ORDER BY seq DESC LIMIT 1;"))

    def listed(self, id):
        rows = json.loads(self.cc("token", "list", "--json").stdout)
        return next(row for row in rows if row["id"] == id)

    def test_create_and_revoke_are_events(self):
        self.assertEqual(self.size(), Rich.batches)
        t = self.token("--user", "ann", "--role", "viewer", "--party", "us",
                       "--expires", "2099-01-01")
        self.assertEqual(self.size(), Rich.batches + 1)
        e = self.last_event()
        self.assertEqual(list(e), ["seq", "time", "actor", "ops", "results", "expired",
                                   "settled"])
        self.assertEqual((e["seq"], e["actor"]), (Rich.batches + 1,
                                                  {"user": "local", "role": "admin"}))
        digest = bytes.fromhex(sql(self.db, f"SELECT hex(hash) FROM tokens"
                                            f" WHERE id = '{t['id']}';").strip())
        self.assertEqual(e["ops"], [{"op": "token", "id": t["id"], "user": "ann",
                                     "role": "viewer", "party": "us",
                                     "expires": "2099-01-01T00:00:00.000000000Z",
                                     "hash": base64.b64encode(digest).decode()}])
        created = self.listed(t["id"])["created"]
        self.assertEqual(e["results"], [{"index": 0, "status": "created",
                                         "timestamp": created}])
        self.assertEqual((e["time"], e["expired"], e["settled"]), (created, [], []))
        secret = t["token"].split("_", 2)[2]
        self.assertNotIn(secret, json.dumps(e))
        # the op is written in canonical form: keys sorted, no spaces
        body = sql(self.db, "SELECT body FROM events ORDER BY seq DESC LIMIT 1;")
        self.assertIn('"ops":[{"expires":', body)
        plain = self.token("--user", "aud", "--role", "auditor")
        self.assertEqual(self.size(), Rich.batches + 2)
        self.assertEqual(set(self.last_event()["ops"][0]), {"op", "id", "user", "role", "hash"})
        r = self.cc("token", "revoke", t["id"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.size(), Rich.batches + 3)
        e = self.last_event()
        self.assertEqual(e["ops"], [{"op": "token_revoke", "id": t["id"]}])
        revoked = self.listed(t["id"])["revoked"]
        self.assertEqual(e["results"], [{"index": 0, "status": "created",
                                         "timestamp": revoked}])
        self.assertEqual(e["time"], revoked)
        # revoking what is not active adds nothing
        self.assertEqual(self.cc("token", "revoke", t["id"]).returncode, 1)
        self.assertEqual(self.cc("token", "revoke", "0000000000000000").returncode, 1)
        self.assertEqual(self.size(), Rich.batches + 3)
        self.assertIsNone(self.listed(plain["id"])["revoked"])
        r = self.cc("verify", "--json")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual(json.loads(r.stdout), {"intact": True, "events": Rich.batches + 3,
                                                "checkpoints": Rich.batches + 3})

    def test_token_events_interleave_with_batches(self):
        bob = self.token("--user", "bob", "--role", "admin")
        r = run(self.db, "--token", bob["token"], "apply",
                input=jsonl([{"op": "unit", "code": "KG", "scale": 3}]))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.token("--user", "ed", "--role", "editor", "--party", "fund")
        self.assertEqual(self.cc("token", "revoke", bob["id"]).returncode, 0)
        self.assertEqual(self.size(), Rich.batches + 4)
        self.assertEqual(self.cc("verify").returncode, 0)
        # the proof of a transfer still names the batch that made it
        p = json.loads(self.cc("proof", "t-2", "--json").stdout)
        self.assertEqual(p["leaf_index"], 3)
        path = os.path.join(self.tmp.name, "proof.json")
        with open(path, "w") as f:
            json.dump(p, f)
        r = subprocess.run([CONCORD, "verify-proof", path, "--key", self.verifier()],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_a_token_operation_in_a_batch_is_refused_and_replays_as_one(self):
        r = self.cc("apply", input=jsonl([
            {"op": "token", "id": "00000000000000aa", "user": "eve", "role": "admin",
             "hash": base64.b64encode(bytes(32)).decode()},
            {"op": "unit", "code": "KG", "scale": 3}]))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(json.loads(r.stdout.splitlines()[0])["status"], "invalid")
        self.assertEqual(sql(self.db, "SELECT count(*) FROM tokens;").strip(), "0")
        self.assertEqual(self.size(), Rich.batches + 1)
        r = self.cc("verify")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_missing_key_refuses_token_changes(self):
        t = self.token("--user", "ann", "--role", "admin")
        os.rename(self.db + ".key", self.db + ".key.bak")
        for args in (["create", "--user", "bob", "--role", "admin"], ["revoke", t["id"]]):
            r = self.cc("token", *args)
            self.assertEqual(r.returncode, 3, f"{args}: {r.stderr}")
            self.assertIn(self.db + ".key", r.stderr, args)
            self.assertEqual(r.stdout, "", args)
        os.rename(self.db + ".key.bak", self.db + ".key")
        self.assertEqual(self.size(), Rich.batches + 1)  # nothing committed
        rows = json.loads(self.cc("token", "list", "--json").stdout)
        self.assertEqual([(row["user"], row["revoked"]) for row in rows], [("ann", None)])
        self.assertEqual(self.cc("verify").returncode, 0)

    def tamper(self, statements):
        ann = self.token("--user", "ann", "--role", "viewer", "--party", "us")
        gone = self.token("--user", "gone", "--role", "coordinator")
        self.assertEqual(self.cc("token", "revoke", gone["id"]).returncode, 0)
        self.assertEqual(self.cc("verify").returncode, 0)
        sql(self.db, statements.format(ann=ann["id"], gone=gone["id"]))
        r = self.cc("verify")
        self.assertEqual(r.returncode, 1, f"{statements}: {r.stdout} {r.stderr}")
        self.assertIn("tokens", r.stderr, statements)


TOKEN_TAMPERING = {
    "edit role": "UPDATE tokens SET role = 'admin' WHERE id = '{ann}';",
    "edit user": "UPDATE tokens SET user = 'bob' WHERE id = '{ann}';",
    "edit party": "UPDATE tokens SET party = 'fund' WHERE id = '{ann}';",
    "drop party": "UPDATE tokens SET party = NULL, role = 'admin' WHERE id = '{ann}';",
    "edit hash": "UPDATE tokens SET hash = zeroblob(32) WHERE id = '{ann}';",
    "edit expires": "UPDATE tokens SET expires = 1 WHERE id = '{ann}';",
    "unrevoke": "UPDATE tokens SET revoked = NULL WHERE id = '{gone}';",
    "revoke": "UPDATE tokens SET revoked = created WHERE id = '{ann}';",
    "delete": "DELETE FROM tokens WHERE id = '{ann}';",
    "insert": "INSERT INTO tokens VALUES ('00000000000000ff', zeroblob(32), 'eve', 'admin',"
              " NULL, 1, NULL, NULL);",
}


def make_token_tamper_test(kind, statements):
    def test(self):
        self.tamper(statements)
    test.__name__ = f"test_tokens_{kind.replace(' ', '_')}"
    return test


for _kind, _sql in TOKEN_TAMPERING.items():
    _t = make_token_tamper_test(_kind, _sql)
    setattr(TokenEvents, _t.__name__, _t)


class Verify(AuditTestCase):
    def verify(self, *args):
        return self.cc("verify", *args)

    def test_intact(self):
        r = self.verify()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, rf"^intact: {Rich.batches} events, {Rich.batches} "
                                   r"checkpoints, 15 transfers\n$")
        j = json.loads(self.verify("--json").stdout)
        self.assertEqual(j, {"intact": True, "events": Rich.batches, "checkpoints": Rich.batches})
        self.assertEqual(self.verify("--key", self.verifier()).returncode, 0)

    def test_fresh_and_empty_ledgers_verify(self):
        db = os.path.join(self.tmp.name, "empty.db")
        run(db, "init")
        r = run(db, "verify")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("intact: 0 events", r.stdout)

    def test_outside_key(self):
        other = os.path.join(self.tmp.name, "other.db")
        run(other, "init")
        r = self.verify("--key", run(other, "key").stdout.strip())
        self.assertEqual(r.returncode, 1)
        self.assertIn("checkpoint 1: signature does not verify", r.stderr)
        j = json.loads(self.verify("--json", "--key", run(other, "key").stdout.strip()).stdout)
        self.assertFalse(j["intact"])
        self.assertIn("signature", j["problem"])

    def test_key_file_replaced(self):
        other = os.path.join(self.tmp.name, "other.db")
        run(other, "init")
        shutil.copy(other + ".key", self.db + ".key")
        r = self.verify()
        self.assertEqual(r.returncode, 1)
        self.assertIn("signature does not verify", r.stderr)

    def test_large_events_are_stored_deflated(self):
        # A large batch's event is stored deflated (zlib); everything reads the JSON back.
        ops = [{"op": "transfer", "id": f"big-{i:04d}", "debit": "donor.us",
                "credit": "fund.pool", "amount": 1 + i, "memo": "a memo of some length"}
               for i in range(400)]
        r = self.cc("apply", input=jsonl(ops))
        self.assertEqual(r.returncode, 0, r.stderr)
        seq = Rich.batches + 1
        head, size = sql(self.db, f"SELECT hex(substr(body, 1, 1)), length(body) FROM events"
                                  f" WHERE seq = {seq};").strip().split("|")
        self.assertEqual(head, "78", "a zlib stream, not JSON")
        page = json.loads(self.cc("proof", "big-0123", "--json").stdout)
        event = page["event"]
        self.assertTrue(event.startswith('{"seq":%d,' % seq), event[:40])
        self.assertLess(int(size), len(event) // 3, "deflated to less than a third")
        path = os.path.join(self.tmp.name, "big.proof.json")
        with open(path, "w") as f:
            json.dump(page, f)
        self.assertEqual(self.cc("verify-proof", path, "--key", self.verifier(),
                                 "--id", "big-0123").returncode, 0)
        self.assertEqual(self.verify().returncode, 0)
        # One byte of the stored stream changed: the log is damaged, and said so.
        sql(self.db, f"UPDATE events SET body = CAST(substr(body, 1, 40) ||"
                     f" (CASE WHEN substr(body, 41, 1) = x'00' THEN x'01' ELSE x'00' END) ||"
                     f" substr(body, 42) AS BLOB) WHERE seq = {seq};")
        self.assertNotEqual(sql(self.db, f"SELECT length(body) FROM events WHERE seq = {seq};")
                            .strip(), "", "the stream is still there, one byte changed")
        r = self.verify()
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertRegex(r.stderr, rf"event {seq}|damaged")

    def test_last_event_and_checkpoint_deleted(self):
        sql(self.db, f"DELETE FROM events WHERE seq = {Rich.batches};"
                     f"DELETE FROM checkpoints WHERE size = {Rich.batches};")
        r = self.verify()
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertRegex(r.stderr, r"not produced by any event|in the ledger")

    def tamper(self, statements, *names):
        sql(self.db, statements)
        r = self.verify()
        self.assertEqual(r.returncode, 1, f"{statements}: {r.stdout} {r.stderr}")
        self.assertTrue(any(n in r.stderr for n in names), f"{statements}: {r.stderr}")


def swap(table, key, a, b):
    return (f"UPDATE {table} SET {key} = -1 WHERE {key} = {a};"
            f"UPDATE {table} SET {key} = {a} WHERE {key} = {b};"
            f"UPDATE {table} SET {key} = {b} WHERE {key} = -1;")


# table → kind of change → SQL; the message must name the table (or the event / checkpoint).
TAMPERING = {
    "units": {
        "edit": "UPDATE units SET scale = 3 WHERE code = 'USD';",
        "delete": "DELETE FROM units WHERE code = 'EUR';",
        "insert": "INSERT INTO units VALUES ('GBP', 2, 'Pound', 1795883131227413000);",
        "reorder": "UPDATE units SET code = 'XXX' WHERE code = 'EUR';"
                   "UPDATE units SET code = 'EUR' WHERE code = 'USD';"
                   "UPDATE units SET code = 'USD' WHERE code = 'XXX';",
    },
    "accounts": {
        "edit": "UPDATE accounts SET credits_posted = credits_posted + 1 WHERE id = 'fund.pool';",
        "delete": "DELETE FROM accounts WHERE id = 'force.salaries';",
        "insert": "INSERT INTO accounts VALUES (99, 'x.y', 'USD', NULL, NULL, 0, 0, 0, 0, 0, 1,"
                  " 0, NULL, 0);",
        "reorder": swap("accounts", "seq", 1, 2),
    },
    "transfers": {
        "edit": "UPDATE transfers SET amount = 4000 WHERE id = 't-1';",
        "delete": "DELETE FROM transfers WHERE id = 't-2';",
        "insert": "INSERT INTO transfers VALUES (99, 't-forged', 1, 2, 5, 5, 0, 0, 1, 0, NULL,"
                  " NULL, NULL, NULL, NULL, NULL, 1, 1, 0, 0);",
        "reorder": swap("transfers", "seq", 1, 2),
    },
    "conditions": {
        "edit": "UPDATE conditions SET probability = 0.9 WHERE name = 'two_state';",
        "delete": "DELETE FROM conditions WHERE name = 'all_clear';",
        "insert": "INSERT INTO conditions VALUES (9, 'forged', NULL, NULL, NULL, NULL, 0, 0, 1);",
        "reorder": swap("conditions", "seq", 1, 2),
    },
    "gates": {
        "edit": "UPDATE gates SET transfer = 7 WHERE condition = 'ceasefire';",
        "delete": "DELETE FROM gates WHERE condition = 'two_state' AND transfer = 5;",
        "insert": "INSERT INTO gates VALUES ('ceasefire', 5);",
    },
    "requirements": {
        "edit": "UPDATE requirements SET target = 1;",
        "delete": "DELETE FROM requirements;",
        "insert": "INSERT INTO requirements VALUES ('req-x', NULL, 'fund.pool', 'USD', 1, 5,"
                  " NULL, 1);",
    },
    "rates": {
        "edit": "UPDATE rates SET rate = '1.5';",
        "delete": "DELETE FROM rates;",
        "insert": "INSERT INTO rates VALUES ('USD', 'EUR', 0, '0.9', 1);",
    },
    "parties": {
        "edit": "UPDATE parties SET name = 'Xland' WHERE id = 'us';",
        "delete": "DELETE FROM parties WHERE id = 'fund';",
        "insert": "INSERT INTO parties VALUES ('ngo', NULL, 'organisation', 1);",
        "reorder": "UPDATE parties SET id = 'x' WHERE id = 'us';"
                   "UPDATE parties SET id = 'us' WHERE id = 'fund';"
                   "UPDATE parties SET id = 'fund' WHERE id = 'x';",
    },
    "approvals": {
        "edit": "UPDATE approvals SET user = 'bob' WHERE id = 'ap-1';",
        "delete": "DELETE FROM approvals WHERE id = 'ap-2';",
        "insert": "INSERT INTO approvals VALUES (9, 'ap-x', 'g-2', 'bob', 1, 1);",
        "reorder": swap("approvals", "seq", 1, 2),
    },
    "events": {
        "edit": "UPDATE events SET body = CAST(replace(CAST(body AS TEXT), '\"amount\":5000',"
                " '\"amount\":4000') AS BLOB) WHERE seq = 2;",
        "edit time": "UPDATE events SET time = time + 1 WHERE seq = 2;",
        "edit actor": "UPDATE events SET actor = '{\"user\":\"bob\",\"role\":\"admin\"}'"
                      " WHERE seq = 3;",
        "edit ts_last": "UPDATE events SET ts_last = ts_last + 1 WHERE seq = 3;",
        "delete": "DELETE FROM events WHERE seq = 2;",
        "insert": "INSERT INTO events SELECT seq + 100, time, actor, body, leaf, ts_last"
                  " FROM events WHERE seq = 4;",
        "reorder": swap("events", "seq", 2, 3),
    },
    "checkpoints": {
        "edit": "UPDATE checkpoints SET root = zeroblob(32) WHERE size = 2;",
        "edit note": "UPDATE checkpoints SET note = replace(note, char(10) || '2' || char(10),"
                     " char(10) || '3' || char(10)) WHERE size = 2;",
        "edit frontier": "UPDATE checkpoints SET frontier = (SELECT frontier FROM checkpoints"
                         " WHERE size = 1) WHERE size = 2;",
        "delete": "DELETE FROM checkpoints WHERE size = 2;",
        "insert": "INSERT INTO checkpoints SELECT size + 1, time, root, frontier, note"
                  " FROM checkpoints WHERE size = 4;",
        "reorder": swap("checkpoints", "size", 2, 3),
    },
    "meta": {
        "edit": "UPDATE meta SET value = value + 1;",
        "delete": "DELETE FROM meta;",
        "insert": "INSERT INTO meta VALUES ('other', 1);",
    },
}

EXPECTED_NAMES = {"events": ("event ",), "checkpoints": ("checkpoint ",)}


def make_tamper_test(table, kind, statements):
    def test(self):
        self.tamper(statements, *EXPECTED_NAMES.get(table, (table,)))
    test.__name__ = f"test_{table}_{kind.replace(' ', '_')}"
    return test


for _table, _kinds in TAMPERING.items():
    for _kind, _sql in _kinds.items():
        _t = make_tamper_test(_table, _kind, _sql)
        setattr(Verify, _t.__name__, _t)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    CONCORD = os.path.abspath(sys.argv.pop(1))
    if SQLITE3 is None:
        sys.exit("test_audit: the sqlite3 shell is needed (scripts/install-deps installs it)")
    build_rich()
    try:
        unittest.main(verbosity=2)
    finally:
        shutil.rmtree(Rich.dir, ignore_errors=True)
