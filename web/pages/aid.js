// The Aid page: trucks and tonnes per crossing and day (line charts and a
// table from the report's `crossings`), delivery against need per
// distribution point and commodity, stock per stage (summed per unit) and
// per stage and commodity, and the dwell time per stage, p50 and p90
// (GET /v1/reports/aid). Writers also get
// a form that moves a consignment to its next stage (`consignment_move`).

import {api} from '../api.js';
import {h, table, section, sectionWide} from '../dom.js';
import {lineChart} from '../chart.js';
import {formatAmount, formatPercent, quantityCell} from '../format.js';
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

// The crossings' days in order, each crossing's trucks and tonnes per day
// (null on a day with no row for it), and the tonnes over every crossing.
function crossingSeries(rows) {
  const days = [...new Set(rows.map((r) => r.day))].sort();
  const names = [...new Set(rows.map((r) => r.crossing))];
  const byKey = new Map(rows.map((r) => [`${r.crossing} ${r.day}`, r]));
  const per = (name, pick) => days.map((day) => {
    const row = byKey.get(`${name} ${day}`);
    return row ? pick(row) : null;
  });
  return {
    days, names,
    trucks: names.map((name) => ({label: name, values: per(name, (r) => r.trucks ?? 0)})),
    tonnes: names.map((name) => ({label: name, values: per(name, (r) => (r.kg ?? 0) / 1000)})),
    totalTonnes: days.map((day) => rows.filter((r) => r.day === day).reduce((sum, r) => sum + (r.kg ?? 0), 0) / 1000),
  };
}

function tonnes(value) {
  return value === null || value === undefined ? '—'
    : value.toLocaleString('en-US', {minimumFractionDigits: 1, maximumFractionDigits: 1});
}

// Stock per stage, summed over commodities per unit, in pipeline order.
function stockPerStage(rows) {
  const sums = new Map();
  for (const row of rows) {
    const key = `${row.stage} ${row.unit}`;
    const sum = sums.get(key) ?? {stage: row.stage, unit: row.unit, quantity: 0};
    sum.quantity += row.quantity;
    sums.set(key, sum);
  }
  return [...sums.values()];
}

function hours(value) {
  return value === null || value === undefined ? '—' : String(value);
}

export async function render(session) {
  const aid = await api('/v1/reports/aid');
  const delivery = aid.delivery ?? {points: []};
  const move = session.canWrite ? writeSection('Move a consignment', moveForm()) : null;
  const crossings = crossingSeries(aid.crossings ?? []);
  const crossingCards = crossings.days.length === 0
    ? [sectionWide('Crossings', h('p', {class: 'note'}, 'No trucks have crossed yet.'))]
    : [section('Trucks per crossing per day',
        lineChart('Trucks per crossing per day', crossings.days, crossings.trucks)),
      section('Tonnes per crossing per day',
        lineChart('Tonnes per crossing per day', crossings.days, crossings.tonnes)),
      sectionWide('Crossings per day', table('Trucks per crossing and tonnes per day', [
        {label: 'Day', value: (i) => crossings.days[i]},
        ...crossings.names.map((name, n) => ({label: `${name} trucks`, num: true,
          value: (i) => crossings.trucks[n].values[i] ?? '—'})),
        {label: 'Tonnes', num: true, value: (i) => tonnes(crossings.totalTonnes[i])},
      ], crossings.days.map((_, i) => i), {rowKey: (i) => crossings.days[i]}))];
  return h('div', {class: 'cards'},
    move,
    ...crossingCards,
    sectionWide('Delivery against need', table(`Distribution points, ${delivery.from ?? ''} to ${delivery.to ?? ''}`, [
      {label: 'Point', value: (p) => p.name ?? p.point},
      {label: 'Commodity', value: (p) => p.commodity},
      {label: 'Unit', value: (p) => p.unit ?? ''},
      {label: 'Needed', num: true, value: (p) => quantityCell(p.need, p.unit)},
      {label: 'Delivered', num: true, value: (p) => quantityCell(p.delivered, p.unit)},
      {label: 'Shortfall', num: true, value: (p) => quantityCell(p.shortfall, p.unit)},
      {label: 'Share', num: true, value: (p) => formatPercent(p.need ? p.delivered / p.need : null)},
    ], delivery.points)),
    section('Stock per stage', table('Stock per stage, summed per unit', [
      {label: 'Stage', value: (s) => s.stage},
      {label: 'Quantity', num: true, value: (s) => quantityCell(s.quantity, s.unit)},
      {label: 'Unit', value: (s) => s.unit},
    ], stockPerStage(aid.stock_by_commodity ?? []), {rowKey: (s) => `${s.stage}.${s.unit}`})),
    section('Dwell per stage', table('Hours from arriving at a stage to reaching a later one', [
      {label: 'Stage', value: (d) => d.stage},
      {label: 'Consignments', num: true, value: (d) => formatAmount(d.consignments, 'COUNT')},
      {label: 'p50 hours', num: true, value: (d) => hours(d.p50_hours)},
      {label: 'p90 hours', num: true, value: (d) => hours(d.p90_hours)},
    ], aid.dwell ?? [], {rowKey: (d) => d.stage})),
    sectionWide('Stock by stage and commodity', table('Stock per stage and commodity', [
      {label: 'Stage', value: (s) => s.stage},
      {label: 'Commodity', value: (s) => s.commodity},
      {label: 'Quantity', num: true, value: (s) => quantityCell(s.quantity, s.unit)},
      {label: 'Unit', value: (s) => s.unit},
    ], aid.stock_by_commodity ?? [])));
}
