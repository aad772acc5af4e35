#!/usr/bin/env python3
"""Integration tests of force generation (course, contingent, contingent_move,
reimbursement_rate), through the command line and once over HTTP.

Each test runs the real binary (argv[1]) on a fresh database: it applies
domain operations as JSON Lines and reads back what they did with `balance
--prefix … --json`, `transfer show --json`, `check` and `verify`. The
ledger's rules are what refuse: a stage that never received persons cannot
give them (exceeds_credits), a course cannot seat more than its capacity.

usage: test_force.py CONCORD_BINARY [unittest arguments]
"""
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

CONCORD = None
CMD_TIMEOUT = 120    # seconds for one command or one request
START_TIMEOUT = 60   # seconds for the server to say it listens
LISTENING = re.compile(r"^concord: listening on http://127\.0\.0\.1:(\d+)\s*$")
SANITIZER = re.compile(r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|"
                       r"runtime error:")

STAGES = ["pledged", "accepted", "training", "certified", "deployed", "rotated"]

SETUP = [
    {"op": "unit", "code": "USD", "scale": 2, "name": "US dollar"},
    {"op": "unit", "code": "PERSON", "scale": 0, "name": "Person"},
]


def ops(*items):
    return "".join(json.dumps(i) + "\n" for i in items)


def contingent(ident, personnel, **more):
    op = {"op": "contingent", "id": ident, "nation": "bd", "type": "infantry",
          "personnel": personnel, "readiness": "2"}
    op.update(more)
    return op


def move(ident, of, to, **more):
    op = {"op": "contingent_move", "id": ident, "contingent": of, "to": to}
    op.update(more)
    return op


def course(ident, capacity, duration_days=21):
    return {"op": "course", "id": ident, "name": f"Course {ident}", "capacity": capacity,
            "duration_days": duration_days}


