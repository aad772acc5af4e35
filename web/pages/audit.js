// The Audit page: the audit log's latest signed checkpoint
// (GET /v1/audit/checkpoint), what this browser checked of it, and the most
// recent events, newest first (GET /v1/audit/events). The checks run here,
// in the browser, with nothing but the verifier key (web/verify.js,
// web/trust.js): the checkpoint's signature; that the log only grew since
// the checkpoint this browser checked last (a consistency proof); and, for
// the roles that read the event log, that each event shown is in the
// checkpoint's tree with the text it shows (an inclusion proof per event,
// GET /v1/audit/events/{seq}/proof). Editors and viewers read no events
// (GET /v1/me says so; the API would answer 403) and the page says so.

import {api, ApiError} from '../api.js';
import {h, table, figures, section, sectionWide} from '../dom.js';
import {checkpointOpen, proofVerify, VerifyError} from '../verify.js';
import {trustedKey, trustKey, historyCheck} from '../trust.js';
import {jsonText} from '../json.js';
import {formatAmount} from '../format.js';

export const title = 'Audit';

const EVENT_ROWS = 20;

// "unit ×6, party ×9": the names of an event's operations, in order of first use.
function opNames(ops) {
  const counts = new Map();
  for (const op of ops) counts.set(op.op ?? '?', (counts.get(op.op ?? '?') ?? 0) + 1);
  return [...counts].map(([name, n]) => (n > 1 ? `${name} ×${n}` : name)).join(', ');
}

function day(iso) {
  return iso ? iso.slice(0, 16).replace('T', ' ') + ' UTC' : '';
}

// One line of the verification list: {check, ok, text}; ok null: not checked.
function checkLine({check, ok, text}) {
  const mark = ok === true ? '✓' : ok === false ? '✗' : '–';
  const word = ok === true ? 'holds' : ok === false ? 'fails' : 'not checked';
  return h('li', {class: ok === false ? 'check check-failed' : 'check', dataset: {check, result: ok === true ? 'ok' : ok === false ? 'failed' : 'skipped'}},
    h('span', {class: 'check-mark', 'aria-label': word}, mark), ' ', text);
}

// What went wrong, for the check's line: whatever the server sent (a
// malformed answer included) ends as a failed check, not a broken page.
function failure(error) {
  return error instanceof Error ? error.message : String(error);
}

// The event rows listed, checked against the checkpoint the page opened:
// the list must hold every event from `after` + 1 to the checkpoint's size,
// and each event's proof must be against that very checkpoint, of that seq,
// with the text listed. The rows then show what was proved (seq, time,
// actor, operations), not what the listing said beside it.
async function eventsCheck(events, verifier, checkpoint, after) {
  const size = Number(checkpoint.size);
  const listed = events.map((e) => e.seq).sort((a, b) => a - b);
  const wanted = Array.from({length: Math.max(0, size - after)}, (_, i) => after + 1 + i);
  if (listed.length !== wanted.length || listed.some((seq, i) => seq !== wanted[i])) {
    return [`the listing holds events ${listed.join(', ') || 'none'}, not ${after + 1} to ${size}`];
  }
  const results = await Promise.all(events.map(async (e) => {
    try {
      const proof = await api(`/v1/audit/events/${e.seq}/proof`);
      const checked = await proofVerify(proof, verifier,
                                        {seq: e.seq, checkpoint: checkpoint.checkpoint, event: true});
      if (proof.leaf_hash !== e.leaf_hash) return `event ${e.seq}: its leaf is not the one listed`;
      if (jsonText(checked.event) !== jsonText(e.event)) return `event ${e.seq}: the text listed is not the text proved`;
      Object.assign(e, {seq: Number(checked.event.seq), time: checked.event.time,
                        actor: checked.event.actor, event: checked.event});
      return null;
    } catch (error) {
      return `event ${e.seq}: ${failure(error)}`;
    }
  }));
  return results.filter((r) => r !== null);
}

