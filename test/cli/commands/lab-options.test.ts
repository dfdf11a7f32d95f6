import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, vmcryptArgv } from '../../helpers/cli.js';
import { startProcess, stopAll } from '../../helpers/process.js';
import { ManagerApi } from '../../manager/helpers/manager-api.js';
import { readProfile } from '../../../src/cli/profile-file.js';
import { readLabState } from '../../../src/cli/lab/state.js';
import { kmsPaths, MANAGER_CLIENT_NAME } from '../../../src/kms/data-dir.js';
import { masterKeyKind } from '../../../src/kms/unseal/unlock.js';

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

/** A PyKMIP client (an independent peer) creates a key with the manager's identity from the lab's KMS CA. */
async function pykmipCreate(port: number, dataDir: string): Promise<string> {
  const p = kmsPaths(dataDir);
  const { stdout } = await promisify(execFile)('/usr/bin/python3', [
    '-c',
    'import sys\nfrom kmip.pie.client import ProxyKmipClient as C\nfrom kmip import enums\n' +
      'c=C(hostname="127.0.0.1", port=int(sys.argv[1]), cert=sys.argv[2], key=sys.argv[3], ca=sys.argv[4])\n' +
      'c.open()\nprint(c.create(enums.CryptographicAlgorithm.AES, 256))\nc.close()',
    String(port), p.clientCert(MANAGER_CLIENT_NAME), p.clientKey(MANAGER_CLIENT_NAME), p.caCert,
  ]);
  return stdout.trim();
}

describe('vmcrypt lab up --kms-cluster', () => {
  it('starts three sealed, auto-unsealed KMS nodes on etcd (green; a PyKMIP client creates a key); a rerun reuses the data', async () => {
    const dir = join(root, 'cluster-lab');
    const up = () => startProcess(process.execPath, [...vmcryptArgv(), 'lab', 'up', '--dir', dir, '--free-ports', '--kms-cluster', '--hosts', '0', '--json'], {
      cwd: repoRoot, ready: /"consoleUrl"/, readyTimeoutMs: 240_000,
    });
    const summary = (out: string) => JSON.parse(out.split('\n').find((l) => l.includes('"consoleUrl"')) ?? '{}') as {
      kms: { mode: string; servers: Array<{ port: number }>; health: string; dataDir: string; autoUnsealFile: string; unsealShares: string };
    };
    let lab = await up();
    const first = summary(lab.output());
    expect(first.kms).toMatchObject({ mode: 'cluster', health: 'green', dataDir: join(dir, 'kms-cluster', 'kms') });
    expect(first.kms.servers).toHaveLength(3);
    expect(await masterKeyKind(kmsPaths(first.kms.dataDir))).toBe('sealed');
    expect(first.kms.autoUnsealFile.startsWith(`${first.kms.dataDir}/`)).toBe(false);
    const shares = readFileSync(first.kms.unsealShares, 'utf8');
    expect(statSync(first.kms.unsealShares).mode & 0o777).toBe(0o600);
    expect(shares).toContain('A LAB IS NOT PRODUCTION');
    expect(await pykmipCreate(first.kms.servers[1]?.port ?? 0, first.kms.dataDir)).toMatch(/^[0-9a-f-]{36}$/);
    await lab.stop(60_000);

    lab = await up();
    const again = summary(lab.output());
    expect(again.kms.health).toBe('green');
    expect(again.kms.servers).toEqual(first.kms.servers);
    expect(readFileSync(first.kms.unsealShares, 'utf8')).toBe(shares);
    const p = await readProfile(join(dir, 'profile.json'));
    const { providers } = await new ManagerApi(p.managerUrl, p.thumbprint, p.token).get<{ providers: unknown[] }>('/api/key-providers');
    expect(providers).toHaveLength(1);
    await lab.stop(60_000);
  }, 600_000);
});
