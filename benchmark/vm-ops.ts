// npm run bench:vm-ops — encrypt, deep rekey and decrypt of a VM with one disk, driven through
// the manager's REST API (policy → KEK from a real `vmcrypt kms serve`, push to a real
// `vmcrypt host serve`, the host rewrites the disk), beside the bare disk operations the host
// runs for them (src/disk encryptDisk / cloneDisk / decryptDisk: what `vmcrypt disk encrypt`,
// `rekey --deep` and `decrypt` run, called in this process so no CLI start-up is counted) on the
// same data in the same run. Everything on /dev/shm so both sides see the same file system.
// BENCH_QUICK=1: 64 MiB; otherwise 1 GiB.
// Last line: RESULT vm-ops ours=<MB/s through the manager> peer=<MB/s bare> ratio=<ours/peer> …
import { randomBytes, randomFillSync } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cloneDisk, decryptDisk, encryptDisk } from '../src/disk/index.js';
import { stopAll } from '../test/helpers/process.js';
import { kmsNode, makeKmsDataDir } from '../test/keyprovider/kms-nodes.js';
import { kmsPaths } from '../src/kms/data-dir.js';
import { startManagerProcess } from '../test/manager/helpers/manager-process.js';
import { addHostToManager, startAgent } from '../test/manager/helpers/host-agents.js';
import type { ManagerApi } from '../test/manager/helpers/manager-api.js';
import { readFile } from 'node:fs/promises';

const quick = process.env['BENCH_QUICK'] === '1';
const sizeBytes = (quick ? 64 : 1024) * 1024 * 1024;
const MB = 1e6;
const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const work = await mkdtemp(join(base, 'vmcrypt-bench-vmops-'));

/** Polls the task every 10 ms (the default 100 ms would add up to 10% to a 1 s operation). */
async function timedTask(api: ManagerApi, start: () => Promise<{ task?: { id: string }; id?: string }>): Promise<number> {
  const t0 = performance.now();
  const r = await start();
  const id = r.task?.id ?? r.id ?? '';
  for (;;) {
    const t = await api.get<{ state: string; error?: unknown }>(`/api/tasks/${id}`);
    if (t.state === 'success') return (performance.now() - t0) / 1000;
    if (t.state === 'error') throw new Error(`task ${id} failed: ${JSON.stringify(t.error)}`);
    await new Promise((res) => setTimeout(res, 10));
  }
}

async function fillRandom(path: string, bytes: number): Promise<void> {
  const fh = await open(path, 'r+');
  const chunk = Buffer.alloc(16 << 20);
  try {
    for (let off = 0; off < bytes; off += chunk.length) {
      randomFillSync(chunk);
      await fh.write(chunk, 0, Math.min(chunk.length, bytes - off), off);
    }
  } finally {
    await fh.close();
  }
}

const kmsData = await makeKmsDataDir();
try {
  const kms = await kmsNode('kms1', kmsData);
  const [, manager, agent] = await Promise.all([
    kms.start(),
    startManagerProcess(join(work, 'manager'), { pollMs: 2000 }),
    startAgent(join(work, 'esx1'), 'esx1'),
  ]);
  const api = manager.admin;
  await api.post('/api/key-providers', { name: 'kp1', servers: [{ name: 'kms1', host: '127.0.0.1', port: kms.port }] });
  await api.post('/api/key-providers/kp1/trust/server-certificates', { certPem: await readFile(kmsPaths(kmsData.dir).caCert, 'utf8') });
  const id = await kmsData.identity('vmcrypt-bench-vmops');
  await api.post('/api/key-providers/kp1/trust/client-certificate', { certPem: String(id.cert), keyPem: String(id.key) });
  const host = await addHostToManager(api, agent);
  const ds = (await api.get<{ datastores: Array<{ id: string; name: string }> }>('/api/datastores')).datastores.find((d) => d.name === 'esx1-local');
  const created = await api.post<{ task: { id: string } }>('/api/vms', { name: 'bench', hostId: host.id, datastoreId: ds?.id, disks: [{ sizeBytes }] });
  const vmId = (await api.waitTask<{ result: { vmId: string } }>(created.task.id)).result.vmId;
  const vmx = (await api.get<{ vmxPath: string }>(`/api/vms/${vmId}`)).vmxPath;
  const raw = (await readdir(dirname(vmx))).find((f) => f.endsWith('.raw'));
  if (raw === undefined) throw new Error('no raw disk file');
  await fillRandom(join(dirname(vmx), raw), sizeBytes);
  const peerDir = join(work, 'peer');
  await mkdir(peerDir);
  await copyFile(join(dirname(vmx), raw), join(peerDir, 'disk.raw'));

  // ours: the three operations through the manager
  const ours = {
    encrypt: await timedTask(api, () => api.post(`/api/vms/${vmId}/policy`, { policyId: 'vm-encryption' })),
    deepRekey: await timedTask(api, () => api.post(`/api/vms/${vmId}/rekey`, { deep: true })),
    decrypt: await timedTask(api, () => api.post(`/api/vms/${vmId}/policy`, { policyId: 'datastore-default' })),
  };
  await api.delete(`/api/vms/${vmId}`);

  // peer: the same disk operations, bare
  const dek1 = randomBytes(32);
  const dek2 = randomBytes(32);
  const time = async (fn: () => Promise<unknown>): Promise<number> => {
    const t0 = performance.now();
    await fn();
    return (performance.now() - t0) / 1000;
  };
  const p = (f: string) => join(peerDir, f);
  const peer = {
    encrypt: await time(() => encryptDisk({ src: p('disk.raw'), dst: p('disk.luks'), dek: dek1 })),
    deepRekey: await time(() => cloneDisk({ src: p('disk.luks'), dst: p('disk2.luks'), oldDek: dek1, newDek: dek2 })),
    decrypt: await time(() => decryptDisk({ src: p('disk2.luks'), dst: p('disk2.raw'), dek: dek2 })),
  };
  dek1.fill(0);
  dek2.fill(0);

  const rate = (s: number): number => sizeBytes / MB / s;
  const total = (x: typeof ours): number => x.encrypt + x.deepRekey + x.decrypt;
  const oursRate = (3 * sizeBytes) / MB / total(ours);
  const peerRate = (3 * sizeBytes) / MB / total(peer);
  for (const k of ['encrypt', 'deepRekey', 'decrypt'] as const) {
    console.log(`${k.padEnd(9)} through the manager ${ours[k].toFixed(2)} s (${rate(ours[k]).toFixed(0)} MB/s)   bare ${peer[k].toFixed(2)} s (${rate(peer[k]).toFixed(0)} MB/s)`);
  }
  console.log(
    `RESULT vm-ops ours=${oursRate.toFixed(0)} peer=${peerRate.toFixed(0)} ratio=${(oursRate / peerRate).toFixed(2)} unit=MB/s ` +
      `encrypt_ours=${rate(ours.encrypt).toFixed(0)} encrypt_peer=${rate(peer.encrypt).toFixed(0)} deep_ours=${rate(ours.deepRekey).toFixed(0)} deep_peer=${rate(peer.deepRekey).toFixed(0)} ` +
      `decrypt_ours=${rate(ours.decrypt).toFixed(0)} decrypt_peer=${rate(peer.decrypt).toFixed(0)} size_mib=${sizeBytes >> 20} cpus=${cpus().length} load1=${loadavg()[0]?.toFixed(2) ?? '?'}`,
  );
  await kms.stop();
} finally {
  await stopAll();
  await kmsData.remove();
  await rm(work, { recursive: true, force: true });
}
