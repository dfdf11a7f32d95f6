import type { CliIo } from '../command.js';
import { parseCommandArgs, requireOption } from '../args.js';
import { UsageError } from '../../errors.js';
import { zero } from '../../crypto/guards.js';
import { decryptDiskInPlace, encryptDiskInPlace, rekeyDiskInPlace, type InPlaceResult } from '../../disk/index.js';
import { printResult, progressBar, readKeyFile } from './disk-io.js';

export const IN_PLACE_USAGE = {
  encrypt: 'vmcrypt disk encrypt FILE --in-place --key-file K [--abort] [--iterations N] [--json]',
  decrypt: 'vmcrypt disk decrypt FILE --in-place --key-file K [--abort] [--json]',
  rekey: 'vmcrypt disk rekey FILE --key-file OLD --new-key-file NEW --deep --in-place [--abort] [--iterations N] [--json]',
} as const;

export function wantsInPlace(args: readonly string[]): boolean {
  return args.includes('--in-place');
}

function parseIterations(v: string | boolean | undefined): number | undefined {
  if (typeof v !== 'string') return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError('--iterations must be a whole number');
  return Number(v);
}

/** `disk encrypt|decrypt|rekey --in-place`: one FILE, changed where it is; --abort rolls an interrupted run back. */
export async function runInPlaceCommand(sub: 'encrypt' | 'decrypt' | 'rekey', rest: readonly string[], io: CliIo, notice: (m: string) => void): Promise<number> {
  const usage = IN_PLACE_USAGE[sub];
  const { values, positionals } = parseCommandArgs(rest, {
    'in-place': { type: 'boolean' }, abort: { type: 'boolean' }, 'key-file': { type: 'string' }, 'new-key-file': { type: 'string' },
    deep: { type: 'boolean' }, iterations: { type: 'string' }, json: { type: 'boolean' },
  }, usage);
  const [file] = positionals;
  if (file === undefined || positionals.length !== 1) throw new UsageError(`expected one FILE (in place there is no DST)\nusage: ${usage}`);
  if (sub === 'rekey' && values.deep !== true) throw new UsageError(`a shallow rekey is always in place (O(1)); --in-place needs --deep\nusage: ${usage}`);
  if (sub !== 'rekey' && (values['new-key-file'] !== undefined || values.deep === true)) throw new UsageError(`usage: ${usage}`);
  const iterations = parseIterations(values.iterations);
  const dek = await readKeyFile(requireOption(values['key-file'], '--key-file', usage));
  let newDek: Buffer | undefined;
  const bar = progressBar(io);
  try {
    const common = {
      path: file, abort: values.abort === true, onNotice: notice,
      ...(iterations === undefined ? {} : { iterations }),
      ...(bar.onProgress === undefined ? {} : { onProgress: bar.onProgress }),
    };
    let r: InPlaceResult;
    if (sub === 'rekey') {
      newDek = await readKeyFile(requireOption(values['new-key-file'], '--new-key-file', usage));
      r = await rekeyDiskInPlace({ ...common, oldDek: dek, newDek });
    } else {
      r = sub === 'encrypt' ? await encryptDiskInPlace({ ...common, dek }) : await decryptDiskInPlace({ ...common, dek });
    }
    bar.finish();
    const what = r.aborted ? `rolled back the in-place ${sub} of ${file}` : `${sub === 'rekey' ? 'deep rekey' : `${sub}ed`} ${file} in place${r.resumed ? ' (resumed)' : ''}`;
    printResult(io, values.json === true, what, r, {
      file, inPlace: true, resumed: r.resumed, aborted: r.aborted, payloadOffsetBytes: r.payloadOffsetBytes, ...(sub === 'rekey' ? { mode: 'deep' } : {}),
    });
  } finally {
    bar.finish();
    zero(dek, newDek);
  }
  return 0;
}
