// The Force page: persons per force generation stage month by month (a line
// chart and a table from the report's `history`); every contingent with its
// stages and days to deployment, under them the report's persons per stage;
// the force's targets against what is posted; the training courses with
// their seats; days from pledge to deployment; and the reimbursement owed
// at the current strength (GET /v1/reports/force).

import {api} from '../api.js';
import {h, table, figures, section, sectionWide} from '../dom.js';
import {amountAdd, formatAmount, formatPercent, ratio} from '../format.js';
import {lineChart} from '../chart.js';

export const title = 'Force';

const STAGES = ['pledged', 'accepted', 'training', 'certified', 'deployed', 'rotated'];

export async function render() {
  const force = await api('/v1/reports/force');
  const unit = force.unit;
  const count = (value) => formatAmount(value, unit);
  const history = force.history ?? [];
  const contingents = force.contingents ?? [];
  // The foot of the contingents' table: the report's persons per stage, and
  // the contingents' personnel summed.
  const total = {contingent: 'All contingents', nation: '', type: '', readiness: '',
                 personnel: contingents.reduce((sum, c) => amountAdd(sum, c.personnel ?? 0), 0),
                 ...Object.fromEntries(STAGES.map((stage) => [stage, force.stages?.[stage] ?? 0]))};
  const months = history.map((m) => m.month);
  const chart = lineChart('Personnel by stage at each month\'s end', months,
    STAGES.map((stage) => ({label: stage, values: history.map((m) => m[stage] ?? 0)})));
  const targets = force.targets ?? [];
  const courses = force.training?.courses ?? [];
  const deployment = force.deployment ?? {};
  const pay = force.reimbursement;
  const days = (n) => (n === null || n === undefined ? '—' : formatAmount(n, 'COUNT', 0));
  const extra = [
    sectionWide('Targets', table('Requirements of the force, against what is posted', [
      {label: 'Requirement', key: 'requirement', value: (t) => t.requirement},
      {label: 'Account', key: 'account', value: (t) => t.account},
      {label: 'Target', num: true, key: 'target', value: (t) => `${formatAmount(t.target, t.unit)} ${t.unit}`},
      {label: 'Posted', num: true, key: 'posted', value: (t) => `${formatAmount(t.posted, t.unit)} ${t.unit}`},
      {label: 'Share', num: true, key: 'share', value: (t) => formatPercent(t.target ? ratio(t.posted, t.target) : null)},
    ], targets, {rowKey: (t) => t.requirement, name: 'targets'})),
    sectionWide('Training', table('Courses: seats and persons', [
      {label: 'Course', key: 'course', value: (c) => c.name ? `${c.name} (${c.course})` : c.course},
      {label: 'Seats', num: true, key: 'capacity', value: (c) => count(c.capacity)},
      {label: 'Seats free', num: true, key: 'seats_free', value: (c) => count(c.seats_free)},
      {label: 'In training', num: true, key: 'in_training', value: (c) => count(c.in_training)},
      {label: 'Certified', num: true, key: 'certified', value: (c) => count(c.certified)},
      {label: 'Days', num: true, key: 'duration_days', value: (c) => days(c.duration_days)},
    ], courses, {rowKey: (c) => c.course, name: 'courses'})),
    section('From pledge to deployment', figures([
      {label: 'Contingents deployed', value: days(deployment.contingents), key: 'deployment.contingents'},
      {label: 'Median days', value: days(deployment.p50_days), key: 'deployment.p50_days'},
      {label: '90th percentile, days', value: days(deployment.p90_days), key: 'deployment.p90_days'},
    ])),
  ];
  if (pay) {
    extra.push(section('Reimbursement', figures([
      {label: 'Rate per person-month', value: formatAmount(pay.per_person_month, pay.unit), unit: `${pay.unit} (${pay.rate_source})`, key: 'reimbursement.per_person_month'},
      {label: 'Deployed', value: count(pay.deployed), unit: 'persons', key: 'reimbursement.deployed'},
      {label: 'Each month', value: formatAmount(pay.monthly, pay.unit), unit: pay.unit, key: 'reimbursement.monthly'},
      {label: 'Next 12 months', value: formatAmount(pay.next_12_months, pay.unit), unit: pay.unit, key: 'reimbursement.next_12_months'},
    ])));
  }
  return h('div', {class: 'cards'},
    sectionWide('Personnel by stage over time',
      history.length ? chart : h('p', {class: 'note'}, 'No force generation moves yet.'),
      table('Persons per stage at each month\'s end', [
        {label: 'Month', key: 'month', value: (m) => m.month},
        ...STAGES.map((stage) => ({label: stage, num: true, key: stage, value: (m) => count(m[stage] ?? 0)})),
      ], history, {rowKey: (m) => m.month, name: 'history'})),
    sectionWide('Contingents', table('Contingents, persons per stage', [
      {label: 'Contingent', key: 'contingent', value: (c) => c.contingent},
      {label: 'Nation', key: 'nation', value: (c) => c.nation},
      {label: 'Type', key: 'type', value: (c) => c.type},
      {label: 'Readiness', key: 'readiness', value: (c) => c.readiness},
      {label: 'Personnel', num: true, key: 'personnel', value: (c) => count(c.personnel)},
      ...STAGES.map((stage) => ({label: stage, num: true, key: stage, value: (c) => count(c[stage])})),
      {label: 'Days to deployment', num: true, key: 'days_to_deployment',
       value: (c) => (c === total ? '' : formatAmount(c.days_to_deployment, 'COUNT'))},
    ], contingents, {rowKey: (c) => c.contingent, name: 'contingents', foot: total})),
    ...extra);
}
