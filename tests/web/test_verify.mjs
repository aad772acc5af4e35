// Tests of the dashboard's own verifier (web/verify.js) and amount helpers
// (web/format.js) in Node, against evidence made by the concord binary:
// every proof the server gives must hold, and every alteration of one —
// a byte of the event, a hash, the leaf index, the tree size, the signature,
// another ledger's key, a consistency proof between the wrong sizes — must
// be refused with a reason. The C checker (`concord verify-proof`) is asked
// the same questions, and the two must agree.
//
// usage: node tests/web/test_verify.mjs CONCORD_BINARY

import {execFileSync} from 'node:child_process';
import crypto from 'node:crypto';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const verify = await import(path.join(REPO_ROOT, 'web', 'verify.js'));
const concord = process.argv[2];
if (!concord) {
  console.error('usage: node tests/web/test_verify.mjs CONCORD_BINARY');
  process.exit(2);
}

const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'concord-verify-'));
let failures = 0;
let passed = 0;

function run(db, ...args) {
  return execFileSync(concord, ['--db', db, ...args], {encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe']});
}

function apply(db, ops) {
  return execFileSync(concord, ['--db', db, 'apply'], {
    input: ops.map((o) => JSON.stringify(o)).join('\n') + '\n', encoding: 'utf8'});
}

// The C checker's verdict on a proof: true valid, false invalid.
function cVerdict(db, proof, key) {
  const file = path.join(temp, 'proof.json');
  fs.writeFileSync(file, JSON.stringify(proof));
  try {
    run(db, 'verify-proof', file, '--key', key);
    return true;
  } catch (error) {
    if (error.status === 1 || error.status === 2) return false;
    throw error;
  }
}

async function test(name, body) {
  try {
    await body();
    passed++;
  } catch (error) {
    failures++;
    console.error(`FAIL ${name}: ${error.stack ?? error}`);
  }
}

// Resolves when the promise rejects with a VerifyError whose message matches.
async function refused(promise, pattern) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof verify.VerifyError, `a VerifyError, not ${error}`);
    assert.match(error.message, pattern);
    return true;
  });
}

function flipBase64(text, index = 0) {
  const bytes = Buffer.from(text, 'base64');
  bytes[index] ^= 0x01;
  return bytes.toString('base64');
}

// ---------------------------------------------------------------- the ledger

const db = path.join(temp, 'a.db');
run(db, 'init');
apply(db, [{op: 'unit', code: 'USD', scale: 2},
           {op: 'account', id: 'a', unit: 'USD'}, {op: 'account', id: 'b', unit: 'USD'}]);
for (let i = 0; i < 6; i++) {
  apply(db, [{op: 'transfer', id: `t${i}`, debit: 'a', credit: 'b', amount: 100 + i}]);
}
const keyText = run(db, 'key').trim();
const other = path.join(temp, 'b.db');
run(other, 'init');
const otherKey = run(other, 'key').trim();
const size = JSON.parse(run(db, 'checkpoint', '--json')).size;

await test('the verifier key parses, and a wrong key id is refused', async () => {
  const v = await verify.verifierParse(keyText);
  assert.equal(v.name, keyText.split('+')[0]);
  const [, name, id, key] = /^([^+]+)\+([0-9a-f]{8})\+(.+)$/.exec(keyText);
  const wrongId = id.slice(0, 7) + (id[7] === '0' ? '1' : '0'); // the last hex digit changed
  await refused(verify.verifierParse(`${name}+${wrongId}+${key}`), /id does not match/);
  await refused(verify.verifierParse('no-plus-signs'), /NAME\+KEYID\+BASE64/);
});

await test('the latest checkpoint opens with its key and not with another ledger\'s', async () => {
  const note = JSON.parse(run(db, 'checkpoint', '--json')).checkpoint;
  const opened = await verify.checkpointOpen(note, await verify.verifierParse(keyText));
  assert.equal(opened.size, BigInt(size));
  await refused(verify.checkpointOpen(note, await verify.verifierParse(otherKey)), /no signature by/);
  // One byte of the body changed: the signature no longer verifies.
  const altered = note.replace(`\n${size}\n`, `\n${size + 1}\n`);
  await refused(verify.checkpointOpen(altered, await verify.verifierParse(keyText)), /does not verify/);
});

await test('every event\'s proof holds, in the browser and in C alike', async () => {
  const v = await verify.verifierParse(keyText);
  for (let seq = 1; seq <= size; seq++) {
    const proof = JSON.parse(run(db, 'proof', '--seq', String(seq)));
    const checked = await verify.proofVerify(proof, v);
    assert.equal(checked.leafIndex, BigInt(seq - 1));
    assert.equal(checked.event.seq, seq);
    assert.equal(cVerdict(db, proof, keyText), true, `C: event ${seq}`);
  }
});

