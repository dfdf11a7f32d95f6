import { open } from 'node:fs/promises';
import type { CliIo } from '../command.js';
import { dekFromHexBytes } from '../../crypto/dek.js';
import { zero } from '../../crypto/guards.js';
import { formatBytes } from '../../disk/units.js';
import { formatDuration } from '../output/progress-bar.js';
import { DiskError, type BulkResult, type DiskProgress } from '../../disk/index.js';

/** Reads a key file: at most 4 KiB, exactly 64 hex characters (whitespace around allowed). */
export async function readKeyFile(path: string): Promise<Buffer> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new DiskError('DISK_NOT_FOUND', `cannot read key file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const buf = Buffer.alloc(4096);
  try {
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    if (bytesRead === buf.length) throw new DiskError('DISK_BAD_INPUT', `key file ${path} is too large for a 64-hex-character key`);
    try {
      return dekFromHexBytes(buf.subarray(0, bytesRead));
    } catch (err) {
      throw new DiskError('DISK_BAD_INPUT', `key file ${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
  } finally {
    zero(buf);
    await fh.close();
  }
}

/** Progress bar with rate and ETA on a terminal (stderr), nothing otherwise. */
export function progressBar(io: CliIo): { onProgress?: (p: DiskProgress) => void; finish: () => void } {
  if (!io.interactive) return { finish: () => undefined };
  const started = performance.now();
  let last = 0;
  let drawn = false;
  return {
    onProgress(p) {
      const now = performance.now();
      if (now - last < 200 && p.doneBytes < p.totalBytes) return;
      last = now;
      const frac = p.totalBytes === 0 ? 1 : p.doneBytes / p.totalBytes;
      const secs = (now - started) / 1000;
      const rate = secs > 0 ? p.doneBytes / secs : 0;
      const eta = rate > 0 ? (p.totalBytes - p.doneBytes) / rate : Infinity;
      const width = 30;
      const fill = Math.round(frac * width);
      process.stderr.write(
        `\r${p.phase} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% ` +
          `${formatBytes(p.doneBytes)}/${formatBytes(p.totalBytes)} ${formatBytes(rate)}/s ETA ${formatDuration(eta)}` +
          (p.position === undefined ? '  ' : ` in place at ${formatBytes(p.position)} ${p.direction === 'down' ? '↓' : '↑'}  `),
      );
      drawn = true;
    },
    finish() {
      if (drawn) process.stderr.write('\n');
      drawn = false;
    },
  };
}

export function printResult(io: CliIo, json: boolean, what: string, r: BulkResult, extra: Record<string, unknown> = {}): void {
  if (json) {
    io.out(JSON.stringify({ ok: true, ...extra, bytes: r.bytes, holeBytes: r.holeBytes, seconds: Number(r.seconds.toFixed(3)) }));
    return;
  }
  const rate = r.seconds > 0 ? r.bytes / r.seconds : 0;
  io.out(`${what}: ${formatBytes(r.bytes)} in ${r.seconds.toFixed(2)} s (${formatBytes(rate)}/s, ${formatBytes(r.holeBytes)} left as holes)`);
}

