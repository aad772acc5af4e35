// The Funding page: every total of the pooled fund's report; pledged and
// committed per donor, and per condition with what each still holds
// pending, as tables and bar charts; the figures per requirement; and each
// month's pledges, commitments, disbursements and spending as a line chart
// and a table (GET /v1/reports/funding; donors' names from GET /v1/parties).
// The funding may come from the mission's own records or from imports (OCHA
// FTS, IATI, HXL): a table shows each source, and the page can keep one
// ("#funding?source=fts", GET /v1/reports/funding?source=fts).

import {api} from '../api.js';
import {h, table, figures, section, sectionWide} from '../dom.js';
import {formatAmount, majorUnits} from '../format.js';
import {barChart, lineChart} from '../chart.js';
import {writeForm, writeSection, field, input, select, parseUsd, randomId} from '../forms.js';

export const title = 'Funding';

const TOTALS = [
  ['required', 'Required'], ['pledged', 'Pledged'], ['conditional', 'Conditional'],
  ['unconditional', 'Unconditional'], ['pending', 'Pending'], ['committed', 'Committed'],
  ['disbursed', 'Disbursed'], ['awaiting_approval', 'Awaiting approval'], ['spent', 'Spent'],
  ['voided', 'Voided'], ['expired', 'Expired'],
];

// Donors who may pledge: nations and organisations with a donor.<id> account.
async function donorsOf(parties) {
  const accounts = await api('/v1/accounts?prefix=donor.&limit=1000');
  const held = new Set(accounts.accounts.map((a) => a.id));
  return parties.filter((p) => (p.kind === 'nation' || p.kind === 'organisation') && held.has(`donor.${p.id}`));
}

function pledgeForm(donors, conditions) {
  const donor = field('Donor', select(donors.map((p) => [p.id, `${p.name} (${p.id})`]), {id: 'pledge-donor'}), 'donor');
  const amount = field('Amount, USD', input({id: 'pledge-amount', inputmode: 'decimal', placeholder: '2,500,000.00'}), 'amount');
  const condition = field('Condition', select([['', 'none'], ...conditions.map((c) => [c.name, c.name])],
                                              {id: 'pledge-condition'}), 'if');
  const sector = field('Sector', input({id: 'pledge-sector', placeholder: 'e.g. health'}), 'sector');
  const requirement = field('Requirement (optional)', input({id: 'pledge-requirement'}), 'requirement');
  const id = field('Id (optional)', input({id: 'pledge-id', placeholder: 'p-… (generated when empty)'}), 'id');
  return writeForm({
    name: 'pledge', legend: 'Record a pledge', submitLabel: 'Record pledge',
    fields: [donor, amount, condition, sector, requirement, id],
    build(state) {
      const cents = parseUsd(amount.control.value);
      if (cents === null) {
        state.fieldError('amount', 'Enter an amount in USD, e.g. 2,500,000.00 (at most two decimals)');
        return null;
      }
      if (!donor.control.value) {
        state.fieldError('donor', 'Choose a donor');
        return null;
      }
      const op = {op: 'pledge', id: id.control.value.trim() || randomId('p-'), donor: donor.control.value, amount: cents};
      if (condition.control.value) op.if = condition.control.value;
      if (sector.control.value.trim()) op.sector = sector.control.value.trim();
      if (requirement.control.value.trim()) op.requirement = requirement.control.value.trim();
      return op;
    },
    done(answer, op, state) {
      if (answer.status === 'created') state.result.dataset.id = op.id;
    },
  }).form;
}

function approveForm() {
  const pending = field('Pending transfer id', input({id: 'approve-pending'}), 'pending_id');
  const decision = field('Decision', select([['approve', 'approve'], ['reject', 'reject']], {id: 'approve-decision'}), 'decision');
  return writeForm({
    name: 'approve', legend: 'Approve a disbursement', submitLabel: 'Send decision',
    fields: [pending, decision],
    build(state) {
      const pendingId = pending.control.value.trim();
      if (!pendingId) {
        state.fieldError('pending_id', 'Enter the id of a pending disbursement');
        return null;
      }
      return {op: 'approve', id: randomId(`${pendingId}.${decision.control.value}-`), pending_id: pendingId,
              decision: decision.control.value};
    },
  }).form;
}

const SOURCES = [['', 'Every source'], ['mission', 'The mission\'s own records'], ['fts', 'OCHA FTS (imported)'],
                 ['iati', 'IATI (imported)'], ['hxl', 'HXL (imported)']];
const SOURCE_NAMES = new Map(SOURCES.filter(([key]) => key));