await test('a transfer\'s proof holds and names its transfer', async () => {
  const v = await verify.verifierParse(keyText);
  const proof = JSON.parse(run(db, 'proof', 't3'));
  const checked = await verify.proofVerify(proof, v);
  assert.ok(verify.eventRecords(checked.event, 't3'));
  // The same event does not record another transfer.
  await refused(verify.proofVerify({...proof, transfer_id: 't4'}, v), /does not record transfer t4/);
  assert.equal(cVerdict(db, {...proof, transfer_id: 't4'}, keyText), false);
});

await test('every alteration of a proof is refused, as C refuses it', async () => {
  const v = await verify.verifierParse(keyText);
  const proof = JSON.parse(run(db, 'proof', 't2'));
  const cases = [
    ['event text', {...proof, event: proof.event.replace('"amount":102', '"amount":103')}, /event text was altered/],
    ['leaf hash', {...proof, leaf_hash: flipBase64(proof.leaf_hash)}, /do not lead|altered/],
    ['a path hash', {...proof, hashes: [flipBase64(proof.hashes[0]), ...proof.hashes.slice(1)]}, /do not lead/],
    ['a path hash dropped', {...proof, hashes: proof.hashes.slice(1)}, /do not lead/],
    ['leaf index', {...proof, leaf_index: proof.leaf_index + 1}, /do not lead|seq/],
    ['tree size', {...proof, tree_size: proof.tree_size - 1}, /tree_size/],
    ['signature', {...proof, checkpoint: proof.checkpoint.replace(/ (\S+)\n$/, (m, sig) => ` ${flipBase64(sig, 10)}\n`)}, /does not verify/],
  ];
  for (const [what, altered, pattern] of cases) {
    await refused(verify.proofVerify(altered, v), pattern);
    assert.equal(cVerdict(db, altered, keyText), false, `C accepts the altered ${what}`);
  }
  await refused(verify.proofVerify(proof, await verify.verifierParse(otherKey)), /no signature by/);
});

await test('consistency proofs between every pair of sizes hold; wrong ones are refused', async () => {
  const v = await verify.verifierParse(keyText);
  for (let from = 1; from <= size; from++) {
    for (let to = from; to <= size; to++) {
      const proof = JSON.parse(run(db, 'consistency', '--from', String(from), '--to', String(to), '--json'));
      const {older, newer} = await verify.consistencyProofVerify(proof, v);
      assert.equal(older.size, BigInt(from));
      assert.equal(newer.size, BigInt(to));
      if (proof.hashes.length > 0) {
        const bad = {...proof, hashes: [flipBase64(proof.hashes[0]), ...proof.hashes.slice(1)]};
        await refused(verify.consistencyProofVerify(bad, v), /history was rewritten/);
      }
    }
  }
  // Notes swapped: the older tree is then not a prefix of the newer.
  const proof = JSON.parse(run(db, 'consistency', '--from', '2', '--to', String(size), '--json'));
  await refused(verify.consistencyProofVerify({...proof, from: size, to: 2,
    from_checkpoint: proof.to_checkpoint, to_checkpoint: proof.from_checkpoint}, v), /rewritten/);
  await refused(verify.consistencyProofVerify({...proof, from: 3}, v), /sizes/);
});

await test('a transfer\'s proof must be the one asked for', async () => {
  const v = await verify.verifierParse(keyText);
  const proof = JSON.parse(run(db, 'proof', 't3'));
  await verify.proofVerify(proof, v, {transferId: 't3', event: true});
  // Another transfer's proof, or this one with its transfer_id or its event removed.
  const other = JSON.parse(run(db, 'proof', 't4'));
  await refused(verify.proofVerify(other, v, {transferId: 't3'}), /not of transfer t3/);
  const {transfer_id: dropped, ...stripped} = proof;
  assert.equal(dropped, 't3');
  await refused(verify.proofVerify(stripped, v, {transferId: 't3'}), /not of transfer t3/);
  const {event: gone, ...bare} = proof;
  assert.ok(gone);
  await refused(verify.proofVerify(bare, v, {transferId: 't3', event: true}), /carries no event text/);
  // An event's proof: of the seq asked for, against the checkpoint the page opened.
  const seq3 = JSON.parse(run(db, 'proof', '--seq', '3'));
  await verify.proofVerify(seq3, v, {seq: 3, checkpoint: seq3.checkpoint, event: true});
  await refused(verify.proofVerify(seq3, v, {seq: 4}), /of event 3, not 4/);
  const older = JSON.parse(run(db, 'consistency', '--from', '2', '--to', '2', '--json')).to_checkpoint;
  await refused(verify.proofVerify(seq3, v, {checkpoint: older}), /another checkpoint/);
});

