import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FEED_TIMEOUT_MS, SecretFifos } from './secret-fifo.js';
import { HostError } from '../errors.js';

export const QEMU_IMG = process.env['VMCRYPT_QEMU_IMG'] ?? 'qemu-img';

/**
 * LUKS keyslot PBKDF time. The passphrase is the hex of a random 256-bit DEK, so key
 * stretching adds no strength; a short iteration time keeps create/open fast.
 */
const LUKS_ITER_TIME_MS = 10;

const HEX = Buffer.from('0123456789abcdef', 'latin1');

/**
 * The LUKS passphrase QEMU gets for a layer: the 64 lowercase hex characters of its DEK, as
 * bytes. Encoded straight into a Buffer (no intermediate JS string, which could not be wiped).
 */
export function passphraseOf(dek: Buffer): Buffer {
  if (dek.length !== 32) throw new HostError('HOST_BAD_REQUEST', 'a layer DEK must be 32 bytes');
  const out = Buffer.alloc(64);
  for (let i = 0; i < 32; i++) {
    const b = dek[i] ?? 0;
    out[2 * i] = HEX[b >> 4] ?? 0;
    out[2 * i + 1] = HEX[b & 15] ?? 0;
  }
  return out;
}

/** Where qemu-img's secret FIFOs are made (a private 0700 directory, set by the agent). */
let secretDir: string | undefined;
export function setSecretDir(dir: string): void {
  secretDir = dir;
}

/**
 * Runs qemu-img; `args` may name secrets as `@SECRET<i>@`, replaced by the path of a FIFO
 * through which secret i is fed (see secret-fifo.ts). Secrets are zeroed once written.
 */
export function runQemuImg(args: readonly string[], secrets: readonly Buffer[] = []): Promise<string> {
  return runQemuTool(QEMU_IMG, args, secrets);
}

/**
 * Same as runQemuImg for another QEMU tool (`qemu-io` for support reads and tests).
 * `feedTimeoutMs`: how long the tool may take to open each secret FIFO.
 */
export async function runQemuTool(binary: string, args: readonly string[], secrets: readonly Buffer[] = [], feedTimeoutMs = FEED_TIMEOUT_MS): Promise<string> {
  // qemu-img's PBKDF calibration sometimes fails under heavy CPU contention ("Unable to get
  // accurate CPU usage"); it is harmless to retry. Copies are kept for the retries only.
  const spare = secrets.map((s) => Buffer.from(s));
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        return await runQemuToolOnce(binary, args, attempt === 1 ? secrets : spare.map((s) => Buffer.from(s)), feedTimeoutMs);
      } catch (err) {
        if (attempt >= 4 || !(err instanceof HostError) || !err.message.includes('accurate CPU usage')) throw err;
      }
    }
  } finally {
    for (const s of spare) s.fill(0);
  }
}

async function runQemuToolOnce(binary: string, args: readonly string[], secrets: readonly Buffer[], feedTimeoutMs: number): Promise<string> {
  let dir = secretDir;
  let ownDir = false;
  if (dir === undefined && secrets.length > 0) {
    dir = await mkdtemp(join(tmpdir(), 'vmcrypt-secrets-'));
    ownDir = true;
  }
  const fifos = await SecretFifos.create(dir ?? tmpdir(), secrets.length);
  try {
    const argv = args.map((a) => a.replace(/@SECRET(\d+)@/g, (_, i: string) => fifos.paths[Number(i)] ?? ''));
    const child = spawn(binary, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (c) => resolve(c));
    });
    const gone = (): boolean => child.exitCode !== null || child.signalCode !== null;
    const feeding = fifos.feed(secrets, () => !gone(), feedTimeoutMs).catch((err: unknown) => {
      // a tool that has not opened its FIFO by now would block in open() forever once we
      // stop offering the secret: end it instead of waiting for an exit that never comes
      child.kill('SIGKILL');
      return err;
    });
    const code = await exited.catch((err: Error) => {
      throw new HostError('HOST_QEMU_FAILED', `cannot run ${binary}: ${err.message}`);
    });
    const feedError = await feeding;
    if (feedError instanceof HostError && code !== 0) throw feedError;
    if (code !== 0) throw new HostError('HOST_QEMU_FAILED', `${binary} ${args[0] ?? ''} failed: ${out.trim().slice(0, 500)}`);
    return out;
  } finally {
    for (const s of secrets) s.fill(0);
    await fifos.remove();
    if (ownDir && dir !== undefined) await rm(dir, { recursive: true, force: true });
  }
}

function secretObject(id: string, index: number): string[] {
  return ['--object', `secret,id=${id},format=raw,file=@SECRET${index}@`];
}

