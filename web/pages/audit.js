// The Audit page: the audit log's latest signed checkpoint
// (GET /v1/audit/checkpoint) and the most recent events, newest first
// (GET /v1/audit/events, starting after the checkpoint's tree size less the
// rows shown). Only administrators, coordinators and auditors read events;
// for the other roles the API answers 403 and the page says so. Under the
// events, a line compares the checkpoint's tree size with the seq of the
// latest event shown: when they are equal, the checkpoint covers every event
// shown. The page does not check the signature or any hash.

import {api, ApiError} from '../api.js';
import {h, table, figures, section, sectionWide} from '../dom.js';

export const title = 'Audit';

const EVENT_ROWS = 20;

// "unit ×6, party ×9": the names of an event's operations, in order of first use.
function opNames(ops) {
  const counts = new Map();
  for (const op of ops) counts.set(op.op ?? '?', (counts.get(op.op ?? '?') ?? 0) + 1);
  return [...counts].map(([name, n]) => (n > 1 ? `${name} ×${n}` : name)).join(', ');
}

function coverageLine(checkpoint, latest) {
  if (!checkpoint) {
    return h('p', {class: 'note', dataset: {coverage: 'none'}}, 'There is no checkpoint to compare the events with.');
  }
  if (latest === null) {
    return h('p', {class: 'note', dataset: {coverage: 'none'}}, 'There are no events to compare with the checkpoint.');
  }
  if (checkpoint.size === latest) {
    return h('p', {dataset: {coverage: 'covers'}},
      `The latest checkpoint covers every event shown: its tree size, ${checkpoint.size}, is the seq of the latest event.`);
  }
  return h('p', {class: 'note', dataset: {coverage: 'differs'}},
    `The latest checkpoint's tree size, ${checkpoint.size}, is not the seq of the latest event shown, ${latest}: ` +
    'the log changed between the two requests. Reload the page to compare again.');
}

export async function render() {
  const cards = [];
  let checkpoint = null;
  try {
    checkpoint = await api('/v1/audit/checkpoint');
    cards.push(section('Latest checkpoint',
      figures([{label: 'Events', value: String(checkpoint.size), key: 'checkpoint.size'},
               {label: 'Signed at', value: checkpoint.time}]),
      h('pre', {class: 'checkpoint', dataset: {checkpoint: ''}}, checkpoint.checkpoint)));
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
    cards.push(section('Latest checkpoint', h('p', {class: 'note'}, 'The audit log is empty.')));
  }
  const after = Math.max(0, (checkpoint?.size ?? 0) - EVENT_ROWS);
  let events;
  try {
    events = (await api(`/v1/audit/events?after=${after}&limit=${EVENT_ROWS}`)).events ?? [];
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 403) throw error;
    cards.push(sectionWide('Recent events',
      h('p', {class: 'note', dataset: {eventsRefused: ''}}, 'Your role does not read the event log.')));
    return h('div', {class: 'cards'}, ...cards);
  }
  const newest = [...events].sort((a, b) => b.seq - a.seq);
  const latest = newest.length ? newest[0].seq : null;
  cards.push(sectionWide('Recent events',
    table(`The latest ${newest.length} events, newest first`, [
      {label: 'Seq', num: true, key: 'seq', value: (e) => e.seq},
      {label: 'Time', value: (e) => e.time},
      {label: 'Actor', value: (e) => `${e.actor?.user ?? ''} (${e.actor?.role ?? ''})`},
      {label: 'Operations', num: true, key: 'ops', value: (e) => (e.event?.ops ?? []).length},
      {label: 'Operation names', value: (e) => opNames(e.event?.ops ?? [])},
    ], newest, {rowKey: (e) => String(e.seq)}),
    coverageLine(checkpoint, latest)));
  return h('div', {class: 'cards'}, ...cards);
}
