// npm run bench:kms — our KMS vs PyKMIP's server, one after the other, same client workload:
// N persistent mutual-TLS connections, each looping Create(AES-256) then Get of the new key.
// Last line: RESULT kms ours=<ops/s> peer=<ops/s> ratio=<ours/peer> [key=value …]
// BENCH_QUICK=1: short runs (under a minute in all). BENCH_CONNECTIONS, BENCH_SECONDS override.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ResultStatus } from '../src/kmip/enums.js';
import { createKeyCall } from '../src/kmip/client/calls/keys.js';
import { encodeRequestMessage, type RequestBatchItem } from '../src/kmip/message/request.js';
import { decodeResponseMessage } from '../src/kmip/message/response.js';
import { Operation } from '../src/kmip/operation-codes.js';
import { decodeCreateResponse } from '../src/kmip/payloads/create.js';
import { decodeGetResponse, encodeGetRequest } from '../src/kmip/payloads/get.js';
import { decodeTtlv, encodeTtlv, messageSize } from '../src/kmip/ttlv/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.env['BENCH_QUICK'] === '1';
const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 8);
const seconds = Number(process.env['BENCH_SECONDS'] ?? (quick ? 6 : 20));
const warmupSeconds = quick ? 1 : 3;
const run = promisify(execFile);

interface Tls {
  cert: string;
  key: string;
  ca: string;
}

/** One KMIP connection doing request/response in lockstep. */
class Conn {
  #buf: Buffer = Buffer.alloc(0);
  #wait: ((b: Buffer) => void) | undefined;
  #fail: ((e: Error) => void) | undefined;

  private constructor(readonly socket: TLSSocket) {
    socket.on('data', (d: Buffer) => {
      this.#buf = this.#buf.length === 0 ? d : Buffer.concat([this.#buf, d]);
      this.#deliver();
    });
    const die = (): void => this.#fail?.(new Error('connection closed'));
    socket.on('close', die);
    socket.on('error', die);
  }

  static async open(port: number, tls: Tls): Promise<Conn> {
    const socket = connect({ host: '127.0.0.1', port, ...tls, checkServerIdentity: () => undefined });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    socket.setNoDelay(true);
    return new Conn(socket);
  }

