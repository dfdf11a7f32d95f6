import type { HostClient } from '../../../src/host/client/host-client.js';

/** What the tests read of GET /v1/vms/{uuid}. */
export interface Vm {
  uuid: string;
  name: string;
  vmx: string;
  encrypted: boolean;
  powerState: string;
  storagePolicy: string;
  crypto: { state: string; keyId?: string; reason?: string };
  disks?: Array<{ id: string; encrypted: boolean; layers: Array<{ file: string; format: string; keyId: string | null; shared: boolean }> }>;
  snapshots?: Array<{ id: string; name: string; parent?: string }>;
  currentSnapshotId?: string;
  mixedKeys: boolean;
  pendingRekey?: { keyId: string };
  keyIds: string[];
  instantClones: string[];
  instantCloneParent?: string;
}

export interface Tree {
  current: string | null;
  branches: number;
  snapshots: Array<{ id: string; name: string; parent: string | null; children: string[]; current: boolean; disks: Array<{ file: string; keyId: string | null }> }>;
}

/** Small VM-level verbs over the host API, for readable tests. */
export function vmOps(c: HostClient) {
  const power = (uuid: string, action: string): Promise<Vm> => c.call<Vm>('POST', `/v1/vms/${uuid}/power`, { action });
  const io = async (uuid: string, command: string, disk = 0): Promise<string> => (await c.call<{ output: string }>('POST', `/v1/vms/${uuid}/qemu-io`, { disk, command })).output;
  return {
    power,
    io,
    get: (uuid: string) => c.call<Vm>('GET', `/v1/vms/${uuid}`),
    tree: (uuid: string) => c.call<Tree>('GET', `/v1/vms/${uuid}/snapshots`),
    snapshot: (uuid: string, name: string) => c.call<{ id: string }>('POST', `/v1/vms/${uuid}/snapshots`, { name }),
    revert: (uuid: string, id: string) => c.call<Vm>('POST', `/v1/vms/${uuid}/snapshots/${id}/revert`),
    removeSnapshot: (uuid: string, id: string) => c.call<Vm>('DELETE', `/v1/vms/${uuid}/snapshots/${id}`),
    /** Powers on, writes `pattern` (a byte) over the first 64 KiB of each listed disk, powers off. */
    async write(uuid: string, pattern: number, disks: number[] = [0]): Promise<void> {
      await power(uuid, 'on');
      for (const d of disks) expect(await io(uuid, `write -P ${pattern} 0 64k`, d)).toContain('wrote 65536/65536');
      await power(uuid, 'off');
    },
    /** Powers on, checks every listed disk holds `pattern` in its first 64 KiB (read through QEMU), powers off. */
    async expectData(uuid: string, pattern: number, disks: number[] = [0]): Promise<void> {
      await power(uuid, 'on');
      for (const d of disks) expect(await io(uuid, `read -P ${pattern} 0 64k`, d), `disk ${d}`).toContain('read 65536/65536');
      await power(uuid, 'off');
    },
  };
}

import { expect } from 'vitest';
