// The Force page: persons per force generation stage month by month (a line
// chart and a table from the report's `history`) and every contingent with
// its stages and days to deployment (GET /v1/reports/force).

import {api} from '../api.js';
import {h, table, sectionWide} from '../dom.js';
import {formatAmount} from '../format.js';
import {lineChart} from '../chart.js';

export const title = 'Force';

const STAGES = ['pledged', 'accepted', 'training', 'certified', 'deployed', 'rotated'];

export async function render() {
  const force = await api('/v1/reports/force');
  const unit = force.unit;
  const count = (value) => formatAmount(value, unit);
  const history = force.history ?? [];
  const months = history.map((m) => m.month);
  const chart = lineChart('Personnel by stage at each month\'s end', months,
    STAGES.map((stage) => ({label: stage, values: history.map((m) => m[stage] ?? 0)})));
  return h('div', {class: 'cards'},
    sectionWide('Personnel by stage over time',
      history.length ? chart : h('p', {class: 'note'}, 'No force generation moves yet.'),
      table('Persons per stage at each month\'s end', [
        {label: 'Month', value: (m) => m.month},
        ...STAGES.map((stage) => ({label: stage, num: true, value: (m) => count(m[stage] ?? 0)})),
      ], history, {rowKey: (m) => m.month})),
    sectionWide('Contingents', table('Contingents, persons per stage', [
      {label: 'Contingent', value: (c) => c.contingent},
      {label: 'Nation', value: (c) => c.nation},
      {label: 'Type', value: (c) => c.type},
      {label: 'Readiness', value: (c) => c.readiness},
      {label: 'Personnel', num: true, value: (c) => count(c.personnel)},
      ...STAGES.map((stage) => ({label: stage, num: true, value: (c) => count(c[stage])})),
      {label: 'Days to deployment', num: true, value: (c) => c.days_to_deployment ?? '—'},
    ], force.contingents ?? [], {rowKey: (c) => c.contingent})));
}
