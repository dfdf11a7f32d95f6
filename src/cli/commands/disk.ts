import { open } from 'node:fs/promises';
import type { CliIo, CommandGroup } from '../command.js';
import { parseCommandArgs, requireOption } from '../args.js';
import { UsageError } from '../../errors.js';
import { dekFromHexBytes } from '../../crypto/dek.js';
import { zero } from '../../crypto/guards.js';
import { formatBytes } from '../../disk/units.js';
import {
  DEFAULT_KEYSLOT_ITERATIONS, DiskError, createEncryptedDisk, decryptDisk, diskInfo, encryptDisk, rekeyDisk,
  type BulkResult, type DiskInfo, type DiskProgress,
} from '../../disk/index.js';

const USAGE = {
  create: 'vmcrypt disk create FILE --size SIZE --key-file K [--iterations N] [--json]',
  encrypt: 'vmcrypt disk encrypt SRC DST --key-file K [--iterations N] [--json]',
  decrypt: 'vmcrypt disk decrypt SRC DST --key-file K [--json]',
  rekey: 'vmcrypt disk rekey FILE --key-file OLD --new-key-file NEW [--deep] [--iterations N] [--json]',
  info: 'vmcrypt disk info FILE [--json]',
} as const;

const HELP = [
  'usage: vmcrypt disk <command> …   (LUKS1 disk files QEMU opens with the key file\'s hex as its secret)',
  '',
  ...Object.values(USAGE).map((u) => `  ${u}`),
  '',
  'A key file holds the 64 hex characters of a DEK; keys are never taken on the command line.',
  `SIZE accepts bytes or K/M/G/T suffixes (powers of 1024). Default keyslot PBKDF2 iterations: ${DEFAULT_KEYSLOT_ITERATIONS}.`,
].join('\n');

/** Reads a key file: at most 4 KiB, exactly 64 hex characters (whitespace around allowed). */
async function readKeyFile(path: string): Promise<Buffer> {
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

export function parseSize(text: string): number {
  const m = /^(\d+)\s*([KMGT]?)(i?B)?$/i.exec(text.trim());
  if (m === null) throw new UsageError(`invalid size ${JSON.stringify(text)} (examples: 1073741824, 512M, 20G)`);
  const mult = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[(m[2] ?? '').toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  const n = Number(m[1]) * mult;
  if (!Number.isSafeInteger(n) || n <= 0 || n % 512 !== 0) throw new UsageError(`size must be a positive multiple of 512 bytes`);
  return n;
}

function parseIterations(v: string | boolean | undefined): number | undefined {
  if (typeof v !== 'string') return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError('--iterations must be a whole number');
  return Number(v);
}

function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** Progress bar with rate and ETA on a terminal (stderr), nothing otherwise. */
function progressBar(io: CliIo): { onProgress?: (p: DiskProgress) => void; finish: () => void } {
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
          `${formatBytes(p.doneBytes)}/${formatBytes(p.totalBytes)} ${formatBytes(rate)}/s ETA ${clock(eta)}  `,
      );
      drawn = true;
    },
    finish() {
      if (drawn) process.stderr.write('\n');
      drawn = false;
    },
  };
}

function printResult(io: CliIo, json: boolean, what: string, r: BulkResult, extra: Record<string, unknown> = {}): void {
  if (json) {
    io.out(JSON.stringify({ ok: true, ...extra, bytes: r.bytes, holeBytes: r.holeBytes, seconds: Number(r.seconds.toFixed(3)) }));
    return;
  }
  const rate = r.seconds > 0 ? r.bytes / r.seconds : 0;
  io.out(`${what}: ${formatBytes(r.bytes)} in ${r.seconds.toFixed(2)} s (${formatBytes(rate)}/s, ${formatBytes(r.holeBytes)} left as holes)`);
}

function printInfo(io: CliIo, info: DiskInfo): void {
  io.out(`file:            ${info.path}`);
  io.out(`format:          LUKS1 (${info.cipher}, ${info.masterKeyBits}-bit master key, ${info.hash})`);
  io.out(`uuid:            ${info.uuid}`);
  io.out(`virtual size:    ${formatBytes(info.virtualSizeBytes)} (${info.virtualSizeBytes} bytes)`);
  io.out(`payload offset:  ${info.payloadOffsetBytes} bytes`);
  io.out(`file size:       ${formatBytes(info.fileSizeBytes)}, allocated ${formatBytes(info.allocatedBytes)}`);
  io.out(`mk digest iters: ${info.mkDigestIterations}`);
  for (const k of info.keyslots) {
    io.out(`keyslot ${k.index}:       ${k.active ? `ENABLED (${k.iterations} PBKDF2 iterations, material at sector ${k.keyMaterialOffsetSectors})` : 'disabled'}`);
  }
}

