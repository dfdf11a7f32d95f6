import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kmsPaths } from '../../../src/kms/data-dir.js';
import { stopAll } from '../../helpers/process.js';
import { freePort } from '../../helpers/net.js';
import { kmsNode, makeKmsDataDir, type KmsDataDir, type KmsNode } from '../../keyprovider/kms-nodes.js';
import { startManagerProcess, type ManagerProcess } from '../../manager/helpers/manager-process.js';
import { startAgent, type AgentProcess } from '../../manager/helpers/host-agents.js';
import { jsonOf, runCli, type CliRun } from './run-cli.js';

/**
 * The operator verbs run as child processes against real processes: `vmcrypt kms serve`,
 * `vmcrypt manager serve` and two `vmcrypt host serve` agents on loopback. Everything the
 * operator does here goes through the CLI (key provider, trust, hosts, VMs, users).
 */
let root: string;
let kmsData: KmsDataDir;
let kms: KmsNode;
let manager: ManagerProcess;
const agents: AgentProcess[] = [];
let adminProfile: string;
let ncaProfile: string;

const asAdmin = (args: readonly string[]): Promise<CliRun> => runCli([...args, '--profile', adminProfile]);
const json = async <T>(args: readonly string[], profile = adminProfile): Promise<T> => jsonOf<T>(await runCli([...args, '--json', '--profile', profile]));

interface VmJson { id: string; name: string; hostId: string; desired: { policyName: string; encryption: boolean }; observed: { encrypted: boolean; locked: boolean; powerState: string }; compliance: { status: string } }
interface InfoJson {
  vm: { id: string; name: string }; host: { id: string; name: string | null }; policy: { id: string; name: string; encryption: boolean };
  compliance: string; encrypted: boolean; locked: boolean; provider: string | null; keyId: string | null;
  disks: { id: string; encrypted: boolean; layers: { keyId: string | null; providerId: string | null }[] }[];
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vmcrypt-cli-'));
  adminProfile = join(root, 'admin', 'profile.json');
  ncaProfile = join(root, 'nca-profile.json');
  kmsData = await makeKmsDataDir();
  kms = await kmsNode('kms1', kmsData);
  const started = await Promise.all([
    kms.start(),
    startManagerProcess(join(root, 'manager'), { pollMs: 200, keyRetryMs: 300 }),
    startAgent(join(root, 'esx1'), 'esx1'),
    startAgent(join(root, 'esx2'), 'esx2'),
  ]);
  manager = started[1];
  agents.push(started[2], started[3]);
  const id = await kmsData.identity('vmcrypt-cli-test');
  await writeFile(join(root, 'client.crt'), id.cert);
  await writeFile(join(root, 'client.key'), id.key, { mode: 0o600 });
}, 180_000);

afterAll(async () => {
  await stopAll();
  await kms?.stop();
  await kmsData?.remove();
  await rm(root, { recursive: true, force: true });
});

