import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostClient } from '../../../src/host/client/host-client.js';
import { stopAll } from '../../helpers/process.js';
import { makeManagerIdentity, pairedClient, runCli, startAgentProcess, tempDir, type AgentProcess, type ManagerIdentity } from '../harness.js';

describe('host core dumps in crypto-safe mode', () => {
  let dir: { path: string; remove(): Promise<void> };
  let data: string;
  let agent: AgentProcess;
  let id: ManagerIdentity;
  let c: HostClient;
  const hostKey = randomBytes(32);
  const otherKey = randomBytes(32);
  let hostKeyFile: string;
  let otherKeyFile: string;

  beforeAll(async () => {
    dir = await tempDir('vmcrypt-dump-');
    data = join(dir.path, 'data');
    hostKeyFile = join(dir.path, 'host.key.hex');
    otherKeyFile = join(dir.path, 'other.key.hex');
    await writeFile(hostKeyFile, hostKey.toString('hex') + '\n', { mode: 0o600 });
    await writeFile(otherKeyFile, otherKey.toString('hex') + '\n', { mode: 0o600 });
    id = await makeManagerIdentity();
    agent = await startAgentProcess(data, 'esx-d', ['--allow-crash']);
    c = await pairedClient(agent, id);
    await c.call('POST', '/v1/host/crypto-mode', { mode: 'prepared' });
    await c.call('POST', '/v1/keys', { keys: [{ keyId: 'hostkey-1', key: hostKey.toString('base64') }] });
    await c.call('POST', '/v1/host/crypto-mode', { mode: 'safe', hostKeyId: 'hostkey-1' });
  });
  afterAll(async () => {
    await stopAll();
    await dir.remove();
  });

  it('`vmcrypt host diagnostics` makes the agent write a dump sealed with the host key', async () => {
    const r = await runCli(['host', 'diagnostics', '--data', data, '--json']);
    expect(r.code).toBe(0);
    const dump = JSON.parse(r.out) as { file: string; location: string; encrypted: boolean; keyId: string };
    expect(dump).toMatchObject({ encrypted: true, keyId: 'hostkey-1', location: join(data, 'coredumps') });
    const raw = await readFile(join(dump.location, dump.file));
    expect(raw.toString('latin1')).not.toContain('"header"'); // the Node report's JSON is not readable
    expect(raw.includes(Buffer.from('nodejsVersion'))).toBe(false);
    expect(raw.includes(hostKey)).toBe(false);
    expect(raw.includes(Buffer.from(hostKey.toString('hex')))).toBe(false);
  });

  it('crash → dump encrypted; next start reports "encrypted core dump exists" with file and location', async () => {
    await c.call('POST', '/v1/debug/crash', {});
    await new Promise<void>((resolve) => {
      if (agent.proc.child.exitCode !== null) resolve();
      else agent.proc.child.once('exit', () => resolve());
    });
    expect(agent.proc.child.exitCode).toBe(70);
    expect(agent.proc.output()).toContain('core dump written');
    await agent.proc.stop();
    agent = await startAgentProcess(data, 'esx-d');
    const files = (await readdir(join(data, 'coredumps'))).filter((f) => f.endsWith('.vmdump'));
    expect(files.length).toBe(2);
    for (const f of files) expect(agent.proc.output()).toContain(`encrypted core dump exists: ${f} in ${join(data, 'coredumps')}`);
    c = await pairedClient(agent, id);
    const info = await c.call<{ encryptedCoreDumpExists: boolean; coreDumps: Array<{ file: string; location: string; encrypted: boolean }> }>('GET', '/v1/host');
    expect(info.encryptedCoreDumpExists).toBe(true);
    expect(info.coreDumps.map((d) => d.file).sort()).toEqual(files.sort());
    const events = await c.call<{ events: Array<{ type: string; file?: string; location?: string }> }>('GET', '/v1/events');
    expect(events.events.filter((e) => e.type === 'coredump.exists').map((e) => e.file).sort()).toEqual(files.sort());
    // restarted safe host without its host key: no dump rather than a clear one
    const r = await runCli(['host', 'diagnostics', '--data', data]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('HOST_COREDUMP_SUPPRESSED');
    expect((await readdir(join(data, 'coredumps'))).filter((f) => f.endsWith('.vmdump')).length).toBe(2);
  });

  it('crypto-util decrypts with the right key, refuses a wrong one, recrypts under a new key', async () => {
    const dumps = join(data, 'coredumps');
    const file = join(dumps, (await readdir(dumps)).find((f) => f.endsWith('.vmdump')) ?? '');
    const out = join(dir.path, 'dump.json');
    const wrong = await runCli(['crypto-util', 'coredump', 'decrypt', file, '--out', out, '--key-file', otherKeyFile]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.err).toContain('HOST_COREDUMP_WRONG_KEY');
    await expect(stat(out)).rejects.toThrow();
    const ok = await runCli(['crypto-util', 'coredump', 'decrypt', file, '--out', out, '--key-file', hostKeyFile]);
    expect(ok.code).toBe(0);
    const report = JSON.parse(await readFile(out, 'utf8')) as { host: string; report: { header: unknown } };
    expect(report.host).toBe('esx-d');
    expect(report.report.header).toBeDefined();
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    const re = await runCli(['crypto-util', 'coredump', 'recrypt', file, '--key-file', hostKeyFile, '--new-key-file', otherKeyFile, '--new-key-id', 'hostkey-2']);
    expect(re.code).toBe(0);
    const infoOut = await runCli(['crypto-util', 'coredump', 'info', file, '--json']);
    expect(JSON.parse(infoOut.out)).toMatchObject({ kind: 'coredump', keyId: 'hostkey-2' });
    expect((await runCli(['crypto-util', 'coredump', 'decrypt', file, '--out', out + '2', '--key-file', hostKeyFile])).code).not.toBe(0);
    expect((await runCli(['crypto-util', 'coredump', 'decrypt', file, '--out', out + '2', '--key-file', otherKeyFile])).code).toBe(0);
    expect(await readFile(out + '2', 'utf8')).toBe(await readFile(out, 'utf8'));
  });
});
