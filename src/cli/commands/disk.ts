import type { CliIo, CommandGroup } from '../command.js';
import { parseCommandArgs, requireOption } from '../args.js';
import { UsageError } from '../../errors.js';
import { zero } from '../../crypto/guards.js';
import { formatBytes } from '../../disk/units.js';
import {
  DEFAULT_KEYSLOT_ITERATIONS, createEncryptedDisk, decryptDisk, diskInfo, encryptDisk, rekeyDisk, type DiskInfo,
} from '../../disk/index.js';
import { printResult, progressBar, readKeyFile } from './disk-io.js';
import { IN_PLACE_USAGE, runInPlaceCommand, wantsInPlace } from './disk-inplace.js';
import { groupSummary } from './summaries.js';

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
  ...Object.values(IN_PLACE_USAGE).map((u) => `  ${u}`),
  '',
  'In place (--in-place): no second copy; rerun the same command to resume after a crash, --abort to roll back.',
  'A key file holds the 64 hex characters of a DEK; keys are never taken on the command line.',
  `SIZE accepts bytes or K/M/G/T suffixes (powers of 1024). Default keyslot PBKDF2 iterations: ${DEFAULT_KEYSLOT_ITERATIONS}.`,
].join('\n');

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
      if (wantsInPlace(rest)) return runInPlaceCommand(sub, rest, io, notice);
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
      if (wantsInPlace(rest)) return runInPlaceCommand(sub, rest, io, notice);
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
  summary: groupSummary('disk'),
  run,
};
