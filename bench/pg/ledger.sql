-- The double-entry ledger a coordination cell would build on PostgreSQL, for
-- concord-bench to measure concord against (docs/PERFORMANCE.md, "concord
-- against PostgreSQL"). Two designs share these tables:
--
--   func    ledger_apply(): a PL/pgSQL function that takes a whole batch as
--           arrays, locks the accounts it touches FOR UPDATE in id order,
--           checks each operation against balances it keeps in memory, and
--           writes the batch's account changes and transfer rows set-wise;
--   update  one statement per operation (S_TRANSFER, S_RESOLVE below, sent
--           by the client in pipeline mode), each an atomic conditional
--           UPDATE … WHERE of the debit and the credit account, inside one
--           transaction per batch.
--
-- The semantics are concord's as far as the workloads use them: ids are
-- unique and a repeat with the same fields is `exists`; an account flagged
-- debits_must_not_exceed_credits refuses a debit that would pass its posted
-- credits (`exceeds_credits`); pending transfers reserve their amount and
-- are posted (in full or in part), voided, or expire; linked chains hold
-- or fail as a whole (`linked_event_failed` for the others). Statuses are
-- concord's enum ledger_status numbers; operation types and flags are the
-- bench's (bench/pg.c).
--
-- Accounts are integers here (the bench's account numbers): the cheapest key
-- PostgreSQL has, where concord keys accounts by text. Each transfer row is
-- indexed by its debit and its credit account, as an account's history needs.
--
-- Where the workloads do not reach, the designs are simpler than concord:
-- a repeat is `exists` without comparing its fields; ledger_apply() resolves
-- only pendings committed by earlier batches, and judges a repeat within a
-- batch by the first operation with that id; the update design undoes a
-- failed chain after the fact, which is exact only while no other operation
-- of the batch depends on the chain's balances (the workloads' limited
-- account is debited by failing chain members alone).

CREATE TABLE accounts (
    id integer PRIMARY KEY,
    flags integer NOT NULL DEFAULT 0,          -- 1: debits must not exceed credits
    debits_pending bigint NOT NULL DEFAULT 0,
    debits_posted bigint NOT NULL DEFAULT 0,
    credits_pending bigint NOT NULL DEFAULT 0,
    credits_posted bigint NOT NULL DEFAULT 0
);

CREATE TABLE transfers (
    seq bigint GENERATED ALWAYS AS IDENTITY,
    id text PRIMARY KEY,
    debit integer NOT NULL,
    credit integer NOT NULL,
    amount bigint NOT NULL,
    pending_id text,                           -- a post, void or expiry: what it resolves
    flags integer NOT NULL,                    -- 1: pending
    state smallint NOT NULL,                   -- 1 posted, 2 pending, 3 voided, 4 expired
    expires bigint                             -- ns since the epoch, pending only
);
CREATE INDEX transfers_debit ON transfers (debit, seq);
CREATE INDEX transfers_credit ON transfers (credit, seq);
CREATE INDEX transfers_expiring ON transfers (expires) WHERE state = 2;

-- ------------------------------------------------------------------ design func

-- Operation types (t[]): 1 transfer, 2 post, 3 void. Flags (fl[]): 1 pending,
-- 2 linked (the next operation belongs to the same chain), 4 amount given
-- (a partial post). The pendings due at `now` (ns) expire first. Returns one
-- status per operation.
CREATE FUNCTION ledger_apply(t smallint[], ids text[], dr integer[], cr integer[], amt bigint[],
                             fl integer[], pend text[], exp bigint[], now bigint)
RETURNS smallint[] LANGUAGE plpgsql AS $$
DECLARE
    n integer := coalesce(array_length(ids, 1), 0);
    st smallint[] := array_fill(0::smallint, ARRAY[n]);
    -- Balances of the touched accounts, in memory, by account id + 1.
    a_flags integer[]; a_dpe bigint[]; a_dpo bigint[]; a_cpe bigint[]; a_cpo bigint[];
    touched boolean[];
    known boolean[] := array_fill(false, ARRAY[n]);   -- the id is already a transfer
    first_of integer[];                               -- an earlier operation with the same id
    -- The pendings resolved by this batch, by operation.
    p_dr integer[] := array_fill(NULL::integer, ARRAY[n]);
    p_cr integer[] := array_fill(NULL::integer, ARRAY[n]);
    p_amt bigint[] := array_fill(NULL::bigint, ARRAY[n]);
    p_state smallint[] := array_fill(NULL::smallint, ARRAY[n]);
    -- What the batch writes: the transfer rows, and the pendings' new states.
    w_state smallint[] := array_fill(NULL::smallint, ARRAY[n]);
    w_dr integer[] := dr; w_cr integer[] := cr; w_amt bigint[] := amt;
    pend_state jsonb := '{}';
    -- A chain's undo: the balances it changed, restored if it fails.
    undo_acc integer[]; undo_dpe bigint[]; undo_dpo bigint[]; undo_cpe bigint[]; undo_cpo bigint[];
    undo_pend text[];
    r accounts%ROWTYPE;
    i integer := 1; j integer; k integer; failed integer; s smallint;
    d integer; c integer; x bigint; m integer := 0;
BEGIN
    PERFORM ledger_expire(now); -- what is due expires first, as in concord
    IF n = 0 THEN RETURN st; END IF;
    -- The accounts: those named, and those of the pendings resolved, locked in id order.
    FOR k IN 1 .. n LOOP m := greatest(m, coalesce(dr[k], 0), coalesce(cr[k], 0)); END LOOP;
    SELECT max(id) INTO x FROM accounts;
    m := greatest(m, x::integer) + 1;
    a_flags := array_fill(0, ARRAY[m]); a_dpe := array_fill(0::bigint, ARRAY[m]);
    a_dpo := array_fill(0::bigint, ARRAY[m]); a_cpe := array_fill(0::bigint, ARRAY[m]);
    a_cpo := array_fill(0::bigint, ARRAY[m]); touched := array_fill(false, ARRAY[m]);
    FOR d, k, x, s IN
        SELECT tr.debit, u.ord::integer, tr.amount, tr.state
        FROM unnest(pend) WITH ORDINALITY u(pid, ord) JOIN transfers tr ON tr.id = u.pid
        WHERE t[u.ord] IN (2, 3)
    LOOP
        p_dr[k] := d; p_amt[k] := x; p_state[k] := s;
    END LOOP;
    FOR c, k IN
        SELECT tr.credit, u.ord::integer
        FROM unnest(pend) WITH ORDINALITY u(pid, ord) JOIN transfers tr ON tr.id = u.pid
        WHERE t[u.ord] IN (2, 3)
    LOOP
        p_cr[k] := c;
    END LOOP;
    FOR r IN
        SELECT * FROM accounts
        WHERE id IN (SELECT unnest(dr) UNION SELECT unnest(cr)
                     UNION SELECT unnest(p_dr) UNION SELECT unnest(p_cr))
        ORDER BY id FOR UPDATE
    LOOP
        touched[r.id + 1] := true; a_flags[r.id + 1] := r.flags;
        a_dpe[r.id + 1] := r.debits_pending; a_dpo[r.id + 1] := r.debits_posted;
        a_cpe[r.id + 1] := r.credits_pending; a_cpo[r.id + 1] := r.credits_posted;
    END LOOP;
    -- Ids that exist already, and repeats within the batch.
    FOR k IN SELECT u.ord::integer FROM unnest(ids) WITH ORDINALITY u(id, ord)
             JOIN transfers tr ON tr.id = u.id LOOP
        known[k] := true;
    END LOOP;
    SELECT array_agg(f ORDER BY ord) INTO first_of FROM (
        SELECT ord, first_value(ord) OVER (PARTITION BY id ORDER BY ord)::integer AS f
        FROM unnest(ids) WITH ORDINALITY u(id, ord)) q;

    WHILE i <= n LOOP
        j := i;
        WHILE j < n AND (fl[j] & 2) <> 0 LOOP j := j + 1; END LOOP;
        undo_acc := '{}'; undo_dpe := '{}'; undo_dpo := '{}'; undo_cpe := '{}'; undo_cpo := '{}';
        undo_pend := '{}';
        failed := 0;
        FOR k IN i .. j LOOP
            s := 0;
            IF known[k] OR (first_of[k] <> k AND st[first_of[k]] = 0) THEN
                s := 1;                                          -- exists (fields not compared)
            ELSIF t[k] = 1 THEN
                d := dr[k] + 1; c := cr[k] + 1;
                IF d IS NULL OR NOT coalesce(touched[d], false) THEN s := 6;  -- debit_account_not_found
                ELSIF c IS NULL OR NOT coalesce(touched[c], false) THEN s := 7; -- credit_account_not_found
                ELSIF (a_flags[d] & 1) <> 0 AND a_dpe[d] + a_dpo[d] + amt[k] > a_cpo[d] THEN s := 11;
                END IF;
                IF s = 0 THEN
                    undo_acc := undo_acc || d || c;
                    undo_dpe := undo_dpe || a_dpe[d] || a_dpe[c]; undo_dpo := undo_dpo || a_dpo[d] || a_dpo[c];
                    undo_cpe := undo_cpe || a_cpe[d] || a_cpe[c]; undo_cpo := undo_cpo || a_cpo[d] || a_cpo[c];
                    IF (fl[k] & 1) <> 0 THEN
                        a_dpe[d] := a_dpe[d] + amt[k]; a_cpe[c] := a_cpe[c] + amt[k]; w_state[k] := 2;
                    ELSE
                        a_dpo[d] := a_dpo[d] + amt[k]; a_cpo[c] := a_cpo[c] + amt[k]; w_state[k] := 1;
                    END IF;
                END IF;
            ELSE                                                 -- post or void
                IF p_state[k] IS NULL THEN s := 14;              -- pending_transfer_not_found
                ELSIF p_state[k] <> 2 OR pend_state ? pend[k] THEN s := 15;  -- not pending
                ELSIF t[k] = 2 AND (fl[k] & 4) <> 0 AND amt[k] > p_amt[k] THEN s := 19;
                ELSE
                    d := p_dr[k] + 1; c := p_cr[k] + 1;
                    x := CASE WHEN t[k] = 2 THEN CASE WHEN (fl[k] & 4) <> 0 THEN amt[k] ELSE p_amt[k] END ELSE 0 END;
                    undo_acc := undo_acc || d || c;
                    undo_dpe := undo_dpe || a_dpe[d] || a_dpe[c]; undo_dpo := undo_dpo || a_dpo[d] || a_dpo[c];
                    undo_cpe := undo_cpe || a_cpe[d] || a_cpe[c]; undo_cpo := undo_cpo || a_cpo[d] || a_cpo[c];
                    a_dpe[d] := a_dpe[d] - p_amt[k]; a_cpe[c] := a_cpe[c] - p_amt[k];
                    a_dpo[d] := a_dpo[d] + x; a_cpo[c] := a_cpo[c] + x;
                    pend_state := pend_state || jsonb_build_object(pend[k], CASE WHEN t[k] = 2 THEN 1 ELSE 3 END);
                    undo_pend := undo_pend || pend[k];
                    w_dr[k] := p_dr[k]; w_cr[k] := p_cr[k]; w_amt[k] := CASE WHEN t[k] = 2 THEN x ELSE p_amt[k] END;
                    w_state[k] := CASE WHEN t[k] = 2 THEN 1 ELSE 3 END;
                END IF;
            END IF;
            st[k] := s;
            IF s NOT IN (0, 1) THEN failed := k; EXIT; END IF;
        END LOOP;
        IF failed > 0 AND j > i THEN                             -- the chain fails as a whole
            FOR k IN REVERSE coalesce(array_length(undo_acc, 1), 0) .. 1 LOOP
                a_dpe[undo_acc[k]] := undo_dpe[k]; a_dpo[undo_acc[k]] := undo_dpo[k];
                a_cpe[undo_acc[k]] := undo_cpe[k]; a_cpo[undo_acc[k]] := undo_cpo[k];
            END LOOP;
            FOR k IN 1 .. coalesce(array_length(undo_pend, 1), 0) LOOP
                pend_state := pend_state - undo_pend[k];
            END LOOP;
            FOR k IN i .. j LOOP
                IF k <> failed THEN st[k] := 23; END IF;         -- linked_event_failed
                w_state[k] := NULL;
            END LOOP;
        END IF;
        i := j + 1;
    END LOOP;

    -- The writes, set-wise: each touched account once, each new row once.
    UPDATE accounts a SET debits_pending = a_dpe[a.id + 1], debits_posted = a_dpo[a.id + 1],
                          credits_pending = a_cpe[a.id + 1], credits_posted = a_cpo[a.id + 1]
     WHERE a.id IN (SELECT unnest(dr) UNION SELECT unnest(cr)
                    UNION SELECT unnest(p_dr) UNION SELECT unnest(p_cr))
       AND (a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted)
           IS DISTINCT FROM (a_dpe[a.id + 1], a_dpo[a.id + 1], a_cpe[a.id + 1], a_cpo[a.id + 1]);
    INSERT INTO transfers (id, debit, credit, amount, pending_id, flags, state, expires)
    SELECT ids[ix], w_dr[ix], w_cr[ix], w_amt[ix], CASE WHEN t[ix] <> 1 THEN pend[ix] END,
           CASE WHEN t[ix] = 1 THEN fl[ix] & 1 ELSE 0 END, w_state[ix],
           CASE WHEN t[ix] = 1 AND (fl[ix] & 1) <> 0 THEN exp[ix] END
      FROM generate_subscripts(ids, 1) g(ix)
     WHERE st[ix] = 0 AND w_state[ix] IS NOT NULL;
    UPDATE transfers tr SET state = (pend_state ->> tr.id)::smallint
     WHERE tr.id IN (SELECT jsonb_object_keys(pend_state));
    RETURN st;
END
$$;

-- ------------------------------------------------------------------ both designs

-- Expires every pending transfer due at `now` (ns): its reservation is
-- released and an expiry record `<id>/expiry` written. Returns how many.
CREATE FUNCTION ledger_expire(now bigint) RETURNS bigint LANGUAGE sql AS $$
    -- One UPDATE per account: a row that two parts of one statement update is
    -- updated by one of them only, and an account can be both a debit and a credit.
    WITH e AS (UPDATE transfers SET state = 4 WHERE state = 2 AND expires <= now
               RETURNING id, debit, credit, amount),
         delta AS (SELECT account, sum(dr) AS dr, sum(cr) AS cr
                     FROM (SELECT debit AS account, amount AS dr, 0::bigint AS cr FROM e
                           UNION ALL SELECT credit, 0, amount FROM e) x
                    GROUP BY account),
         u AS (UPDATE accounts a SET debits_pending = a.debits_pending - delta.dr,
                                     credits_pending = a.credits_pending - delta.cr
                 FROM delta WHERE a.id = delta.account RETURNING 1),
         r AS (INSERT INTO transfers (id, debit, credit, amount, pending_id, flags, state)
               SELECT id || '/expiry', debit, credit, amount, id, 0, 4 FROM e RETURNING 1)
    SELECT (SELECT count(*) FROM e) + 0 * ((SELECT count(*) FROM u) + (SELECT count(*) FROM r));
$$;
