import { KeyProviderError } from '../../keyprovider/index.js';
import { attributeRecord, KmipOperationError } from '../../kmip/client/index.js';
import { State } from '../../kmip/enums.js';
import type { EntityRef, HostRecord, KeyRef } from '../contracts.js';
import { EntityKind } from '../contracts.js';
import type { KeyContext } from './context.js';
import { ENTITY_ATTRIBUTE, MANAGER_ATTRIBUTE } from './kek-create.js';
import { pushTargets } from './push-plan.js';

/** An inventory object that uses a key, and for what. */
export interface KeyUse {
  readonly entity: EntityRef;
  readonly name: string;
  /** 'vm' (VM home), a disk name, 'hostKey', or 'created' (the entity the key was made for). */
  readonly part: string;
}

/** Like vSphere's QueryCryptoKeyStatus, for one key. Never holds key bytes. */
export interface KeyStatus {
  readonly key: KeyRef;
  readonly providerKnown: boolean;
  /** null when the provider could not be asked. */
  readonly providerReachable: boolean | null;
  /** null when unknown (provider unreachable). */
  readonly presentInKms: boolean | null;
  /** KMIP State (PreActive, Active, Deactivated, Compromised, Destroyed, …) when present. */
  readonly state?: string;
  readonly managedByThisManager?: boolean;
  readonly error?: string;
  /** Each host the push rules give this key to: is it in that host's cache now? null = host not answering. */
  readonly hosts: readonly { readonly hostId: string; readonly name: string; readonly present: boolean | null; readonly connectionState: string }[];
  readonly usedBy: readonly KeyUse[];
}

/** Which entities use the key: VMs (home and disks), hosts (host key), and who it was made for. */
export function keyEntities(ctx: KeyContext, key: KeyRef): KeyUse[] {
  const out: KeyUse[] = [];
  for (const vm of ctx.inventory.listVms()) {
    for (const u of vm.keys) {
      if (u.key.providerId === key.providerId && u.key.keyId === key.keyId) out.push({ entity: { kind: EntityKind.VM, id: vm.id }, name: vm.name, part: u.part });
    }
  }
  for (const h of ctx.inventory.listHosts()) {
    if (h.hostKey?.providerId === key.providerId && h.hostKey.keyId === key.keyId) out.push({ entity: { kind: EntityKind.HOST, id: h.id }, name: h.name, part: 'hostKey' });
  }
  const made = ctx.store.kek(key.providerId, key.keyId);
  if (made !== undefined && !out.some((u) => u.entity.kind === made.entity.kind && u.entity.id === made.entity.id)) {
    out.push({ entity: made.entity, name: made.entity.id, part: 'created' });
  }
  return out;
}

export async function keyStatus(ctx: KeyContext, key: KeyRef): Promise<KeyStatus> {
  const usedBy = keyEntities(ctx, key);
  const hosts = new Map<string, HostRecord>();
  for (const u of usedBy) {
    if (u.entity.kind === EntityKind.VM) {
      const vm = ctx.inventory.vm(u.entity.id);
      if (vm !== undefined) for (const h of pushTargets(ctx.inventory, vm)) hosts.set(h.id, h);
    } else if (u.entity.kind === EntityKind.HOST && u.part === 'hostKey') {
      const h = ctx.inventory.host(u.entity.id);
      if (h !== undefined) hosts.set(h.id, h);
    }
  }
  const hostStates = await Promise.all(
    [...hosts.values()].map(async (h) => {
      let present: boolean | null = null;
      if (h.connectionState === 'connected') {
        try {
          const r = await ctx.inventory.hosts.call<{ keyIds?: unknown }>(h.id, 'GET', '/v1/keys');
          present = Array.isArray(r.keyIds) && r.keyIds.includes(key.keyId);
        } catch {
          present = null;
        }
      }
      return { hostId: h.id, name: h.name, present, connectionState: h.connectionState };
    }),
  );
  const base = { key, hosts: hostStates, usedBy };
  if (ctx.store.get(key.providerId) === undefined) return { ...base, providerKnown: false, providerReachable: null, presentInKms: null };
  try {
    const attrs = attributeRecord(await ctx.pool.get(key.providerId).control.getAttributes(key.keyId, ['State', MANAGER_ATTRIBUTE, ENTITY_ATTRIBUTE]));
    const stateValue = attrs['State'];
    const state = Object.entries(State).find(([, v]) => v === stateValue)?.[0];
    ctx.health.setReachable(key.providerId, true, '');
    return {
      ...base,
      providerKnown: true,
      providerReachable: true,
      presentInKms: true,
      ...(state === undefined ? {} : { state }),
      managedByThisManager: attrs[MANAGER_ATTRIBUTE] === ctx.store.managerId(),
    };
  } catch (err) {
    if (err instanceof KmipOperationError) {
      return { ...base, providerKnown: true, providerReachable: true, presentInKms: err.reason === 'ItemNotFound' ? false : null, error: err.message };
    }
    if (err instanceof KeyProviderError) ctx.health.setReachable(key.providerId, false, err.message);
    return { ...base, providerKnown: true, providerReachable: false, presentInKms: null, error: (err as Error).message };
  }
}
