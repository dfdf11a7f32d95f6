import type { KeyRef } from '../contracts.js';
import { ManagerError, notFound } from '../errors.js';
import type { KeyContext } from './context.js';
import { pushKeysToHost } from './host-push.js';
import { fetchError, fetchKeys } from './key-material.js';
import { distinctKeys, mapLimit } from './key-refs.js';
import { pushTargets } from './push-plan.js';
import type { HostUnlocker } from './unlock.js';

/** Does the host's cache lack one of these keys (undefined: the host did not say)? */
async function lacks(unlocker: Pick<HostUnlocker, 'cachedKeyIds'>, hostId: string, keyIds: readonly string[]): Promise<boolean | undefined> {
  const cached = await unlocker.cachedKeyIds(hostId).catch(() => undefined);
  return cached === undefined ? undefined : keyIds.some((k) => !cached.has(k));
}

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
  unlocker: Pick<HostUnlocker, 'pending' | 'cachedKeyIds' | 'markLocked' | 'markComplete'>,
): Promise<void> {
  const pending = unlocker.pending;
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
        // the inventory's lock flag only says whether to look; the host's cache says what was missing
        const needed = vm.keys.map((u) => u.key.keyId);
        const lacked = own && vm.locked ? await lacks(unlocker, t.id, needed) : false;
        if (lacked === true) unlocker.markLocked(vm.id);
        await pushKeysToHost(ctx.inventory.hosts, t.id, material, { parallel: ctx.options.pushParallel });
        ctx.metrics.pushed(t.id, material.length);
        if (lacked === true && (await lacks(unlocker, t.id, needed)) === false) unlocker.markComplete(vm, t.id);
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
