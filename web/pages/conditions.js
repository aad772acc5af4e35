// The Conditions page: what-if over the conditions that pledges hang on.
// Each open base condition can be assumed open, met or failed (a radio
// group); every change asks POST /v1/scenario with the assumptions and shows
// each requirement's low–high range. Derived conditions (those with `when`)
// follow from their parts and are listed without a choice, as are conditions
// already resolved. Reads GET /v1/conditions and GET /v1/requirements.

import {api} from '../api.js';
import {h, table, section, sectionWide} from '../dom.js';
import {formatAmount, formatProbability} from '../format.js';
import {conditionState} from './overview.js';
import {writeForm, writeSection, field, select} from '../forms.js';

export const title = 'Conditions';

const CHOICES = ['open', 'met', 'failed'];

function assumptionsOf(choices) {
  const assume = {};
  for (const [name, state] of choices) if (state !== 'open') assume[name] = state;
  return assume;
}

function scenarioTable(scenario, titles) {
  return table('Requirements under these assumptions', [
    {label: 'Requirement', value: (r) => titles.get(r.id) ?? r.id},
    {label: 'Unit', value: (r) => r.unit},
    {label: 'Target', num: true, value: (r) => formatAmount(r.target, r.unit)},
    {label: 'Posted', num: true, value: (r) => formatAmount(r.posted, r.unit)},
    {label: 'Low – high', num: true, key: 'range',
     value: (r) => `${formatAmount(r.low, r.unit)} – ${formatAmount(r.high, r.unit)}`},
  ], scenario.requirements, {rowKey: (r) => r.id});
}

function exposureTable(scenario) {
  if (!scenario.exposure || scenario.exposure.length === 0) {
    return h('p', {class: 'note'}, 'No pending amount hangs on an open condition under these assumptions.');
  }
  return table('Pending amounts that open conditions still decide', [
    {label: 'Condition', value: (e) => e.condition},
    {label: 'Unit', value: (e) => e.unit},
    {label: 'Pending', num: true, value: (e) => formatAmount(e.pending, e.unit)},
  ], scenario.exposure, {rowKey: (e) => `${e.condition}:${e.unit}`});
}

// Resolving is for writers only; the server checks the condition's authority
// (an editor of another party gets `forbidden`, shown under the form).
function resolveForm(condition) {
  const state = field(`Resolve ${condition.name}`, select([['met', 'met'], ['failed', 'failed']],
                                                          {id: `resolve-${condition.name}-state`}), 'state');
  return writeForm({
    name: `resolve-${condition.name}`, legend: `${condition.name}${condition.authority ? ` (authority: ${condition.authority})` : ''}`,
    submitLabel: 'Resolve', fields: [state],
    build: () => ({op: 'resolve', name: condition.name, state: state.control.value}),
    done(answer, op, form) {
      if (answer.status !== 'resolved') return;
      form.result.textContent = `${condition.name} ${op.state}: posted ${answer.posted ?? 0}, voided ${answer.voided ?? 0}`;
      form.result.dataset.posted = String(answer.posted ?? 0);
      form.result.dataset.voided = String(answer.voided ?? 0);
      for (const control of form.form.querySelectorAll('select, button')) control.disabled = true;
    },
  }).form;
}

export async function render(session) {
  const [conditions, requirements] = await Promise.all([api('/v1/conditions'), api('/v1/requirements')]);
  const titles = new Map(requirements.map((r) => [r.id, r.title]));
  const open = conditions.filter((c) => c.state === 'open' && !c.when);
  const settled = conditions.filter((c) => !(c.state === 'open' && !c.when));
  const choices = new Map(open.map((c) => [c.name, 'open']));
  const results = h('div', {class: 'scenario', 'aria-live': 'polite'});
  const errorLine = h('p', {class: 'error', role: 'alert'});
  let asked = 0; // answers to older requests are dropped

  async function update() {
    const request = ++asked;
    const assume = assumptionsOf(choices);
    results.setAttribute('aria-busy', 'true');
    try {
      const scenario = await api('/v1/scenario', {method: 'POST', body: {assume}});
      if (request !== asked) return;
      errorLine.textContent = '';
      results.replaceChildren(scenarioTable(scenario, titles), exposureTable(scenario));
      results.dataset.assume = JSON.stringify(assume);
    } catch (error) {
      if (request === asked) errorLine.textContent = error.message;
    } finally {
      if (request === asked) results.removeAttribute('aria-busy');
    }
  }

  const groups = open.map((condition) => h('fieldset', {class: 'choice', dataset: {condition: condition.name}},
    h('legend', {}, `${condition.name}: ${condition.title ?? ''} (p = ${formatProbability(condition.probability)})`),
    CHOICES.map((choice) => {
      const id = `assume-${condition.name}-${choice}`;
      return h('label', {for: id},
        h('input', {type: 'radio', id, name: `assume-${condition.name}`, value: choice,
                    checked: choice === 'open',
                    onchange: () => { choices.set(condition.name, choice); update(); }}),
        ' ', choice);
    })));

  const assumptions = section('Assume',
    open.length ? groups : h('p', {class: 'note'}, 'No condition is open.'),
    settled.length ? table('Other conditions (resolved, or derived from others)', [
      {label: 'Condition', value: (c) => c.name},
      {label: 'State', value: conditionState},
      {label: 'Made of', value: (c) => c.when ?? ''},
    ], settled, {rowKey: (c) => c.name}) : null);
  const outcome = sectionWide('Requirements: low – high', errorLine, results);
  await update();
  const cards = [assumptions];
  if (session.canWrite && open.length) {
    cards.push(writeSection('Resolve a condition',
      h('p', {class: 'note'}, 'A resolution is final: the pledges that hang on the condition post or void at once.'),
      open.map(resolveForm)));
  }
  return h('div', {class: 'cards'}, ...cards, outcome);
}
