import type { KeyRef } from '../contracts.js';
import { ManagerError, notFound } from '../errors.js';
import type { KeyContext } from './context.js';
import { pushKeysToHost } from './host-push.js';
import { fetchError, fetchKeys } from './key-material.js';
import { distinctKeys, mapLimit } from './key-refs.js';
import { pushTargets } from './push-plan.js';

/**
 * Pushes a VM's KEKs where the push rule says (HA cluster: every host; otherwise its host).
 * The VM's own host must take them (else the error); another HA host that is down or refuses
 * is left to the unlock loop, which brings it the keys when it is back (`pending`).
 */
export async function pushForVm(
  ctx: KeyContext,
  vmId: string,
  keys: readonly KeyRef[],
  ensureSafe: (hostId: string) => Promise<void>,
  pending: Set<string>,
): Promise<void> {
  const vm = ctx.inventory.vm(vmId);
  if (vm === undefined) throw notFound('VM', vmId);
  const refs = distinctKeys(keys);
  if (refs.length === 0) return;
  const targets = pushTargets(ctx.inventory, vm);
  if (!targets.some((t) => t.id === vm.hostId)) throw notFound('host', vm.hostId);
  const fetched = await fetchKeys(ctx, refs);
  try {
    if (fetched.failed.size > 0) throw fetchError(fetched.failed.values());
    const material = [...fetched.material.values()].map((m) => ({ keyId: m.ref.keyId, material: m.bytes }));
    await mapLimit(targets, ctx.options.hostParallel, async (t) => {
      const own = t.id === vm.hostId;
      try {
        if (t.connectionState !== 'connected') throw new ManagerError('MANAGER_HOST_UNREACHABLE', `host ${t.id} is ${t.connectionState}`);
        // vSphere turns on host encryption mode by itself when a crypto operation needs it.
        if (t.cryptoMode !== 'safe') await ensureSafe(t.id);
        await pushKeysToHost(ctx.inventory.hosts, t.id, material, { parallel: ctx.options.pushParallel });
        ctx.metrics.pushed(t.id, material.length);
      } catch (err) {
        if (own) throw err;
        pending.add(t.id);
        ctx.platform.log.warn({ host: t.id, vm: vmId, err: (err as Error).message }, 'key push to an HA cluster host failed; retried later');
      }
    });
  } finally {
    fetched.zero();
  }
}
