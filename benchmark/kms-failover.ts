/**
 * Time to fail over on a dead key server (issue 4 target: < 1 s).
 *
 * A key provider [kms1, kms2] of two real key servers on loopback — `vmcrypt kms serve`
 * processes, and for comparison two PyKMIP servers. For each round: the provider's persistent
 * connection to kms1 is warm, kms1 is SIGKILLed, and we time the next operation (Discover
 * Versions) through the provider: dead connection detected → one reconnect, refused → kms2:
 * TCP + TLS handshake + answer. Also timed: a fresh provider whose first server's port
 * refuses connections, and (baseline) the same operation on a fresh connection to a live server.
 *
 * RESULT kms-failover ours=<median ms, killed vmcrypt node> peer=1000 (the target) ratio=ours/peer.
 * BENCH_QUICK=1: fewer rounds (under a minute).
 */
import { performance } from 'node:perf_hooks';
import { startPykmip } from '../test/helpers/pykmip.js';
import { freePort } from '../test/helpers/net.js';
import { stopAll } from '../test/helpers/process.js';
import { kmsNode, makeKmsDataDir } from '../test/keyprovider/kms-nodes.js';
import { KeyProvider } from '../src/keyprovider/index.js';
import { KmipClient, type TlsIdentity } from '../src/kmip/client/index.js';

const quick = process.env['BENCH_QUICK'] === '1';
const rounds = quick ? 4 : 15;
const TARGET_MS = 1000;

/** A live key server the benchmark can kill. */
interface Server {
  readonly port: number;
  readonly tls: TlsIdentity;
  kill(): Promise<void>;
}

interface Flavour {
  readonly name: string;
  start(): Promise<Server>;
  cleanup(): Promise<void>;
}

async function vmcryptFlavour(): Promise<Flavour> {
  const data = await makeKmsDataDir();
  return {
    name: 'vmcrypt',
    async start() {
      const node = await kmsNode('n', data);
      await node.start();
      return { port: node.port, tls: data.manager, kill: () => node.kill() };
    },
    cleanup: () => data.remove(),
  };
}

function pykmipFlavour(): Flavour {
  return {
    name: 'pykmip',
    async start() {
      const s = await startPykmip();
      return { port: s.port, tls: { ca: s.ca.certPem, cert: s.client.certPem, key: s.client.keyPem }, kill: () => s.stop() };
    },
    cleanup: async () => undefined,
  };
}

interface Timings {
  killed: number[];
  refused: number[];
  baseline: number[];
}

async function measure(flavour: Flavour): Promise<Timings> {
  const t: Timings = { killed: [], refused: [], baseline: [] };
  const kms2 = await flavour.start();
  try {
    for (let i = 0; i < rounds; i++) {
      const fresh = KmipClient.connect({ host: '127.0.0.1', port: kms2.port, tls: kms2.tls });
      let t0 = performance.now();
      await fresh.discoverVersions();
      t.baseline.push(performance.now() - t0);
      await fresh.close();

      const kms1 = await flavour.start();
      const provider = new KeyProvider({
        name: 'bench',
        servers: [
          { name: 'kms1', host: '127.0.0.1', port: kms1.port, tls: kms1.tls },
          { name: 'kms2', host: '127.0.0.1', port: kms2.port, tls: kms2.tls },
        ],
      });
      await provider.discoverVersions(); // warm connection to kms1
      await kms1.kill();
      t0 = performance.now();
      await provider.discoverVersions();
      t.killed.push(performance.now() - t0);
      await provider.close();

      const refusedPort = await freePort();
      const p2 = new KeyProvider({
        name: 'bench-refused',
        tls: kms2.tls,
        servers: [
          { name: 'gone', host: '127.0.0.1', port: refusedPort },
          { name: 'kms2', host: '127.0.0.1', port: kms2.port },
        ],
      });
      t0 = performance.now();
      await p2.discoverVersions();
      t.refused.push(performance.now() - t0);
      await p2.close();
    }
  } finally {
    await kms2.kill();
    await flavour.cleanup();
  }
  return t;
}

function stats(xs: number[]): { median: number; p95: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return { median: at(0.5), p95: at(0.95), max: s[s.length - 1] ?? NaN };
}
const fmt = (n: number): string => n.toFixed(1);

async function main(): Promise<void> {
  const results = new Map<string, Timings>();
  try {
    for (const f of [await vmcryptFlavour(), pykmipFlavour()]) results.set(f.name, await measure(f));
  } finally {
    await stopAll();
  }
  console.log(`rounds=${rounds} per server kind`);
  for (const [name, t] of results) {
    const k = stats(t.killed);
    const r = stats(t.refused);
    const b = stats(t.baseline);
    console.log(`${name.padEnd(8)} killed : median ${fmt(k.median)} ms  p95 ${fmt(k.p95)} ms  max ${fmt(k.max)} ms`);
    console.log(`${name.padEnd(8)} refused: median ${fmt(r.median)} ms  p95 ${fmt(r.p95)} ms  max ${fmt(r.max)} ms`);
    console.log(`${name.padEnd(8)} baseline (fresh TLS connection + op): median ${fmt(b.median)} ms`);
  }
  const ours = stats(results.get('vmcrypt')?.killed ?? []);
  const ourRefused = stats(results.get('vmcrypt')?.refused ?? []);
  const py = stats(results.get('pykmip')?.killed ?? []);
  console.log(
    `RESULT kms-failover ours=${fmt(ours.median)} peer=${TARGET_MS} ratio=${(ours.median / TARGET_MS).toFixed(4)} ` +
      `unit=ms peer_is=target_1s killed_p95=${fmt(ours.p95)} killed_max=${fmt(ours.max)} refused_median=${fmt(ourRefused.median)} ` +
      `pykmip_killed_median=${fmt(py.median)} rounds=${rounds}`,
  );
}

await main();
