import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:https';
import { connect } from 'node:tls';
import { createHash } from 'node:crypto';
import { repoRoot, vmcryptArgv } from '../../helpers/cli.js';
import { freePort } from '../../helpers/net.js';
import { startProcess, stopAll } from '../../helpers/process.js';

const dir = mkdtempSync(join(tmpdir(), 'vmcrypt-lab-'));
afterAll(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

interface LabInfo {
  kms: { address: string };
  hosts: { name: string; url: string; thumbprint: string; pairingToken: string | null; pid: number }[];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Exited, or a zombie that nobody has reaped yet (dead all the same). */
function gone(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** SHA-256 of the certificate a TLS server presents (the thumbprint an operator confirms). */
async function presentedThumbprint(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    // Only reads the certificate to compare it with the printed thumbprint; no request is sent.
    const s = connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      const raw = s.getPeerX509Certificate()?.raw ?? Buffer.alloc(0);
      s.destroy();
      resolve(createHash('sha256').update(raw).digest('hex'));
    });
    s.once('error', reject);
  });
}

describe('vmcrypt lab up', () => {
  it('brings up the KMS and two host agents as processes, prints their thumbprints and pairing tokens, and stops them all', async () => {
    const lab = await startProcess(
      process.execPath,
      [...vmcryptArgv(), 'lab', 'up', '--dir', join(dir, 'lab'), '--kms-port', String(await freePort()), '--json'],
      { cwd: repoRoot, ready: /"hosts"/, readyTimeoutMs: 90_000 },
    );
    const info = JSON.parse(lab.output().split('\n').find((l) => l.includes('"hosts"')) ?? '{}') as LabInfo;
    expect(info.hosts.map((h) => h.name)).toEqual(['host-1', 'host-2']);
    for (const h of info.hosts) {
      expect(h.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(h.pairingToken).toMatch(/^[0-9a-f]{32}$/);
      expect(alive(h.pid)).toBe(true);
      const presented = await presentedThumbprint(h.url);
      expect(h.thumbprint.replace(/:/g, '').toLowerCase()).toBe(presented);
      // Not paired yet: the API refuses a caller without the pinned manager certificate.
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`${h.url}/v1/host`, { rejectUnauthorized: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.once('error', reject);
        req.end();
      });
      expect(status).toBe(403);
    }
    await lab.stop(20_000);
    for (const h of info.hosts) {
      await expect.poll(() => alive(h.pid), { timeout: 10_000 }).toBe(false);
    }
  });

  it('SIGKILL of `lab up` takes its host agents with it (no handler of the lab runs: the kernel does it)', async () => {
    const lab = await startProcess(
      process.execPath,
      [...vmcryptArgv(), 'lab', 'up', '--dir', join(dir, 'lab-killed'), '--kms-port', String(await freePort()), '--hosts', '1', '--json'],
      { cwd: repoRoot, ready: /"hosts"/, readyTimeoutMs: 90_000 },
    );
    const info = JSON.parse(lab.output().split('\n').find((l) => l.includes('"hosts"')) ?? '{}') as LabInfo;
    const pids = info.hosts.map((h) => h.pid);
    expect(pids.length).toBe(1);
    expect(pids.every(alive)).toBe(true);
    await lab.kill();
    for (const pid of pids) {
      await expect.poll(() => gone(pid), { timeout: 30_000 }).toBe(true);
    }
  });
});
