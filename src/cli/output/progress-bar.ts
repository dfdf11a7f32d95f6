import { formatBytes } from '../../disk/units.js';

/** What a bar shows: the manager's task progress. */
export interface Progress {
  readonly percent: number;
  readonly bytesDone?: number;
  readonly bytesTotal?: number;
  /** Bytes per second, as the manager measured it. */
  readonly rate?: number;
  readonly message?: string;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}`;
}

/**
 * One line of a progress bar: `label [#####-----]  42%  1.2 GiB/s  ETA 00:07  message`.
 * The ETA comes from the bytes left at the manager's rate, or else from the percent per second
 * seen so far (`elapsedSeconds`).
 */
export function renderProgressLine(label: string, p: Progress, elapsedSeconds: number, width = 30): string {
  const pct = Math.max(0, Math.min(100, Number.isFinite(p.percent) ? p.percent : 0));
  const filled = Math.round((pct / 100) * width);
  const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
  const parts = [`${label} [${bar}] ${pct.toFixed(0).padStart(3)}%`];
  if (p.rate !== undefined && p.rate > 0) parts.push(`${formatBytes(p.rate)}/s`);
  let eta = Number.NaN;
  if (pct >= 100) eta = 0;
  else if (p.rate !== undefined && p.rate > 0 && p.bytesTotal !== undefined && p.bytesDone !== undefined) eta = (p.bytesTotal - p.bytesDone) / p.rate;
  else if (pct > 0 && elapsedSeconds > 0) eta = (elapsedSeconds * (100 - pct)) / pct;
  parts.push(`ETA ${formatDuration(eta)}`);
  if (p.message !== undefined && p.message !== '') parts.push(p.message.slice(0, 60));
  return parts.join('  ');
}
