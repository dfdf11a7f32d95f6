import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Operation } from '../../../src/kmip/operation-codes.js';
import { encodeDestroyRequest } from '../../../src/kmip/payloads/destroy.js';
import { ResultStatus } from '../../../src/kmip/enums.js';
import { pruneBackups, scheduledName, takeBackup } from '../../../src/kms/backup/backup.js';
import { restoreBackup, verifyBackup } from '../../../src/kms/backup/restore.js';
import { initDataDir, kmsPaths } from '../../../src/kms/data-dir.js';
import { serveKms, type RunningKms } from '../../../src/kms/serve.js';
import { adminRequest } from '../../../src/kms/unseal/admin-socket.js';
import { startTestEtcd, type TestEtcdCluster } from '../../helpers/etcd.js';
import type { TlsMaterial } from '../kmip-connection.js';
import { createKey, getKey, kmipCall, managerTls } from '../kmip-call.js';

let dir: string;
let data: string;
let shares: readonly string[];
let unsealFile: string;
let kms: RunningKms;
let tls: TlsMaterial;
const keys = new Map<string, Buffer>();
let destroyed: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmcrypt-backup-'));
  data = join(dir, 'kms');
  unsealFile = join(dir, 'unseal.key');
  const init = await initDataDir(data, { seal: { shares: 5, threshold: 3, autoUnsealFile: unsealFile } });
  shares = init.shares!;
  kms = await serveKms({ dataDir: data, host: '127.0.0.1', port: 0, autoUnsealFile: unsealFile, log: () => {} });
  tls = await managerTls(data);
  for (let i = 0; i < 5; i++) {
    const id = await createKey(kms.port, tls);
    keys.set(id, (await getKey(kms.port, tls, id)) as Buffer);
  }
  destroyed = await createKey(kms.port, tls);
  const d = await kmipCall(kms.port, tls, { operation: Operation.Destroy, payload: encodeDestroyRequest({ uniqueIdentifier: destroyed }) });
  expect(d.resultStatus).toBe(ResultStatus.Success);
}, 60_000);
afterAll(async () => {
  await kms?.close();
  await rm(dir, { recursive: true, force: true });
});

const sqlite = { store: 'sqlite' as const };

describe('backup, verify-backup, restore (SQLite)', () => {
  it('a backup taken under a stream of Creates holds every key acknowledged before its point in time', async () => {
    const acked: Array<{ id: string; at: number }> = [];
    let running = true;
    const stream = async () => {
      while (running) acked.push({ id: await createKey(kms.port, tls), at: Date.now() });
    };
    const streams = [stream(), stream(), stream()];
    while (acked.length < 10) await new Promise((r) => setTimeout(r, 20));
    const start = Date.now();
    const ackedBefore = acked.filter((a) => a.at < start).map((a) => a.id);
    const out = join(dir, 'stream.jsonl');
    const m = await takeBackup(kmsPaths(data), { ...sqlite, database: kmsPaths(data).database }, out);
    while (acked.length < ackedBefore.length + 10) await new Promise((r) => setTimeout(r, 20));
    running = false;
    await Promise.all(streams);
    const text = await readFile(out, 'utf8');
    const ids = new Set(text.split('\n').filter((l) => l.includes('"type":"record"')).map((l) => (JSON.parse(l) as { id: string }).id));
    expect(ids.size).toBe(m.count);
    for (const id of ackedBefore) expect(ids.has(id)).toBe(true);
    expect(m.count).toBeLessThan(6 + acked.length + 1);
    // still sealed: no key bytes in the file, in any encoding
    for (const k of keys.values()) {
      expect(text).not.toContain(k.toString('hex'));
      expect(text).not.toContain(k.toString('base64'));
    }
    expect((await verifyBackup(await readFile(out), { autoUnsealFile: unsealFile })).recordsAuthenticated).toBe(true);
  }, 120_000);

  it('restores into a new data dir; unsealed with 3 of 5 shares it serves the same keys (a destroyed one stays destroyed)', async () => {
    const out = join(dir, 'b1.jsonl');
    const m = await takeBackup(kmsPaths(data), { ...sqlite, database: kmsPaths(data).database }, out);
    expect(m).toMatchObject({ count: expect.any(Number), serverVersion: '0.1.0', store: 'sqlite', files: 3 });
    expect(m.digest).toMatch(/^[0-9a-f]{64}$/);
    const target = join(dir, 'restored');
    await restoreBackup({ backup: await readFile(out), dataDir: target, store: sqlite, unlock: { shares: [shares[1]!, shares[4]!, shares[2]!] } });
    const restored = await serveKms({ dataDir: target, host: '127.0.0.1', port: 0, log: () => {} });
    try {
      expect(await getKey(restored.port, tls, [...keys.keys()][0]!)).toMatch(/sealed/);
      const sock = kmsPaths(target).adminSocket;
      for (const s of [shares[0]!, shares[3]!, shares[2]!]) await adminRequest(sock, { op: 'unseal', share: s });
      await restored.unsealed;
      // the manager's existing client certificate (same CA) works against the restored server
      for (const [id, key] of keys) expect(await getKey(restored.port, tls, id)).toEqual(key);
      expect(await getKey(restored.port, tls, destroyed)).toMatch(/destroyed/);
    } finally {
      await restored.close();
    }
  }, 120_000);

  it('refuses a corrupted or truncated backup, a non-empty target, too few or foreign shares — changing nothing', async () => {
    const out = join(dir, 'b2.jsonl');
    await takeBackup(kmsPaths(data), { ...sqlite, database: kmsPaths(data).database }, out);
    const good = await readFile(out);
    const target = join(dir, 'never');
    const code = async (bytes: Buffer, unlock: { shares: string[] } | { autoUnsealFile: string }, to = target) =>
      restoreBackup({ backup: bytes, dataDir: to, store: sqlite, unlock }).then(
        () => 'restored',
        (e: { code: string }) => e.code,
      );
    const flipped = Buffer.from(good);
    const at = Math.floor(flipped.length / 2);
    flipped[at] = flipped[at]! ^ 0x01;
    expect(await code(flipped, { autoUnsealFile: unsealFile })).toBe('BACKUP_INVALID');
    expect(await code(good.subarray(0, good.length - 40), { autoUnsealFile: unsealFile })).toBe('BACKUP_INVALID');
    await expect(verifyBackup(good.subarray(0, 100))).rejects.toMatchObject({ code: 'BACKUP_INVALID', message: expect.stringContaining('truncated') });
    expect(await code(good, { shares: [shares[0]!, shares[1]!] })).toBe('RESTORE_REFUSED');
    const other = await initDataDir(join(dir, 'other'), { seal: { shares: 3, threshold: 2 } });
    expect(await code(good, { shares: [other.shares![0]!, other.shares![1]!] })).toBe('RESTORE_REFUSED');
    expect(await code(good, { autoUnsealFile: unsealFile }, data)).toBe('RESTORE_REFUSED'); // the live, non-empty dir
    await expect(readdir(target)).rejects.toMatchObject({ code: 'ENOENT' }); // nothing was written
  });

  it('scheduled backups keep the newest N', async () => {
    const d = join(dir, 'sched');
    await import('node:fs/promises').then((fs) => fs.mkdir(d));
    for (let i = 0; i < 5; i++) await writeFile(join(d, scheduledName(new Date(Date.UTC(2026, 0, 1, i)))), "x");
    await writeFile(join(d, 'unrelated.txt'), 'x');
    expect(await pruneBackups(d, 2)).toHaveLength(3);
    expect((await readdir(d)).sort()).toEqual([scheduledName(new Date(Date.UTC(2026, 0, 1, 3))), scheduledName(new Date(Date.UTC(2026, 0, 1, 4))), 'unrelated.txt'].sort());
  });
});