function sourceSection(funding, chosen) {
  const unit = funding.unit;
  const choose = select(SOURCES, {id: 'funding-source'});
  choose.value = chosen;
  choose.addEventListener('change', () => {
    location.hash = choose.value ? `#funding?source=${encodeURIComponent(choose.value)}` : '#funding';
  });
  const rows = funding.by_source ?? [];
  return sectionWide('By source',
    field('Show funding from', choose, 'source').wrap,
    table(`Funding by where it was recorded, ${unit}`, [
      {label: 'Source', key: 'source', value: (r) => SOURCE_NAMES.get(r.source) ?? r.source},
      {label: 'Pledged', num: true, key: 'pledged', value: (r) => formatAmount(r.pledged, unit)},
      {label: 'Committed', num: true, key: 'committed', value: (r) => formatAmount(r.committed, unit)},
      {label: 'Disbursed', num: true, key: 'disbursed', value: (r) => formatAmount(r.disbursed, unit)},
      {label: 'Spent', num: true, key: 'spent', value: (r) => formatAmount(r.spent, unit)},
    ], rows, {rowKey: (r) => r.source, name: 'by-source'}));
}

export async function render(session, params = new URLSearchParams()) {
  const chosen = SOURCE_NAMES.has(params.get('source')) ? params.get('source') : '';
  const query = chosen ? `?source=${encodeURIComponent(chosen)}` : '';
  const [funding, parties] = await Promise.all([api(`/v1/reports/funding${query}`), api('/v1/parties')]);
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
      {label: 'Donor', key: 'donor', value: (d) => names.get(d.donor) ?? d.donor},
      {label: 'Pledged', num: true, key: 'pledged', value: (d) => formatAmount(d.pledged, unit)},
      {label: 'of which conditional', num: true, key: 'conditional', value: (d) => formatAmount(d.conditional, unit)},
      {label: 'Committed', num: true, key: 'committed', value: (d) => formatAmount(d.committed, unit)},
    ], donors, {rowKey: (d) => d.donor, name: 'by-donor'}));
  const byRequirement = sectionWide('By requirement',
    table(`Requirements, ${unit}`, [
      {label: 'Requirement', key: 'requirement', value: (r) => r.requirement},
      {label: 'Required', num: true, key: 'required', value: (r) => formatAmount(r.required, unit)},
      {label: 'Pledged', num: true, key: 'pledged', value: (r) => formatAmount(r.pledged, unit)},
      {label: 'Committed', num: true, key: 'committed', value: (r) => formatAmount(r.committed, unit)},
      {label: 'Disbursed', num: true, key: 'disbursed', value: (r) => formatAmount(r.disbursed, unit)},
      {label: 'Spent', num: true, key: 'spent', value: (r) => formatAmount(r.spent, unit)},
    ], funding.by_requirement ?? [], {rowKey: (r) => r.requirement, name: 'by-requirement'}));
  const conditions = funding.by_condition ?? [];
  const byCondition = sectionWide('By condition',
    barChart(`Pledged, and still pending on the condition, by condition, ${unit}`, conditions.map((c) => c.condition), [
      {label: `pledged (${unit})`, values: conditions.map((c) => majorUnits(c.pledged, unit))},
      {label: `pending (${unit})`, values: conditions.map((c) => majorUnits(c.pending, unit))},
    ]),
    table(`Pledges by the condition they wait on, ${unit}`, [
      {label: 'Condition', key: 'condition', value: (c) => c.condition},
      {label: 'Pledged', num: true, key: 'pledged', value: (c) => formatAmount(c.pledged, unit)},
      {label: 'Committed', num: true, key: 'committed', value: (c) => formatAmount(c.committed, unit)},
      {label: 'Pending on it', num: true, key: 'pending', value: (c) => formatAmount(c.pending, unit)},
    ], conditions, {rowKey: (c) => c.condition, name: 'by-condition'}));
  const months = funding.by_month ?? [];
  const MONTH_FIGURES = [['pledged', 'Pledged'], ['committed', 'Committed'], ['disbursed', 'Disbursed'], ['spent', 'Spent']];
  const byMonth = sectionWide('By month',
    lineChart(`Pledged, committed, disbursed and spent per month, ${unit}`, months.map((m) => m.month),
      MONTH_FIGURES.map(([key]) => ({label: `${key} (${unit})`, values: months.map((m) => majorUnits(m[key], unit))}))),
    table(`Each month's flows, ${unit}`, [
      {label: 'Month', key: 'month', value: (m) => m.month, nowrap: true},
      ...MONTH_FIGURES.map(([key, label]) => ({label, num: true, key, value: (m) => formatAmount(m[key], unit)})),
    ], months, {rowKey: (m) => m.month, name: 'by-month'}));
  const cards = [totals];
  if (session.canWrite) {
    const [donors, conditions] = await Promise.all([donorsOf(parties), api('/v1/conditions')]);
    cards.push(writeSection('Record a pledge', pledgeForm(donors, conditions)),
               writeSection('Approve a disbursement', approveForm()));
  }
  return h('div', {class: 'cards', dataset: {source: chosen || 'all'}}, ...cards, sourceSection(funding, chosen), byDonor, byCondition, byRequirement,
           byMonth);
}
