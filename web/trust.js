// What this browser trusts about the audit log, kept in localStorage (one
// origin, one ledger): the verifier key it first saw, and the latest
// checkpoint it checked. Pinning the key means a server that starts signing
// with another key is noticed, not believed; remembering the checkpoint
// means each visit can prove that the log only grew since the last one
// (a consistency proof), so history rewritten in between is noticed too.
// Compare the key with `concord key` on the ledger's machine once.

import {api} from './api.js';
import {verifierParse, checkpointOpen, consistencyProofVerify, hashText, VerifyError} from './verify.js';

const KEY_STORE = 'concord.audit.key';
const CHECKPOINT_STORE = 'concord.audit.checkpoint';

function read(name) {
  try { return JSON.parse(localStorage.getItem(name) ?? 'null'); } catch { return null; }
}

function write(name, value) {
  localStorage.setItem(name, JSON.stringify(value));
}

// The key to check against: {verifier, text, since, offered}. `offered` is
// the server's key text when it differs from the pinned one (then the pinned
// key is still the one used: trustKey(offered) accepts the new one).
export async function trustedKey() {
  const served = (await api('/v1/audit/key')).verifier;
  let pinned = read(KEY_STORE);
  if (!pinned || typeof pinned.text !== 'string') {
    await verifierParse(served); // a key that does not parse is not pinned
    pinned = {text: served, since: new Date().toISOString()};
    write(KEY_STORE, pinned);
  }
  return {
    verifier: await verifierParse(pinned.text), text: pinned.text, since: pinned.since,
    offered: served !== pinned.text ? served : null,
  };
}

// Trusts `text` from now on, and forgets the checkpoint checked under the old key.
export function trustKey(text) {
  write(KEY_STORE, {text, since: new Date().toISOString()});
  localStorage.removeItem(CHECKPOINT_STORE);
}

// Checks the latest checkpoint (GET /v1/audit/checkpoint), already opened
// with the key (checkpointOpen), against the checkpoint this browser checked
// before, and remembers it. Resolves with {previous, grown} (previous:
// {size, checked} or null); throws VerifyError when the log shrank, has
// another root at the same size, or its consistency proof fails.
export async function historyCheck(checkpoint, opened, verifier) {
  if (opened.size !== BigInt(checkpoint.size)) throw new VerifyError('the checkpoint\'s size is not the note\'s');
  const previous = read(CHECKPOINT_STORE);
  let grown = false;
  if (previous && typeof previous.note === 'string') {
    const before = await checkpointOpen(previous.note, verifier);
    if (before.origin !== opened.origin) {
      throw new VerifyError(`the log is ${opened.origin}, not ${before.origin}, which this browser checked before`);
    }
    if (opened.size < before.size) {
      throw new VerifyError(`the log has ${opened.size} events, fewer than the ${before.size} this browser ` +
                            `checked on ${previous.checked}: its history was rewritten`);
    }
    if (opened.size === before.size && hashText(opened.root) !== hashText(before.root)) {
      throw new VerifyError(`the log of ${opened.size} events has another root than when this browser ` +
                            `checked it on ${previous.checked}: its history was rewritten`);
    }
    if (opened.size > before.size) {
      const proof = await api(`/v1/audit/consistency?from=${before.size}&to=${opened.size}`);
      const {older, newer} = await consistencyProofVerify(proof, verifier, {from: before.size, to: opened.size});
      if (older.origin !== before.origin || newer.origin !== opened.origin ||
          hashText(older.root) !== hashText(before.root) || hashText(newer.root) !== hashText(opened.root)) {
        throw new VerifyError('the consistency proof is not between the checkpoints this browser holds');
      }
      grown = true;
    }
  }
  const checked = new Date().toISOString();
  write(CHECKPOINT_STORE, {note: checkpoint.checkpoint, size: checkpoint.size, checked});
  return {grown, previous: previous ? {size: previous.size, checked: previous.checked} : null};
}
