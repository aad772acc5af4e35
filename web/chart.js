// Charts drawn with uPlot (web/vendor/uPlot.iife.min.js, the global
// `uPlot`): bar charts (one bar per category, or a pair of bars side by side
// when two series are given) and line charts over months or days. Each
// chart is a labelled image for assistive technology; the same figures are
// always in a table beside it.

import {h} from './dom.js';
import {formatCompact} from './format.js';

const COLORS = ['#0b5cad', '#d97706', '#1d6b32'];
const LINE_COLORS = ['#0b5cad', '#d97706', '#1d6b32', '#9d174d', '#6d28d9', '#525252'];
const HEIGHT_PX = 260;

// Draws the plot into its container, fitted to the card now and whenever the
// layout changes.
function plotInto(container, options, data) {
  const plot = new uPlot(options, data, container);
  const resize = () => {
    const width = Math.max(200, Math.floor(container.clientWidth));
    if (width !== plot.width) plot.setSize({width, height: HEIGHT_PX});
  };
  new ResizeObserver(resize).observe(container);
  requestAnimationFrame(resize);
  return container;
}

// barChart('Force by stage', ['pledged', …], [{label: 'persons', values: […]}])
export function barChart(title, categories, series) {
  const container = h('div', {class: 'chart', role: 'img', 'aria-label': title});
  if (typeof uPlot === 'undefined' || categories.length === 0) return container;
  const count = series.length;
  const xs = categories.map((_, i) => i);
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const options = {
    width: 600,
    height: HEIGHT_PX,
    legend: {show: count > 1, live: false},
    cursor: {show: false},
    scales: {
      x: {time: false, range: [-0.5, categories.length - 0.5]},
      y: {range: [0, max * 1.1]},
    },
    axes: [
      {splits: () => xs, values: (u, splits) => splits.map((i) => categories[i] ?? ''), gap: 4, size: 40},
      {values: (u, splits) => splits.map(formatCompact), size: 56},
    ],
    series: [{}].concat(series.map((s, i) => ({
      label: s.label,
      fill: COLORS[i % COLORS.length],
      stroke: COLORS[i % COLORS.length],
      width: 0,
      points: {show: false},
      paths: uPlot.paths.bars({size: [count > 1 ? 0.35 : 0.6, 80], align: count > 1 ? (i === 0 ? -1 : 1) : 0}),
    }))),
  };
  return plotInto(container, options, [xs, ...series.map((s) => s.values)]);
}

// lineChart('Persons by stage', ['2026-09', …], [{label: 'pledged', values: […]}, …]):
// one line per series over categories along x (months, days); a missing
// value (null) leaves a gap.
export function lineChart(title, categories, series) {
  const container = h('div', {class: 'chart', role: 'img', 'aria-label': title});
  if (typeof uPlot === 'undefined' || categories.length === 0) return container;
  const xs = categories.map((_, i) => i);
  const max = Math.max(1, ...series.flatMap((s) => s.values.filter((v) => v !== null)));
  const step = Math.max(1, Math.ceil(categories.length / 8));
  const options = {
    width: 600,
    height: HEIGHT_PX,
    legend: {show: true, live: false},
    cursor: {show: false},
    scales: {
      x: {time: false, range: [0, Math.max(1, categories.length - 1)]},
      y: {range: [0, max * 1.1]},
    },
    axes: [
      {splits: () => xs.filter((i) => i % step === 0), values: (u, splits) => splits.map((i) => categories[i] ?? ''),
       gap: 4, size: 40},
      {values: (u, splits) => splits.map(formatCompact), size: 56},
    ],
    series: [{}].concat(series.map((s, i) => ({
      label: s.label,
      stroke: LINE_COLORS[i % LINE_COLORS.length],
      width: 2,
      points: {show: categories.length <= 24},
    }))),
  };
  return plotInto(container, options, [xs, ...series.map((s) => s.values)]);
}
