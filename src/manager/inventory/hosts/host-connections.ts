import { EntityKind, type EventPoster } from '../../contracts.js';
import { ManagerError } from '../../errors.js';
import type { HostRecord } from '../../contracts.js';
import { normalizeFingerprint } from '../../../pki/index.js';
import { translateHostFailure, type PinnedHostGateway } from './host-gateway.js';
import { parseDatastores, parseHostInfo, parseHostVms } from './host-replies.js';
import type { HostMonitor } from './host-monitor.js';
import type { DatastoreStore } from '../store/datastore-store.js';
import type { HostStore } from '../store/host-store.js';
import type { VmStore } from '../store/vm-store.js';

export interface AddHostSpec {
  readonly url: string;
  /** The thumbprint the operator confirmed after `probe` (SHA-256 hex, colons allowed). */
  readonly thumbprint: string;
  /** The agent's one-time pairing token; absent when the agent was started with --manager-fingerprint. */
  readonly pairingToken?: string;
  readonly clusterId?: string;
  readonly user?: string;
}

export interface HostConnectionsDeps {
  readonly hosts: HostStore;
  readonly datastores: DatastoreStore;
  readonly vms: VmStore;
  readonly gateway: PinnedHostGateway;
  readonly monitor: HostMonitor;
  readonly events: EventPoster;
}

const URL_RE = /^https:\/\/[A-Za-z0-9.[\]:-]{1,253}:\d{1,5}\/?$/;

function checkUrl(url: string): string {
  if (!URL_RE.test(url)) throw new ManagerError('MANAGER_BAD_REQUEST', 'host url must be https://HOST:PORT');
  return url.replace(/\/$/, '');
}

/**
 * Adding a host the vSphere way: first contact shows the host's certificate thumbprint, the
 * operator confirms it, and the add pins it and pairs with the one-time token (the host pins
 * the manager's client certificate in turn). Reconnect re-reads a host (and takes a new
 * thumbprint when the operator confirms one); remove drops it and its VMs from the inventory.
 */
export class HostConnections {
  readonly #d: HostConnectionsDeps;

  constructor(d: HostConnectionsDeps) {
    this.#d = d;
  }

  /** First contact: the thumbprint of the certificate the host presents (nothing is sent but a GET). */
  async probe(urlIn: string): Promise<{ url: string; thumbprint: string }> {
    const url = checkUrl(urlIn);
    try {
      return { url, thumbprint: await this.#d.gateway.clientFor(url).thumbprint() };
    } catch (err) {
      throw translateHostFailure(err, url);
    }
  }

  async add(spec: AddHostSpec): Promise<HostRecord> {
    const url = checkUrl(spec.url);
    const thumbprint = normalizeFingerprint(spec.thumbprint);
    if (!/^[0-9a-f]{64}$/.test(thumbprint)) throw new ManagerError('MANAGER_BAD_REQUEST', 'thumbprint must be the SHA-256 of the host certificate (64 hex digits)');
    const client = this.#d.gateway.clientFor(url, thumbprint);
    let info;
    let stores;
    try {
      if (spec.pairingToken !== undefined) await client.call('POST', '/v1/pair', { token: spec.pairingToken });
      info = parseHostInfo(await client.call('GET', '/v1/host'));
      stores = parseDatastores(await client.call('GET', '/v1/datastores'));
    } catch (err) {
      throw translateHostFailure(err, url);
    }
    const host = this.#d.hosts.insert({ name: info.name, url, thumbprint, cryptoMode: info.cryptoMode, ...(spec.clusterId === undefined ? {} : { clusterId: spec.clusterId }) });
    for (const ds of stores) this.#d.datastores.attach(host.id, host.name, ds.path, ds.name, ds.name === 'local' ? `${host.name}-local` : ds.name);
    this.#d.monitor.setState(host.id, 'connected');
    this.#d.events.post({
      type: 'host.added', severity: 'info', entity: { kind: EntityKind.HOST, id: host.id },
      message: `host ${host.name} (${url}, thumbprint ${thumbprint}) added${spec.clusterId === undefined ? '' : ` to cluster ${spec.clusterId}`}`,
      ...(spec.user === undefined ? {} : { user: spec.user }),
    });
    // its VMs and events (an encrypted core dump already there) are picked up by one poll now
    await this.#d.monitor.poll(host.id);
    return this.#d.hosts.require(host.id);
  }

  /** Whether the host has encrypted VMs (adding or moving it then needs Cryptographer.RegisterHost). */
  async peekEncrypted(url: string, thumbprint: string): Promise<boolean> {
    try {
      const vms = parseHostVms(await this.#d.gateway.clientFor(checkUrl(url), normalizeFingerprint(thumbprint)).call('GET', '/v1/vms'));
      return vms.some((v) => v.observation.encrypted);
    } catch {
      return false;
    }
  }

  async reconnect(hostId: string, thumbprint?: string): Promise<HostRecord> {
    const host = this.#d.hosts.require(hostId);
    if (thumbprint !== undefined) {
      const tp = normalizeFingerprint(thumbprint);
      if (!/^[0-9a-f]{64}$/.test(tp)) throw new ManagerError('MANAGER_BAD_REQUEST', 'thumbprint must be 64 hex digits');
      this.#d.hosts.setThumbprint(hostId, tp);
    }
    // leave 'disconnected' so the poll runs; its result sets the real state
    this.#d.hosts.setConnectionState(hostId, 'notResponding');
    await this.#d.monitor.poll(hostId);
    const after = this.#d.hosts.require(hostId);
    if (after.connectionState !== 'connected') {
      throw new ManagerError('MANAGER_HOST_UNREACHABLE', `host ${host.name} did not answer the reconnect (state ${after.connectionState})`);
    }
    return after;
  }

  remove(hostId: string, user?: string): void {
    const host = this.#d.hosts.require(hostId);
    const running = this.#d.vms.onHost(hostId).filter((v) => v.powerState === 'poweredOn');
    if (running.length > 0) throw new ManagerError('MANAGER_CONFLICT', `host ${host.name} has ${running.length} powered-on VM(s); power them off or move them first`);
    for (const v of this.#d.vms.onHost(hostId)) this.#d.vms.delete(v.id);
    this.#d.hosts.remove(hostId);
    this.#d.monitor.forget(hostId);
    this.#d.events.post({
      type: 'host.removed', severity: 'info', entity: { kind: EntityKind.HOST, id: hostId },
      message: `host ${host.name} removed from the inventory (its VMs' files stay on their datastores)`,
      ...(user === undefined ? {} : { user }),
    });
  }
}
