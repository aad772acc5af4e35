// The Funding page: every total of the pooled fund's report, and pledged and
// committed per donor as a table and a bar chart (GET /v1/reports/funding;
// donors' names from GET /v1/parties).

import {api} from '../api.js';
import {h, table, figures, section, sectionWide} from '../dom.js';
import {formatAmount, majorUnits} from '../format.js';
import {barChart} from '../chart.js';

export const title = 'Funding';

const TOTALS = [
  ['required', 'Required'], ['pledged', 'Pledged'], ['conditional', 'Conditional'],
  ['unconditional', 'Unconditional'], ['pending', 'Pending'], ['committed', 'Committed'],
  ['disbursed', 'Disbursed'], ['awaiting_approval', 'Awaiting approval'], ['spent', 'Spent'],
  ['voided', 'Voided'], ['expired', 'Expired'],
];

export async function render() {
  const [funding, parties] = await Promise.all([api('/v1/reports/funding'), api('/v1/parties')]);
  const unit = funding.unit;
  const names = new Map(parties.map((p) => [p.id, p.name]));
  const donors = funding.by_donor;
  const totals = section('Totals',
    figures(TOTALS.filter(([key]) => key in funding.totals).map(([key, label]) => ({
      label, value: formatAmount(funding.totals[key], unit), unit, key: `funding.${key}`,
    }))));
  const byDonor = sectionWide('By donor',
    barChart(`Pledged and committed by donor, ${unit}`, donors.map((d) => d.donor), [
      {label: `pledged (${unit})`, values: donors.map((d) => majorUnits(d.pledged, unit))},
      {label: `committed (${unit})`, values: donors.map((d) => majorUnits(d.committed, unit))},
    ]),
    table(`Pledges by donor, ${unit}`, [
      {label: 'Donor', value: (d) => names.get(d.donor) ?? d.donor},
      {label: 'Pledged', num: true, value: (d) => formatAmount(d.pledged, unit)},
      {label: 'of which conditional', num: true, value: (d) => formatAmount(d.conditional, unit)},
      {label: 'Committed', num: true, value: (d) => formatAmount(d.committed, unit)},
    ], donors, {rowKey: (d) => d.donor}));
  const byRequirement = sectionWide('By requirement',
    table(`Requirements, ${unit}`, [
      {label: 'Requirement', value: (r) => r.requirement},
      {label: 'Required', num: true, value: (r) => formatAmount(r.required, unit)},
      {label: 'Pledged', num: true, value: (r) => formatAmount(r.pledged, unit)},
      {label: 'Committed', num: true, value: (r) => formatAmount(r.committed, unit)},
      {label: 'Disbursed', num: true, value: (r) => formatAmount(r.disbursed, unit)},
      {label: 'Spent', num: true, value: (r) => formatAmount(r.spent, unit)},
    ], funding.by_requirement ?? [], {rowKey: (r) => r.requirement}));
  return h('div', {class: 'cards'}, totals, byDonor, byRequirement);
}