class Force(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.db = os.path.join(self.dir.name, "force.db")
        self.ok("init")
        results = self.apply(*SETUP)
        self.assertTrue(all(r["status"] == "created" for r in results), results)

    def tearDown(self):
        self.dir.cleanup()

    def run_cc(self, *args, input=None):
        return subprocess.run([CONCORD, "--db", self.db] + list(args), input=input,
                              capture_output=True, text=True, timeout=CMD_TIMEOUT)

    def ok(self, *args, input=None):
        r = self.run_cc(*args, input=input)
        self.assertEqual(r.returncode, 0, f"{args}: {r.stderr}")
        return r

    def apply(self, *items, expect=0):
        r = self.run_cc("apply", input=ops(*items))
        self.assertEqual(r.returncode, expect, r.stderr + r.stdout)
        return [json.loads(line) for line in r.stdout.splitlines()]

    def apply_one(self, item, status):
        result = self.apply(item, expect=0 if status in ("created", "exists") else 1)[0]
        self.assertEqual(result["status"], status, result)
        return result

    def balances(self, prefix="force"):
        return json.loads(self.ok("balance", "--prefix", prefix, "--json").stdout)

    def held(self, account):
        """Persons an account holds: posted credits less posted debits."""
        rows = self.balances(account)
        self.assertEqual(len(rows), 1, rows)
        return rows[0]["credits_posted"] - rows[0]["debits_posted"]

    def stages(self, ident):
        return {stage: self.held(f"force.{stage}.{ident}") for stage in STAGES}

    def seats(self, ident):
        return {part: self.held(f"force.course.{ident}.{part}")
                for part in ("seats", "in_training")}

    def transfer(self, ident):
        return json.loads(self.ok("transfer", "show", ident, "--json").stdout)

    def assert_no_transfer(self, ident):
        r = self.run_cc("transfer", "show", ident, "--json")
        self.assertEqual(r.returncode, 1, f"transfer {ident} exists: {r.stdout}")

    def assert_sound(self):
        self.assertIn("every invariant holds", self.ok("check").stdout)
        self.assertTrue(self.ok("verify").stdout.startswith("intact:"))

    # ------------------------------------------------------------ stages

    def test_a_contingent_through_every_stage(self):
        results = self.apply(course("pko", 300), contingent("bd-inf-1", 300))
        self.assertEqual([r["status"] for r in results], ["created", "created"], results)
        record = self.transfer("bd-inf-1")
        self.assertEqual((record["debit"], record["credit"], record["amount"], record["kind"]),
                         ("force.nations.bd", "force.pledged.bd-inf-1", 300, "contingent"))
        self.assertEqual(record["meta"], {"nation": "bd", "type": "infantry", "personnel": 300,
                                          "readiness": "2", "equipment": [], "caveats": []})
        expected = {stage: 0 for stage in STAGES}
        expected["pledged"] = 300
        self.assertEqual(self.stages("bd-inf-1"), expected)
        self.assertEqual(self.held("force.nations.bd"), -300)
        for n, stage in enumerate(STAGES[1:], start=1):
            extra = {"course": "pko"} if stage in ("training", "certified") else {}
            self.apply_one(move(f"m-{n}", "bd-inf-1", stage, date="2027-01-0%d" % n, **extra),
                           "created")
            expected[STAGES[n - 1]] = 0
            expected[stage] = 300
            self.assertEqual(self.stages("bd-inf-1"), expected, f"after the move to {stage}")
            t = self.transfer(f"m-{n}")
            self.assertEqual((t["debit"], t["credit"], t["amount"], t["kind"]),
                             (f"force.{STAGES[n - 1]}.bd-inf-1", f"force.{stage}.bd-inf-1", 300,
                              f"force.{stage}"))
            self.assertEqual(t["meta"], dict({"contingent": "bd-inf-1"}, **extra))
            self.assertTrue(t["date"].startswith("2027-01-0%d" % n), t)
            if stage == "training":
                self.assertEqual(self.seats("pko"), {"seats": 0, "in_training": 300})
                self.assertEqual(self.transfer("m-2/seats")["kind"], "training_seats")
            if stage == "certified":
                self.assertEqual(self.seats("pko"), {"seats": 300, "in_training": 0})
        self.assert_sound()

    def test_a_part_of_a_contingent_moves(self):
        self.apply(contingent("eg-pol-1", 140))
        self.apply_one(move("m-1", "eg-pol-1", "accepted", personnel=40), "created")
        self.assertEqual(self.stages("eg-pol-1")["pledged"], 100)
        self.assertEqual(self.stages("eg-pol-1")["accepted"], 40)

    # ------------------------------------------------------------ courses

    def test_a_course_seats_no_more_than_its_capacity(self):
        self.apply(course("pko", 100), contingent("bd-inf-1", 300),
                   move("m-acc", "bd-inf-1", "accepted"))
        self.assertEqual(self.transfer("course.pko")["meta"],
                         {"name": "Course pko", "capacity": 100, "duration_days": 21})
        self.assertEqual(self.seats("pko"), {"seats": 100, "in_training": 0})
        self.apply_one(move("t-1", "bd-inf-1", "training", course="pko", personnel=100),
                       "created")
        before = self.balances()
        r = self.apply_one(move("t-2", "bd-inf-1", "training", course="pko", personnel=1),
                           "exceeds_credits")
        self.assertEqual(r["message"], "transfer t-2/seats: exceeds_credits")
        self.assertEqual(self.balances(), before)
        self.assert_no_transfer("t-2")
        self.assert_no_transfer("t-2/seats")
        # Certification gives the seats back: the next 50 fit.
        # Without personnel a move is the whole contingent: 300, more than is in training.
        r = self.apply_one(move("c-1", "bd-inf-1", "certified", course="pko"), "exceeds_credits")
        self.assertEqual(r["message"], "transfer c-1: exceeds_credits")
        self.apply_one(move("c-1", "bd-inf-1", "certified", course="pko", personnel=100),
                       "created")
        self.assertEqual(self.seats("pko"), {"seats": 100, "in_training": 0})
        self.apply_one(move("t-3", "bd-inf-1", "training", course="pko", personnel=50),
                       "created")
        self.assertEqual(self.seats("pko"), {"seats": 50, "in_training": 50})
        self.assertEqual(self.stages("bd-inf-1"),
                         {"pledged": 0, "accepted": 150, "training": 50, "certified": 100,
                          "deployed": 0, "rotated": 0})
        self.assert_sound()

    def test_a_move_to_training_needs_a_known_course(self):
        self.apply(contingent("bd-inf-1", 10), move("m-acc", "bd-inf-1", "accepted"))
        r = self.apply_one(move("t-1", "bd-inf-1", "training", course="nope"), "invalid")
        self.assertEqual(r["message"], "course nope: no such course")
        r = self.apply_one(move("t-1", "bd-inf-1", "training"), "invalid")
        self.assertTrue(r["message"].startswith("course: required"), r)

    # ------------------------------------------------------------ refusals

    def test_a_skipped_stage_is_refused_and_writes_nothing(self):
        self.apply(course("pko", 100), contingent("bd-inf-1", 60))
        before = self.balances()
        r = self.apply_one(move("m-1", "bd-inf-1", "training", course="pko"), "exceeds_credits")
        self.assertEqual(r["message"], "transfer m-1: exceeds_credits")
        self.assertEqual(self.balances(), before)
        self.assert_no_transfer("m-1")
        self.assert_no_transfer("m-1/seats")
        self.apply_one(move("m-2", "bd-inf-1", "accepted"), "created")
        before = self.balances()
        r = self.apply_one(move("m-3", "bd-inf-1", "deployed"), "exceeds_credits")
        self.assertEqual(r["message"], "transfer m-3: exceeds_credits")
        self.assertEqual(self.balances(), before)
        self.assert_no_transfer("m-3")
        self.assert_sound()

    def test_a_move_of_an_unknown_contingent_is_invalid(self):
        r = self.apply_one(move("m-1", "ghost", "accepted"), "invalid")
        self.assertEqual(r["message"], "contingent ghost: no such contingent")

    def test_a_conditional_contingent_waits_for_its_condition(self):
        self.apply({"op": "condition", "name": "parliament_vote", "title": "Parliament approves"})
        self.apply_one(contingent("bd-inf-2", 250, **{"if": "parliament_vote"},
                                  date="2027-02-01"), "created")
        record = self.transfer("bd-inf-2")
        self.assertEqual(record["state"], "pending")
        self.assertEqual(self.balances("force.pledged.bd-inf-2")[0]["credits_pending"], 250)
        r = self.apply_one(move("acc-1", "bd-inf-2", "accepted"), "exceeds_credits")
        self.assertEqual(r["message"], "transfer acc-1: exceeds_credits")
        self.assert_no_transfer("acc-1")
        resolved = self.apply({"op": "resolve", "name": "parliament_vote", "state": "met"})
        self.assertEqual(resolved[0]["status"], "resolved", resolved)
        self.assertEqual(self.transfer("bd-inf-2")["state"], "posted")
        self.apply_one(move("acc-1", "bd-inf-2", "accepted"), "created")
        self.assertEqual(self.stages("bd-inf-2")["accepted"], 250)
        self.assert_sound()

    def test_the_same_batch_twice_exists(self):
        batch = [course("pko", 100), contingent("bd-inf-1", 80, equipment=[
                     {"item": "APC", "count": 12}, {"item": "Truck", "count": 30}],
                     caveats=["no night patrols"]),
                 move("m-1", "bd-inf-1", "accepted"),
                 move("m-2", "bd-inf-1", "training", course="pko"),
                 {"op": "reimbursement_rate", "id": "rate-2018", "amount": 142800,
                  "date": "2018-07-01"}]
        first = self.apply(*batch)
        self.assertEqual([r["status"] for r in first], ["created"] * 5, first)
        before = self.balances()
        second = self.apply(*batch)
        self.assertEqual([r["status"] for r in second], ["exists"] * 5, second)
        self.assertEqual(self.balances(), before)
        self.assertEqual(self.transfer("bd-inf-1")["meta"]["equipment"],
                         [{"item": "APC", "count": 12}, {"item": "Truck", "count": 30}])
        self.assert_sound()

    def test_invalid_fields_are_named(self):
        self.apply(contingent("bd-inf-1", 10), move("m-0", "bd-inf-1", "accepted"))
        cases = [
            (contingent("c-1", 10, type="armour"), "type:"),
            (contingent("c-2", 10, readiness="4"), "readiness:"),
            (contingent("c-3", 10, readiness=1), "readiness:"),
            (contingent("c-4", 10, colour="blue"), "colour: unknown field"),
            (contingent("c-5", 0), "personnel:"),
            (contingent("C 6", 10), "id:"),
            (contingent("c-7", 10, nation="Bangladesh"), "nation:"),
            (contingent("c-8", 10, equipment=[{"item": "APC", "count": 0}]),
             "equipment[0].count:"),
            (contingent("c-9", 10, equipment=[{"item": "APC"}]), "equipment[0]:"),
            (contingent("c-10", 10, caveats=["ok", 3]), "caveats[1]:"),
            (contingent("c-11", 10, expires="2027-01-01"), "expires:"),
            (move("m-1", "bd-inf-1", "deployed", course="pko"), "course:"),
            (move("m-2", "bd-inf-1", "pledged"), "to:"),
            (move("m-3", "bd-inf-1", "accepted", personnel=0), "personnel:"),
            (course("pko", 0), "capacity:"),
            ({"op": "course", "id": "pko", "capacity": 10, "duration_days": 5}, "name:"),
            (course("pko", 10, duration_days=0), "duration_days:"),
            ({"op": "reimbursement_rate", "id": "r", "amount": 142800}, "date:"),
            ({"op": "reimbursement_rate", "id": "r", "amount": 0, "date": "2018-07-01"},
             "amount:"),
        ]
        before = self.balances()
        for op, field in cases:
            with self.subTest(op=op):
                r = self.apply_one(op, "invalid")
                self.assertTrue(r["message"].startswith(field), r)
        self.assertEqual(self.balances(), before)
        self.assert_sound()

    # ------------------------------------------------------------ reimbursement

    def test_the_reimbursement_rate_is_a_rate_per_person_month(self):
        self.apply_one({"op": "reimbursement_rate", "id": "rate-2018", "amount": 142800,
                        "date": "2018-07-01"}, "created")
        units = {u["code"]: u for u in json.loads(self.ok("unit", "list", "--json").stdout)}
        self.assertEqual((units["PERSON_MONTH"]["scale"], units["PERSON_MONTH"]["name"]),
                         (0, "Person-month"))
        rate = {"op": "rate", "unit": "PERSON_MONTH", "to": "USD", "date": "2018-07-01"}
        self.assertEqual(self.apply(dict(rate, rate="1428.00"))[0]["status"], "exists")
        self.assertEqual(self.apply(dict(rate, rate="1428.5"), expect=1)[0]["status"],
                         "exists_with_different_fields")
        self.apply_one({"op": "reimbursement_rate", "id": "rate-odd", "amount": 5,
                        "date": "2019-01-01"}, "created")
        self.assertEqual(self.apply(dict(rate, rate="0.05", date="2019-01-01"))[0]["status"],
                         "exists")
        self.assert_sound()


# ---------------------------------------------------------------- over HTTP

class Server:
    """`concord serve` on a port the OS picks, its stderr read by a thread."""

    def __init__(self, db):
        self.proc = subprocess.Popen([CONCORD, "--db", db, "serve", "--listen", "127.0.0.1:0",
                                      "--threads", "2"], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.lines = []
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.port = None
        deadline = time.monotonic() + START_TIMEOUT
        with self.cond:
            while self.port is None and time.monotonic() < deadline:
                for line in self.lines:
                    m = LISTENING.match(line)
                    if m:
                        self.port = int(m.group(1))
                if self.proc.poll() is not None and not self.reader.is_alive():
                    break
                self.cond.wait(0.2)
        if self.port is None:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("concord serve did not say where it listens: " + self.stderr())

    def _read(self):
        for raw in self.proc.stderr:
            with self.cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def request(self, method, path, token, body=None, media="application/json", timeout=300):
        """One request on a connection of its own: (status, the answer's JSON)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body,
                         headers={"Authorization": "Bearer " + token, "Content-Type": media})
            response = conn.getresponse()
            return response.status, json.loads(response.read())
        finally:
            conn.close()

    def stderr(self):
        with self.cond:
            return "\n".join(self.lines)

    def stop(self):
        """SIGTERM; the server must exit 0 without a sanitizer report."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(START_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.reader.join(10)
        self.proc.stderr.close()
        return rc


class ForceOverHttp(unittest.TestCase):
    def test_a_contingent_and_its_move_through_post_batch(self):
        with tempfile.TemporaryDirectory() as directory:
            db = os.path.join(directory, "force.db")
            run = [CONCORD, "--db", db]
            subprocess.run(run + ["init"], check=True, capture_output=True, timeout=CMD_TIMEOUT)
            subprocess.run(run + ["apply"], input=ops(*SETUP), check=True, capture_output=True,
                           text=True, timeout=CMD_TIMEOUT)
            made = subprocess.run(run + ["token", "create", "--user", "u", "--role", "admin",
                                         "--json"], check=True, capture_output=True, text=True,
                                  timeout=CMD_TIMEOUT)
            token = json.loads(made.stdout)["token"]
            server = Server(db)
            try:
                body = json.dumps([contingent("gh-med-1", 45, type="medical", readiness="rapid"),
                                   move("gh-acc", "gh-med-1", "accepted"),
                                   move("gh-dep", "gh-med-1", "deployed")])
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=CMD_TIMEOUT)
                conn.request("POST", "/v1/batch", body=body.encode(),
                             headers={"Authorization": "Bearer " + token,
                                      "Content-Type": "application/json"})
                response = conn.getresponse()
                answer = json.loads(response.read())
                conn.close()
                self.assertEqual(response.status, 200, answer)
                self.assertEqual([(r["op"], r["id"], r["status"]) for r in answer],
                                 [("contingent", "gh-med-1", "created"),
                                  ("contingent_move", "gh-acc", "created"),
                                  ("contingent_move", "gh-dep", "exceeds_credits")], answer)
                self.assertEqual(answer[2]["message"], "transfer gh-dep: exceeds_credits")
            finally:
                rc = server.stop()
            self.assertEqual(rc, 0, server.stderr())
            self.assertIsNone(SANITIZER.search(server.stderr()), server.stderr())
            rows = json.loads(subprocess.run(run + ["balance", "--prefix", "force.accepted",
                                                    "--json"], check=True, capture_output=True,
                                             text=True, timeout=CMD_TIMEOUT).stdout)
            self.assertEqual(rows[0]["credits_posted"], 45, rows)
            verify = subprocess.run(run + ["verify"], capture_output=True, text=True,
                                    timeout=CMD_TIMEOUT)
            self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: test_force.py CONCORD_BINARY [unittest arguments]")
    CONCORD = os.path.abspath(sys.argv.pop(1))
    unittest.main()
