#!/usr/bin/python3
"""Crash test of concord's atomic batches.

`concord apply` of batches of 20,000 transfers is killed with SIGKILL at
random moments -- before, during and after the commit -- at least 50 times.
After every kill the database must open, `concord check` must pass, the
killed batch must be wholly present or wholly absent, and every batch found
present earlier must still be there. Presence is read through the CLI only
(`transfer show` of the batch's first, last and some random ids), and
`balance --prefix ""` must total exactly the amounts of the batches found
present, which catches a partially committed batch exactly.

The kill moments are drawn uniformly (stratified) in [0, 1.3 x] the duration
of an un-killed apply: measured once first, then re-estimated from the runs
that finished before their kill, and measured anew if none has for a while.
At least 3 kills of the 50 must find the batch present and 3 absent.

usage: test_crash.py CONCORD_BINARY [ITERATIONS [SEED]]

Transfer ids and amounts are deterministic from SEED (default: random, and
printed); the kill moments are random. Exits non-zero on the first failure,
naming the iteration, the seed and what was wrong, and keeps the temporary
directory for inspection.
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TRANSFERS_PER_BATCH = 20_000
ACCOUNTS = 1_000
MAX_AMOUNT = 1_000
RANDOM_PROBES = 5          # random ids probed per batch, beside the first and last
KILL_WINDOW = 1.3          # kills are drawn uniformly in [0, KILL_WINDOW x calibrated apply]
MIN_OF_EACH = 3            # at least this many kills must leave the batch present, and absent
RECALIBRATE_AFTER = 10     # kills in a row that found apply still running before re-measuring it
CMD_TIMEOUT = 300          # seconds for any one un-killed concord command


class Failure(Exception):
    pass


class Batch:
    """One pre-generated batch file: its transfer ids and the sum of its amounts."""

    def __init__(self, k, path, ids, amounts):
        self.k = k
        self.path = path
        self.ids = ids
        self.amounts = amounts
        self.total = sum(amounts)


def account(i):
    return "a.%d" % i


def write_setup(path):
    with open(path, "w") as f:
        f.write('{"op":"unit","code":"USD","scale":2}\n')
        for i in range(ACCOUNTS):
            f.write('{"op":"account","id":"%s","unit":"USD"}\n' % account(i))


def write_batch(directory, seed, k):
    rng = random.Random("%s/%d" % (seed, k))
    ids, amounts, lines = [], [], []
    for i in range(TRANSFERS_PER_BATCH):
        tid = "b%d-%d" % (k, i)
        debit = rng.randrange(ACCOUNTS)
        credit = (debit + 1 + rng.randrange(ACCOUNTS - 1)) % ACCOUNTS
        amount = rng.randint(1, MAX_AMOUNT)
        ids.append(tid)
        amounts.append(amount)
        lines.append('{"op":"transfer","id":"%s","debit":"%s","credit":"%s","amount":%d}\n'
                     % (tid, account(debit), account(credit), amount))
    path = os.path.join(directory, "batch%d.jsonl" % k)
    with open(path, "w") as f:
        f.writelines(lines)
    return Batch(k, path, ids, amounts)


class Ledger:
    def __init__(self, binary, db):
        self.binary = binary
        self.db = db

    def argv(self, *args):
        return [self.binary, "--db", self.db, *args]

    def run(self, *args, ok=(0,)):
        try:
            p = subprocess.run(self.argv(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, timeout=CMD_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise Failure("`concord %s` did not finish in %d s" % (" ".join(args), CMD_TIMEOUT))
        if p.returncode not in ok:
            raise Failure("`concord %s` exited %d (expected %s)\nstderr: %s"
                          % (" ".join(args), p.returncode, "/".join(map(str, ok)),
                             p.stderr.strip()[-2000:]))
        return p

    def apply(self, path):
        """Apply a whole batch without a kill; return its wall time in seconds."""
        start = time.monotonic()
        self.run("apply", path)
        return time.monotonic() - start

    def check(self):
        p = self.run("check")
        return p.stdout.strip()

    def audit_intact(self):
        """The audit log: its tree, signatures and a replay of every event match the rows."""
        p = self.run("verify", "--json")
        report = json.loads(p.stdout)
        if not report.get("intact"):
            raise Failure("the audit log is not intact: %s" % report)
        return report

    def has_transfer(self, batch, i):
        """True when the batch's i-th transfer exists with its amount, False when absent."""
        tid = batch.ids[i]
        p = self.run("transfer", "show", tid, "--json", ok=(0, 1))
        if p.returncode == 1:
            return False
        try:
            shown = json.loads(p.stdout)
        except ValueError:
            raise Failure("`transfer show %s` printed no JSON object: %r" % (tid, p.stdout[:200]))
        if shown.get("id") != tid or shown.get("amount") != batch.amounts[i] \
                or shown.get("state") != "posted":
            raise Failure("transfer %s shows as %s; expected amount %d, posted"
                          % (tid, p.stdout.strip(), batch.amounts[i]))
        return True

    def totals(self):
        p = self.run("balance", "--prefix", "", "--json")
        try:
            rows = json.loads(p.stdout)
        except ValueError:
            raise Failure("`balance --prefix \"\"` printed no JSON: %r" % p.stdout[:200])
        if len(rows) != 1 or rows[0].get("unit") != "USD":
            raise Failure("`balance --prefix \"\"` gave %s; expected one USD row" % p.stdout.strip())
        return rows[0]


