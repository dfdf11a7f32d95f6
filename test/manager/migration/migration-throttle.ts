import { access, chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { QmpClient } from '../../../src/host/qemu/qmp.js';
import { waitFor } from '../../helpers/wait.js';

/**
 * A slow live migration on demand, for tests that watch its progress. The host agent sets QEMU's
 * `max-bandwidth` to "unlimited" right before `migrate` and offers no knob, so the test reaches the
 * source QEMU through a second QMP monitor of its own (a wrapper named by VMCRYPT_QEMU adds it) and
 * caps the bandwidth the moment QEMU announces the migration (QMP event MIGRATION, status setup):
 * what QEMU sends from then on goes at the cap, whatever the machine's speed.
 */

/** The real QEMU the wrapper execs (the agent's own VMCRYPT_QEMU if the caller set one). */
const REAL_QEMU = process.env['VMCRYPT_QEMU'] ?? 'qemu-system-x86_64';

/**
 * Writes `DIR/qemu`, a wrapper that execs QEMU (same pid) with one more QMP monitor on
 * `DIR/<vm uuid>.qmp`. Give its path to an agent as VMCRYPT_QEMU.
 */
export async function sideMonitorQemu(dir: string): Promise<string> {
  if (dir.includes(',') || dir.includes("'")) throw new Error(`unusable directory for a QMP socket: ${dir}`);
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'qemu');
  await writeFile(path, [
    '#!/bin/sh',
    'uuid=vm; prev=',
    'for a in "$@"; do [ "$prev" = "-uuid" ] && uuid=$a; prev=$a; done',
    `exec '${REAL_QEMU}' "$@" -qmp "unix:${dir}/$uuid.qmp,server=on,wait=off"`,
    '',
  ].join('\n'));
  await chmod(path, 0o755);
  return path;
}

export interface MigrationCap {
  /** Resolves once the cap is set on a started migration; rejects if that did not happen within `ms`. */
  capped(ms?: number): Promise<void>;
  close(): void;
}

/**
 * Connects to the side monitor of the running VM `uuid` (made by `sideMonitorQemu(dir)`) and caps
 * its next outgoing migration at `bytesPerSecond`.
 */
export async function capNextMigration(dir: string, uuid: string, bytesPerSecond: number): Promise<MigrationCap> {
  const sock = join(dir, `${uuid}.qmp`);
  await waitFor(`side QMP socket ${sock}`, () => access(sock).then(() => true, () => false), 30_000, 50);
  const qmp = await QmpClient.connect(sock);
  let done: () => void = () => undefined;
  let fail: (err: Error) => void = () => undefined;
  const capped = new Promise<void>((resolve, reject) => {
    done = resolve;
    fail = reject;
  });
  capped.catch(() => undefined); // reported by capped(), not as an unhandled rejection
  let sent = false;
  qmp.onEvent((e) => {
    const status = (e.data as { status?: unknown } | undefined)?.status;
    if (sent || e.event !== 'MIGRATION' || (status !== 'setup' && status !== 'active')) return;
    sent = true;
    qmp.execute('migrate-set-parameters', { 'max-bandwidth': bytesPerSecond }).then(() => done(), (err: Error) => fail(err));
  });
  // MIGRATION events are sent only with the `events` capability (the agent sets others, not this one)
  await qmp.execute('migrate-set-capabilities', { capabilities: [{ capability: 'events', state: true }] });
  return {
    async capped(ms = 10_000) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no migration of VM ${uuid} was capped (no MIGRATION event on the side monitor within ${ms} ms)`)), ms);
      });
      try {
        await Promise.race([capped, late]);
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => qmp.close(),
  };
}
