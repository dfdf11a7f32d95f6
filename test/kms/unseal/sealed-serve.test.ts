import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initDataDir, kmsPaths } from '../../../src/kms/data-dir.js';
import { adminRequest } from '../../../src/kms/unseal/admin-socket.js';
import { repoRoot, vmcryptArgv } from '../../helpers/cli.js';
import { freePort } from '../../helpers/net.js';
import { startProcess, stopAll } from '../../helpers/process.js';
import { createKey, getKey, managerTls } from '../kmip-call.js';

const run = promisify(execFile);
const vmcrypt = (...args: string[]) => run(process.execPath, [...vmcryptArgv(), ...args], { cwd: repoRoot });
/** `kms unseal` with these shares: exit code (0 unsealed, 2 still sealed, 1 refused) and output. */
const unseal = (data: string, ...shares: string[]): Promise<{ code: number; stdout: string }> =>
  vmcrypt('kms', 'unseal', '--data', data, ...shares.flatMap((s) => ['--share', s])).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
  );

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmcrypt-unseal-'));
});
afterAll(async () => {
  await stopAll();
  await rm(dir, { recursive: true, force: true });
});

async function serve(data: string, extra: string[] = []) {
  const port = await freePort();
  const p = await startProcess(process.execPath, [...vmcryptArgv(), 'kms', 'serve', '--data', data, '--listen', `127.0.0.1:${port}`, ...extra], {
    ready: /kms listening on/,
    cwd: repoRoot,
  });
  return { port, p };
}

describe('sealed master key (Shamir unseal)', () => {
  it('starts sealed, answers KMIP with "sealed", unseals with 3 of 5 shares over the admin socket; restarts sealed', async () => {
    const data = join(dir, 'a');
    const init = JSON.parse((await vmcrypt('kms', 'init', '--data', data, '--shares', '5', '--threshold', '3', '--json')).stdout) as { shares: string[]; threshold: number };
    expect(init.threshold).toBe(3);
    const shares = init.shares;
    const paths = kmsPaths(data);
    // Nothing in clear on disk: no master.key, no pki/ca.key.
    const files = await readdir(data);
    expect(files).toContain('master.sealed');
    expect(files).not.toContain('master.key');
    expect(await readdir(join(data, 'pki'))).not.toContain('ca.key');
    expect((await stat(paths.masterSealed)).mode & 0o777).toBe(0o600);

    const tls = await managerTls(data);
    const { port, p } = await serve(data);
    expect(await getKey(port, tls, 'x')).toMatch(/sealed/);
    expect((await stat(paths.adminSocket)).mode & 0o777).toBe(0o600);
    expect(await adminRequest(paths.adminSocket, { op: 'status' })).toEqual({ sealed: true, given: 0, threshold: 3 });

    // A share of another KMS: the set does not open the master key, progress resets.
    const other = await initDataDir(join(dir, 'other'), { seal: { shares: 5, threshold: 3 } });
    expect(await unseal(data, shares[0]!)).toMatchObject({ code: 2, stdout: expect.stringContaining('1 of 3') });
    expect(await unseal(data, shares[1]!)).toMatchObject({ code: 2 });
    expect(await unseal(data, other.shares![2]!)).toMatchObject({ code: 1, stdout: expect.stringContaining('UNSEAL_FAILED') });
    expect(await adminRequest(paths.adminSocket, { op: 'status' })).toEqual({ sealed: true, given: 0, threshold: 3 });
    // Mistyped share: refused by its checksum, nothing counted.
    expect(await unseal(data, shares[0]!.replace(/.$/, (c) => (c === '0' ? '1' : '0')))).toMatchObject({ code: 1, stdout: expect.stringContaining('UNSEAL_SHARE_INVALID') });
    // Two shares: still sealed (exit 2); the third unseals.
    expect(await unseal(data, shares[4]!, shares[2]!)).toMatchObject({ code: 2, stdout: expect.stringContaining('2 of 3') });
    expect(await getKey(port, tls, 'x')).toMatch(/sealed/);
    expect(await unseal(data, shares[3]!)).toMatchObject({ code: 0, stdout: expect.stringContaining('unsealed') });
    const id = await createKey(port, tls);
    const key = await getKey(port, tls, id);
    expect(Buffer.isBuffer(key)).toBe(true);
    const audit = await readFile(paths.auditLog, 'utf8');
    for (const s of shares) expect(audit).not.toContain(s.slice(0, 66));
    expect(audit).toContain('"operation":"unseal"');
    await p.stop();

    // Restarted: sealed again until shares come (here from stdin).
    const again = await serve(data);
    expect(await getKey(again.port, tls, id)).toMatch(/sealed/);
    const child = execFile(process.execPath, [...vmcryptArgv(), 'kms', 'unseal', '--data', data], { cwd: repoRoot });
    child.stdin!.end(`${shares[1]}\n${shares[3]}\n${shares[0]}\n`);
    await new Promise((r) => child.once('exit', r));
    expect(await getKey(again.port, tls, id)).toEqual(key);
    await again.p.stop();
  });

  it('--auto-unseal-file unseals at start; a data dir with a clear master.key serves with a warning until seal-migrate', async () => {
    const data = join(dir, 'legacy');
    await initDataDir(data); // the library's legacy form: master.key + pki/ca.key in clear
    const tls = await managerTls(data);
    const first = await serve(data);
    expect(first.p.output()).toContain('WARNING');
    const id = await createKey(first.port, tls);
    const key = await getKey(first.port, tls, id);
    // seal-migrate refuses while the KMS runs
    await expect(vmcrypt('kms', 'seal-migrate', '--data', data)).rejects.toMatchObject({ stderr: expect.stringContaining('stop it first') });
    await first.p.stop();
    const unsealFile = join(dir, 'legacy.unseal');
    const mig = JSON.parse((await vmcrypt('kms', 'seal-migrate', '--data', data, '--shares', '3', '--threshold', '2', '--auto-unseal-file', unsealFile, '--json')).stdout) as { shares: string[] };
    expect(mig.shares).toHaveLength(3);
    const files = await readdir(data);
    expect(files).not.toContain('master.key');
    expect(await readdir(join(data, 'pki'))).toContain('ca.key.sealed');
    const auto = await serve(data, ['--auto-unseal-file', unsealFile]);
    expect(auto.p.output()).not.toContain('WARNING');
    expect(await getKey(auto.port, tls, id)).toEqual(key); // same master key: every key still readable
    await auto.p.stop();
    // issue-client-cert now needs the master key: shares or the file
    const issued = JSON.parse((await vmcrypt('kms', 'issue-client-cert', '--data', data, '--name', 'host-9', '--auto-unseal-file', unsealFile, '--json')).stdout) as { name: string };
    expect(issued.name).toBe('host-9');
  });
});
