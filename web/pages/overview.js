// The Overview page: the pooled fund's totals (GET /v1/reports/funding),
// the force's strength by stage (GET /v1/reports/force), aid delivered
// against need over the distribution points (GET /v1/reports/aid), and the
// conditions with their state and probability (GET /v1/conditions).

import {api} from '../api.js';
import {h, table, figures, section, sectionWide} from '../dom.js';
import {formatAmount, formatPercent, formatProbability, quantityCell} from '../format.js';
import {barChart} from '../chart.js';

const FORCE_STAGES = ['pledged', 'accepted', 'training', 'certified', 'deployed', 'rotated'];

export const title = 'Overview';

// Need and delivery summed per unit: the points mix kilograms and litres.
function deliveryByUnit(points) {
  const sums = new Map();
  for (const point of points) {
    if (!point.unit) continue; // a point with nothing delivered names no unit
    const sum = sums.get(point.unit) ?? {unit: point.unit, need: 0, delivered: 0, shortfall: 0};
    sum.need += point.need;
    sum.delivered += point.delivered;
    sum.shortfall += point.shortfall;
    sums.set(point.unit, sum);
  }
  return [...sums.values()];
}

export function conditionState(condition) {
  return h('span', {class: `state-${condition.state}`}, condition.state);
}

export async function render() {
  const [funding, force, aid, conditions] = await Promise.all([
    api('/v1/reports/funding'), api('/v1/reports/force'),
    api('/v1/reports/aid'), api('/v1/conditions'),
  ]);
  const usd = funding.unit;
  const fundingCard = section('Pooled fund',
    figures(['required', 'pledged', 'committed', 'disbursed'].map((key) => ({
      label: key[0].toUpperCase() + key.slice(1),
      value: formatAmount(funding.totals[key], usd), unit: usd, key: `funding.${key}`,
    }))));

  const stages = FORCE_STAGES.filter((stage) => stage in force.stages);
  const forceCard = section('Force strength by stage',
    figures([{label: 'Deployed', value: formatAmount(force.stages.deployed, force.unit),
              unit: 'persons', key: 'force.deployed'}]),
    barChart('Persons by force generation stage',
             stages, [{label: 'persons', values: stages.map((s) => force.stages[s])}]),
    table('Persons by stage', [
      {label: 'Stage', value: (s) => s},
      {label: 'Persons', num: true, value: (s) => formatAmount(force.stages[s], force.unit)},
    ], stages));

  const delivery = aid.delivery ?? {points: []};
  const aidCard = section('Aid delivered against need',
    h('p', {class: 'note'}, `Distribution points, ${delivery.from ?? '…'} to ${delivery.to ?? '…'} (${delivery.days ?? 0} days).`),
    table('Delivered and needed, summed over the points', [
      {label: 'Unit', value: (r) => r.unit},
      {label: 'Needed', num: true, value: (r) => quantityCell(r.need, r.unit)},
      {label: 'Delivered', num: true, value: (r) => quantityCell(r.delivered, r.unit), key: 'delivered'},
      {label: 'Share of need', num: true, value: (r) => formatPercent(r.need ? r.delivered / r.need : null)},
    ], deliveryByUnit(delivery.points), {rowKey: (r) => r.unit}));

  const conditionsCard = sectionWide('Conditions',
    table('Conditions on pledges', [
      {label: 'Condition', value: (c) => c.name},
      {label: 'What it means', value: (c) => c.title ?? ''},
      {label: 'State', value: conditionState, key: 'state'},
      {label: 'Probability', num: true, value: (c) => (c.when ? `(${c.when})` : formatProbability(c.probability))},
    ], conditions, {rowKey: (c) => c.name}));

  return h('div', {class: 'cards'}, fundingCard, forceCard, aidCard, conditionsCard);
}
