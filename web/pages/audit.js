// The Audit page: the audit log's latest signed checkpoint
// (GET /v1/audit/checkpoint) and, for the roles that may read it
// (administrators, coordinators, auditors), the latest events
// (GET /v1/audit/events).

import {api, ApiError} from '../api.js';
import {h, table, figures, section, sectionWide} from '../dom.js';

export const title = 'Audit';

const EVENT_ROWS = 50;

export async function render(session) {
  const cards = [];
  try {
    const checkpoint = await api('/v1/audit/checkpoint');
    cards.push(section('Latest checkpoint',
      figures([{label: 'Events', value: String(checkpoint.size)}, {label: 'Signed at', value: checkpoint.time}]),
      h('pre', {class: 'checkpoint', dataset: {checkpoint: ''}}, checkpoint.checkpoint)));
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
    cards.push(section('Latest checkpoint', h('p', {class: 'note'}, 'The audit log is empty.')));
  }
  if (session.canAudit) {
    const events = await api(`/v1/audit/events?limit=${EVENT_ROWS}`);
    cards.push(sectionWide('Events', table(`The first ${events.events.length} events`, [
      {label: 'Seq', num: true, value: (e) => e.seq},
      {label: 'Time', value: (e) => e.time},
      {label: 'Actor', value: (e) => `${e.actor?.user ?? ''} (${e.actor?.role ?? ''})`},
      {label: 'Operations', num: true, value: (e) => (e.event?.ops ?? []).length},
      {label: 'Leaf hash', value: (e) => e.leaf_hash},
    ], events.events, {rowKey: (e) => String(e.seq)})));
  }
  return h('div', {class: 'cards'}, ...cards);
}
