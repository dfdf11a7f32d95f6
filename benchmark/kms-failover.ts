/**
 * Time to fail over on a dead key server (issue 4 target: < 1 s).
 *
 * Two real PyKMIP servers form a key provider [kms1, kms2]. For each round: the provider's
 * persistent connection to kms1 is warm, kms1 is SIGKILLed, and we time the next operation
 * (Discover Versions) through the provider: detect the dead connection, reconnect (refused),
 * move to kms2, TLS handshake, answer. Also timed: a provider whose first server was never
 * there (connection refused on a fresh provider). Baseline: the same operation on a fresh
 * connection to a live server (connect + TLS handshake + round trip).
 *
 * RESULT kms-failover ours=<median ms, killed server> peer=1000 (the target) ratio=ours/peer.
 * BENCH_QUICK=1: fewer rounds (under a minute).
 */
import { performance } from 'node:perf_hooks';
import { startPykmip, type PykmipServer } from '../test/helpers/pykmip.js';
import { freePort } from '../test/helpers/net.js';
import { stopAll } from '../test/helpers/process.js';
import { KeyProvider } from '../src/kms/provider/index.js';
import { KmipClient, type TlsIdentity } from '../src/kmip/client/index.js';

const quick = process.env['BENCH_QUICK'] === '1';
const rounds = quick ? 5 : 20;
const TARGET_MS = 1000;

const identity = (s: PykmipServer): TlsIdentity => ({ ca: s.ca.certPem, cert: s.client.certPem, key: s.client.keyPem });

function stats(xs: number[]): { median: number; p95: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return { median: at(0.5), p95: at(0.95), max: s[s.length - 1] ?? NaN };
}
const fmt = (n: number): string => n.toFixed(1);

async function main(): Promise<void> {
  const kms2 = await startPykmip();
  const killed: number[] = [];
  const refused: number[] = [];
  const baseline: number[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      // Baseline: fresh connection + handshake + Discover Versions on a live server.
      const fresh = KmipClient.connect({ host: kms2.host, port: kms2.port, tls: identity(kms2) });
      let t = performance.now();
      await fresh.discoverVersions();
      baseline.push(performance.now() - t);
      await fresh.close();

      // Killed mid-life: warm connection to kms1, SIGKILL, time the next operation.
      const kms1 = await startPykmip();
      const provider = new KeyProvider({
        name: 'bench',
        servers: [
          { name: 'kms1', host: kms1.host, port: kms1.port, tls: identity(kms1) },
          { name: 'kms2', host: kms2.host, port: kms2.port, tls: identity(kms2) },
        ],
      });
      await provider.discoverVersions(); // warms the kms1 connection
      await kms1.stop();
      t = performance.now();
      await provider.discoverVersions();
      killed.push(performance.now() - t);
      await provider.close();

      // Never there: the first server's port refuses connections.
      const dead = await freePort();
      const p2 = new KeyProvider({
        name: 'bench-refused',
        tls: identity(kms2),
        servers: [
          { name: 'gone', host: '127.0.0.1', port: dead },
          { name: 'kms2', host: kms2.host, port: kms2.port },
        ],
      });
      t = performance.now();
      await p2.discoverVersions();
      refused.push(performance.now() - t);
      await p2.close();
    }
  } finally {
    await kms2.stop();
    await stopAll();
  }
  const k = stats(killed);
  const r = stats(refused);
  const b = stats(baseline);
  console.log(`rounds=${rounds}`);
  console.log(`killed server : median ${fmt(k.median)} ms  p95 ${fmt(k.p95)} ms  max ${fmt(k.max)} ms`);
  console.log(`refused server: median ${fmt(r.median)} ms  p95 ${fmt(r.p95)} ms  max ${fmt(r.max)} ms`);
  console.log(`baseline (fresh TLS connection + op, no failover): median ${fmt(b.median)} ms`);
  console.log(
    `RESULT kms-failover ours=${fmt(k.median)} peer=${TARGET_MS} ratio=${(k.median / TARGET_MS).toFixed(4)} ` +
      `unit=ms peer_is=target_1s killed_p95=${fmt(k.p95)} killed_max=${fmt(k.max)} refused_median=${fmt(r.median)} ` +
      `baseline_median=${fmt(b.median)} rounds=${rounds}`,
  );
}

await main();
