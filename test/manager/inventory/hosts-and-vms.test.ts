import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopAll } from '../../helpers/process.js';
import { startManagerProcess, type ManagerProcess } from '../helpers/manager-process.js';
import { addHostToManager, startAgent, type AgentProcess } from '../helpers/host-agents.js';
import { ManagerApiError } from '../helpers/manager-api.js';

interface Host { id: string; name: string; connectionState: string; cryptoMode: string; migration?: { encryption: boolean; channels: string[] } }
interface Vm {
  id: string; name: string; hostId: string;
  desired: { policyName: string; encryption: boolean };
  observed: { provisioned: boolean; encrypted: boolean; powerState: string; locked: boolean };
  compliance: { status: string; reason?: string };
}

let root: string;
let manager: ManagerProcess;
let a1: AgentProcess & { port: number };
let a2: AgentProcess & { port: number };
const hosts: Host[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vmcrypt-inv-'));
  [manager, a1, a2] = await Promise.all([
    startManagerProcess(join(root, 'manager'), { pollMs: 200 }),
    startAgent(join(root, 'esx1'), 'esx1'),
    startAgent(join(root, 'esx2'), 'esx2', undefined, ['--no-migrate-encryption']),
  ]);
});

afterAll(async () => {
  await stopAll();
  await rm(root, { recursive: true, force: true });
});

const api = () => manager.admin;
const hostState = async (id: string) => (await api().get<Host>(`/api/hosts/${id}`)).connectionState;

