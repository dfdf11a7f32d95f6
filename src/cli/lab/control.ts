import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LabError, LabErrorCode } from './errors.js';
import { readLabState } from './state.js';

/**
 * The running lab's control socket: `host restart` and `lab down` ask the lab process (the one
 * that supervises the agents) instead of signalling children it owns. A unix socket in DIR
 * (0600 in a 0700 directory): only the lab's user can reach it. One JSON line each way.
 */
export type LabControlRequest =
  | { op: 'restartHost'; host: string }
  | { op: 'stopKms' | 'startKms'; server: string }
  | { op: 'stop' }
  | { op: 'status' };
export type LabControlAnswer = { ok: true; data?: Record<string, unknown> } | { ok: false; error: string };

export interface LabControlHandlers {
  restartHost(host: string): Promise<Record<string, unknown>>;
  stopKms(server: string): Promise<void>;
  startKms(server: string): Promise<void>;
  stop(): void;
  status(): Record<string, unknown>;
}

const MAX_LINE_BYTES = 4096;
/** sun_path holds 108 bytes; a deeper DIR gets its socket in the temp directory, named after DIR. */
const MAX_SOCKET_PATH = 100;
const RESTART_TIMEOUT_MS = 120_000;

export function labSocketPath(dir: string): string {
  const inDir = join(resolve(dir), 'lab.sock');
  if (Buffer.byteLength(inDir) <= MAX_SOCKET_PATH) return inDir;
  return join(tmpdir(), `vmcrypt-lab-${createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 16)}.sock`);
}

function parseRequest(line: string): LabControlRequest | undefined {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return undefined;
  }
  const r = o as Record<string, unknown> | null;
  if (r === null || typeof r !== 'object') return undefined;
  if (r['op'] === 'stop' || r['op'] === 'status') return { op: r['op'] };
  const name = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
  if (r['op'] === 'restartHost' && typeof r['host'] === 'string' && name.test(r['host'])) return { op: 'restartHost', host: r['host'] };
  if ((r['op'] === 'stopKms' || r['op'] === 'startKms') && typeof r['server'] === 'string' && name.test(r['server'])) return { op: r['op'], server: r['server'] };
  return undefined;
}

/** Listens on the lab's socket; a stale socket file of a dead lab is replaced. */
export async function serveLabControl(socketPath: string, h: LabControlHandlers): Promise<Server> {
  if (existsSync(socketPath)) {
    if (await answers(socketPath)) throw new LabError(LabErrorCode.ALREADY_RUNNING, `a lab is already running here (${socketPath} answers): vmcrypt lab down first`);
    await unlink(socketPath).catch(() => undefined);
  }
  const server = createServer((sock) => {
    let buf = '';
    let taken = false;
    sock.setEncoding('utf8');
    sock.on('error', () => sock.destroy());
    sock.on('data', (chunk: string) => {
      if (taken) return;
      buf += chunk;
      if (Buffer.byteLength(buf) > MAX_LINE_BYTES) {
        taken = true;
        sock.end(JSON.stringify({ ok: false, error: 'request too large' }) + '\n');
        return;
      }
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      taken = true;
      const req = parseRequest(buf.slice(0, nl));
      void handle(req, h).then((a) => sock.end(JSON.stringify(a) + '\n'));
    });
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(socketPath, () => res());
  });
  await chmod(socketPath, 0o600);
  return server;
}

async function handle(req: LabControlRequest | undefined, h: LabControlHandlers): Promise<LabControlAnswer> {
  try {
    if (req === undefined) return { ok: false, error: 'unknown request' };
    if (req.op === 'status') return { ok: true, data: h.status() };
    if (req.op === 'stop') {
      // answer first: the stop ends this process
      setImmediate(() => h.stop());
      return { ok: true };
    }
    if (req.op === 'restartHost') return { ok: true, data: await h.restartHost(req.host) };
    await (req.op === 'stopKms' ? h.stopKms(req.server) : h.startKms(req.server));
    return { ok: true };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

async function send(socketPath: string, req: LabControlRequest, timeoutMs: number): Promise<LabControlAnswer> {
  return new Promise((res, rej) => {
    const sock = createConnection(socketPath);
    let buf = '';
    const timer = setTimeout(() => sock.destroy(new Error(`no answer after ${timeoutMs} ms`)), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(JSON.stringify(req) + '\n'));
    sock.on('data', (c: string) => {
      buf += c;
      if (Buffer.byteLength(buf) > MAX_LINE_BYTES) sock.destroy(new Error('answer too large'));
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      rej(e);
    });
    sock.on('end', () => {
      clearTimeout(timer);
      try {
        res(JSON.parse(buf.trim()) as LabControlAnswer);
      } catch {
        rej(new Error('unreadable answer'));
      }
    });
  });
}

async function answers(socketPath: string): Promise<boolean> {
  try {
    return (await send(socketPath, { op: 'status' }, 5000)).ok;
  } catch {
    return false;
  }
}

async function labRequest(dir: string, req: LabControlRequest, timeoutMs: number): Promise<Record<string, unknown>> {
  const state = await readLabState(resolve(dir));
  const socketPath = state?.run?.socket ?? labSocketPath(dir);
  let a: LabControlAnswer;
  try {
    a = await send(socketPath, req, timeoutMs);
  } catch (err) {
    throw new LabError(LabErrorCode.NOT_RUNNING, `no lab is running in ${resolve(dir)} (${socketPath}: ${err instanceof Error ? err.message : String(err)}): start it with vmcrypt lab up --dir ${dir}`, { cause: err });
  }
  if (!a.ok) throw new LabError(LabErrorCode.CONTROL_FAILED, `the lab refused: ${a.error}`);
  return a.data ?? {};
}

/**
 * Restarts a lab host agent (`vmcrypt host restart NAME` on a lab profile): the agent stops
 * (its VMs power off), comes back on the same port and data with an empty key cache, and the
 * manager pushes the keys again so its encrypted VMs unlock by themselves.
 */
export async function restartLabHost(dir: string, hostName: string): Promise<{ name: string; url: string; pid: number }> {
  const d = await labRequest(dir, { op: 'restartHost', host: hostName }, RESTART_TIMEOUT_MS);
  return { name: String(d['name'] ?? hostName), url: String(d['url'] ?? ''), pid: Number(d['pid'] ?? 0) };
}

/** Stops one key server of the running lab by its provider name (kms-1, kms-2, …): the failover step of the tour. */
export async function stopLabKeyServer(dir: string, server: string): Promise<void> {
  await labRequest(dir, { op: 'stopKms', server }, RESTART_TIMEOUT_MS);
}

/** Starts a key server of the running lab again. */
export async function startLabKeyServer(dir: string, server: string): Promise<void> {
  await labRequest(dir, { op: 'startKms', server }, RESTART_TIMEOUT_MS);
}

/** Asks the running lab to stop (Ctrl-C's path); resolves once asked. */
export async function requestLabStop(dir: string): Promise<void> {
  await labRequest(dir, { op: 'stop' }, 10_000);
}

/** The running lab's status (pids, URLs), or undefined when none answers. */
export async function labStatus(dir: string): Promise<Record<string, unknown> | undefined> {
  try {
    return await labRequest(dir, { op: 'status' }, 5000);
  } catch {
    return undefined;
  }
}
