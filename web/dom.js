// Small helpers that build the dashboard's DOM from data without innerHTML:
// everything the API returns is set as text, never parsed as markup.

// h('td', {class: 'num', dataset: {figure: 'x'}}, 'text', child, …)
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

// A table from rows: columns are {label, value(row), num?, nowrap?, key?}
// (num: aligned right; nowrap: kept on one line). Each cell of a column with
// a key carries data-col=key, each row data-row=rowKey(row), and the table
// data-table=name. `foot` is one more row, built by the same columns, in the
// table's <tfoot> (data-row="total"), its first cell a row header.
export function table(caption, columns, rows, {rowKey, name, foot} = {}) {
  const head = h('tr', {}, columns.map((c) => h('th', {scope: 'col', class: c.num ? 'num' : null}, c.label)));
  const cell = (row, c, tag) => h(tag, {class: c.num ? 'num' : c.nowrap ? 'nowrap' : null,
    scope: tag === 'th' ? 'row' : null, dataset: c.key ? {col: c.key} : undefined}, c.value(row));
  const body = rows.map((row) => h('tr', {dataset: rowKey ? {row: rowKey(row)} : undefined},
    columns.map((c) => cell(row, c, 'td'))));
  const footer = foot ? h('tfoot', {}, h('tr', {dataset: {row: 'total'}},
    columns.map((c, i) => cell(foot, c, i === 0 ? 'th' : 'td')))) : null;
  return h('div', {class: 'table-wrap'},
    h('table', {dataset: name ? {table: name} : undefined},
      h('caption', {}, caption), h('thead', {}, head), h('tbody', {}, body), footer));
}

// A definition list of figures: items are {label, value, unit?, key?}.
export function figures(items) {
  return h('dl', {class: 'figures'}, items.map((item) => h('div', {},
    h('dt', {}, item.label),
    h('dd', {}, h('span', {dataset: item.key ? {figure: item.key} : undefined}, item.value),
      item.unit ? h('span', {class: 'unit'}, ' ', item.unit) : null))));
}

export function section(title, ...children) {
  return h('section', {class: 'card'}, h('h3', {}, title), ...children);
}

// A card across the whole width, for tables with many columns.
export function sectionWide(title, ...children) {
  const card = section(title, ...children);
  card.classList.add('wide');
  return card;
}
