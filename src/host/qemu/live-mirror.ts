import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { HostError } from '../errors.js';
import type { QmpClient } from './qmp.js';

/**
 * Storage migration of a running VM's disks (QMP blockdev-mirror): each disk's format node is
 * mirrored to a new file opened with the same driver (LUKS with the same secret object, so the
 * same master key: the ciphertext is byte for byte what it was), in `write-blocking` mode so
 * that once every job is ready the targets stay in step with every guest write. `pivot()` then
 * switches the VM to the targets; `cancel()` drops them, the VM untouched.
 */
export interface MirrorDisk {
  /** Current format node of the disk (single layer). */
  readonly node: string;
  readonly format: 'luks' | 'raw';
  /** The QEMU secret object of a LUKS disk (the one it was opened with). */
  readonly secretId?: string;
  readonly source: string;
  readonly target: string;
}

const POLL_MS = 100;
const READY_TIMEOUT_MS = 30 * 60_000;

/** Makes the empty target: a LUKS disk gets the source's header (same key slots and master key), both their size. */
export async function prepareMirrorTarget(d: MirrorDisk): Promise<void> {
  const src = await open(d.source, 'r');
  const dst = await open(d.target, 'wx', 0o600);
  try {
    const size = (await src.stat()).size;
    if (d.format === 'luks') {
      const hdr = Buffer.alloc(108);
      await src.read(hdr, 0, 108, 0);
      if (!hdr.subarray(0, 6).equals(Buffer.from([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]))) throw new HostError('HOST_VMX_INVALID', `${d.source} is not LUKS1`);
      const payload = hdr.readUInt32BE(104) * 512;
      if (payload <= 0 || payload > size || payload > 64 << 20) throw new HostError('HOST_VMX_INVALID', `${d.source}: LUKS payload offset out of bounds`);
      const head = Buffer.alloc(payload);
      await src.read(head, 0, payload, 0);
      await dst.write(head, 0, payload, 0);
    }
    await dst.truncate(size);
    await dst.sync();
  } finally {
    await src.close();
    await dst.close();
  }
}

export class LiveMirror {
  readonly #qmp: QmpClient;
  readonly #jobs: Array<{ job: string; from: string; to: string }> = [];

  private constructor(qmp: QmpClient) {
    this.#qmp = qmp;
  }

  /** Opens every target and starts one mirror job per disk; resolves when all are ready (in step). */
  static async start(qmp: QmpClient, disks: readonly MirrorDisk[]): Promise<LiveMirror> {
    const m = new LiveMirror(qmp);
    try {
      for (const [i, d] of disks.entries()) {
        const to = `d${i}r${randomBytes(4).toString('hex')}`;
        const spec: Record<string, unknown> = { driver: d.format, 'node-name': to, file: { driver: 'file', filename: d.target } };
        if (d.format === 'luks') spec['key-secret'] = d.secretId;
        await qmp.execute('blockdev-add', spec);
        const job = `reloc-${to}`;
        m.#jobs.push({ job, from: d.node, to });
        await qmp.execute('blockdev-mirror', { 'job-id': job, device: d.node, target: to, sync: 'full', 'copy-mode': 'write-blocking', 'auto-dismiss': false });
      }
      await m.#waitReady();
    } catch (err) {
      await m.cancel();
      throw err;
    }
    return m;
  }

  get bytes(): number {
    return this.#bytes;
  }

  #bytes = 0;

  async #jobsNow(): Promise<Array<{ device: string; ready?: boolean; status?: string; len?: number; error?: string }>> {
    return (await this.#qmp.execute('query-block-jobs')) as Array<{ device: string; ready?: boolean; status?: string; len?: number; error?: string }>;
  }

  async #waitReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const jobs = await this.#jobsNow();
      const ours = this.#jobs.map((j) => jobs.find((x) => x.device === j.job));
      const bad = ours.find((j) => j === undefined || j.status === 'concluded' || j.status === 'aborting' || j.error !== undefined);
      if (bad !== undefined) throw new HostError('HOST_MIGRATION_FAILED', `disk mirror failed: ${bad?.error ?? 'job ended early'}`);
      if (ours.every((j) => j?.ready === true)) {
        this.#bytes = ours.reduce((n, j) => n + (j?.len ?? 0), 0);
        return;
      }
      if (Date.now() > deadline) throw new HostError('HOST_MIGRATION_FAILED', 'disk mirror did not get in step in time');
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  /** Switches every disk to its target; returns the new node names in disk order. */
  async pivot(): Promise<string[]> {
    for (const j of this.#jobs) await this.#qmp.execute('job-complete', { id: j.job });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const jobs = await this.#jobsNow();
      const ours = this.#jobs.map((j) => jobs.find((x) => x.device === j.job));
      const failed = ours.find((j) => j?.error !== undefined);
      if (failed !== undefined) throw new HostError('HOST_MIGRATION_FAILED', `disk mirror failed at the switch: ${failed.error ?? ''}`);
      if (ours.every((j) => j?.status === 'concluded')) break;
      if (Date.now() > deadline) throw new HostError('HOST_MIGRATION_FAILED', 'disk mirror did not switch in time');
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    for (const j of this.#jobs) {
      await this.#qmp.execute('job-dismiss', { id: j.job });
      // the old nodes were made by -blockdev: drop them so QEMU closes the old files
      await this.#qmp.execute('blockdev-del', { 'node-name': j.from }).catch(() => undefined);
      await this.#qmp.execute('blockdev-del', { 'node-name': `${j.from}f` }).catch(() => undefined);
    }
    return this.#jobs.map((j) => j.to);
  }

  /** Stops the jobs without switching and closes the targets. */
  async cancel(): Promise<void> {
    for (const j of this.#jobs) await this.#qmp.execute('block-job-cancel', { device: j.job, force: true }).catch(() => undefined);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const jobs = await this.#jobsNow().catch(() => []);
      const left = this.#jobs.filter((j) => jobs.some((x) => x.device === j.job && x.status !== 'concluded'));
      if (left.length === 0) break;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    for (const j of this.#jobs) {
      await this.#qmp.execute('job-dismiss', { id: j.job }).catch(() => undefined);
      await this.#qmp.execute('blockdev-del', { 'node-name': j.to }).catch(() => undefined);
    }
  }
}