  #deliver(): void {
    const size = messageSize(this.#buf, { maxMessageSize: 1 << 24 });
    if (size === undefined || this.#buf.length < size || this.#wait === undefined) return;
    const msg = this.#buf.subarray(0, size);
    this.#buf = this.#buf.subarray(size);
    const w = this.#wait;
    this.#wait = undefined;
    this.#fail = undefined;
    w(msg);
  }

  call(bytes: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.#wait = resolve;
      this.#fail = reject;
      this.socket.write(bytes);
      this.#deliver();
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

const message = (item: RequestBatchItem): Buffer =>
  encodeTtlv(encodeRequestMessage({ header: { protocolVersion: { major: 1, minor: 1 }, batchCount: 1 }, batchItems: [item] }));

// Create of an AES-256 key, built by the client's call builder (the same request vCenter-style clients send).
const createCall = createKeyCall({ length: 256 });
const createMsg = message({ operation: createCall.operation, payload: createCall.payload });

function okPayload(resp: Buffer) {
  const item = decodeResponseMessage(decodeTtlv(resp)).batchItems[0];
  if (item?.resultStatus !== ResultStatus.Success) throw new Error(`operation failed: ${item?.resultMessage ?? '?'}`);
  return item.payload;
}

/** Runs the Create+Get loop on N connections; returns completed operations per second. */
async function workload(port: number, tls: Tls): Promise<{ opsPerSec: number; ops: number; errors: number }> {
  const conns = await Promise.all(Array.from({ length: connections }, () => Conn.open(port, tls)));
  let measuring = false;
  let stop = false;
  let ops = 0;
  let errors = 0;
  const loop = async (c: Conn): Promise<void> => {
    while (!stop) {
      try {
        const id = decodeCreateResponse(okPayload(await c.call(createMsg))).uniqueIdentifier;
        if (measuring) ops++;
        const key = decodeGetResponse(okPayload(await c.call(message({ operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: id }) })))).symmetricKey;
        if (key.material.length !== 32) throw new Error('bad key');
        key.material.fill(0);
        if (measuring) ops++;
      } catch (err) {
        errors++;
        if (errors > 50) throw err;
      }
    }
  };
  const loops = conns.map(loop);
  await new Promise((r) => setTimeout(r, warmupSeconds * 1000));
  measuring = true;
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  const counted = ops;
  stop = true;
  await Promise.allSettled(loops);
  conns.forEach((c) => c.close());
  return { opsPerSec: counted / elapsed, ops: counted, errors };
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error('peer exited before listening');
    const ok = await new Promise<boolean>((resolve) => {
      const s = netConnect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${port}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a !== null && typeof a !== 'string' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}

const dir = await mkdtemp(join(tmpdir(), 'vmcrypt-bench-kms-'));
const data = join(dir, 'kms');
try {
  const cli = ['--import', 'tsx', join(root, 'src', 'cli', 'run.ts')];
  const { stdout } = await run(process.execPath, [...cli, 'kms', 'init', '--data', data, '--auto-unseal-file', `${data}.unseal`, '--json'], { cwd: root });
  const init = JSON.parse(stdout) as { caCert: string; serverCert: string; serverKey: string; client: { cert: string; key: string } };
  const tls: Tls = {
    cert: await readFile(init.client.cert, 'utf8'),
    key: await readFile(init.client.key, 'utf8'),
    ca: await readFile(init.caCert, 'utf8'),
  };

  // Ours.
  const ourPort = await freePort();
  const ours = spawn(process.execPath, [...cli, 'kms', 'serve', '--data', data, '--auto-unseal-file', `${data}.unseal`, '--listen', `127.0.0.1:${ourPort}`], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let a: Awaited<ReturnType<typeof workload>>;
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      ours.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (/kms listening on/.test(out)) resolve();
      });
      ours.once('exit', () => reject(new Error(`kms serve exited: ${out}`)));
    });
    console.log(`ours: vmcrypt kms serve on 127.0.0.1:${ourPort}, ${connections} connections, ${seconds} s`);
    a = await workload(ourPort, tls);
    console.log(`ours: ${a.ops} ops, ${a.opsPerSec.toFixed(0)} ops/s, ${a.errors} errors`);
  } finally {
    await stopChild(ours);
  }

  // Peer: PyKMIP 0.10 server, same certificates, SQLite database in the temp dir.
  const peerPort = await freePort();
  const peerDir = join(dir, 'pykmip');
  await mkdir(join(peerDir, 'policies'), { recursive: true });
  const conf = join(peerDir, 'server.conf');
  await writeFile(
    conf,
    [
      '[server]',
      'hostname=127.0.0.1',
      `port=${peerPort}`,
      `certificate_path=${init.serverCert}`,
      `key_path=${init.serverKey}`,
      `ca_path=${init.caCert}`,
      'auth_suite=TLS1.2',
      'enable_tls_client_auth=True',
      `policy_path=${join(peerDir, 'policies')}`,
      `database_path=${join(peerDir, 'pykmip.db')}`,
      'logging_level=WARNING',
      '',
    ].join('\n'),
  );
  // detached: its own process group, so stopping it also stops PyKMIP's multiprocessing child.
  const peer = spawn('/usr/bin/pykmip-server', ['-f', conf, '-l', join(peerDir, 'server.log')], {
    cwd: peerDir,
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let peerErr = '';
  peer.stderr?.on('data', (d: Buffer) => (peerErr += d.toString()));
  let b: Awaited<ReturnType<typeof workload>>;
  try {
    try {
      await waitForPort(peerPort, peer);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${peerErr}`);
    }
    console.log(`peer: pykmip-server on 127.0.0.1:${peerPort}, ${connections} connections, ${seconds} s`);
    b = await workload(peerPort, tls);
    console.log(`peer: ${b.ops} ops, ${b.opsPerSec.toFixed(0)} ops/s, ${b.errors} errors`);
  } finally {
    await stopChild(peer);
    if (peer.pid !== undefined) {
      try {
        process.kill(-peer.pid, 'SIGKILL');
      } catch {
        // the group is already gone
      }
    }
  }

  const load = loadavg()[0]?.toFixed(2) ?? '?';
  console.log(
    `RESULT kms ours=${a.opsPerSec.toFixed(0)} peer=${b.opsPerSec.toFixed(0)} ratio=${(a.opsPerSec / b.opsPerSec).toFixed(1)} connections=${connections} seconds=${seconds} workload=create+get cpus=${cpus().length} load1=${load}`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