export async function createRawDisk(path: string, sizeBytes: number): Promise<void> {
  await runQemuImg(['create', '-q', '-f', 'raw', path, String(sizeBytes)]);
}

/**
 * A qcow2 overlay on `backingFile` (a name in the same directory). With `dek` it is
 * encrypted (`encrypt.format=luks`) under its own layer DEK. `-u`: the backing chain is not
 * opened, so its keys are not needed.
 */
export async function createOverlay(
  path: string,
  backingFile: string,
  backingFormat: 'luks' | 'qcow2' | 'raw',
  sizeBytes: number,
  dek: Buffer | undefined,
): Promise<void> {
  const base = ['create', '-q', '-f', 'qcow2', '-u', '-b', backingFile, '-F', backingFormat];
  if (dek === undefined) {
    await runQemuImg([...base, path, String(sizeBytes)]);
    return;
  }
  await runQemuImg(
    [...base, ...secretObject('s0', 0), '-o', `encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=${LUKS_ITER_TIME_MS}`, path, String(sizeBytes)],
    [passphraseOf(dek)],
  );
}

export interface ChainLayer {
  readonly path: string;
  readonly format: 'luks' | 'qcow2' | 'raw';
  /** Layer DEK (encrypted layers); the caller zeroes it (only a hex copy goes to qemu-img). */
  readonly dek?: Buffer;
}

/**
 * QEMU's `json:` description of a chain (base first) with secrets s0, s1, … per encrypted
 * layer; `withBacking` false describes the top layer alone (its backing is not opened).
 */
function chainJson(chain: readonly ChainLayer[], secrets: Buffer[], ids: string[], withBacking: boolean): string {
  let node: Record<string, unknown> | null = null;
  for (const layer of chain) {
    const n: Record<string, unknown> = { driver: layer.format, file: { driver: 'file', filename: layer.path } };
    if (layer.dek !== undefined) {
      const id = `s${ids.length}`;
      ids.push(id);
      secrets.push(passphraseOf(layer.dek));
      if (layer.format === 'luks') n['key-secret'] = id;
      else n['encrypt'] = { format: 'luks', 'key-secret': id };
    }
    if (layer.format === 'qcow2') n['backing'] = withBacking ? node : null;
    node = n;
  }
  return 'json:' + JSON.stringify(node);
}

/**
 * Merges the top layer of `chain` into the layer below it (`qemu-img commit`), used when a
 * snapshot is deleted. The whole chain is opened, so every layer's key is passed.
 */
export async function commitTopLayer(chain: readonly ChainLayer[]): Promise<void> {
  const secrets: Buffer[] = [];
  const ids: string[] = [];
  const spec = chainJson(chain, secrets, ids, true);
  const objs = ids.flatMap((id, i) => secretObject(id, i));
  await runQemuImg(['commit', '-q', '-d', ...objs, spec], secrets);
}

/** Points `layer`'s backing file at `newBacking` without copying data (`rebase -u`). */
export async function rebaseUnsafe(layer: ChainLayer, newBacking: string, newBackingFormat: 'luks' | 'qcow2' | 'raw'): Promise<void> {
  const secrets: Buffer[] = [];
  const ids: string[] = [];
  const spec = chainJson([layer], secrets, ids, false);
  const objs = ids.flatMap((id, i) => secretObject(id, i));
  await runQemuImg(['rebase', '-u', '-b', newBacking, '-F', newBackingFormat, ...objs, spec], secrets);
}

/**
 * Flattens a chain (base first) into one new file: raw, or LUKS1 (QEMU's `luks` driver,
 * aes-xts-plain64) under `dstDek`. Used by clones and exports of VMs with snapshots; the
 * clear data only ever passes through qemu-img's memory.
 */
export async function convertChain(chain: readonly ChainLayer[], dst: string, dstDek: Buffer | undefined): Promise<void> {
  const secrets: Buffer[] = [];
  const ids: string[] = [];
  const spec = chainJson(chain, secrets, ids, true);
  const objs = ids.flatMap((id, i) => secretObject(id, i));
  if (dstDek === undefined) {
    await runQemuImg(['convert', '-q', ...objs, '-O', 'raw', spec, dst], secrets);
    return;
  }
  const out = `s${ids.length}`;
  await runQemuImg(
    ['convert', '-q', ...objs, ...secretObject(out, ids.length), '-O', 'luks', '-o', `key-secret=${out},iter-time=${LUKS_ITER_TIME_MS}`, spec, dst],
    [...secrets, passphraseOf(dstDek)],
  );
}
