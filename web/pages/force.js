// The Force page: persons per force generation stage and every contingent
// with its stages and days to deployment (GET /v1/reports/force).

import {api} from '../api.js';
import {h, table, sectionWide} from '../dom.js';
import {formatAmount} from '../format.js';

export const title = 'Force';

const STAGES = ['pledged', 'accepted', 'training', 'certified', 'deployed', 'rotated'];

export async function render() {
  const force = await api('/v1/reports/force');
  const unit = force.unit;
  const count = (value) => formatAmount(value, unit);
  return h('div', {class: 'cards'},
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
