// @ts-check
/**
 * A tiny DOM builder. Text always goes in through text nodes, never parsed as HTML: VM names, event
 * messages and error texts come from the API and must not become markup.
 */

/**
 * @param {string} tag
 * @param {Record<string, unknown> | null} [attrs] on* keys are listeners; false/null/undefined are left out
 * @param {...(Node | string | number | null | undefined | false | Array<Node | string | null | undefined | false>)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * @param {string} tag
 * @param {Record<string, unknown> | null} [attrs]
 * @param {...(Node | string | null | undefined | false)} children
 * @returns {SVGElement}
 */
export function s(tag, attrs, ...children) {
  const el = /** @type {SVGElement} */ (document.createElementNS(SVG_NS, tag));
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** @param {Element} el @param {Record<string, unknown> | null | undefined} attrs */
function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), /** @type {EventListener} */ (v));
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

/** @param {Element} el @param {unknown[]} children */
function append(el, children) {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** @param {Element} el @param {...(Node | string | null | undefined | false)} children */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** A coloured pill: `kind` picks the colour class (ok, warn, bad, info, muted). */
export function badge(text, kind = 'muted', attrs = {}) {
  return h('span', { class: `badge ${kind}`, ...attrs }, text);
}

/** A shortened key id that still shows whole on hover (ids are long uuids). */
export function keyId(id) {
  const t = String(id);
  return h('code', { class: 'key-id', title: t }, t.length > 18 ? `${t.slice(0, 8)}…${t.slice(-6)}` : t);
}

/** @param {string | undefined} iso */
export function when(iso) {
  if (iso === undefined || iso === '') return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}
