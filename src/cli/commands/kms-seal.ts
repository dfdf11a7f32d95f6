import { resolve } from 'node:path';
import type { CliIo } from '../command.js';
import { parseCommandArgs, requireOption } from '../args.js';
import { UsageError } from '../../errors.js';
import { kmsPaths } from '../../kms/data-dir.js';
import { KmsError } from '../../kms/errors.js';
import { adminRequest, type AdminResponse } from '../../kms/unseal/admin-socket.js';
import { sealMigrate } from '../../kms/unseal/seal-migrate.js';
import type { MasterKeyUnlock } from '../../kms/unseal/unlock.js';

/** `vmcrypt kms unseal | status | seal-migrate`: the sealed master key (docs/kms.md, "Sealed start"). */
export const KMS_SEAL_USAGE = {
  unseal: 'vmcrypt kms unseal (--data DIR | --admin-socket PATH) [--share SHARE]…   (without --share: one share per line on stdin)',
  status: 'vmcrypt kms status (--data DIR | --admin-socket PATH) [--json]',
  'seal-migrate': 'vmcrypt kms seal-migrate --data DIR [--shares 5 --threshold 3] [--auto-unseal-file F] [--json]',
  'rotate-master': 'vmcrypt kms rotate-master (--data DIR | --admin-socket PATH) (--share S… | --auto-unseal-file F)   (online; progress; rerun to resume)',
} as const;

/** --shares/--threshold with Vault's defaults (5 and 3). */
export function shareCounts(values: { shares?: string | undefined; threshold?: string | undefined }, usage: string): { shares: number; threshold: number } {
  const shares = values.shares === undefined ? 5 : Number(values.shares);
  const threshold = values.threshold === undefined ? Math.min(3, shares) : Number(values.threshold);
  if (!Number.isInteger(shares) || !Number.isInteger(threshold) || threshold < 2 || shares < threshold || shares > 16) {
    throw new UsageError(`--shares and --threshold must satisfy 2 <= threshold <= shares <= 16\nusage: ${usage}`);
  }
  return { shares, threshold };
}

/** --auto-unseal-file F or --share S… for offline commands that need the master key. */
export function unlockFlags(values: { 'auto-unseal-file'?: string | undefined; share?: string[] | undefined }): MasterKeyUnlock | undefined {
  if (values['auto-unseal-file'] !== undefined) return { autoUnsealFile: values['auto-unseal-file'] };
  if (values.share !== undefined && values.share.length > 0) return { shares: values.share };
  return undefined;
}

/** Prints the shares once, with the warning an operator must read. */
export function printShares(io: CliIo, shares: readonly string[], threshold: number): void {
  io.out(`unseal shares (${threshold} of ${shares.length} unseal the KMS; shown ONCE, stored nowhere — give one to each key holder):`);
  shares.forEach((s, i) => io.out(`  share ${i + 1}: ${s}`));
}

function socketOf(values: { data?: string | undefined; 'admin-socket'?: string | undefined }, usage: string): string {
  if (values['admin-socket'] !== undefined) return values['admin-socket'];
  return kmsPaths(requireOption(values.data, '--data', usage)).adminSocket;
}

function describe(r: AdminResponse): string {
  if ('error' in r) return `${r.error.code}: ${r.error.message}`;
  return r.sealed ? `sealed (${r.given} of ${r.threshold} shares entered)` : 'unsealed';
}

async function readStdinLines(): Promise<string[]> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin) {
    const b = c as Buffer;
    size += b.length;
    if (size > 64 * 1024) throw new UsageError('too much input on stdin (one share per line expected)');
    chunks.push(b);
  }
  const buf = Buffer.concat(chunks);
  const lines = buf.toString('utf8').split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  buf.fill(0);
  return lines;
}