async function verification(checkpoint, events, after) {
  const lines = [];
  let key;
  try {
    key = await trustedKey();
  } catch (error) {
    lines.push({check: 'key', ok: false, text: `The verifier key could not be read: ${failure(error)}`});
    return {lines, key: null};
  }
  lines.push({check: 'key', ok: key.offered === null,
              text: key.offered === null
                ? `Verifier key ${key.text}, trusted by this browser since ${day(key.since)}. Compare it once with \`concord key\` on the ledger's machine.`
                : `The server now offers another verifier key, ${key.offered}, than the one this browser trusts since ${day(key.since)}, ${key.text}. Everything below is checked against the trusted key.`});
  if (!checkpoint) return {lines, key};
  let opened;
  try {
    opened = await checkpointOpen(checkpoint.checkpoint, key.verifier);
    lines.push({check: 'signature', ok: true,
                text: `The checkpoint of ${checkpoint.size} events is signed by ${key.verifier.name}.`});
  } catch (error) {
    lines.push({check: 'signature', ok: false, text: `The checkpoint: ${failure(error)}.`});
    return {lines, key};
  }
  try {
    const result = await historyCheck(checkpoint, opened, key.verifier);
    lines.push({check: 'history', ok: result.previous ? true : null,
                text: !result.previous
                  ? 'This is the first checkpoint this browser has checked; the next visit proves the log only grew since.'
                  : result.grown
                    ? `The log of ${checkpoint.size} events extends the log of ${result.previous.size} this browser checked on ${day(result.previous.checked)}: nothing before was changed (consistency proof).`
                    : `The log is the one this browser checked on ${day(result.previous.checked)}.`});
  } catch (error) {
    lines.push({check: 'history', ok: false, text: `History: ${failure(error)}.`});
    return {lines, key};
  }
  if (events !== null) {
    const problems = await eventsCheck(events, key.verifier, checkpoint, after);
    lines.push({check: 'events', ok: problems.length === 0,
                text: problems.length === 0
                  ? `Each of the ${events.length} events shown is in the checkpoint's tree, with the text shown (inclusion proofs).`
                  : problems.join('; ')});
  }
  return {lines, key};
}

export async function render(session) {
  const cards = [];
  let checkpoint = null;
  try {
    checkpoint = await api('/v1/audit/checkpoint');
    cards.push(section('Latest checkpoint',
      figures([{label: 'Events', value: formatAmount(checkpoint.size, 'COUNT', 0), key: 'checkpoint.size'},
               {label: 'Signed at', value: checkpoint.time}]),
      h('pre', {class: 'checkpoint', dataset: {checkpoint: ''}}, checkpoint.checkpoint)));
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
    cards.push(section('Latest checkpoint', h('p', {class: 'note'}, 'The audit log is empty.')));
  }
  const after = Math.max(0, (checkpoint?.size ?? 0) - EVENT_ROWS);
  let events = null; // null: the role does not read the event log (GET /v1/me says so)
  if (session?.canAudit) {
    events = (await api(`/v1/audit/events?after=${after}&limit=${EVENT_ROWS}`)).events ?? [];
    // Events committed after the checkpoint was read are in no proof against it.
    if (checkpoint) events = events.filter((e) => e.seq <= checkpoint.size);
  }

  const {lines, key} = await verification(checkpoint, events, after);
  const accept = key && key.offered
    ? h('button', {type: 'button', dataset: {trustKey: ''},
                   onclick: () => { trustKey(key.offered); location.reload(); }},
        'Trust the new key')
    : null;
  const failed = lines.some((l) => l.ok === false);
  cards.push(section('Checked in this browser',
    h('p', {class: failed ? 'error' : 'note', role: failed ? 'alert' : null, dataset: {verification: failed ? 'failed' : 'ok'}},
      failed ? 'A check failed: do not rely on this log until it is explained.'
             : 'Every check below was computed here, from the signed checkpoint, the proofs and the trusted key.'),
    h('ul', {class: 'checks'}, ...lines.map(checkLine)),
    accept,
    h('button', {type: 'button', dataset: {checkAgain: ''}, onclick: () => location.reload()}, 'Check again')));

  if (events === null) {
    cards.push(sectionWide('Recent events',
      h('p', {class: 'note', dataset: {eventsRefused: ''}}, 'Your role does not read the event log.')));
    return h('div', {class: 'cards'}, ...cards);
  }
  const newest = [...events].sort((a, b) => b.seq - a.seq);
  cards.push(sectionWide('Recent events',
    table(`The latest ${newest.length} events, newest first`, [
      {label: 'Seq', num: true, key: 'seq', value: (e) => e.seq},
      {label: 'Time', value: (e) => e.time},
      {label: 'Actor', value: (e) => `${e.actor?.user ?? ''} (${e.actor?.role ?? ''})`},
      {label: 'Operations', num: true, key: 'ops', value: (e) => (e.event?.ops ?? []).length},
      {label: 'Operation names', value: (e) => opNames(e.event?.ops ?? [])},
    ], newest, {rowKey: (e) => String(e.seq)})));
  return h('div', {class: 'cards'}, ...cards);
}
