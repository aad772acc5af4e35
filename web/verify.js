// Checks the audit log's evidence in the browser, trusting nothing but the
// verifier key: a checkpoint's Ed25519 signature (C2SP signed note), an
// inclusion proof (RFC 6962 leaf and audit path, verified as RFC 9162
// 2.1.3.2 says), a consistency proof between two checkpoints (RFC 9162
// 2.1.4.2), and that an event's text hashes to its leaf. It is the same
// check as `concord verify-proof` and `verify-consistency`, written again
// here so that a party's browser does not have to take the server's word.
//
// Every check throws a VerifyError saying what does not hold. The hashing
// and the signature use Web Crypto, which browsers offer only on secure
// origins (https, or http://127.0.0.1 and localhost).

import {jsonParse} from './json.js';

export class VerifyError extends Error {}

const SIGNATURE_PREFIX = '\u2014 ';
const KEY_ID_BYTES = 4;
const SIGNATURE_BYTES = 64;
const ED25519_ALGORITHM = 0x01;
const NOTE_BYTES_MAX = 4096; // as the server's AUDIT_NOTE_BYTES_MAX
const SIGNATURES_MAX = 100;  // as the server's AUDIT_SIGNATURES_MAX
const PROOF_HASHES_MAX = 64; // as the server's AUDIT_PROOF_HASHES_MAX

const encoder = new TextEncoder();

function subtle() {
  const s = globalThis.crypto?.subtle;
  if (!s) {
    throw new VerifyError('this page has no Web Crypto: open the dashboard over https or at ' +
                          'http://127.0.0.1 to check signatures and hashes here');
  }
  return s;
}

