// The Aid page: trucks and tonnes per crossing and day (line charts, and a
// table of the same figures with the tonnes over every crossing, from the
// report's `crossings`), delivery against need per
// distribution point and commodity, stock per stage (summed per unit) and
// per stage and commodity, the dwell time per stage, p50 and p90, and what
// was damaged, lost or refused at screening (GET /v1/reports/aid). Writers also get
// a form that moves a consignment to its next stage (`consignment_move`).

import {api} from '../api.js';
import {h, table, section, sectionWide} from '../dom.js';
import {lineChart} from '../chart.js';
import {amountAdd, formatAmount, formatPercent, quantityCell, ratio} from '../format.js';
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
    tonnes: names.map((name) => ({label: name, values: per(name, (r) => Number(r.kg ?? 0) / 1000)})),
    totalTonnes: days.map((day) => rows.filter((r) => r.day === day).reduce((sum, r) => sum + Number(r.kg ?? 0), 0) / 1000),
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
    sum.quantity = amountAdd(sum.quantity, row.quantity);
    sums.set(key, sum);
  }
  return [...sums.values()];
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
      sectionWide('Crossings per day', table('Trucks and tonnes per crossing, and tonnes over every crossing, per day', [
        {label: 'Day', key: 'day', nowrap: true, value: (i) => crossings.days[i]},
        ...crossings.names.map((name, n) => ({label: `${name} trucks`, num: true, key: `trucks.${name}`,
          value: (i) => formatAmount(crossings.trucks[n].values[i], 'TRUCK')})),
        ...crossings.names.map((name, n) => ({label: `${name} tonnes`, num: true, key: `tonnes.${name}`,
          value: (i) => tonnes(crossings.tonnes[n].values[i])})),
        {label: 'Tonnes, all crossings', num: true, key: 'tonnes', value: (i) => tonnes(crossings.totalTonnes[i])},
      ], crossings.days.map((_, i) => i), {rowKey: (i) => crossings.days[i], name: 'crossings'}))];
  return h('div', {class: 'cards'},
    move,
    ...crossingCards,
    sectionWide('Delivery against need', table(`Distribution points, ${delivery.from ?? ''} to ${delivery.to ?? ''}`, [
      {label: 'Point', key: 'point', value: (p) => p.name ?? p.point},
      {label: 'Commodity', key: 'commodity', value: (p) => p.commodity},
      {label: 'Unit', key: 'unit', value: (p) => p.unit ?? ''},
      {label: 'Needed', num: true, key: 'need', value: (p) => quantityCell(p.need, p.unit)},
      {label: 'Delivered', num: true, key: 'delivered', value: (p) => quantityCell(p.delivered, p.unit)},
      {label: 'Shortfall', num: true, key: 'shortfall', value: (p) => quantityCell(p.shortfall, p.unit)},
      {label: 'Share', num: true, key: 'share', value: (p) => formatPercent(p.need ? ratio(p.delivered, p.need) : null)},
    ], delivery.points, {rowKey: (p) => `${p.point}.${p.commodity}`, name: 'delivery'})),
    section('Stock per stage', table('Stock per stage, summed per unit', [
      {label: 'Stage', key: 'stage', value: (s) => s.stage},
      {label: 'Quantity', num: true, key: 'quantity', value: (s) => quantityCell(s.quantity, s.unit)},
      {label: 'Unit', key: 'unit', value: (s) => s.unit},
    ], stockPerStage(aid.stock_by_commodity ?? []), {rowKey: (s) => `${s.stage}.${s.unit}`, name: 'stock'})),
    section('Dwell per stage', table('Hours from arriving at a stage to reaching a later one', [
      {label: 'Stage', key: 'stage', value: (d) => d.stage},
      {label: 'Consignments', num: true, key: 'consignments', value: (d) => formatAmount(d.consignments, 'COUNT')},
      {label: 'p50 hours', num: true, key: 'p50_hours', value: (d) => formatAmount(d.p50_hours, 'COUNT')},
      {label: 'p90 hours', num: true, key: 'p90_hours', value: (d) => formatAmount(d.p90_hours, 'COUNT')},
    ], aid.dwell ?? [], {rowKey: (d) => d.stage, name: 'dwell'})),
    sectionWide('Stock by stage and commodity', table('Stock per stage and commodity', [
      {label: 'Stage', key: 'stage', value: (s) => s.stage},
      {label: 'Commodity', key: 'commodity', value: (s) => s.commodity},
      {label: 'Quantity', num: true, key: 'quantity', value: (s) => quantityCell(s.quantity, s.unit)},
      {label: 'Unit', key: 'unit', value: (s) => s.unit},
    ], aid.stock_by_commodity ?? [], {rowKey: (s) => `${s.stage}.${s.commodity}.${s.unit}`, name: 'stock-by-commodity'})),
    section('Damaged and lost', table('Damaged at delivery and lost on the way, per commodity', [
      {label: 'What', key: 'stage', value: (l) => l.stage},
      {label: 'Commodity', key: 'commodity', value: (l) => l.commodity},
      {label: 'Moves', num: true, key: 'moves', value: (l) => formatAmount(l.moves, 'COUNT')},
      {label: 'Quantity', num: true, key: 'quantity', value: (l) => quantityCell(l.quantity, l.unit)},
    ], aid.losses ?? [], {rowKey: (l) => `${l.stage}.${l.commodity}`, name: 'losses'})),
    section('Refused at screening', table('Consignments rejected at screening, per reason and commodity', [
      {label: 'Reason', key: 'reason', value: (r) => r.reason},
      {label: 'Commodity', key: 'commodity', value: (r) => r.commodity},
      {label: 'Consignments', num: true, key: 'count', value: (r) => formatAmount(r.count, 'COUNT')},
      {label: 'Quantity', num: true, key: 'quantity', value: (r) => quantityCell(r.quantity, r.unit)},
    ], aid.rejections ?? [], {rowKey: (r) => `${r.reason}.${r.commodity}`, name: 'rejections'})));
}