describe('manager inventory with real host agents', () => {
  it('adds two hosts: the thumbprint is confirmed, then pairing with the one-time token', async () => {
    const cluster = await api().post<{ id: string }>('/api/clusters', { name: 'prod', ha: false });
    for (const agent of [a1, a2]) hosts.push(await addHostToManager(api(), agent, cluster.id));
    expect(hosts.map((h) => [h.name, h.connectionState])).toEqual([['esx1', 'connected'], ['esx2', 'connected']]);
    // the token is one-time: adding the same host again is refused
    const again = await api().raw('POST', '/api/hosts', { url: a1.url, thumbprint: a1.thumbprint, pairingToken: a1.pairingToken });
    expect(again.status).toBe(409);
    // a wrong thumbprint is refused before anything is sent to the host
    const wrong = await api().raw<{ error: { code: string } }>('POST', '/api/hosts', { url: a2.url, thumbprint: 'ab'.repeat(32), pairingToken: '0'.repeat(32) });
    expect(wrong.status).toBe(403);
    const listed = await api().get<{ hosts: Host[] }>('/api/hosts');
    expect(listed.hosts).toHaveLength(2);
    // each host's own datastore is in the inventory
    const ds = await api().get<{ datastores: { name: string }[] }>('/api/datastores');
    expect(ds.datastores.map((d) => d.name).sort()).toEqual(['esx1-local', 'esx2-local']);
  });

  it('shows each host\'s migration capability from the monitor\'s last poll in the host record', async () => {
    const migration = async () => (await api().get<{ hosts: Host[] }>('/api/hosts')).hosts.map((h) => [h.name, h.migration]);
    await expect.poll(migration, { timeout: 10_000 }).toEqual([
      ['esx1', { encryption: true, channels: expect.arrayContaining(['tunnel', 'qemu-psk', 'plain']) as unknown }],
      ['esx2', { encryption: false, channels: ['plain'] }],
    ]);
    expect((await api().get<Host>(`/api/hosts/${hosts[1]?.id}`)).migration).toEqual({ encryption: false, channels: ['plain'] });
    const doc = await api().get<{ components: { schemas?: Record<string, unknown> }; paths: Record<string, { get?: { responses: Record<string, { content?: Record<string, { schema: unknown }> }> } }> }>('/api/openapi.json');
    expect(JSON.stringify(doc.paths['/api/hosts/{id}']?.get?.responses['200'])).toContain('"migration"');
  });

  it('mounts one directory on both hosts as a shared datastore', async () => {
    const dir = join(root, 'shared-ds');
    await mkdir(dir);
    const ds = await api().post<{ id: string; shared: boolean; hosts: unknown[] }>('/api/datastores', { name: 'shared1', path: dir, hostIds: hosts.map((h) => h.id) });
    expect(ds.shared).toBe(true);
    expect(ds.hosts).toHaveLength(2);
  });

  it('creates a plain VM (Datastore Default), compliant, and powers it on and off', async () => {
    const ds = (await api().get<{ datastores: { id: string; name: string }[] }>('/api/datastores')).datastores.find((d) => d.name === 'shared1');
    const host = hosts[0] as Host;
    const r = await api().post<{ vm: Vm; task: { id: string } }>('/api/vms', { name: 'web1', hostId: host.id, datastoreId: ds?.id, disks: [{ sizeBytes: 1 << 20 }] });
    expect(r.vm.observed.provisioned).toBe(false);
    const task = await api().waitTask<{ result?: { vmId: string }; error?: unknown }>(r.task.id);
    expect(task.state, JSON.stringify(task.error)).toBe('success');
    const vmId = task.result?.vmId ?? '';
    expect(vmId).toMatch(/^[0-9a-f-]{36}$/);
    const vm = await api().get<Vm>(`/api/vms/${vmId}`);
    expect(vm.desired).toMatchObject({ policyName: 'Datastore Default', encryption: false });
    expect(vm.observed).toMatchObject({ provisioned: true, encrypted: false, powerState: 'poweredOff', locked: false });
    expect(vm.compliance.status).toBe('compliant');
    const on = await api().post<Vm>(`/api/vms/${vmId}/power-on`);
    expect(on.observed.powerState).toBe('poweredOn');
    const off = await api().post<Vm>(`/api/vms/${vmId}/power-off`);
    expect(off.observed.powerState).toBe('poweredOff');
    // the encryption policy needs a key provider: refused with the code, the VM stays not compliant
    const enc = await api().post<{ vm: Vm; task: { id: string } }>('/api/vms', { name: 'sec1', hostId: host.id, datastoreId: ds?.id, policyId: 'vm-encryption' });
    const failed = await api().waitTask<{ error?: { code: string } }>(enc.task.id);
    expect(failed.state).toBe('error');
    expect(failed.error?.code).toBe('MANAGER_NO_KEY_PROVIDER');
    const pending = await api().get<Vm>(`/api/vms/${enc.vm.id}`);
    expect(pending.compliance.status).toBe('notCompliant');
    await api().delete(`/api/vms/${enc.vm.id}`);
  });

  it('marks a killed host notResponding, and connected again once its agent is back', async () => {
    const host = hosts[1] as Host;
    await a2.proc.kill();
    await expect.poll(() => hostState(host.id), { timeout: 30_000, interval: 100 }).toBe('notResponding');
    a2 = await startAgent(join(root, 'esx2'), 'esx2', a2.port);
    await expect.poll(() => hostState(host.id), { timeout: 30_000, interval: 100 }).toBe('connected');
    const events = await api().get<{ type: string; entity?: { id: string } }[]>('/api/events?limit=200');
    const types = events.filter((e) => e.entity?.id === host.id).map((e) => e.type);
    expect(types).toContain('host.notResponding');
    expect(types).toContain('host.connected');
  });

  it('refuses bad input with the field named', async () => {
    await expect(api().post('/api/vms', { name: '../x', hostId: 'h', datastoreId: 'd' })).rejects.toMatchObject({ status: 400 });
    const r = await api().raw<{ error: { message: string } }>('POST', '/api/hosts/probe', { url: 'https://127.0.0.1:1', extra: true });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain('extra');
    await expect(api().get('/api/vms/nope')).rejects.toBeInstanceOf(ManagerApiError);
  });
});
