// Shared by the KMIP benchmarks (kms.ts, kms-crypto.ts): a lockstep KMIP connection, our
// `vmcrypt kms serve` and PyKMIP's server started on free loopback ports with one generated PKI.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect as netConnect, createServer } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { messageSize } from '../src/kmip/ttlv/index.js';

const run = promisify(execFile);

export interface Tls {
  cert: string;
  key: string;
  ca: string;
}

/** One KMIP connection doing request/response in lockstep. */
export class Conn {
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

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a !== null && typeof a !== 'string' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

export async function waitForPort(port: number, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
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

export function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}

export interface KmsInit {
  caCert: string;
  serverCert: string;
  serverKey: string;
  client: { cert: string; key: string };
}

/** `vmcrypt kms init` of `data` (auto-unseal file beside it) and the manager client's TLS material. */
export async function initKms(root: string, data: string): Promise<{ init: KmsInit; tls: Tls; cli: string[] }> {
  const cli = ['--import', 'tsx', join(root, 'src', 'cli', 'run.ts')];
  const { stdout } = await run(process.execPath, [...cli, 'kms', 'init', '--data', data, '--auto-unseal-file', `${data}.unseal`, '--json'], { cwd: root });
  const init = JSON.parse(stdout) as KmsInit;
  const tls: Tls = { cert: await readFile(init.client.cert, 'utf8'), key: await readFile(init.client.key, 'utf8'), ca: await readFile(init.caCert, 'utf8') };
  return { init, tls, cli };
}

/** Our key server on `port`, resolved once it prints its ready line. */
export async function startOurKms(root: string, cli: string[], data: string, port: number): Promise<ChildProcess> {
  const ours = spawn(process.execPath, [...cli, 'kms', 'serve', '--data', data, '--auto-unseal-file', `${data}.unseal`, '--listen', `127.0.0.1:${port}`], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    ours.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (/kms listening on/.test(out)) resolve();
    });
    ours.once('exit', () => reject(new Error(`kms serve exited: ${out}`)));
  });
  return ours;
}

/** PyKMIP 0.10's server with the same certificates and its SQLite database under `peerDir`; `stop()` ends its process group. */
export async function startPykmip(peerDir: string, init: KmsInit, port: number): Promise<{ stop: () => Promise<void> }> {
  await mkdir(join(peerDir, 'policies'), { recursive: true });
  const conf = join(peerDir, 'server.conf');
  await writeFile(
    conf,
    [
      '[server]',
      'hostname=127.0.0.1',
      `port=${port}`,
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
  const peer = spawn('/usr/bin/pykmip-server', ['-f', conf, '-l', join(peerDir, 'server.log')], { cwd: peerDir, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let peerErr = '';
  peer.stderr?.on('data', (d: Buffer) => (peerErr += d.toString()));
  const stop = async (): Promise<void> => {
    await stopChild(peer);
    if (peer.pid !== undefined) {
      try {
        process.kill(-peer.pid, 'SIGKILL');
      } catch {
        // the group is already gone
      }
    }
  };
  try {
    await waitForPort(port, peer);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${peerErr}`);
  }
  return { stop };
}

export interface LoopResult {
  readonly opsPerSec: number;
  readonly ops: number;
  readonly errors: number;
}

/**
 * Runs `step` in a loop on every connection: `warmupSeconds` unmeasured, then `seconds`
 * measured. `step` calls `done()` after each completed operation; more than 50 failed steps end
 * the run with the last error.
 */
export async function timedLoops(
  conns: readonly Conn[],
  step: (c: Conn, i: number, done: () => void) => Promise<void>,
  warmupSeconds: number,
  seconds: number,
): Promise<LoopResult> {
  let measuring = false;
  let stop = false;
  let ops = 0;
  let errors = 0;
  const done = (): void => {
    if (measuring) ops++;
  };
  const loop = async (c: Conn, i: number): Promise<void> => {
    while (!stop) {
      try {
        await step(c, i, done);
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
  return { opsPerSec: counted / elapsed, ops: counted, errors };
}
