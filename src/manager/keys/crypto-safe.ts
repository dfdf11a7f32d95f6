import type { HostRecord, KeyRef } from '../contracts.js';
import { EntityKind } from '../contracts.js';
import { ManagerError, notFound } from '../errors.js';
import type { KeyContext } from './context.js';
import { pushKeysToHost } from './host-push.js';
import { fetchError, fetchKeys } from './key-material.js';

export interface CryptoSafeResult {
  /** Hosts made crypto-safe by this call (the host asked for, then the rest of its cluster). */
  readonly hosts: readonly { readonly hostId: string; readonly hostKey: KeyRef }[];
}

/**
 * Crypto-safe mode (vSphere "enable host encryption mode"): the host gets a host key — a KEK
 * from the key provider, made for the host — pushed into its cache, then `prepared` → `safe`.
 * Once one host of a cluster is crypto-safe, every host of the cluster is made so.
 */
export async function makeCryptoSafe(
  ctx: KeyContext,
  createKek: (spec: { providerId?: string; entity: { kind: 'host'; id: string }; user?: string }) => Promise<KeyRef>,
  hostId: string,
  opts: { readonly user?: string; readonly providerId?: string } = {},
): Promise<CryptoSafeResult> {
  const host = ctx.inventory.host(hostId);
  if (host === undefined) throw notFound('host', hostId);
  const done: { hostId: string; hostKey: KeyRef }[] = [];
  const first = await makeOneSafe(ctx, createKek, host, opts);
  if (first !== undefined) done.push({ hostId, hostKey: first });
  if (host.clusterId !== undefined) {
    for (const mate of ctx.inventory.clusterHosts(host.clusterId)) {
      if (mate.id === hostId || mate.cryptoMode === 'safe' || mate.connectionState !== 'connected') continue;
      const k = await makeOneSafe(ctx, createKek, mate, opts);
      if (k !== undefined) done.push({ hostId: mate.id, hostKey: k });
    }
  }
  return { hosts: done };
}

/** One host; returns its host key, or undefined when it was crypto-safe already with its key present. */
async function makeOneSafe(
  ctx: KeyContext,
  createKek: (spec: { providerId?: string; entity: { kind: 'host'; id: string }; user?: string }) => Promise<KeyRef>,
  host: HostRecord,
  opts: { readonly user?: string; readonly providerId?: string },
): Promise<KeyRef | undefined> {
  const gw = ctx.inventory.hosts;
  if (host.connectionState !== 'connected') throw new ManagerError('MANAGER_HOST_UNREACHABLE', `host ${host.id} is ${host.connectionState}`);
  const info = await gw.call<{ cryptoMode?: string; hostKeyId?: string; hostKeyPresent?: boolean }>(host.id, 'GET', '/v1/host');
  if (info.cryptoMode === 'safe' && host.hostKey !== undefined && info.hostKeyId === host.hostKey.keyId && info.hostKeyPresent === true) {
    if (host.cryptoMode !== 'safe') ctx.inventory.setHostCrypto(host.id, 'safe', host.hostKey);
    return undefined;
  }
  if (info.cryptoMode === 'incapable' || info.cryptoMode === undefined) {
    await gw.call(host.id, 'POST', '/v1/host/crypto-mode', { mode: 'prepared' });
    ctx.inventory.setHostCrypto(host.id, 'prepared');
  }
  const hostKey =
    host.hostKey ??
    (await createKek({ ...(opts.providerId === undefined ? {} : { providerId: opts.providerId }), entity: { kind: EntityKind.HOST, id: host.id }, ...(opts.user === undefined ? {} : { user: opts.user }) }));
  const fetched = await fetchKeys(ctx, [hostKey]);
  try {
    if (fetched.failed.size > 0) throw fetchError(fetched.failed.values());
    await pushKeysToHost(gw, host.id, [...fetched.material.values()].map((m) => ({ keyId: m.ref.keyId, material: m.bytes })));
  } finally {
    fetched.zero();
  }
  await gw.call(host.id, 'POST', '/v1/host/crypto-mode', { mode: 'safe', hostKeyId: hostKey.keyId });
  ctx.inventory.setHostCrypto(host.id, 'safe', hostKey);
  ctx.platform.events.post({
    type: 'host.cryptoEnabled',
    severity: 'info',
    entity: { kind: EntityKind.HOST, id: host.id },
    ...(opts.user === undefined ? {} : { user: opts.user }),
    message: `host ${host.name} is crypto-safe; its core dumps are sealed with key ${hostKey.keyId} of key provider ${hostKey.providerId}`,
    data: { providerId: hostKey.providerId, keyId: hostKey.keyId },
  });
  return hostKey;
}
