import type { InventoryView, KeyRef } from '../contracts.js';
import { ManagerError } from '../errors.js';
import type { KeyContext } from './context.js';
import { pushKeysToHost } from './host-push.js';
import { fetchError, fetchKeys } from './key-material.js';
import { distinctKeys, keyRefId } from './key-refs.js';
import { hostKeyPlan } from './push-plan.js';

/**
 * Pushes KEKs to one named host, whatever the push rules of the VM say: a migration's
 * destination must hold the VM's keys before the switch-over, while the VM is still registered
 * on the source (issue 14). Fetched by id from the providers, zeroed after the push.
 */
export async function pushKeysToNamedHost(ctx: KeyContext, hostId: string, keys: readonly KeyRef[], ensureSafe: (hostId: string) => Promise<void>): Promise<void> {
  const refs = distinctKeys(keys);
  if (refs.length === 0) return;
  const host = ctx.inventory.host(hostId);
  if (host === undefined) throw new ManagerError('MANAGER_NOT_FOUND', `host ${hostId} not found`);
  if (host.connectionState !== 'connected') throw new ManagerError('MANAGER_HOST_UNREACHABLE', `host ${host.name} is ${host.connectionState}`);
  const fetched = await fetchKeys(ctx, refs);
  try {
    if (fetched.failed.size > 0) throw fetchError(fetched.failed.values());
    if (host.cryptoMode !== 'safe') await ensureSafe(hostId);
    const material = [...fetched.material.values()].map((m) => ({ keyId: m.ref.keyId, material: m.bytes }));
    await pushKeysToHost(ctx.inventory.hosts, hostId, material, { parallel: ctx.options.pushParallel });
    ctx.metrics.pushed(hostId, material.length);
  } finally {
    fetched.zero();
  }
}

/**
 * Removes from a host's key cache those of `keys` it no longer needs by the push rules: no VM
 * registered there uses them, no VM of its HA cluster does, and it is not its host key. Returns
 * the key ids removed. A key the host does not hold (404) counts as removed.
 */
export async function dropUnneededKeys(inv: InventoryView, hostId: string, keys: readonly KeyRef[]): Promise<string[]> {
  const needed = new Set(hostKeyPlan(inv, hostId).keys.map(keyRefId));
  const removed: string[] = [];
  for (const k of distinctKeys(keys)) {
    if (needed.has(keyRefId(k))) continue;
    try {
      await inv.hosts.call(hostId, 'DELETE', `/v1/keys/${encodeURIComponent(k.keyId)}`);
    } catch (err) {
      if ((err as { status?: unknown }).status !== 404) throw err;
    }
    removed.push(k.keyId);
  }
  return removed;
}
