/**
 * KMS cluster on etcd vs the single SQLite KMS (issue 4 benchmark).
 *
 * 1. Throughput: the same client workload — C persistent mTLS connections, each looping
 *    Create (AES-256) then Get of that key — against (a) one `kms serve` on SQLite and (b) a
 *    cluster of 3 `kms serve --store etcd` nodes over 3 etcd members (connections spread over
 *    the nodes). ops/s counts each Create and each Get as one operation.
 * 2. Failover: a key provider [kms-0, kms-1, kms-2] of the cluster nodes with a warm connection
 *    to kms-0; kms-0 is SIGKILLed; time the next Create+Get through the provider (answered by
 *    kms-1 from the shared etcd state, including a Get of a key created on kms-0 before).
 *
 * RESULT kms-cluster ours=<cluster ops/s> peer=<single SQLite ops/s> ratio=<ours/peer> failover_ms=<median> …
 * BENCH_QUICK=1: shorter runs, fewer rounds (under a minute). BENCH_CONNECTIONS=N: connections (default 16).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startKmsCluster, type KmsCluster } from '../src/cli/commands/kms-cluster-start.js';
import { KmipClient, type TlsIdentity } from '../src/kmip/client/index.js';
import { KeyProvider } from '../src/keyprovider/index.js';
import { vmcryptArgv } from '../test/helpers/cli.js';
import { freePort } from '../test/helpers/net.js';
import { startProcess, stopAll } from '../test/helpers/process.js';

const quick = process.env['BENCH_QUICK'] === '1';
const DURATION_MS = quick ? 4000 : 15000;
/** Concurrent client connections (hosts/managers); BENCH_CONNECTIONS overrides. etcd batches concurrent writes, SQLite serialises them. */
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
const FAILOVER_ROUNDS = quick ? 3 : 10;

async function identityOf(kmsDataDir: string): Promise<TlsIdentity> {
  const pki = join(kmsDataDir, 'pki');
  return {
    ca: await readFile(join(pki, 'ca.crt'), 'utf8'),
    cert: await readFile(join(pki, 'clients', 'vmcrypt-manager.crt'), 'utf8'),
    key: await readFile(join(pki, 'clients', 'vmcrypt-manager.key'), 'utf8'),
  };
}

/** C connections, each Create+Get in a loop for DURATION_MS; returns operations per second. */
async function workload(targets: readonly { host: string; port: number }[], tls: TlsIdentity): Promise<number> {
  const clients = Array.from({ length: CONNECTIONS }, (_, i) => {
    const t = targets[i % targets.length] as { host: string; port: number };
    return KmipClient.connect({ host: t.host, port: t.port, tls });
  });
  await Promise.all(clients.map((c) => c.discoverVersions())); // connect + handshake outside the timing
  let ops = 0;
  const start = performance.now();
  const end = start + DURATION_MS;
  await Promise.all(
    clients.map(async (c) => {
      while (performance.now() < end) {
        const id = await c.create({ length: 256 });
        const key = await c.get(id);
        key.material.fill(0);
        ops += 2;
      }
    }),
  );
  const secs = (performance.now() - start) / 1000;
  await Promise.all(clients.map((c) => c.close()));
  return ops / secs;
}

function run(argv: readonly string[]): Promise<void> {
  return new Promise((res, rej) => {
    const c = spawn(process.execPath, [...argv], { stdio: 'ignore' });
    c.once('exit', (code) => (code === 0 ? res() : rej(new Error(`${argv.join(' ')} exited ${code}`))));
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'vmcrypt-bench-kms-cluster-'));
  let cluster: KmsCluster | undefined;
  try {
    // (a) single KMS on SQLite
    const singleDir = join(root, 'single');
    await run([...vmcryptArgv(), 'kms', 'init', '--data', singleDir, '--auto-unseal-file', `${singleDir}.unseal`]);
    const port = await freePort();
    const single = await startProcess(process.execPath, [...vmcryptArgv(), 'kms', 'serve', '--data', singleDir, '--auto-unseal-file', `${singleDir}.unseal`, '--listen', `127.0.0.1:${port}`], {
      ready: /listening on/,
    });
    const singleOps = await workload([{ host: '127.0.0.1', port }], await identityOf(singleDir));
    await single.stop();
    console.log(`single SQLite KMS : ${singleOps.toFixed(0)} ops/s (${CONNECTIONS} connections, ${DURATION_MS / 1000} s)`);

    // (b) 3 KMS nodes over 3 etcd members
    cluster = await startKmsCluster({ dir: join(root, 'cluster'), kmsNodes: 3, vmcryptArgv: vmcryptArgv() });
    const tls = await identityOf(cluster.kmsDataDir);
    const nodes = cluster.nodes.map((n) => {
      const [host, p] = n.address.split(':');
      return { name: n.name, host: host ?? '127.0.0.1', port: Number(p) };
    });
    const clusterOps = await workload(nodes, tls);
    console.log(`3-node etcd cluster: ${clusterOps.toFixed(0)} ops/s (${CONNECTIONS} connections over 3 nodes, ${DURATION_MS / 1000} s)`);

    // Failover: warm provider on kms-0, SIGKILL kms-0, time the next Create+Get (and a Get of an older key).
    const failover: number[] = [];
    for (let r = 0; r < FAILOVER_ROUNDS; r++) {
      const provider = new KeyProvider({ name: 'bench-cluster', tls, servers: nodes.map((n) => ({ name: n.name, host: n.host, port: n.port })) });
      const before = await provider.create({ length: 256 });
      await cluster.nodes[0]?.kill();
      const t = performance.now();
      const id = await provider.create({ length: 256 });
      (await provider.get(id)).material.fill(0);
      failover.push(performance.now() - t);
      (await provider.get(before)).material.fill(0); // created on kms-0, read on kms-1
      await provider.close();
      await cluster.nodes[0]?.start();
    }
    const fo = median(failover);
    console.log(`failover (kms-0 killed → Create+Get on kms-1): median ${fo.toFixed(1)} ms, max ${Math.max(...failover).toFixed(1)} ms over ${FAILOVER_ROUNDS} rounds`);
    const ratio = clusterOps / singleOps;
    console.log(
      `RESULT kms-cluster ours=${clusterOps.toFixed(1)} peer=${singleOps.toFixed(1)} ratio=${ratio.toFixed(3)} unit=ops/s ` +
        `failover_ms=${fo.toFixed(1)} failover_max_ms=${Math.max(...failover).toFixed(1)} failover_target_ms=1000 connections=${CONNECTIONS} duration_s=${DURATION_MS / 1000}`,
    );
  } finally {
    await cluster?.stop();
    await stopAll();
    await rm(root, { recursive: true, force: true });
  }
}

await main();
