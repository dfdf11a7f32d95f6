import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createPlatform, type ManagerPlatform } from '../../../src/manager/platform/platform.js';

/** A clock the test moves by hand. */
export class ManualClock {
  ms = Date.parse('2030-01-01T00:00:00Z');
  readonly now = (): Date => new Date(this.ms);
  advance(ms: number): void {
    this.ms += ms;
  }
}

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'vmcrypt-mgr-platform-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function openPlatform(dataDir: string, clock?: ManualClock, adminPassword = 'admin-password-1'): Promise<ManagerPlatform> {
  return createPlatform({ dataDir, log: pino({ level: 'silent' }), adminPassword, ...(clock ? { now: clock.now } : {}) });
}
