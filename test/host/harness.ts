import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSelfSigned } from '../../src/pki/index.js';
import { HostClient } from '../../src/host/client/host-client.js';
import { vmcryptArgv } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { startProcess, type Running } from '../helpers/process.js';

/** The test plays the manager: its own client certificate, pinning the host's thumbprint. */
export interface ManagerIdentity {
  readonly certPem: string;
  readonly keyPem: string;
}

export async function makeManagerIdentity(): Promise<ManagerIdentity> {
  return createSelfSigned({ commonName: 'test-manager', usage: 'client' });
}

export interface AgentProcess {
  readonly proc: Running;
  readonly url: string;
  readonly thumbprint: string;
  readonly pairingToken: string | undefined;
}

/** Starts `vmcrypt host serve` as a real process and waits for its ready line. */
export async function startAgentProcess(dataDir: string, name: string, extra: string[] = []): Promise<AgentProcess> {
  const port = await freePort();
  const proc = await startProcess(process.execPath, [...vmcryptArgv(), 'host', 'serve', '--data', dataDir, '--name', name, '--listen', `127.0.0.1:${port}`, ...extra], {
    ready: /listening on (\S+) thumbprint=([0-9a-f]{64})/,
    readyTimeoutMs: 60_000,
  });
  const m = /listening on (\S+) thumbprint=([0-9a-f]{64})/.exec(proc.output());
  const t = /pairing token[^:]*\): ([0-9a-f]{32})/.exec(proc.output());
  return { proc, url: m?.[1] ?? '', thumbprint: m?.[2] ?? '', pairingToken: t?.[1] };
}

/** Pairs (first time) and returns a client pinned to the host's thumbprint. */
export async function pairedClient(agent: AgentProcess, id: ManagerIdentity): Promise<HostClient> {
  const client = new HostClient({ url: agent.url, certPem: id.certPem, keyPem: id.keyPem, thumbprint: agent.thumbprint });
  if (agent.pairingToken !== undefined) await client.call('POST', '/v1/pair', { token: agent.pairingToken });
  return client;
}

export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Runs `vmcrypt ARGS` as a process to completion (any exit code). */
export async function runCli(args: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  const child = spawn(process.execPath, [...vmcryptArgv(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? -1)));
  return { code, out, err };
}

/** Runs a program to completion; rejects on non-zero exit. Secrets go on fd 3, 4, … */
export async function runProgram(cmd: string, args: readonly string[], secrets: readonly Buffer[] = []): Promise<string> {
  const child = spawn(cmd, [...args], { stdio: ['ignore', 'pipe', 'pipe', ...secrets.map(() => 'pipe' as const)] });
  secrets.forEach((s, i) => (child.stdio[3 + i] as NodeJS.WritableStream).end(s));
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${code}): ${out}`);
  return out;
}

/** Polls until `pid` is gone or a zombie (bounded: false if it still runs after 30 s). */
export async function exitsEventually(pid: number): Promise<boolean> {
  for (let i = 0; i < 300; i++) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (stat === '' || /^\d+ \(.*\) Z /.test(stat)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

export async function readText(path: string): Promise<string> {
  return readFile(path, 'utf8');
}

/** The forms a key could leak in: raw bytes, hex (both cases) and base64. */
export function keyForms(key: Buffer): Buffer[] {
  const hex = key.toString('hex');
  return [Buffer.from(key), Buffer.from(hex), Buffer.from(hex.toUpperCase()), Buffer.from(key.toString('base64'))];
}

/** Every regular file under `root` (FIFOs and sockets skipped: they hold no data at rest). */
export async function regularFiles(root: string): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  const out: string[] = [];
  for (const e of await readdir(root, { withFileTypes: true })) {
    const p = join(root, e.name);
    if (e.isDirectory()) out.push(...(await regularFiles(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** Names of the files / command lines holding any form of any key (empty = clean). */
export async function scanForKeys(root: string, pids: readonly number[], keys: readonly Buffer[]): Promise<string[]> {
  const needles = keys.flatMap(keyForms);
  const hits: string[] = [];
  const check = (label: string, data: Buffer): void => {
    needles.forEach((n, i) => {
      if (data.includes(n)) hits.push(`${label} (key ${Math.floor(i / 4)}, form ${i % 4})`);
    });
  };
  for (const f of await regularFiles(root)) check(f, await readFile(f));
  for (const pid of pids) {
    check(`/proc/${pid}/cmdline`, await readFile(`/proc/${pid}/cmdline`).catch(() => Buffer.alloc(0)));
    check(`/proc/${pid}/environ`, await readFile(`/proc/${pid}/environ`).catch(() => Buffer.alloc(0)));
  }
  return hits;
}