def probe_indexes(rng):
    picks = {0, TRANSFERS_PER_BATCH - 1}
    while len(picks) < 2 + RANDOM_PROBES:
        picks.add(rng.randrange(1, TRANSFERS_PER_BATCH - 1))
    return sorted(picks)


def batch_presence(ledger, batch, rng):
    """True if the batch is wholly present, False if wholly absent; else a Failure."""
    seen = {i: ledger.has_transfer(batch, i) for i in probe_indexes(rng)}
    if len(set(seen.values())) != 1:
        raise Failure("batch %d is partly present: %s" % (
            batch.k, ", ".join("%s %s" % (batch.ids[i], "present" if v else "absent")
                               for i, v in seen.items())))
    return next(iter(seen.values()))


def verify(ledger, present, rng):
    """The invariants hold and the ledger holds exactly the batches in `present`."""
    ledger.check()
    for batch in present:
        i = rng.randrange(TRANSFERS_PER_BATCH)
        if not ledger.has_transfer(batch, i):
            raise Failure("batch %d, present before, lost its transfer %s" % (batch.k, batch.ids[i]))
    expected = sum(b.total for b in present)
    row = ledger.totals()
    got = {key: row.get(key) for key in ("accounts", "debits_posted", "credits_posted",
                                         "debits_pending", "credits_pending")}
    want = {"accounts": ACCOUNTS, "debits_posted": expected, "credits_posted": expected,
            "debits_pending": 0, "credits_pending": 0}
    if got != want:
        raise Failure("ledger totals %s, expected %s (batches present: %s)"
                      % (got, want, [b.k for b in present] or "none"))


