import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { EtcdKeyStore, openEtcdKeyStore, parseEtcdEndpoints } from '../../../src/kms/store/etcd.js';
import { Etcd3 } from 'etcd3';
import { startTestEtcd, type EtcdMember, type TestEtcdCluster } from '../../helpers/etcd.js';

let etcd: TestEtcdCluster;
let nodes: EtcdKeyStore[] = [];
/** Every record whose insert resolved: id → sealed bytes; must all be there at the end. */
const written = new Map<string, Buffer>();

beforeAll(async () => {
  etcd = await startTestEtcd(3);
  const endpoints = parseEtcdEndpoints(etcd.endpoints);
  nodes = await Promise.all(
    [0, 1, 2].map((i) => openEtcdKeyStore({ endpoints: [...endpoints.slice(i), ...endpoints.slice(0, i)], opTimeoutMs: 15_000 })),
  );
});

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.close()));
  await etcd?.destroy();
});

/** Create on one node, read back on the next: the KMS's Create + Get through the store. */
async function createAndGet(i: number): Promise<void> {
  const a = nodes[i % 3] as EtcdKeyStore;
  const b = nodes[(i + 1) % 3] as EtcdKeyStore;
  const id = a.newId();
  const sealed = randomBytes(60);
  await a.insert({ id, owner: 'stream', attributes: `{"n":${i}}`, sealedKey: sealed });
  written.set(id, sealed);
  const back = await b.get(id);
  if (back?.sealedKey === null || back === undefined || !back.sealedKey.equals(sealed)) throw new Error(`read-back of ${id} differs`);
}

async function expectAllPresent(): Promise<void> {
  for (const n of nodes) {
    const listed = new Map((await n.list({ owner: 'stream' })).map((r) => [r.id, r.sealedKey]));
    for (const [id, sealed] of written) expect(listed.get(id)?.equals(sealed), `record ${id}`).toBe(true);
  }
}

describe('etcd store under member failures (real etcd processes)', () => {
  it('kill one member (the leader) during a stream of creates/gets: 0 failures, 0 lost', async () => {
    const total = 240;
    const concurrency = 4;
    let next = 0;
    let done = 0;
    const failures: unknown[] = [];
    let killed: LeaderView | undefined;
    const worker = async (): Promise<void> => {
      while (next < total) {
        const i = next++;
        try {
          await createAndGet(i);
        } catch (e) {
          failures.push(e);
        }
        done++;
      }
    };
    const killer = (async () => {
      while (done < total / 4) await new Promise((r) => setTimeout(r, 10));
      const leader = await waitForLeader(etcd.members, -1);
      await etcd.members[leader.index]?.kill();
      killed = leader;
    })();
    await Promise.all([...Array.from({ length: concurrency }, worker), killer]);
    if (killed === undefined) throw new Error('the leader was never killed');
    const victim = etcd.members[killed.index] as EtcdMember;
    // The member that called itself leader is gone, and no longer answers its status API.
    expect(victim.running()).toBe(false);
    expect(await statusOf(victim)).toBeNull();
    // The survivors elected another member, in a later raft term, and both follow it.
    const successor = await waitForLeader(etcd.members, killed.index);
    expect(successor.memberId).not.toBe(killed.memberId);
    expect(successor.raftTerm).toBeGreaterThan(killed.raftTerm);
    expect(failures).toEqual([]);
    expect(written.size).toBe(total);
    await expectAllPresent();
    await victim.start();
    await expectAllPresent();
  });

  it('kill two of three: writes fail with STORE_UNAVAILABLE, nothing lost, all resumes when they return', async () => {
    const endpoints = parseEtcdEndpoints(etcd.endpoints);
    const quick = await openEtcdKeyStore({ endpoints, opTimeoutMs: 3000 });
    try {
      await etcd.members[0]?.kill();
      await etcd.members[1]?.kill();
      const id = quick.newId();
      const err = await quick.insert({ id, owner: 'stream', attributes: '{}', sealedKey: randomBytes(60) }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'STORE_UNAVAILABLE', message: expect.stringMatching(/quorum/) });
      const readErr = await quick.get([...written.keys()][0] ?? 'x').catch((e: unknown) => e);
      expect(readErr).toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await etcd.members[0]?.start();
      await etcd.members[1]?.start();
      // Resumes: the nodes opened before the outage work again without being reopened.
      for (let i = 0; i < 12; i++) await createAndGet(10_000 + i);
      await expectAllPresent();
    } finally {
      await quick.close();
    }
  });
});

interface MemberStatus {
  readonly memberId: string;
  readonly leaderId: string;
  readonly raftTerm: bigint;
}

interface LeaderView extends MemberStatus {
  readonly index: number;
}

/** One member's own view through etcd's Status API, or null if it does not answer. */
async function statusOf(member: EtcdMember): Promise<MemberStatus | null> {
  const c = new Etcd3({ hosts: [member.clientUrl] });
  try {
    const st = await c.maintenance.status({ deadline: new Date(Date.now() + 2000) });
    return { memberId: st.header.member_id, leaderId: st.leader, raftTerm: BigInt(st.raftTerm) };
  } catch {
    return null;
  } finally {
    c.close();
  }
}

/**
 * The running member (other than `excluded`) that reports itself as leader, once every other
 * running member follows it; waits through an election.
 */
async function waitForLeader(members: readonly EtcdMember[], excluded: number): Promise<LeaderView> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const asked = members.map((m, index) => ({ m, index })).filter(({ m, index }) => index !== excluded && m.running());
    const views = await Promise.all(asked.map(async ({ m, index }) => ({ index, st: await statusOf(m) })));
    const leader = views.find(({ st }) => st !== null && st.memberId === st.leaderId);
    if (leader?.st != null && views.every(({ st }) => st?.leaderId === leader.st?.leaderId)) {
      return { ...leader.st, index: leader.index };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('no etcd member is leader with every running member following it');
}
