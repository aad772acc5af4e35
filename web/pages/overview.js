// The Overview page: the mission at a glance, from two requests —
// GET /v1/reports/overview (the pooled fund's totals and what each
// condition still decides, the force's strength by stage against its
// targets, aid delivered against need over the distribution points, all
// from one reading of the ledger) and GET /v1/conditions (their state and
// probability).

import {api} from '../api.js';
import {h, table, figures, section, sectionWide} from '../dom.js';
import {amountAdd, formatAmount, formatPercent, formatProbability, quantityCell, ratio} from '../format.js';
import {barChart} from '../chart.js';

const FORCE_STAGES = ['pledged', 'accepted', 'training', 'certified', 'deployed', 'rotated'];

export const title = 'Overview';

// Need and delivery summed per unit: the points mix kilograms and litres.
function deliveryByUnit(points) {
  const sums = new Map();
  for (const point of points) {
    if (!point.unit) continue; // a commodity the ledger does not define
    const sum = sums.get(point.unit) ?? {unit: point.unit, need: 0, delivered: 0, shortfall: 0};
    sum.need = amountAdd(sum.need, point.need);
    sum.delivered = amountAdd(sum.delivered, point.delivered);
    sum.shortfall = amountAdd(sum.shortfall, point.shortfall);
    sums.set(point.unit, sum);
  }
  return [...sums.values()];
}

// The base conditions an expression names, through derived conditions'
// own expressions: "all_clear" names ceasefire_holds and partners_join when
// all_clear is "ceasefire_holds & partners_join".
function namesIn(expression, whenOf, depth = 0) {
  const names = new Set();
  for (const name of String(expression).match(/[A-Za-z0-9_]+/g) ?? []) {
    names.add(name);
    if (whenOf.has(name) && depth < 16) for (const n of namesIn(whenOf.get(name), whenOf, depth + 1)) names.add(n);
  }
  return names;
}

// What an open condition still decides: the pending pledges of every
// condition expression that names it. A resolved one decides nothing more.
function pendingOn(byCondition, conditions, condition) {
  if (condition.state !== 'open') return null;
  const whenOf = new Map(conditions.filter((c) => c.when).map((c) => [c.name, c.when]));
  let sum = 0;
  for (const row of byCondition) {
    if (namesIn(row.condition, whenOf).has(condition.name)) sum = amountAdd(sum, row.pending ?? 0);
  }
  return sum;
}

export function conditionState(condition) {
  return h('span', {class: `state-${condition.state}`}, condition.state);
}

export async function render() {
  const [overview, conditions] = await Promise.all([
    api('/v1/reports/overview'), api('/v1/conditions'),
  ]);
  const {funding, force, aid} = overview;
  const usd = funding.unit;
  const fundingCard = section('Pooled fund',
    figures(['required', 'pledged', 'committed', 'disbursed'].map((key) => ({
      label: key[0].toUpperCase() + key.slice(1),
      value: formatAmount(funding.totals[key], usd), unit: usd, key: `funding.${key}`,
    }))));

  const stages = FORCE_STAGES.filter((stage) => stage in force.stages);
  const personTargets = (force.targets ?? []).filter((t) => t.unit === force.unit);
  const forceCard = section('Force strength by stage',
    figures([{label: 'Deployed', value: formatAmount(force.stages.deployed, force.unit),
              unit: 'persons', key: 'force.deployed'},
             ...personTargets.map((t) => ({
               label: `${t.requirement}: ${t.account}`, key: `force.target.${t.requirement}`,
               value: `${formatAmount(t.posted, t.unit)} of ${formatAmount(t.target, t.unit)}`,
               unit: `persons (${formatPercent(t.target ? ratio(t.posted, t.target) : null)})`,
             }))]),
    barChart('Persons by force generation stage',
             stages, [{label: 'persons', values: stages.map((s) => force.stages[s])}]),
    table('Persons by stage', [
      {label: 'Stage', value: (s) => s},
      {label: 'Persons', num: true, key: 'persons', value: (s) => formatAmount(force.stages[s], force.unit)},
    ], stages, {rowKey: (s) => s, name: 'force-stages'}));

  const delivery = aid.delivery ?? {points: []};
  const aidCard = section('Aid delivered against need',
    h('p', {class: 'note'}, `Distribution points, ${delivery.from ?? '…'} to ${delivery.to ?? '…'} (${delivery.days ?? 0} days).`),
    table('Delivered and needed, summed over the points', [
      {label: 'Unit', value: (r) => r.unit},
      {label: 'Needed', num: true, value: (r) => quantityCell(r.need, r.unit), key: 'need'},
      {label: 'Delivered', num: true, value: (r) => quantityCell(r.delivered, r.unit), key: 'delivered'},
      {label: 'Share of need', num: true, value: (r) => formatPercent(r.need ? ratio(r.delivered, r.need) : null), key: 'share'},
    ], deliveryByUnit(delivery.points), {rowKey: (r) => r.unit, name: 'aid-delivery'}));

  const byCondition = funding.by_condition ?? [];
  const conditionsCard = sectionWide('Conditions',
    table('Conditions on pledges, and the pledges each still decides', [
      {label: 'Condition', value: (c) => c.name},
      {label: 'What it means', value: (c) => c.title ?? ''},
      {label: 'State', value: conditionState, key: 'state'},
      {label: 'Probability', num: true, key: 'probability',
       value: (c) => (c.when ? `(${c.when})` : formatProbability(c.probability))},
      {label: `Pledges it decides (${usd})`, num: true, key: 'decides',
       value: (c) => formatAmount(pendingOn(byCondition, conditions, c), usd)},
    ], conditions, {rowKey: (c) => c.name, name: 'conditions'}));

  return h('div', {class: 'cards'}, fundingCard, forceCard, aidCard, conditionsCard);
}
