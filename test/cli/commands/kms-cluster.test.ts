import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKmsCluster } from '../../../src/cli/commands/kms-cluster-start.js';
import { openEtcdKeyStore, parseEtcdEndpoints } from '../../../src/kms/store/etcd.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('kms cluster up (etcd part)', () => {
  it('brings up 3 etcd members with client+peer TLS, records the layout, and restarts the same cluster with its data', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vmcrypt-kms-cluster-'));
    dirs.push(dir);
    let cluster = await startKmsCluster({ dir, kmsNodes: 0 });
    const endpoints = cluster.etcd.endpoints;
    expect(endpoints).toMatch(/^https:\/\/127\.0\.0\.1:\d+(,https:\/\/127\.0\.0\.1:\d+){2}$/);
    const pki = cluster.etcdPki!;
    const tls = { caPem: await readFile(pki.caFile, 'utf8'), certPem: await readFile(pki.clientCertFile, 'utf8'), keyPem: await readFile(pki.clientKeyFile, 'utf8') };
    // Without the client certificate the members refuse the connection.
    await expect(openEtcdKeyStore({ endpoints: parseEtcdEndpoints(endpoints), tls: { caPem: tls.caPem }, opTimeoutMs: 2000 })).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    let store = await openEtcdKeyStore({ endpoints: parseEtcdEndpoints(endpoints), tls });
    const id = store.newId();
    await store.insert({ id, owner: 'o', attributes: '{}', sealedKey: Buffer.from('sealed') });
    await store.close();
    await cluster.stop();
    const layout = JSON.parse(await readFile(join(dir, 'cluster.json'), 'utf8')) as { etcd: unknown[]; kmsPorts: unknown[] };
    expect(layout.etcd).toHaveLength(3);
    expect(layout.kmsPorts).toHaveLength(3);

    cluster = await startKmsCluster({ dir, kmsNodes: 0 });
    try {
      expect(cluster.etcd.endpoints).toBe(endpoints);
      store = await openEtcdKeyStore({ endpoints: parseEtcdEndpoints(endpoints), tls });
      expect((await store.get(id))?.sealedKey).toEqual(Buffer.from('sealed'));
      await store.close();
    } finally {
      await cluster.stop();
    }
  });
});

describe('kms cluster up --insecure-plain-etcd', () => {
  it('runs etcd over plain HTTP only when asked, with a warning', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vmcrypt-kms-cluster-'));
    dirs.push(dir);
    const warnings: string[] = [];
    const cluster = await startKmsCluster({ dir, kmsNodes: 0, etcdMembers: 1, plainEtcd: true, warn: (l) => warnings.push(l) });
    try {
      expect(cluster.etcd.endpoints).toMatch(/^http:\/\//);
      expect(cluster.etcdPki).toBeUndefined();
      expect(warnings.join('\n')).toContain('plain HTTP');
    } finally {
      await cluster.stop();
    }
  });
});

describe('kms cluster up (layout file)', () => {
  it('refuses a truncated or hand-broken cluster.json with a clear KMS_CLUSTER error, starting nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vmcrypt-kms-cluster-'));
    dirs.push(dir);
    for (const text of ['{"version":1,"etcd":[{"name":"etcd-0"', '{"version":1,"etcd":[{"name":"x","clientPort":0,"peerPort":2}],"kmsPorts":[]}', 'null']) {
      await writeFile(join(dir, 'cluster.json'), text);
      await expect(startKmsCluster({ dir, kmsNodes: 0 })).rejects.toMatchObject({ code: 'KMS_CLUSTER', message: expect.stringContaining('cluster.json') });
    }
  });
});