def kill_apply(ledger, batch, delay):
    """Start `apply` of the batch and SIGKILL it after `delay` seconds.

    Returns the run's wall time if it exited on its own before the kill, else None.
    """
    start = time.monotonic()
    proc = subprocess.Popen(ledger.argv("apply", batch.path), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=max(0.0, start + delay - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return None
    if proc.returncode != 0:
        raise Failure("batch %d: apply exited %d on its own before the kill"
                      % (batch.k, proc.returncode))
    return time.monotonic() - start


def kill_fractions(n, rng):
    """n kill moments as fractions of an apply's duration, uniform over [0, KILL_WINDOW].

    Stratified (one draw in each of n equal slices, shuffled) so that every run
    spreads its kills over the whole window and the counts on each side of the
    commit vary little from run to run.
    """
    fractions = [KILL_WINDOW * (i + rng.random()) / n for i in range(n)]
    rng.shuffle(fractions)
    return fractions


def median(values):
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def main():
    if len(sys.argv) not in (2, 3, 4):
        sys.exit(next(p for p in __doc__.split("\n\n") if p.startswith("usage:")))
    binary = os.path.abspath(sys.argv[1])
    iterations = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else random.SystemRandom().randrange(1 << 31)
    if not os.access(binary, os.X_OK):
        sys.exit("crash: %s is not an executable" % binary)
    # 3 of each side in the default 50 kills; fewer kills ask less.
    min_of_each = min(MIN_OF_EACH, iterations // 15)

    started = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="concord-crash-")
    print("crash: binary %s, %d kills, seed %d, in %s" % (binary, iterations, seed, tmp),
          flush=True)
    ledger = Ledger(binary, os.path.join(tmp, "ledger.db"))
    rng = random.Random(seed)             # which ids are probed
    kill_rng = random.SystemRandom()      # when the kills land
    iteration = "setup"
    counts = {"present": 0, "absent": 0, "exited": 0}
    try:
        ledger.run("init")
        setup = os.path.join(tmp, "setup.jsonl")
        write_setup(setup)
        ledger.apply(setup)

        batches = [write_batch(tmp, seed, k) for k in range(iterations + 1)]
        print("crash: %d batches of %d transfers written in %.1f s"
              % (len(batches), TRANSFERS_PER_BATCH, time.monotonic() - started), flush=True)

        def next_batch():
            """A fresh batch beyond the ones to kill, for a run without a kill."""
            batches.append(write_batch(tmp, seed, len(batches)))
            return batches[-1]

        # Calibrate: batch 0 applied whole, without a kill. The estimate of an
        # apply's duration is then the median of the last few whole runs seen:
        # the calibrations, and the kills that came after the process had exited.
        durations = [ledger.apply(batches[0].path)]
        present = [batches[0]]
        verify(ledger, present, rng)
        print("crash: an un-killed apply took %.3f s; kills drawn uniformly in [0, %.1f x] that"
              % (durations[0], KILL_WINDOW), flush=True)

        fractions = kill_fractions(iterations, kill_rng)
        since_exit = 0
        for n in range(1, iterations + 1):
            iteration = n
            if since_exit >= RECALIBRATE_AFTER:
                # No run has finished before its kill for a while: the estimate
                # is too short (the ledger grows, the machine is busier). Measure anew.
                batch = next_batch()
                durations.append(ledger.apply(batch.path))
                present.append(batch)
                verify(ledger, present, rng)
                since_exit = 0
                print("crash: recalibrated with batch %d: %.3f s" % (batch.k, durations[-1]),
                      flush=True)
            batch = batches[n]
            estimate = median(durations[-5:])
            delay = fractions[n - 1] * estimate
            took = kill_apply(ledger, batch, delay)
            is_present = batch_presence(ledger, batch, rng)
            if took is not None and not is_present:
                raise Failure("batch %d: apply exited 0 but the batch is absent" % batch.k)
            if is_present:
                present.append(batch)
            verify(ledger, present, rng)
            if took is not None:
                durations.append(took)
                since_exit = 0
                outcome = "exited after %.3f s, before the kill" % took
                counts["exited"] += 1
            else:
                since_exit += 1
                outcome = "present" if is_present else "absent"
                counts[outcome] += 1
            print("crash: %3d: batch %d killed at %.3f s (%.2f of %.3f s): %s"
                  % (n, batch.k, delay, fractions[n - 1], estimate, outcome), flush=True)

        iteration = "after the kills"
        # The ledger still takes writes: apply an absent batch whole (or a fresh one).
        absent = [b for b in batches[1:] if b not in present]
        retry = absent[0] if absent else next_batch()
        ledger.apply(retry.path)
        present.append(retry)
        if not batch_presence(ledger, retry, rng):
            raise Failure("batch %d, applied without a kill, is absent" % retry.k)
        verify(ledger, present, rng)
        # No kill left an event without its rows, rows without their event, or a torn log.
        report = ledger.audit_intact()
        print("crash: audit log intact: %s events, %s checkpoints"
              % (report.get("events"), report.get("checkpoints")), flush=True)

        print("crash: %d kills: batch present %d, absent %d; apply had already exited %d; "
              "%d batches in the ledger"
              % (iterations, counts["present"], counts["absent"], counts["exited"], len(present)))
        if counts["present"] < min_of_each or counts["absent"] < min_of_each:
            raise Failure("too few kills on each side of the commit (present %d, absent %d; "
                          "need %d of each): the kill window does not straddle the commit"
                          % (counts["present"], counts["absent"], min_of_each))
    except Failure as e:
        print("crash: FAILED at iteration %s (seed %d): %s\ncrash: the files are kept in %s"
              % (iteration, seed, e, tmp), file=sys.stderr)
        return 1
    shutil.rmtree(tmp)
    print("crash: ok in %.1f s" % (time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
