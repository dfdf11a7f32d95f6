import { afterAll, describe, expect, it } from 'vitest';
import { HostStore } from '../../../src/host/host-store.js';
import { stopAll } from '../../helpers/process.js';
import { makeManagerIdentity, pairedClient, startAgentProcess, tempDir } from '../harness.js';

// An agent killed mid-migration comes back without the incoming VM (it still runs on its
// source): a registration made for a live migration counts only once the stream arrived.
describe('an incoming migration that never arrived', () => {
  let dir: { path: string; remove(): Promise<void> } | undefined;
  afterAll(async () => {
    await stopAll();
    await dir?.remove();
  });

  it('is dropped when the agent starts: not listed, files untouched, an event says why', async () => {
    dir = await tempDir('vmcrypt-unarrived-');
    const dataDir = `${dir.path}/esx-b`;
    const store = await HostStore.open(dataDir, 'esx-b');
    await store.update((s) => ({
      ...s,
      vms: [
        { uuid: '00000000-0000-4000-8000-000000000001', vmx: `${dir?.path}/shared/m1/m1.vmx`, incoming: '00000000-0000-4000-8000-0000000000aa' },
      ],
    }));
    const agent = await startAgentProcess(dataDir, 'esx-b');
    const c = await pairedClient(agent, await makeManagerIdentity());
    expect((await c.call<{ vms: unknown[] }>('GET', '/v1/vms')).vms).toEqual([]);
    const events = await c.call<{ events: Array<{ type: string; message: string }> }>('GET', '/v1/events');
    const dropped = events.events.find((e) => e.type === 'vm.migration.incomingFailed');
    expect(dropped?.message).toContain('did not finish before the agent stopped');
    const reopened = await HostStore.open(dataDir, 'esx-b');
    expect(reopened.state.vms).toEqual([]);
  }, 90_000);
});
