// The Aid page: delivery against need per distribution point and commodity,
// and stock per stage and commodity (GET /v1/reports/aid).

import {api} from '../api.js';
import {h, table, sectionWide} from '../dom.js';
import {formatAmount, formatPercent} from '../format.js';

export const title = 'Aid';

export async function render() {
  const aid = await api('/v1/reports/aid');
  const delivery = aid.delivery ?? {points: []};
  return h('div', {class: 'cards'},
    sectionWide('Delivery against need', table(`Distribution points, ${delivery.from ?? ''} to ${delivery.to ?? ''}`, [
      {label: 'Point', value: (p) => p.name ?? p.point},
      {label: 'Commodity', value: (p) => p.commodity},
      {label: 'Unit', value: (p) => p.unit ?? ''},
      {label: 'Needed', num: true, value: (p) => formatAmount(p.need, p.unit)},
      {label: 'Delivered', num: true, value: (p) => formatAmount(p.delivered, p.unit)},
      {label: 'Shortfall', num: true, value: (p) => formatAmount(p.shortfall, p.unit)},
      {label: 'Share', num: true, value: (p) => formatPercent(p.need ? p.delivered / p.need : null)},
    ], delivery.points)),
    sectionWide('Stock by stage', table('Stock per stage and commodity', [
      {label: 'Stage', value: (s) => s.stage},
      {label: 'Commodity', value: (s) => s.commodity},
      {label: 'Quantity', num: true, value: (s) => formatAmount(s.quantity, s.unit)},
      {label: 'Unit', value: (s) => s.unit},
    ], aid.stock_by_commodity ?? [])));
}
