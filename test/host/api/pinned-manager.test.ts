import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startHostAgent, type RunningAgent } from '../../../src/host/agent.js';
import { HostClient } from '../../../src/host/client/host-client.js';
import { certificateInfo, createSelfSigned, CertificateUsage } from '../../../src/pki/index.js';
import { tempDir } from '../harness.js';

/** The manager the agent pins: its certificate's validity, and `--manager-fingerprint` on a paired host. */
describe('host agent: the pinned manager certificate', () => {
  let dir: { path: string; remove(): Promise<void> };
  const agents: RunningAgent[] = [];
  beforeAll(async () => {
    dir = await tempDir('vmcrypt-pinned-manager-');
  });
  afterAll(async () => {
    for (const a of agents) await a.stop();
    await dir.remove();
  });

  const start = async (data: string, managerFingerprint: string, lines: string[]): Promise<RunningAgent> => {
    const a = await startHostAgent({ dataDir: join(dir.path, data), name: data, host: '127.0.0.1', port: 0, managerFingerprint, print: (l) => lines.push(l) });
    agents.push(a);
    return a;
  };
  const fp = (certPem: string) => certificateInfo(certPem).sha256Fingerprint.replace(/:/g, '').toLowerCase();

  it('refuses the pinned manager once its certificate has expired, saying so', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(Date.now() - 10 * 86_400_000));
    const old = await createSelfSigned({ commonName: 'old-manager', usage: CertificateUsage.CLIENT, days: 1 });
    vi.useRealTimers();
    const agent = await start('esx-old', fp(old.certPem), []);
    const c = new HostClient({ url: agent.url, certPem: old.certPem, keyPem: old.keyPem, thumbprint: agent.thumbprint });
    const err = await c.call('GET', '/v1/vms').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'HOST_FORBIDDEN', status: 403 });
    expect((err as Error).message).toMatch(new RegExp(`pinned manager certificate sha256:${fp(old.certPem)} expired on \\d{4}-`));
  });

  it('--manager-fingerprint on a paired host: the same one is quiet, another one is ignored with a warning', async () => {
    const first = await createSelfSigned({ commonName: 'manager-a', usage: CertificateUsage.CLIENT });
    const other = await createSelfSigned({ commonName: 'manager-b', usage: CertificateUsage.CLIENT });
    const lines: string[] = [];
    const a1 = await start('esx-a', fp(first.certPem), lines);
    await a1.stop();
    const a2 = await start('esx-a', fp(first.certPem), lines);
    expect(lines.filter((l) => l.includes('WARNING'))).toEqual([]);
    await a2.stop();
    const a3 = await start('esx-a', fp(other.certPem), lines);
    expect(lines.filter((l) => l.includes('WARNING'))).toEqual([
      expect.stringContaining(`--manager-fingerprint ${fp(other.certPem)} ignored: this host is already paired with manager sha256:${fp(first.certPem)}`),
    ]);
    // the first manager still works, the other is still refused
    const ok = new HostClient({ url: a3.url, certPem: first.certPem, keyPem: first.keyPem, thumbprint: a3.thumbprint });
    await expect(ok.call('GET', '/v1/vms')).resolves.toBeDefined();
    const no = new HostClient({ url: a3.url, certPem: other.certPem, keyPem: other.keyPem, thumbprint: a3.thumbprint });
    await expect(no.call('GET', '/v1/vms')).rejects.toMatchObject({ code: 'HOST_FORBIDDEN' });
  });
});