describe('backup and restore of an etcd store, into a new etcd cluster', () => {
  let etcdA: TestEtcdCluster;
  let etcdB: TestEtcdCluster;
  beforeAll(async () => {
    etcdA = await startTestEtcd(1);
    etcdB = await startTestEtcd(1);
  }, 60_000);
  afterAll(async () => {
    await etcdA?.destroy();
    await etcdB?.destroy();
  });

  it('etcd → backup → new cluster: same keys; a second restore into it is refused', async () => {
    const { parseEtcdEndpoints } = await import('../../../src/kms/store/etcd.js');
    const src = { store: 'etcd' as const, etcdEndpoints: parseEtcdEndpoints(etcdA.endpoints) };
    const node = await serveKms({ dataDir: data, host: '127.0.0.1', port: 0, autoUnsealFile: unsealFile, ...src, log: () => {} });
    const ids: string[] = [];
    try {
      for (let i = 0; i < 4; i++) ids.push(await createKey(node.port, tls));
      const want = await Promise.all(ids.map((id) => getKey(node.port, tls, id)));
      const out = join(dir, 'etcd.jsonl');
      expect((await takeBackup(kmsPaths(data), { ...src, database: '' }, out)).count).toBe(4);
      const dst = { store: 'etcd' as const, etcdEndpoints: parseEtcdEndpoints(etcdB.endpoints) };
      const target = join(dir, 'etcd-restored');
      await restoreBackup({ backup: await readFile(out), dataDir: target, store: dst, unlock: { autoUnsealFile: unsealFile } });
      const again = await restoreBackup({ backup: await readFile(out), dataDir: join(dir, 'etcd-2'), store: dst, unlock: { autoUnsealFile: unsealFile } }).catch((e: { code: string }) => e.code);
      expect(again).toBe('RESTORE_REFUSED');
      const restored = await serveKms({ dataDir: target, host: '127.0.0.1', port: 0, autoUnsealFile: unsealFile, ...dst, log: () => {} });
      try {
        expect(await Promise.all(ids.map((id) => getKey(restored.port, tls, id)))).toEqual(want);
      } finally {
        await restored.close();
      }
    } finally {
      await node.close();
    }
  }, 120_000);
});

describe('vmcrypt kms backup / verify-backup (command line)', () => {
  it('backs up a serving KMS and verifies the file; a corrupted copy fails with BACKUP_INVALID', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const { repoRoot, vmcryptArgv } = await import('../../helpers/cli.js');
    const run = promisify(execFile);
    const vm = (...a: string[]) => run(process.execPath, [...vmcryptArgv(), ...a], { cwd: repoRoot });
    const out = join(dir, 'cli.jsonl');
    const b = JSON.parse((await vm('kms', 'backup', '--data', data, '--out', out, '--json')).stdout) as { count: number };
    expect(b.count).toBeGreaterThanOrEqual(6);
    expect((await vm('kms', 'verify-backup', out, '--share', shares[0]!, '--share', shares[1]!, '--share', shares[2]!)).stdout).toContain('every record authenticated');
    const bad = Buffer.from(await readFile(out));
    bad[bad.length - 200] = 0x20;
    await writeFile(join(dir, 'bad.jsonl'), bad);
    await expect(vm('kms', 'verify-backup', join(dir, 'bad.jsonl'))).rejects.toMatchObject({ stderr: expect.stringContaining('BACKUP_INVALID') });
  }, 120_000);
});
