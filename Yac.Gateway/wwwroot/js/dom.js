// Tiny DOM helpers. Every piece of user content goes through textContent (via `h` children or
// `text`), never through innerHTML: a message like "<img src=x onerror=...>" stays text.

/**
 * Creates an element. `props` sets properties (className, type, value, ...), `attrs` attributes,
 * `on` event listeners; children are nodes or strings (strings become text nodes).
 */
export function h(tag, options = {}, ...children) {
  const element = document.createElement(tag);
  const { attrs, on, dataset, text, ...props } = options;
  Object.assign(element, props);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value !== undefined && value !== null && value !== false) element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const [name, value] of Object.entries(dataset ?? {})) element.dataset[name] = String(value);
  for (const [type, listener] of Object.entries(on ?? {})) element.addEventListener(type, listener);
  if (text !== undefined) element.textContent = text;
  append(element, children);
  return element;
}

export function append(parent, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
  return parent;
}

export function clear(element) {
  element.replaceChildren();
  return element;
}

export function $(selector, root = document) {
  const element = root.querySelector(selector);
  if (!element) throw new Error(`Missing element ${selector}`);
  return element;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' });
const shortDayFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });

export function formatTime(iso) {
  return timeFormat.format(new Date(iso));
}

export function dayKey(iso) {
  const date = new Date(iso);
  return `${date.getFullYear()}-${date.getMonth()}-${date.getDate()}`;
}

export function formatDay(iso) {
  const date = new Date(iso);
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (dayKey(date.toISOString()) === dayKey(today.toISOString())) return 'Today';
  if (dayKey(date.toISOString()) === dayKey(yesterday.toISOString())) return 'Yesterday';
  return dayFormat.format(date);
}

/** Time for the chat list: the clock time today, the date before. */
export function formatListTime(iso) {
  const date = new Date(iso);
  return dayKey(iso) === dayKey(new Date().toISOString()) ? timeFormat.format(date) : shortDayFormat.format(date);
}

export function initials(name) {
  const words = String(name ?? '').trim().split(/[\s._-]+/).filter(Boolean);
  if (words.length === 0) return '?';
  // Whole characters (an emoji or accented letter is one), not UTF-16 halves.
  const first = (word) => [...word][0];
  return (words.length > 1 ? first(words[0]) + first(words[1]) : first(words[0])).toUpperCase();
}

/** A stable colour slot (0-7) for an id, so a person keeps their avatar colour everywhere. */
export function colorSlot(id) {
  let hash = 0;
  for (const char of String(id)) hash = (hash * 31 + char.charCodeAt(0)) | 0;
  return Math.abs(hash) % 8;
}

export function avatar(id, name, { online = false, size = '' } = {}) {
  return h('span', { className: `avatar c${colorSlot(id)} ${size}`.trim(), attrs: { 'aria-hidden': 'true' } },
    initials(name),
    h('span', { className: online ? 'presence online' : 'presence' }));
}

/** Shows a short, polite notice at the bottom of the screen. */
export function toast(message, { error = false } = {}) {
  const region = document.getElementById('toasts');
  if (!region) return;
  const item = h('div', { className: error ? 'toast error' : 'toast', attrs: { role: error ? 'alert' : 'status' } }, message);
  region.append(item);
  setTimeout(() => item.remove(), 5000);
}

const circle = 'M22 12a10 10 0 1 1-20 0a10 10 0 1 1 20 0';
const iconPaths = {
  plus: ['M12 5v14', 'M5 12h14'],
  send: ['M22 2 11 13', 'M22 2 15 22 11 13 2 9z'],
  signOut: ['M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4', 'M16 17l5-5-5-5', 'M21 12H9'],
  join: ['M15 3h4a2 2 0 0 1 2 2v14a2 2 0 0 1-2 2h-4', 'M10 17l5-5-5-5', 'M15 12H3'],
  back: ['M15 18l-6-6 6-6'],
  info: [circle, 'M12 16v-4', 'M12 8h.01'],
  check: ['M20 6 9 17l-5-5'],
  checks: ['M18 6 7 17l-5-5', 'M22 10l-7.5 7.5L13 16'],
  clock: [circle, 'M12 6v6l4 2'],
  alert: [circle, 'M12 8v4', 'M12 16h.01'],
  close: ['M18 6 6 18', 'M6 6l12 12'],
  more: ['M12 12h.01', 'M19 12h.01', 'M5 12h.01'],
};

/** A decorative stroke icon (the accessible name goes on the button or a label beside it). */
export function icon(name) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  for (const [key, value] of Object.entries({ viewBox: '0 0 24 24', width: '20', height: '20', fill: 'none', stroke: 'currentColor',
    'stroke-width': '2', 'stroke-linecap': 'round', 'stroke-linejoin': 'round', 'aria-hidden': 'true', focusable: 'false', class: `icon icon-${name}` })) {
    svg.setAttribute(key, value);
  }
  for (const d of iconPaths[name]) {
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}
