// The Conditions page: what-if over the conditions that pledges hang on.
// Each open base condition can be assumed open, met or failed (a radio
// group); every change asks POST /v1/scenario with the assumptions and shows
// each requirement's low–high range. Derived conditions (those with `when`)
// follow from their parts and are listed without a choice, as are conditions
// already resolved. The forecast (GET /v1/forecast) shows each requirement's
// probability of being met as a bar. Reads GET /v1/conditions and
// GET /v1/requirements; after a resolution the page reads everything again.

import {api} from '../api.js';
import {h, table, section, sectionWide} from '../dom.js';
import {formatAmount, formatPercent, formatProbability} from '../format.js';
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

// One horizontal bar per requirement, its width the probability of meeting
// the target (p_met), labelled with the percentage.
function forecastBars(forecast, titles) {
  const rows = forecast.requirements ?? [];
  if (rows.length === 0) return h('p', {class: 'note'}, 'No requirement is defined.');
  return h('ul', {class: 'forecast', 'aria-label': 'Probability of meeting each requirement'},
    rows.map((r) => {
      const percent = formatPercent(r.p_met);
      const width = Math.min(100, Math.max(0, (r.p_met ?? 0) * 100));
      const labelId = `forecast-${r.id}`;
      const fill = h('span', {class: 'bar-fill'});
      fill.style.width = `${width}%`;
      return h('li', {class: 'forecast-row', dataset: {requirement: r.id}},
        h('span', {class: 'forecast-label', id: labelId}, titles.get(r.id) ?? r.id),
        h('span', {class: 'bar', role: 'meter', 'aria-labelledby': labelId, 'aria-valuemin': '0',
                   'aria-valuemax': '100', 'aria-valuenow': width.toFixed(1), 'aria-valuetext': percent},
          fill),
        h('span', {class: 'forecast-percent', dataset: {percent: ''}}, percent),
        h('span', {class: 'forecast-expected note'},
          `expected ${formatAmount(Math.round(r.expected ?? 0), r.unit)} of ${formatAmount(r.target, r.unit)} ${r.unit}`));
    }));
}

// Resolving is for writers only; the server checks the condition's authority
// (an editor of another party gets `forbidden`, shown under the form).
function resolveForm(condition, resolved) {
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
      resolved(condition.name);
    },
  }).form;
}

export async function render(session) {
  const container = h('div', {class: 'cards'});
  const results = h('div', {class: 'scenario', 'aria-live': 'polite'});
  const errorLine = h('p', {class: 'error', role: 'alert'});
  const reloadError = h('p', {class: 'error', role: 'alert'});
  const forms = new Map();          // condition name → its Resolve form
  const resolvedHere = new Set();   // resolved from this page: their forms stay, with the result
  let titles = new Map();
  let choices = new Map();
  let asked = 0; // answers to older requests are dropped
  let loads = 0;

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

  function resolved(name) {
    resolvedHere.add(name);
    load().catch((error) => { reloadError.textContent = error.message; });
  }

  // Reads the conditions, requirements and forecast and builds every card;
  // an assumption already chosen for a condition still open is kept.
  async function load() {
    const mine = ++loads;
    const [conditions, requirements, forecast] = await Promise.all([
      api('/v1/conditions'), api('/v1/requirements'), api('/v1/forecast')]);
    if (mine !== loads) return;
    reloadError.textContent = '';
    titles = new Map(requirements.map((r) => [r.id, r.title]));
    const open = conditions.filter((c) => c.state === 'open' && !c.when);
    const settled = conditions.filter((c) => !(c.state === 'open' && !c.when));
    choices = new Map(open.map((c) => [c.name, choices.get(c.name) ?? 'open']));

    const groups = open.map((condition) => h('fieldset', {class: 'choice', dataset: {condition: condition.name}},
      h('legend', {}, `${condition.name}: ${condition.title ?? ''} (p = ${formatProbability(condition.probability)})`),
      CHOICES.map((choice) => {
        const id = `assume-${condition.name}-${choice}`;
        return h('label', {for: id},
          h('input', {type: 'radio', id, name: `assume-${condition.name}`, value: choice,
                      checked: choice === choices.get(condition.name),
                      onchange: () => { choices.set(condition.name, choice); update(); }}),
          ' ', choice);
      })));

    const assumptions = section('Assume', reloadError,
      open.length ? groups : h('p', {class: 'note'}, 'No condition is open.'),
      settled.length ? table('Other conditions (resolved, or derived from others)', [
        {label: 'Condition', value: (c) => c.name},
        {label: 'State', value: conditionState},
        {label: 'Made of', value: (c) => c.when ?? ''},
      ], settled, {rowKey: (c) => c.name}) : null);
    const outcome = sectionWide('Requirements: low – high', errorLine, results);
    const chances = sectionWide('Forecast: probability of meeting each requirement',
      h('p', {class: 'note'}, `Each open condition is met with its probability (${forecast.method === 'exact'
        ? `exact, over ${forecast.samples} assignments` : `${forecast.samples} samples`}).`),
      forecastBars(forecast, titles));
    chances.dataset.forecast = '';
    await update();
    if (mine !== loads) return;
    const cards = [assumptions];
    if (session.canWrite) {
      const shown = [];
      for (const condition of conditions) {
        if (condition.when) continue;
        if (condition.state === 'open') {
          if (!forms.has(condition.name)) forms.set(condition.name, resolveForm(condition, resolved));
          shown.push(forms.get(condition.name));
        } else if (resolvedHere.has(condition.name) && forms.has(condition.name)) {
          shown.push(forms.get(condition.name));
        }
      }
      if (shown.length) {
        cards.push(writeSection('Resolve a condition',
          h('p', {class: 'note'}, 'A resolution is final: the pledges that hang on the condition post or void at once.'),
          shown));
      }
    }
    container.replaceChildren(...cards, outcome, chances);
    container.dataset.loads = String(mine);
  }

  await load();
  return container;
}