export function base64Decode(text, what) {
  if (typeof text !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new VerifyError(`${what}: not base64`);
  }
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function equal(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

async function sha256(bytes) {
  return new Uint8Array(await subtle().digest('SHA-256', bytes));
}

// RFC 6962: a leaf is SHA-256(0x00 || data), an interior node SHA-256(0x01 || left || right).
export async function leafHash(data) {
  return sha256(concat(Uint8Array.of(0), typeof data === 'string' ? encoder.encode(data) : data));
}

async function nodeHash(left, right) {
  return sha256(concat(Uint8Array.of(1), left, right));
}

function hashesDecode(hashes, what) {
  if (!Array.isArray(hashes)) throw new VerifyError(`${what}: not a list of hashes`);
  if (hashes.length > PROOF_HASHES_MAX) throw new VerifyError(`${what}: more hashes than any proof holds`);
  return hashes.map((h, i) => {
    const bytes = base64Decode(h, `${what}[${i}]`);
    if (bytes.length !== 32) throw new VerifyError(`${what}[${i}]: not 32 bytes`);
    return bytes;
  });
}

function count(value, what) {
  if (!Number.isSafeInteger(value) || value < 0) throw new VerifyError(`${what}: not an integer ≥ 0`);
  return BigInt(value);
}

// ---------------------------------------------------------------- keys and notes

// "NAME+KEYID+BASE64" (the output of `concord key`, GET /v1/audit/key).
export async function verifierParse(text) {
  // The name holds no '+'; the base64 key may.
  const match = typeof text === 'string' ? /^([^+\s]+)\+([0-9a-f]{8})\+(\S+)$/.exec(text.trim()) : null;
  if (!match) throw new VerifyError('the verifier key is not NAME+KEYID+BASE64');
  const [, name, keyIdHex, keyBase64] = match;
  const key = base64Decode(keyBase64, 'the verifier key');
  if (key.length !== 1 + 32 || key[0] !== ED25519_ALGORITHM) {
    throw new VerifyError('the verifier key is not an Ed25519 key');
  }
  const keyId = (await sha256(concat(encoder.encode(name + '\n'), key))).slice(0, KEY_ID_BYTES);
  const hex = [...keyId].map((b) => b.toString(16).padStart(2, '0')).join('');
  if (hex !== keyIdHex) throw new VerifyError('the verifier key\'s id does not match its key');
  const publicKey = await subtle().importKey('raw', key.slice(1), {name: 'Ed25519'}, false, ['verify']);
  return {name, keyId, publicKey, text: text.trim()};
}

// Opens a signed checkpoint: {origin, size (BigInt), root} when a signature
// line by the verifier's name and key id verifies over the note's body.
export async function checkpointOpen(note, verifier) {
  if (typeof note !== 'string' || encoder.encode(note).length > NOTE_BYTES_MAX) {
    throw new VerifyError('the checkpoint is not a signed note');
  }
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new VerifyError('the checkpoint has no signature lines');
  const body = note.slice(0, split + 1);
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3 || lines.some((l) => l === '')) {
    throw new VerifyError('the checkpoint needs an origin, a tree size and a root hash');
  }
  if (!/^(0|[1-9][0-9]{0,18})$/.test(lines[1])) throw new VerifyError('the checkpoint\'s size is not a number');
  const root = base64Decode(lines[2], 'the checkpoint\'s root');
  if (root.length !== 32) throw new VerifyError('the checkpoint\'s root is not 32 bytes');
  let verified = false;
  const signatures = note.slice(split + 2, -1).split('\n');
  if (signatures.length > SIGNATURES_MAX) throw new VerifyError(`more than ${SIGNATURES_MAX} signatures`);
  for (const line of signatures) {
    if (!line.startsWith(SIGNATURE_PREFIX)) throw new VerifyError('a signature line must start with an em dash');
    const [name, signature, extra] = line.slice(SIGNATURE_PREFIX.length).split(' ');
    if (extra !== undefined || signature === undefined || name === '' || name.includes('+')) {
      throw new VerifyError('a signature line is malformed');
    }
    const blob = base64Decode(signature, `the signature by ${name}`);
    if (blob.length < KEY_ID_BYTES + 1) throw new VerifyError(`the signature by ${name} is too short`);
    if (name !== verifier.name || !equal(blob.slice(0, KEY_ID_BYTES), verifier.keyId)) continue; // another key's
    if (blob.length !== KEY_ID_BYTES + SIGNATURE_BYTES) throw new VerifyError(`the signature by ${name} is not 64 bytes`);
    const good = await subtle().verify({name: 'Ed25519'}, verifier.publicKey,
                                       blob.slice(KEY_ID_BYTES), encoder.encode(body));
    if (!good) throw new VerifyError(`the signature by ${name} does not verify`);
    verified = true;
  }
  if (!verified) throw new VerifyError(`no signature by ${verifier.name} (key ${verifier.text.split('+')[1]})`);
  return {origin: lines[0], size: BigInt(lines[1]), root};
}

// ---------------------------------------------------------------- Merkle proofs

export async function inclusionVerify(leafIndex, treeSize, leaf, path, root) {
  if (leafIndex >= treeSize) return false;
  let fn = leafIndex;
  let sn = treeSize - 1n;
  let r = leaf;
  for (const p of path) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && equal(r, root);
}

export async function consistencyVerify(first, second, firstRoot, secondRoot, path) {
  if (first < 1n || first > second) return false;
  if (first === second) return path.length === 0 && equal(firstRoot, secondRoot);
  const proof = (first & (first - 1n)) === 0n ? [firstRoot, ...path] : path;
  if (proof.length === 0) return false;
  let fn = first - 1n;
  let sn = second - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = proof[0];
  let sr = proof[0];
  for (const c of proof.slice(1)) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && equal(fr, firstRoot) && equal(sr, secondRoot);
}

// ---------------------------------------------------------------- the API's proofs

function listed(list, id) {
  return Array.isArray(list) && list.includes(id);
}

// Does the event create transfer id: a transfer, post or void `created`, a
// transfer a domain operation's steps created (its result's records), or a
// record the ledger made itself (X/expiry, X/condition, X/approval)?
export function eventRecords(event, id) {
  if (typeof id !== 'string' || event === null || typeof event !== 'object') return false;
  const ops = Array.isArray(event.ops) ? event.ops : [];
  const results = Array.isArray(event.results) ? event.results : [];
  for (let i = 0; i < ops.length; i++) {
    if (ops[i]?.id === id && ['transfer', 'post', 'void'].includes(ops[i]?.op) &&
        results[i]?.status === 'created') return true;
  }
  if (results.some((r) => r?.status === 'created' && listed(r.records, id))) return true;
  if (id.endsWith('/expiry')) return listed(event.expired, id.slice(0, -'/expiry'.length));
  if (id.endsWith('/condition') || id.endsWith('/approval')) return listed(event.settled, id);
  return false;
}

// Checks a proof as GET /v1/audit/proof/{id} or /v1/audit/events/{seq}/proof
// answers it, against what the caller asked for: `expect` may name the
// transferId (the proof must be that transfer's, and its event must record
// it), the seq (the event's), the checkpoint note it must be proved against,
// and whether the event text is required. Resolves with {leafIndex,
// treeSize, origin, event} (event: the parsed text, or null when the proof
// carries none); throws VerifyError.
export async function proofVerify(proof, verifier, expect = {}) {
  if (expect.transferId !== undefined && proof.transfer_id !== expect.transferId) {
    throw new VerifyError(`the proof is not of transfer ${expect.transferId}`);
  }
  if (expect.checkpoint !== undefined && proof.checkpoint !== expect.checkpoint) {
    throw new VerifyError('the proof is against another checkpoint than the one checked');
  }
  if (proof.transfer_id !== undefined && typeof proof.transfer_id !== 'string') {
    throw new VerifyError('transfer_id: not a transfer id');
  }
  const checkpoint = await checkpointOpen(proof.checkpoint, verifier);
  const leafIndex = count(proof.leaf_index, 'leaf_index');
  const treeSize = count(proof.tree_size, 'tree_size');
  if (treeSize !== checkpoint.size) throw new VerifyError('tree_size is not the checkpoint\'s size');
  const leaf = base64Decode(proof.leaf_hash, 'leaf_hash');
  if (leaf.length !== 32) throw new VerifyError('leaf_hash is not 32 bytes');
  const path = hashesDecode(proof.hashes, 'hashes');
  if (!await inclusionVerify(leafIndex, treeSize, leaf, path, checkpoint.root)) {
    throw new VerifyError('the hashes do not lead from leaf_hash to the checkpoint\'s root');
  }
  if (expect.seq !== undefined && leafIndex + 1n !== BigInt(expect.seq)) {
    throw new VerifyError(`the proof is of event ${leafIndex + 1n}, not ${expect.seq}`);
  }
  if (expect.event && typeof proof.event !== 'string') throw new VerifyError('the proof carries no event text');
  let event = null;
  if (typeof proof.event === 'string') {
    if (!equal(await leafHash(proof.event), leaf)) {
      throw new VerifyError('the event\'s hash is not leaf_hash: the event text was altered');
    }
    try { event = jsonParse(proof.event); } catch { throw new VerifyError('the event is not JSON'); }
    const seq = event?.seq;
    if (!((typeof seq === 'number' && Number.isSafeInteger(seq)) || typeof seq === 'bigint') ||
        BigInt(seq) !== leafIndex + 1n) {
      throw new VerifyError('the event\'s seq is not leaf_index + 1');
    }
    if (proof.transfer_id !== undefined && !eventRecords(event, proof.transfer_id)) {
      throw new VerifyError(`the event does not record transfer ${proof.transfer_id}`);
    }
  }
  return {leafIndex, treeSize, origin: checkpoint.origin, event};
}

// Checks a consistency proof as GET /v1/audit/consistency answers it:
// both checkpoints signed by the verifier, of one log, of sizes from and to,
// the older tree a prefix of the newer. `expect` ({from, to}: BigInt sizes)
// binds the proof to the sizes asked for: a proof between other checkpoints
// would prove nothing about them. Resolves with the two opened checkpoints.
export async function consistencyProofVerify(proof, verifier, expect = {}) {
  const older = await checkpointOpen(proof.from_checkpoint, verifier);
  const newer = await checkpointOpen(proof.to_checkpoint, verifier);
  if (older.origin !== newer.origin) throw new VerifyError('the two checkpoints are of different logs');
  if (older.size !== count(proof.from, 'from') || newer.size !== count(proof.to, 'to')) {
    throw new VerifyError('from and to are not the checkpoints\' sizes');
  }
  if ((expect.from !== undefined && older.size !== expect.from) ||
      (expect.to !== undefined && newer.size !== expect.to)) {
    throw new VerifyError(`the proof is between ${older.size} and ${newer.size} events, not the ` +
                          `${expect.from} and ${expect.to} asked for`);
  }
  const path = hashesDecode(proof.hashes, 'hashes');
  if (!await consistencyVerify(older.size, newer.size, older.root, newer.root, path)) {
    throw new VerifyError(`the log of ${newer.size} events does not extend the log of ${older.size}: ` +
                          'its history was rewritten');
  }
  return {older, newer};
}

export function hashText(bytes) {
  return btoa(String.fromCharCode(...bytes));
}