describe('kms cluster up (3 etcd members + 3 KMS nodes)', () => {
  it('a key created on kms-0 is read on kms-1 and kms-2; a killed node comes back', async () => {
    const { KmipClient } = await import('../../../src/kmip/client/index.js');
    const { vmcryptArgv } = await import('../../helpers/cli.js');
    const dir = await mkdtemp(join(tmpdir(), 'vmcrypt-kms-cluster-'));
    dirs.push(dir);
    const cluster = await startKmsCluster({ dir, kmsNodes: 3, vmcryptArgv: vmcryptArgv() });
    const pki = join(cluster.kmsDataDir, 'pki');
    const tls = {
      ca: await readFile(join(pki, 'ca.crt'), 'utf8'),
      cert: await readFile(join(pki, 'clients', 'vmcrypt-manager.crt'), 'utf8'),
      key: await readFile(join(pki, 'clients', 'vmcrypt-manager.key'), 'utf8'),
    };
    const clients = cluster.nodes.map((n) => {
      const [host, port] = n.address.split(':');
      return KmipClient.connect({ host: host ?? '127.0.0.1', port: Number(port), tls });
    });
    try {
      const [c0, c1, c2] = clients as [InstanceType<typeof KmipClient>, InstanceType<typeof KmipClient>, InstanceType<typeof KmipClient>];
      const id = await c0.create({ length: 256 });
      const k1 = await c1.get(id);
      const k2 = await c2.get(id);
      expect(k1.material.equals(k2.material)).toBe(true);
      expect(k1.material).toHaveLength(32);
      k1.material.fill(0);
      k2.material.fill(0);
      await cluster.nodes[0]?.kill();
      const id2 = await c1.create({ length: 128 });
      await cluster.nodes[0]?.start();
      const again = KmipClient.connect({ host: '127.0.0.1', port: Number(cluster.nodes[0]?.address.split(':')[1]), tls });
      const k = await again.get(id2);
      expect(k.material).toHaveLength(16);
      k.material.fill(0);
      await again.close();
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await cluster.stop();
    }
  });
});

/** Pids whose parent is `ppid` (from /proc/<pid>/stat: "pid (comm) state ppid …"). */
async function childrenOf(ppid: number): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === ppid) out.push(Number(name));
  }
  return out;
}

/** Running (a zombie waiting for a reaper counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('kms cluster up killed hard', () => {
  it.runIf(process.platform === 'linux')('SIGKILL of `kms cluster up` takes its etcd members and KMS nodes with it', async () => {
    const { vmcryptArgv } = await import('../../helpers/cli.js');
    const dir = await mkdtemp(join(tmpdir(), 'vmcrypt-kms-cluster-'));
    dirs.push(dir);
    const up = spawn(process.execPath, [...vmcryptArgv(), 'kms', 'cluster', 'up', '--dir', dir, '--etcd-members', '1', '--nodes', '1', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<void>((r) => up.once('exit', () => r()));
    let children: number[] = [];
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`kms cluster up not ready:\n${out}`)), 120_000);
        const onData = (d: Buffer): void => {
          out += d.toString();
          if (/"kms":\[/.test(out)) {
            clearTimeout(t);
            resolve();
          }
        };
        up.stdout.on('data', onData);
        up.stderr.on('data', onData);
        up.once('exit', (code) => reject(new Error(`kms cluster up exited (${code}):\n${out}`)));
      });
      // The etcd member and the KMS node (tsx may have a helper child of its own: not ours).
      const cmdline = (pid: number): string => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      children = (await childrenOf(up.pid as number)).filter((pid) => /\/etcd |kms serve/.test(cmdline(pid)));
      expect(children.map(cmdline).map((c) => (c.includes('kms serve') ? 'kms' : 'etcd')).sort()).toEqual(['etcd', 'kms']);
      up.kill('SIGKILL');
      await exited;
      // The kernel signals them when their parent dies; wait for them to be reaped by init.
      for (let i = 0; i < 200 && children.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
      expect(children.filter(alive)).toEqual([]);
    } finally {
      up.kill('SIGKILL');
      await exited;
      for (const pid of children.filter(alive)) process.kill(pid, 'SIGKILL');
    }
  });
});
