import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestEtcd, leaderIndex, type TestEtcdCluster } from '../helpers/etcd.js';
import { kmsNode, makeKmsDataDir, type KmsDataDir, type KmsNode } from './kms-nodes.js';
import { KeyProvider, type FailedAttempt } from '../../src/keyprovider/index.js';
import { KmipClient, KmipOperationError } from '../../src/kmip/client/index.js';

/**
 * End to end with real processes: 3 etcd members, 3 `vmcrypt kms serve --store etcd` nodes,
 * and a key provider over the 3 nodes. Keys are tracked by the SHA-256 of their material, so
 * "nothing lost, nothing corrupted" is checked byte for byte without keeping key bytes.
 */
describe('key provider over a 3-node KMS cluster on etcd', () => {
  let etcd: TestEtcdCluster;
  let data: KmsDataDir;
  let nodes: KmsNode[];
  let provider: KeyProvider;
  const failovers: FailedAttempt[] = [];
  /** uid → sha256(material) at creation. */
  const keys = new Map<string, string>();

  const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

  /** Create + Get a new key, then Get an older one; returns how many operations failed. */
  async function stream(steps: number, at: (step: number) => Promise<void> | void): Promise<{ ops: number; failed: string[] }> {
    const failed: string[] = [];
    let ops = 0;
    for (let i = 0; i < steps; i++) {
      await at(i);
      try {
        ops += 1;
        const uid = await provider.create({ length: 256, name: `stream-${keys.size}` });
        ops += 1;
        const k = await provider.get(uid);
        keys.set(uid, digest(k.material));
        k.material.fill(0);
        const older = [...keys.keys()][Math.floor(Math.random() * keys.size)] as string;
        ops += 1;
        const o = await provider.get(older);
        if (digest(o.material) !== keys.get(older)) failed.push(`key ${older} changed`);
        o.material.fill(0);
      } catch (err) {
        failed.push((err as Error).message);
      }
    }
    return { ops, failed };
  }

  /** Every key ever created is still there, with the same bytes. */
  async function assertNoKeyLost(): Promise<void> {
    for (const [uid, want] of keys) {
      const k = await provider.get(uid);
      expect(digest(k.material), uid).toBe(want);
      k.material.fill(0);
    }
  }

  beforeAll(async () => {
    etcd = await startTestEtcd(3);
    data = await makeKmsDataDir();
    const endpoints = etcd.members.map((m) => m.clientUrl);
    nodes = await Promise.all([0, 1, 2].map((i) => kmsNode(`kms${i}`, data, { etcd: endpoints })));
    await Promise.all(nodes.map((n) => n.start()));
    provider = new KeyProvider(
      {
        name: 'etcd-cluster',
        tls: data.manager,
        servers: nodes.map((n) => ({ name: n.name, host: '127.0.0.1', port: n.port })),
        // Above the etcd store's own 8 s bound, so a node that lost quorum answers before we call it hung.
        hungTimeoutMs: 20_000,
      },
      { onFailover: (f) => failovers.push(f) },
    );
  });

  afterAll(async () => {
    await provider?.close();
    await Promise.all((nodes ?? []).map((n) => n.kill()));
    await etcd?.destroy();
    await data?.remove();
  });

  it('a key created through one node is readable on every node', async () => {
    const uid = await provider.create({ name: 'shared' });
    const material: string[] = [];
    for (const n of nodes) {
      const c = KmipClient.connect({ host: '127.0.0.1', port: n.port, tls: data.manager });
      const k = await c.get(uid);
      material.push(digest(k.material));
      k.material.fill(0);
      await c.close();
    }
    expect(new Set(material).size).toBe(1);
    keys.set(uid, material[0] as string);
  });

  it('etcd holds no clear key bytes: only sealed material reaches the members\' data dirs', async () => {
    const uids: string[] = [];
    const clear: Buffer[] = [];
    for (let i = 0; i < 5; i++) {
      const uid = await provider.create({ name: `scan-${i}` });
      const k = await provider.get(uid);
      uids.push(uid);
      clear.push(Buffer.from(k.material));
      keys.set(uid, digest(k.material));
      k.material.fill(0);
    }
    const blobs = await Promise.all((await filesUnder(etcd.dataRoot)).map((f) => readFile(f)));
    const found = (needle: Buffer): boolean => blobs.some((b) => b.includes(needle));
    try {
      // Positive control: the scan sees the records the KMS nodes wrote (ids are in the keys).
      expect(uids.every((u) => found(Buffer.from(u)))).toBe(true);
      for (const k of clear) {
        for (const form of [k, Buffer.from(k.toString('hex')), Buffer.from(k.toString('base64').slice(0, 40))]) expect(found(form)).toBe(false);
      }
    } finally {
      for (const k of clear) k.fill(0);
    }
  });

  it('loses no operation and no key when an etcd member (the leader) is killed mid-stream', async () => {
    let killed = -1;
    const { ops, failed } = await stream(40, async (i) => {
      if (i === 10) {
        killed = Math.max(0, await leaderIndex(etcd));
        await etcd.members[killed]?.kill();
      }
    });
    expect(failed).toEqual([]);
    expect(ops).toBe(120);
    await assertNoKeyLost();
    await etcd.members[killed]?.start();
  });

  it('fails over to another KMS node when the one in use is killed mid-stream', async () => {
    failovers.length = 0;
    const first = keys.size;
    const { failed } = await stream(30, async (i) => {
      if (i === 10) await nodes[0]?.kill();
    });
    expect(failed).toEqual([]);
    expect(failovers.length).toBeGreaterThan(0);
    expect(failovers.every((f) => f.server === 'kms0')).toBe(true);
    await assertNoKeyLost();
    // One create() call, one key: a Create retried on the next node never left a second key with its name.
    for (let n = first; n < keys.size; n++) expect(await provider.locate({ name: `stream-${n}` }), `stream-${n}`).toHaveLength(1);
  });

  it('refuses writes with a clear error without quorum, loses nothing, and resumes when members return', async () => {
    const before = keys.size;
    await etcd.members[1]?.kill();
    await etcd.members[2]?.kill();
    const err = await provider.create({ name: 'no-quorum' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KmipOperationError);
    expect((err as KmipOperationError).reason).toBe('GeneralFailure');
    expect((err as KmipOperationError).message).toContain('STORE_UNAVAILABLE');

    await Promise.all([etcd.members[1]?.start(), etcd.members[2]?.start()]);
    // The cluster elects a leader again; writes resume.
    let uid: string | undefined;
    for (let attempt = 0; attempt < 10 && uid === undefined; attempt++) {
      uid = await provider.create({ name: 'after-quorum' }).catch(() => undefined);
    }
    expect(uid).toBeDefined();
    const k = await provider.get(uid as string);
    keys.set(uid as string, digest(k.material));
    k.material.fill(0);
    expect(keys.size).toBe(before + 1);
    await assertNoKeyLost();
    // The refused Create left nothing half-written: at most one complete, readable key.
    const named = await provider.locate({ name: 'no-quorum' });
    expect(named.length).toBeLessThanOrEqual(1);
    for (const id of named) (await provider.get(id)).material.fill(0);
  });
});

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}