async function unseal(args: readonly string[], io: CliIo): Promise<number> {
  const usage = KMS_SEAL_USAGE.unseal;
  const { values } = parseCommandArgs(args, { data: { type: 'string' }, 'admin-socket': { type: 'string' }, share: { type: 'string', multiple: true } }, usage);
  const sock = socketOf(values, usage);
  const shares = values.share ?? (await readStdinLines());
  if (shares.length === 0) throw new UsageError(`give at least one share\nusage: ${usage}`);
  let last: AdminResponse = await adminRequest(sock, { op: 'status' });
  for (const share of shares) {
    last = await adminRequest(sock, { op: 'unseal', share });
    io.out(describe(last));
    if ('error' in last) return 1;
    if (!last.sealed) break;
  }
  return 'error' in last || last.sealed ? 2 : 0;
}

async function status(args: readonly string[], io: CliIo): Promise<number> {
  const usage = KMS_SEAL_USAGE.status;
  const { values } = parseCommandArgs(args, { data: { type: 'string' }, 'admin-socket': { type: 'string' }, json: { type: 'boolean' } }, usage);
  const r = await adminRequest(socketOf(values, usage), { op: 'status' });
  io.out(values.json === true ? JSON.stringify(r) : describe(r));
  return 'error' in r ? 1 : r.sealed ? 2 : 0;
}

async function migrate(args: readonly string[], io: CliIo): Promise<number> {
  const usage = KMS_SEAL_USAGE['seal-migrate'];
  const { values } = parseCommandArgs(
    args,
    { data: { type: 'string' }, shares: { type: 'string' }, threshold: { type: 'string' }, 'auto-unseal-file': { type: 'string' }, json: { type: 'boolean' } },
    usage,
  );
  const dir = requireOption(values.data, '--data', usage);
  const { shares, threshold } = shareCounts(values, usage);
  const running = await adminRequest(kmsPaths(dir).adminSocket, { op: 'status' }, 2000).then(() => true, () => false);
  if (running) throw new KmsError('CONFIG_INVALID', `a KMS is serving ${dir}: stop it first (seal-migrate rewrites its master key file)`);
  const out = await sealMigrate(kmsPaths(dir), shares, threshold, values['auto-unseal-file']);
  if (values.json === true) io.out(JSON.stringify({ dataDir: dir, shares: out, threshold }, null, 2));
  else {
    io.out(`sealed the master key of ${dir}; master.key and pki/ca.key were overwritten and removed`);
    printShares(io, out, threshold);
  }
  return 0;
}

async function rotate(args: readonly string[], io: CliIo): Promise<number> {
  const usage = KMS_SEAL_USAGE['rotate-master'];
  const { values } = parseCommandArgs(args, { data: { type: 'string' }, 'admin-socket': { type: 'string' }, share: { type: 'string', multiple: true }, 'auto-unseal-file': { type: 'string' } }, usage);
  const sock = socketOf(values, usage);
  const unlock = unlockFlags(values);
  if (unlock === undefined) throw new UsageError(`give the unseal shares (--share …) or --auto-unseal-file\nusage: ${usage}`);
  // The file path goes to the server as given: it reads it itself (same user, same machine).
  const req = 'shares' in unlock ? { op: 'rotate' as const, shares: unlock.shares } : { op: 'rotate' as const, autoUnsealFile: resolve(unlock.autoUnsealFile) };
  let r = await adminRequest(sock, req);
  let shown = '';
  for (;;) {
    if ('error' in r) {
      io.out(describe(r));
      return 1;
    }
    const rot = r.rotation;
    const line = rot === undefined ? 'no rotation' : `master-key rotation ${rot.state}: ${rot.done}/${rot.total} records re-sealed${rot.error === undefined ? '' : ` (${rot.error})`}`;
    if (line !== shown) io.out(line);
    shown = line;
    if (rot === undefined || rot.state === 'done') return 0;
    if (rot.state === 'failed') return 1;
    await new Promise((res) => setTimeout(res, 200));
    r = await adminRequest(sock, { op: 'status' });
  }
}

export async function kmsSealCommand(verb: 'unseal' | 'status' | 'seal-migrate' | 'rotate-master', args: readonly string[], io: CliIo): Promise<number> {
  if (verb === 'rotate-master') return rotate(args, io);
  if (verb === 'unseal') return unseal(args, io);
  if (verb === 'status') return status(args, io);
  return migrate(args, io);
}
