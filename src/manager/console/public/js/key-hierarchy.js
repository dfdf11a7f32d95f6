// @ts-check
import { s } from './dom.js';
import { disksOf, providerOf } from './vm-state.js';

/** @typedef {import('./vm-state.js').Vm} Vm */

const COL_X = [10, 200, 390, 580];
const BOX_W = 170;
const BOX_H = 40;
const ROW = 52;
const COLUMNS = ['Key provider', 'KEK (in the KMS)', 'DEK (wrapped in .vmx)', 'Protects'];

/** @param {string} id */
const shortId = (id) => (id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-5)}` : id);

/**
 * The VM's key hierarchy as an SVG picture: provider → KEK(s) → one DEK per VM home and per
 * disk layer → what each DEK encrypts. Key ids only (the manager never has key bytes); a DEK
 * is drawn as a role, since only the host ever unwraps it.
 * @param {Vm} vm
 * @param {import('./vm-state.js').EncryptionInfo | null} [info]
 * @returns {SVGElement}
 */
export function keyHierarchySvg(vm, info) {
  /** @type {Array<{ dek: string, file: string, keyId?: string }>} */
  const rows = [];
  const home = vm.observed.keys.find((k) => k.part === 'vm');
  if (home !== undefined) rows.push({ dek: 'VM home DEK', file: '.vmx · NVRAM · logs', keyId: home.key.keyId });
  for (const d of disksOf(vm, info)) {
    for (const l of d.layers) rows.push({ dek: d.layers.length > 1 ? `DEK ${d.name} · layer` : `DEK ${d.name}`, file: l.name, ...(l.key === undefined ? {} : { keyId: l.key.keyId }) });
  }
  const keks = [...new Set(rows.map((r) => r.keyId).filter((k) => k !== undefined))];
  const height = Math.max(rows.length, keks.length, 1) * ROW + 40;
  const svg = s('svg', { class: 'key-hierarchy', id: 'key-hierarchy', viewBox: `0 0 ${COL_X[3] + BOX_W + 10} ${height}`, role: 'img', 'aria-label': 'Key hierarchy of this VM' });
  COLUMNS.forEach((t, i) => svg.append(s('text', { x: COL_X[i] ?? 0, y: 14, class: 'col-title' }, t)));

  if (!vm.observed.encrypted || rows.length === 0) {
    svg.append(box(COL_X[0] ?? 0, 30, 'Not encrypted', 'no KEK, no DEK', 'muted'));
    return svg;
  }
  const y = (/** @type {number} */ i) => 30 + i * ROW;
  const kekRow = new Map(keks.map((k, i) => [k, i]));
  const providerY = y(Math.floor((keks.length - 1) / 2));
  for (const [, i] of kekRow) svg.append(edge(COL_X[0] ?? 0, providerY, COL_X[1] ?? 0, y(i)));
  rows.forEach((r, i) => {
    const from = r.keyId === undefined ? undefined : kekRow.get(r.keyId);
    if (from !== undefined) svg.append(edge(COL_X[1] ?? 0, y(from), COL_X[2] ?? 0, y(i)));
    svg.append(edge(COL_X[2] ?? 0, y(i), COL_X[3] ?? 0, y(i)));
  });
  svg.append(box(COL_X[0] ?? 0, providerY, providerOf(vm), 'key provider', 'provider'));
  for (const [k, i] of kekRow) svg.append(box(COL_X[1] ?? 0, y(i), shortId(k), 'AES-256 KEK', 'kek', k));
  rows.forEach((r, i) => {
    svg.append(box(COL_X[2] ?? 0, y(i), r.dek, 'AES-256, wrapped by KEK', 'dek'));
    svg.append(box(COL_X[3] ?? 0, y(i), r.file, 'encrypted data', 'layer'));
  });
  return svg;
}

/** @param {number} x @param {number} y @param {string} title @param {string} sub @param {string} kind @param {string} [full] */
function box(x, y, title, sub, kind, full) {
  return s('g', { class: `node ${kind}` },
    s('title', null, full ?? title),
    s('rect', { x, y, width: BOX_W, height: BOX_H, rx: 6 }),
    s('text', { x: x + 8, y: y + 17, class: 'node-title' }, title.length > 22 ? `${title.slice(0, 21)}…` : title),
    s('text', { x: x + 8, y: y + 32, class: 'node-sub' }, sub));
}

/** @param {number} x1 @param {number} y1 @param {number} x2 @param {number} y2 */
function edge(x1, y1, x2, y2) {
  const a = x1 + BOX_W;
  const mid = (a + x2) / 2;
  return s('path', { class: 'edge', d: `M${a},${y1 + BOX_H / 2} C${mid},${y1 + BOX_H / 2} ${mid},${y2 + BOX_H / 2} ${x2},${y2 + BOX_H / 2}` });
}