describe('vmcrypt operator verbs against a real manager, KMS and host agents', () => {
  it('login without a confirmed thumbprint refuses and shows the one it saw', async () => {
    const r = await runCli(['login', manager.url, '--user', 'admin', '--profile', adminProfile], { VMCRYPT_PASSWORD: manager.adminPassword });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(manager.thumbprint);
    expect(r.stderr).toContain('[UNTRUSTED_CERTIFICATE]');
    await expect(stat(adminProfile)).rejects.toMatchObject({ code: 'ENOENT' });
  }, 60_000);

  it('login with a wrong password fails; with the right one writes a 0600 profile', async () => {
    const bad = await runCli(['login', manager.url, '--user', 'admin', '--thumbprint', manager.thumbprint, '--profile', adminProfile], { VMCRYPT_PASSWORD: 'wrong-password' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('[LOGIN_FAILED]');
    const r = await runCli(['login', manager.url, '--user', 'admin', '--thumbprint', manager.thumbprint, '--profile', adminProfile, '--json'], { VMCRYPT_PASSWORD: manager.adminPassword });
    const out = jsonOf<{ user: string; managerUrl: string; profile: string }>(r);
    expect(out).toMatchObject({ user: 'admin', managerUrl: manager.url, profile: adminProfile });
    const st = await stat(adminProfile);
    expect(st.mode & 0o777).toBe(0o600);
    const profile = JSON.parse(await readFile(adminProfile, 'utf8')) as Record<string, unknown>;
    expect(profile).toMatchObject({ version: 1, managerUrl: manager.url, thumbprint: manager.thumbprint, user: 'admin' });
    expect(typeof profile['token']).toBe('string');
    // the password is nowhere in the profile or the output
    expect(JSON.stringify(profile) + r.stdout + r.stderr).not.toContain(manager.adminPassword);
    // VMCRYPT_PROFILE is honoured as well as --profile
    const who = jsonOf<{ user: string }>(await runCli(['whoami', '--json'], { VMCRYPT_PROFILE: adminProfile }));
    expect(who.user).toBe('admin');
  }, 60_000);

  it('adds the key provider and establishes trust; kms status --json is green', async () => {
    const added = await json<{ id: string; isDefault: boolean }>(['kms', 'add', 'kp1', '--server', `kms1=127.0.0.1:${kms.port}`]);
    expect(added).toMatchObject({ id: 'kp1', isDefault: true });
    const t = await json<{ trust: { trustedServerCerts: unknown[]; clientIdentity?: { source: string } } }>([
      'kms', 'trust', 'kp1', '--kms-cert', kmsPaths(kmsData.dir).caCert, '--client-cert', join(root, 'client.crt'), '--client-key', join(root, 'client.key'),
    ]);
    expect(t.trust.trustedServerCerts.length).toBe(1);
    expect(t.trust.clientIdentity?.source).toBe('uploaded');
    const st = await json<{ provider: string; color: string; servers: { status: string }[] }[]>(['kms', 'status']);
    expect(st).toEqual([expect.objectContaining({ provider: 'kp1', color: 'green' })]);
    expect(st[0]?.servers[0]?.status).toBe('ok');
    const list = await asAdmin(['kms', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/kp1\s+yes/);
  }, 60_000);

  it('adds both hosts (pairing token + confirmed thumbprint) into an HA cluster', async () => {
    expect((await asAdmin(['cluster', 'create', 'prod', '--ha'])).code).toBe(0);
    for (const a of agents) {
      const h = await json<{ name: string; connectionState: string }>(['host', 'add', a.url, '--pairing-token', a.pairingToken ?? '', '--thumbprint', a.thumbprint, '--cluster', 'prod']);
      expect(h.connectionState).toBe('connected');
    }
    const hosts = await json<{ name: string; clusterId: string }[]>(['host', 'list']);
    expect(hosts.map((h) => h.name).sort()).toEqual(['esx1', 'esx2']);
    const clusters = await json<{ name: string; ha: boolean; hosts: string[] }[]>(['cluster', 'list']);
    expect(clusters).toEqual([expect.objectContaining({ name: 'prod', ha: true, hosts: expect.arrayContaining(['esx1', 'esx2']) })]);
  }, 60_000);

  it('vm create / list / info --json: one JSON document each, with the expected shape', async () => {
    const created = await runCli(['vm', 'create', 'web-01', '--host', 'esx1', '--disk', '1M', '--json', '--profile', adminProfile]);
    const vm = jsonOf<VmJson>(created); // JSON.parse of all of stdout: nothing else was printed
    expect(vm).toMatchObject({ name: 'web-01', desired: { encryption: false }, observed: { encrypted: false } });
    const list = await json<VmJson[]>(['vm', 'list']);
    expect(list.map((v) => v.name)).toEqual(['web-01']);
    expect(list[0]).toMatchObject({ id: vm.id, compliance: { status: expect.any(String) }, observed: { locked: false, powerState: 'poweredOff' } });
    const info = await json<InfoJson>(['vm', 'info', 'web-01']);
    expect(info).toMatchObject({ vm: { id: vm.id, name: 'web-01' }, host: { name: 'esx1' }, encrypted: false, locked: false, keyId: null });
    expect(info.policy.name).toBe('Datastore Default');
    expect(info.disks.length).toBe(1);
    const human = await asAdmin(['vm', 'list']);
    expect(human.stdout).toMatch(/^NAME\s+HOST\s+POWER/m);
    expect(human.stdout).toMatch(/web-01\s+esx1\s+poweredOff\s+no/);
  }, 120_000);

  let firstKey = '';
  it('vm encrypt follows the task quietly (no TTY); vm info then shows the provider and key id per disk layer', async () => {
    const r = await asAdmin(['vm', 'encrypt', 'web-01']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/VM web-01 encrypted/);
    expect(r.stderr).not.toMatch(/\[#/); // no progress bar when not on a terminal
    const info = await json<InfoJson>(['vm', 'info', 'web-01']);
    expect(info).toMatchObject({ encrypted: true, locked: false, provider: 'kp1', policy: { encryption: true } });
    expect(info.keyId).toMatch(/\S/);
    firstKey = info.keyId ?? '';
    expect(info.disks[0]?.encrypted).toBe(true);
    expect(info.disks[0]?.layers[0]).toMatchObject({ providerId: 'kp1', keyId: expect.any(String) });
    const status = await json<{ presentInKms: boolean; usedBy: { name: string }[] }>(['key', 'status', firstKey]);
    expect(status.presentInKms).toBe(true);
    expect(status.usedBy.map((u) => u.name)).toContain('web-01');
    const ents = await json<{ name: string }[]>(['key', 'entities', firstKey, '--provider', 'kp1']);
    expect(ents.map((e) => e.name)).toContain('web-01');
  }, 120_000);

  it('vm rekey gives a new key id; --no-wait returns the task id, tasks watch follows it', async () => {
    const r = await asAdmin(['vm', 'rekey', 'web-01']);
    expect(r.code, r.stderr).toBe(0);
    const info = await json<InfoJson>(['vm', 'info', 'web-01']);
    expect(info.keyId).not.toBe(firstKey);
    const started = await json<{ task: string }>(['vm', 'rekey', 'web-01', '--deep', '--no-wait']);
    expect(started.task).toMatch(/\S/);
    const done = await json<{ id: string; state: string; percent: number }>(['tasks', 'watch', started.task]);
    expect(done).toMatchObject({ id: started.task, state: 'success' });
    const tasks = await json<{ id: string }[]>(['tasks']);
    expect(tasks.map((t) => t.id)).toContain(started.task);
  }, 180_000);

  it('a refusal by a rule exits 1 and quotes the manager (deep rekey of a powered-on VM)', async () => {
    await asAdmin(['vm', 'power-on', 'web-01']);
    const r = await asAdmin(['vm', 'rekey', 'web-01', '--deep']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refused: ".*rule: vm-powered-off.*"/);
    expect(r.stderr).toContain('[REFUSED]');
    expect(r.stdout).toBe('');
    expect((await asAdmin(['vm', 'power-off', 'web-01'])).code).toBe(0);
  }, 120_000);

  it('clone keeps the encryption with new keys; snapshot create/list name the layers', async () => {
    const cloned = await json<{ state: string; result: { vmId?: string } | null }>(['vm', 'clone', 'web-01', 'web-02', '--recrypt', 'shallow']);
    expect(cloned.state).toBe('success');
    const info = await json<InfoJson>(['vm', 'info', 'web-02']);
    expect(info).toMatchObject({ encrypted: true, provider: 'kp1' });
    const snap = await json<{ id: string; name: string }>(['vm', 'snapshot', 'create', 'web-01', 'before-upgrade']);
    expect(snap.name).toBe('before-upgrade');
    const tree = await json<{ snapshots: { id: string; name: string }[] }>(['vm', 'snapshot', 'list', 'web-01']);
    expect(tree.snapshots.map((x) => x.name)).toEqual(['before-upgrade']);
    const after = await json<InfoJson>(['vm', 'info', 'web-01']);
    expect(after.disks[0]?.layers.length).toBeGreaterThanOrEqual(2);
    expect(after.disks[0]?.layers.every((l) => l.keyId !== null)).toBe(true);
    expect((await asAdmin(['vm', 'snapshot', 'remove', 'web-01', 'before-upgrade'])).code).toBe(0);
  }, 180_000);

  it('a No Cryptography Administrator is denied vm encrypt with exit code 3, naming the privilege', async () => {
    expect((await runCli(['vm', 'create', 'plain-01', '--host', 'esx2', '--disk', '1M', '--profile', adminProfile])).code).toBe(0);
    const made = await runCli(['user', 'create', 'nca', '--profile', adminProfile], { VMCRYPT_NEW_PASSWORD: 'nca-password-1' });
    expect(made.code, made.stderr).toBe(0);
    expect((await asAdmin(['permission', 'set', 'nca', 'No Cryptography Administrator'])).code).toBe(0);
    const login = await runCli(['login', manager.url, '-u', 'nca', '--thumbprint', manager.thumbprint, '--profile', ncaProfile], { VMCRYPT_PASSWORD: 'nca-password-1' });
    expect(login.code, login.stderr).toBe(0);
    // reading is allowed …
    expect((await json<VmJson[]>(['vm', 'list'], ncaProfile)).length).toBe(3);
    // … encrypting is not
    const r = await runCli(['vm', 'encrypt', 'plain-01', '--profile', ncaProfile]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/denied: you \(nca\) lack privilege Cryptographer\.Encrypt on vm /);
    expect(r.stderr).toContain('[DENIED]');
    expect(r.stdout).toBe('');
    const j = await runCli(['vm', 'encrypt', 'plain-01', '--json', '--profile', ncaProfile]);
    expect(j.code).toBe(3);
    expect(j.stdout).toBe('');
  }, 120_000);

  it('events, alarms and policies answer --json with one document', async () => {
    const evs = await json<{ type: string }[]>(['events', '--limit', '200']);
    expect(evs.length).toBeGreaterThan(0);
    expect(Array.isArray(await json<unknown[]>(['alarms']))).toBe(true);
    const ps = await json<{ name: string }[]>(['policy', 'list']);
    expect(ps.map((p) => p.name)).toEqual(expect.arrayContaining(['VM Encryption Policy', 'Datastore Default']));
  }, 60_000);

  it('usage errors exit 2 with the usage text; unknown objects exit 1', async () => {
    const r = await asAdmin(['vm', 'encrypt']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing VM\nusage: vmcrypt vm encrypt VM/);
    expect(r.stdout).toBe('');
    const nf = await asAdmin(['vm', 'info', 'no-such-vm']);
    expect(nf.code).toBe(1);
    expect(nf.stderr).toContain('[NOT_FOUND]');
  }, 60_000);

  it('an unreachable manager exits 4 and says what to check; a dead token exits 5', async () => {
    const port = await freePort();
    const profile = JSON.parse(await readFile(adminProfile, 'utf8')) as Record<string, unknown>;
    const elsewhere = join(root, 'elsewhere.json');
    await writeFile(elsewhere, JSON.stringify({ ...profile, managerUrl: `https://127.0.0.1:${port}` }), { mode: 0o600 });
    const r = await runCli(['vm', 'list', '--profile', elsewhere]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/cannot reach the manager .*ECONNREFUSED.*manager serve/);
    // another certificate than the pinned one: refused before the token is sent
    const impostor = join(root, 'impostor.json');
    await writeFile(impostor, JSON.stringify({ ...profile, thumbprint: 'ab'.repeat(32) }), { mode: 0o600 });
    const mitm = await runCli(['vm', 'list', '--profile', impostor]);
    expect(mitm.code).toBe(1);
    expect(mitm.stderr).toContain('[MANAGER_CERT_MISMATCH]');
    expect(mitm.stderr).toContain(manager.thumbprint);
    const out = await runCli(['logout', '--profile', ncaProfile]);
    expect(out.code, out.stderr).toBe(0);
    await expect(stat(ncaProfile)).rejects.toMatchObject({ code: 'ENOENT' });
    const stale = join(root, 'stale.json');
    await writeFile(stale, JSON.stringify({ ...profile, token: 'x'.repeat(43) }), { mode: 0o600 });
    const dead = await runCli(['vm', 'list', '--profile', stale]);
    expect(dead.code).toBe(5);
    expect(dead.stderr).toMatch(/log in again: vmcrypt login/);
  }, 60_000);
});