// A server with the key that rewrote history: events 9 and 10 of the 10 a
// browser checked are replaced, and the log grows to 11. Asked for the
// consistency proof from 10 to 11, it answers with one from 5 to 8 whose
// notes carry the old and the new roots. The page must refuse it.
await test('a consistency proof between other sizes than asked is refused', async () => {
  const sha = (...parts) => new Uint8Array(crypto.createHash('sha256').update(Buffer.concat(parts.map((p) => Buffer.from(p)))).digest());
  const leaf = (text) => sha([0], Buffer.from(text));
  const node = (a, b) => sha([1], a, b);
  const split = (n) => { let k = 1; while (k * 2 < n) k *= 2; return k; };
  const root = (leaves) => (leaves.length === 1 ? leaves[0]
    : node(root(leaves.slice(0, split(leaves.length))), root(leaves.slice(split(leaves.length)))));
  const b64 = (bytes) => Buffer.from(bytes).toString('base64');
  const {publicKey, privateKey} = crypto.generateKeyPairSync('ed25519');
  const key = Buffer.concat([Buffer.from([1]), Buffer.from(publicKey.export({format: 'jwk'}).x, 'base64url')]);
  const keyId = sha(Buffer.from('liar\n'), key).slice(0, 4);
  const text = `liar+${Buffer.from(keyId).toString('hex')}+${key.toString('base64')}`;
  const note = (size, r) => {
    const body = `liar\n${size}\n${b64(r)}\n`;
    return `${body}\n\u2014 liar ${b64(Buffer.concat([keyId, crypto.sign(null, Buffer.from(body), privateKey)]))}\n`;
  };
  const honest = Array.from({length: 10}, (_, i) => leaf(`{"seq":${i + 1}}`));
  const B = root(honest.slice(8, 10));
  const x = leaf('{"seq":10,"forged":true}'), y = leaf('{"seq":11,"forged":true}');
  const rewritten = [...honest.slice(0, 8), B, x, y];
  const lie = {from: 5, to: 8, from_checkpoint: note(5, root(honest)), to_checkpoint: note(8, root(rewritten)),
               hashes: [B, x, y, root(honest.slice(0, 8))].map(b64)};
  const v = await verify.verifierParse(text);
  // The lie holds as a proof between 5 and 8: only binding it to 10 and 11 catches it.
  await verify.consistencyProofVerify(lie, v);
  await refused(verify.consistencyProofVerify(lie, v, {from: 10n, to: 11n}), /not the 10 and 11 asked for/);
  // And the page's own check, with the browser's memory and the server faked.
  const memory = new Map([['concord.audit.key', JSON.stringify({text, since: '2026-01-01T00:00:00Z'})],
    ['concord.audit.checkpoint', JSON.stringify({note: note(10, root(honest)), size: 10, checked: '2026-01-01T00:00:00Z'})]]);
  globalThis.localStorage = {getItem: (k) => memory.get(k) ?? null, setItem: (k, s) => memory.set(k, String(s)),
                             removeItem: (k) => memory.delete(k)};
  globalThis.sessionStorage = {getItem: () => null, setItem() {}, removeItem() {}};
  const asked = [];
  globalThis.fetch = async (url) => {
    asked.push(url);
    return {ok: true, status: 200, text: async () => JSON.stringify(lie)};
  };
  const trust = await import(path.join(REPO_ROOT, 'web', 'trust.js'));
  const current = {size: 11, checkpoint: note(11, root(rewritten))};
  await refused(trust.historyCheck(current, await verify.checkpointOpen(current.checkpoint, v), v),
                /not the 10 and 11 asked for/);
  assert.deepEqual(asked, ['/v1/audit/consistency?from=10&to=11']);
  assert.equal(JSON.parse(memory.get('concord.audit.checkpoint')).size, 10, 'the lie is not remembered');
});

await test('amounts beyond 2^53 add and format exactly', async () => {
  // format.js reads the units' scales from the API; without one, scale 0 or the one given.
  globalThis.document = undefined;
  const format = await import(path.join(REPO_ROOT, 'web', 'format.js'));
  const big = 9223372036854775807n;
  assert.equal(format.formatAmount(big, 'USD', 2), '92,233,720,368,547,758.07');
  assert.equal(format.formatAmount(-big, 'USD', 2), '-92,233,720,368,547,758.07');
  assert.equal(format.formatAmount(123456789, 'USD', 2), '1,234,567.89');
  assert.equal(format.amountAdd(Number.MAX_SAFE_INTEGER, 2), 9007199254740993n);
  assert.equal(format.amountAdd(9007199254740993n, -2), Number.MAX_SAFE_INTEGER);
  assert.equal(format.amountAdd(1, 2), 3);
  assert.equal(format.amountSub(9007199254740993n, 9007199254740992n), 1);
  assert.equal(format.formatQuantity(1234567n, 'KG'), '1,234.567 t');
});

fs.rmSync(temp, {recursive: true, force: true});
console.log(`test_verify: ${passed} passed, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
