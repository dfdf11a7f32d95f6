import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etcdClusterStatus } from '../../../src/kms/store/etcd-status.js';
import { kmsClusterCommand } from '../../../src/cli/commands/kms-cluster.js';
import { startTestEtcd, type TestEtcdCluster } from '../../helpers/etcd.js';

let etcd: TestEtcdCluster;
beforeAll(async () => {
  etcd = await startTestEtcd(3);
});
afterAll(async () => {
  await etcd?.destroy();
});

function capture(): { io: { out: (l: string) => void; err: (l: string) => void; interactive: boolean }; lines: string[] } {
  const lines: string[] = [];
  return { lines, io: { out: (l) => lines.push(l), err: (l) => lines.push(l), interactive: false } };
}

describe('etcd cluster status', () => {
  it('reports one leader and quorum, then no quorum with two members down, then back', async () => {
    const endpoints = etcd.members.map((m) => m.clientUrl);
    const up = await etcdClusterStatus(endpoints);
    expect(up.quorum).toBe(true);
    expect(up.members.filter((m) => m.isLeader)).toHaveLength(1);
    expect(up.members.every((m) => m.reachable && m.version?.startsWith('3.4'))).toBe(true);

    const c = capture();
    expect(await kmsClusterCommand(['status', '--etcd', etcd.endpoints], c.io)).toBe(0);
    expect(c.lines.join('\n')).toMatch(/leader[\s\S]*quorum: yes/);

    await etcd.members[0]?.kill();
    await etcd.members[1]?.kill();
    const down = await etcdClusterStatus(endpoints, { timeoutMs: 1000 });
    expect(down.quorum).toBe(false);
    expect(down.members.filter((m) => m.reachable)).toHaveLength(1);
    const j = capture();
    expect(await kmsClusterCommand(['status', '--etcd', etcd.endpoints, '--json'], j.io)).toBe(1);
    expect(JSON.parse(j.lines[0] ?? '{}')).toMatchObject({ quorum: false });

    await Promise.all([etcd.members[0]?.start(), etcd.members[1]?.start()]);
    let back = await etcdClusterStatus(endpoints);
    for (let i = 0; i < 20 && !back.quorum; i++) {
      await new Promise((r) => setTimeout(r, 250));
      back = await etcdClusterStatus(endpoints);
    }
    expect(back.quorum).toBe(true);
  });
});
