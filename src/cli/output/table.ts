/** A column of a human table: its heading and how to read the cell from a row. */
export interface Column<T> {
  readonly title: string;
  readonly cell: (row: T) => string | number | boolean | undefined;
}

const MAX_CELL = 80;

function text(v: string | number | boolean | undefined): string {
  if (v === undefined || v === '') return '-';
  const s = String(v).replace(/[\r\n\t]+/g, ' ');
  return s.length > MAX_CELL ? `${s.slice(0, MAX_CELL - 1)}…` : s;
}

/** Rows as aligned text columns (the shape `kubectl get` users expect); "(none)" when empty. */
export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string[] {
  if (rows.length === 0) return ['(none)'];
  const cells = rows.map((r) => columns.map((c) => text(c.cell(r))));
  const widths = columns.map((c, i) => Math.max(c.title.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (parts: readonly string[]): string => parts.map((p, i) => (i === parts.length - 1 ? p : p.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(columns.map((c) => c.title.toUpperCase())), ...cells.map(line)];
}

/** `key: value` lines, aligned, for one object. */
export function formatFields(fields: readonly (readonly [string, string | number | boolean | undefined])[]): string[] {
  const w = Math.max(...fields.map(([k]) => k.length));
  return fields.map(([k, v]) => `${`${k}:`.padEnd(w + 2)}${text(v)}`);
}