async function run(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const notice = (m: string): void => io.err(`vmcrypt disk: ${m}`);
  switch (sub) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      io.out(HELP);
      return sub === undefined ? 2 : 0;
    case 'create': {
      const { values, positionals } = parseCommandArgs(rest, {
        size: { type: 'string' }, 'key-file': { type: 'string' }, iterations: { type: 'string' }, json: { type: 'boolean' },
      }, USAGE.create);
      const [file] = positionals;
      if (file === undefined || positionals.length !== 1) throw new UsageError(`expected FILE\nusage: ${USAGE.create}`);
      const size = parseSize(requireOption(values.size, '--size', USAGE.create));
      const dek = await readKeyFile(requireOption(values['key-file'], '--key-file', USAGE.create));
      try {
        const iterations = parseIterations(values.iterations);
        const info = await createEncryptedDisk({ path: file, sizeBytes: size, dek, ...(iterations === undefined ? {} : { iterations }) });
        if (values.json === true) io.out(JSON.stringify(info));
        else io.out(`created ${file}: LUKS1 ${info.cipher}, virtual size ${formatBytes(info.virtualSizeBytes)}`);
      } finally {
        zero(dek);
      }
      return 0;
    }
    case 'encrypt':
    case 'decrypt': {
      const usage = USAGE[sub];
      const { values, positionals } = parseCommandArgs(rest, {
        'key-file': { type: 'string' }, iterations: { type: 'string' }, json: { type: 'boolean' },
      }, usage);
      const [src, dst] = positionals;
      if (src === undefined || dst === undefined || positionals.length !== 2) throw new UsageError(`expected SRC and DST\nusage: ${usage}`);
      const dek = await readKeyFile(requireOption(values['key-file'], '--key-file', usage));
      const bar = progressBar(io);
      try {
        const iterations = parseIterations(values.iterations);
        const common = { src, dst, dek, onNotice: notice, ...(bar.onProgress === undefined ? {} : { onProgress: bar.onProgress }) };
        const r = sub === 'encrypt'
          ? await encryptDisk({ ...common, ...(iterations === undefined ? {} : { iterations }) })
          : await decryptDisk(common);
        bar.finish();
        printResult(io, values.json === true, `${sub}ed ${src} → ${dst}`, r, { src, dst });
      } finally {
        bar.finish();
        zero(dek);
      }
      return 0;
    }
    case 'rekey': {
      const { values, positionals } = parseCommandArgs(rest, {
        'key-file': { type: 'string' }, 'new-key-file': { type: 'string' }, deep: { type: 'boolean' },
        iterations: { type: 'string' }, json: { type: 'boolean' },
      }, USAGE.rekey);
      const [file] = positionals;
      if (file === undefined || positionals.length !== 1) throw new UsageError(`expected FILE\nusage: ${USAGE.rekey}`);
      const oldDek = await readKeyFile(requireOption(values['key-file'], '--key-file', USAGE.rekey));
      let newDek: Buffer | undefined;
      const bar = progressBar(io);
      try {
        newDek = await readKeyFile(requireOption(values['new-key-file'], '--new-key-file', USAGE.rekey));
        const iterations = parseIterations(values.iterations);
        const mode = values.deep === true ? 'deep' : 'shallow';
        const r = await rekeyDisk({
          path: file, oldDek, newDek, mode, onNotice: notice,
          ...(iterations === undefined ? {} : { iterations }),
          ...(bar.onProgress === undefined ? {} : { onProgress: bar.onProgress }),
        });
        bar.finish();
        printResult(io, values.json === true, `${mode} rekey of ${file}`, r, { file, mode });
      } finally {
        bar.finish();
        zero(oldDek, newDek);
      }
      return 0;
    }
    case 'info': {
      const { values, positionals } = parseCommandArgs(rest, { json: { type: 'boolean' } }, USAGE.info);
      const [file] = positionals;
      if (file === undefined || positionals.length !== 1) throw new UsageError(`expected FILE\nusage: ${USAGE.info}`);
      const info = await diskInfo(file);
      if (values.json === true) io.out(JSON.stringify(info));
      else printInfo(io, info);
      return 0;
    }
    default:
      throw new UsageError(`unknown disk command '${sub}'\n${HELP}`);
  }
}

export const diskCommands: CommandGroup = {
  name: 'disk',
  summary: 'encrypted disk files (LUKS1): create, encrypt, decrypt, rekey, info',
  run,
};
