import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { ProviderHealth } from '../../../src/keyprovider/index.js';
import type { EventInput, ManagerEvent } from '../../../src/manager/contracts.js';
import { HealthMonitor } from '../../../src/manager/keys/health-monitor.js';
import { createKeyMetrics } from '../../../src/manager/keys/key-metrics.js';

type Server = ProviderHealth['servers'][number];
const server = (name: string, status: Server['status'], daysLeft = 300): Server => ({
  name,
  server: `127.0.0.1:${name.length}`,
  status,
  checkedAt: new Date().toISOString(),
  ...(status === 'error' ? { error: { code: 'KMIP_CLIENT_UNREACHABLE', message: 'connect ECONNREFUSED' } } : { latencyMs: 2 }),
  certificate: { subjectCn: 'kms', issuerCn: 'ca', notAfter: '2027-01-01T00:00:00.000Z', daysLeft, sha256Fingerprint: `fp-${name}` },
});

function monitor(states: Array<Server[]>, intervalMs = 20) {
  const events: ManagerEvent[] = [];
  let i = 0;
  const reachable: string[] = [];
  const m = new HealthMonitor({
    providerIds: () => ['kp'],
    check: async () => {
      const servers = states[Math.min(i++, states.length - 1)] as Server[];
      const answering = servers.filter((s) => s.status !== 'error').length;
      return { provider: 'kp', status: answering === 0 ? 'error' : servers.every((s) => s.status === 'ok') ? 'ok' : 'warning', servers };
    },
    events: { post: (e: EventInput) => { const ev = { ...e, id: events.length + 1, time: '' }; events.push(ev); return ev; } },
    metrics: createKeyMetrics(new Registry()),
    log: pino({ level: 'silent' }),
    intervalMs,
    timeoutMs: 100,
    certExpiringDays: 30,
    onReachable: (id) => reachable.push(id),
  });
  return { m, events, reachable, checks: () => i };
}

describe('key provider health monitor', () => {
  it('posts kms.health on colour changes only, kms.unreachable / kms.reachable, one kms.certExpiring per certificate', async () => {
    const { m, events, reachable } = monitor([
      [server('a', 'ok'), server('b', 'ok')],
      [server('a', 'ok'), server('b', 'ok')],
      [server('a', 'ok'), server('b', 'error')],
      [server('a', 'error'), server('b', 'error')],
      [server('a', 'error'), server('b', 'error')],
      [server('a', 'warning', 10), server('b', 'ok')],
      [server('a', 'warning', 10), server('b', 'ok')],
      [server('a', 'ok'), server('b', 'ok')],
    ]);
    for (let i = 0; i < 8; i++) await m.checkAll();
    const health = events.filter((e) => e.type === 'kms.health').map((e) => [e.data?.['status'], e.severity]);
    expect(health).toEqual([
      ['green', 'info'],
      ['yellow', 'warning'],
      ['red', 'critical'],
      ['yellow', 'warning'],
      ['green', 'info'],
    ]);
    expect(events.filter((e) => e.type === 'kms.unreachable').map((e) => e.severity)).toEqual(['critical']);
    expect(events.filter((e) => e.type === 'kms.reachable')).toHaveLength(1);
    expect(reachable).toEqual(['kp']);
    const expiring = events.filter((e) => e.type === 'kms.certExpiring');
    expect(expiring).toHaveLength(1);
    expect(expiring[0]?.data).toMatchObject({ server: 'a', daysLeft: 10 });
    expect(events.every((e) => e.entity?.kind === 'keyProvider' && e.entity.id === 'kp')).toBe(true);
    expect(m.last('kp')?.color).toBe('green');
  });

  it('runs by itself every interval once started, and stops', async () => {
    const { m, checks } = monitor([[server('a', 'ok')]], 10);
    m.start();
    const end = Date.now() + 5000;
    while (checks() < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    await m.stop();
    const n = checks();
    expect(n).toBeGreaterThanOrEqual(3);
    await new Promise((r) => setTimeout(r, 50));
    expect(checks()).toBe(n);
  });
});
