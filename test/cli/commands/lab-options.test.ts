import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, vmcryptArgv } from '../../helpers/cli.js';
import { startProcess, stopAll } from '../../helpers/process.js';
import { ManagerApi } from '../../manager/helpers/manager-api.js';
import { readProfile } from '../../../src/cli/profile-file.js';
import { readLabState } from '../../../src/cli/lab/state.js';

const root = mkdtempSync(join(tmpdir(), 'vmcrypt-lab-opt-'));
afterAll(async () => {
  await stopAll();
  rmSync(root, { recursive: true, force: true });
});

/** Exited, or a zombie nobody reaped yet (dead all the same). */
function gone(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

describe('vmcrypt lab up --managers 2', () => {
  it('a second manager shares the key provider (same KMS, green); kill -9 of the lab takes every child with it', async () => {
    const dir = join(root, 'lab');
    const lab = await startProcess(process.execPath, [...vmcryptArgv(), 'lab', 'up', '--dir', dir, '--free-ports', '--managers', '2', '--hosts', '0'], {
      cwd: repoRoot, ready: /Ctrl-C stops the lab/, readyTimeoutMs: 240_000,
    });
    const providers: string[] = [];
    const urls: string[] = [];
    for (const file of ['profile.json', 'profile-manager-2.json']) {
      expect(statSync(join(dir, file)).mode & 0o777).toBe(0o600);
      const p = await readProfile(join(dir, file));
      const api = new ManagerApi(p.managerUrl, p.thumbprint, p.token);
      const { providers: list } = await api.get<{ providers: Array<{ id: string; isDefault: boolean; servers: Array<{ port: number }> }> }>('/api/key-providers');
      expect(list).toEqual([expect.objectContaining({ id: 'lab-kms', isDefault: true })]);
      expect((await api.post<{ color: string }>('/api/key-providers/lab-kms/health')).color).toBe('green');
      providers.push(JSON.stringify(list[0]?.servers));
      urls.push(p.managerUrl);
    }
    expect(providers[0]).toBe(providers[1]);
    expect(new Set(urls).size).toBe(2);
    const children = (await readLabState(dir))?.run?.children ?? [];
    expect(children.map((c) => c.name).sort()).toEqual(['kms', 'manager-1', 'manager-2']);
    await lab.kill();
    for (const c of children) await expect.poll(() => gone(c.pid ?? 0), { timeout: 30_000 }).toBe(true);
  }, 400_000);
});
