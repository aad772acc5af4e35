// The Aid page: delivery against need per distribution point and commodity,
// and stock per stage and commodity (GET /v1/reports/aid). Writers also get
// a form that moves a consignment to its next stage (`consignment_move`).

import {api} from '../api.js';
import {h, table, sectionWide} from '../dom.js';
import {formatAmount, formatPercent} from '../format.js';
import {writeForm, writeSection, field, input, select} from '../forms.js';

export const title = 'Aid';

// The stages a consignment moves to, in order, and the fields each needs.
const MOVE_STAGES = ['screened', 'entered', 'awaiting', 'collected', 'warehoused', 'dispatched'];
const STAGE_FIELDS = {screened: ['decision', 'reason'], warehoused: ['warehouse'], dispatched: ['point']};

function moveForm() {
  const consignment = field('Consignment id', input({id: 'move-consignment', placeholder: 'e.g. c1'}), 'consignment');
  const stage = field('Next stage', select(MOVE_STAGES.map((s) => [s, s]), {id: 'move-to'}), 'to');
  const date = field('Date (optional)', h('input', {type: 'date', id: 'move-date'}), 'date');
  const decision = field('Decision', select([['cleared', 'cleared'], ['rejected', 'rejected']], {id: 'move-decision'}), 'decision');
  const reason = field('Reason (when rejected)', input({id: 'move-reason'}), 'reason');
  const warehouse = field('Warehouse', input({id: 'move-warehouse'}), 'warehouse');
  const point = field('Distribution point', input({id: 'move-point'}), 'point');
  const extras = {decision, reason, warehouse, point};
  function showExtras() {
    const wanted = STAGE_FIELDS[stage.control.value] ?? [];
    for (const [name, f] of Object.entries(extras)) f.wrap.hidden = !wanted.includes(name);
  }
  stage.control.addEventListener('change', showExtras);
  showExtras();
  return writeForm({
    name: 'consignment-move', legend: 'Move a consignment', submitLabel: 'Move',
    fields: [consignment, stage, date, decision, reason, warehouse, point],
    build(state) {
      const id = consignment.control.value.trim();
      if (!id) {
        state.fieldError('consignment', 'Enter a consignment id');
        return null;
      }
      const to = stage.control.value;
      const op = {op: 'consignment_move', id: `${id}.${to}`, consignment: id, to};
      if (date.control.value) op.date = date.control.value;
      for (const name of STAGE_FIELDS[to] ?? []) {
        const value = extras[name].control.value.trim();
        if (value) op[name] = value;
      }
      if (to === 'screened' && op.decision === 'rejected' && !op.reason) {
        state.fieldError('reason', 'A rejection needs a reason');
        return null;
      }
      for (const name of ['warehouse', 'point']) {
        if ((STAGE_FIELDS[to] ?? []).includes(name) && !op[name]) {
          state.fieldError(name, `Enter the ${name === 'point' ? 'distribution point' : 'warehouse'}`);
          return null;
        }
      }
      return op;
    },
  }).form;
}

export async function render(session) {
  const aid = await api('/v1/reports/aid');
  const delivery = aid.delivery ?? {points: []};
  const move = session.canWrite ? writeSection('Move a consignment', moveForm()) : null;
  return h('div', {class: 'cards'},
    move,
    sectionWide('Delivery against need', table(`Distribution points, ${delivery.from ?? ''} to ${delivery.to ?? ''}`, [
      {label: 'Point', value: (p) => p.name ?? p.point},
      {label: 'Commodity', value: (p) => p.commodity},
      {label: 'Unit', value: (p) => p.unit ?? ''},
      {label: 'Needed', num: true, value: (p) => formatAmount(p.need, p.unit)},
      {label: 'Delivered', num: true, value: (p) => formatAmount(p.delivered, p.unit)},
      {label: 'Shortfall', num: true, value: (p) => formatAmount(p.shortfall, p.unit)},
      {label: 'Share', num: true, value: (p) => formatPercent(p.need ? p.delivered / p.need : null)},
    ], delivery.points)),
    sectionWide('Stock by stage', table('Stock per stage and commodity', [
      {label: 'Stage', value: (s) => s.stage},
      {label: 'Commodity', value: (s) => s.commodity},
      {label: 'Quantity', num: true, value: (s) => formatAmount(s.quantity, s.unit)},
      {label: 'Unit', value: (s) => s.unit},
    ], aid.stock_by_commodity ?? [])));
}
