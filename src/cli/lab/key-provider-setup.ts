import { readFile } from 'node:fs/promises';
import { kmsPaths, MANAGER_CLIENT_NAME } from '../../kms/data-dir.js';
import type { LabManagerClient } from './manager-client.js';

export const LAB_PROVIDER_ID = 'lab-kms';

export interface KmsServer {
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

interface Provider {
  id: string;
  isDefault: boolean;
  servers: KmsServer[];
  trust: { trustedServerCerts: unknown[]; clientIdentity: { source?: string } | null };
}

export interface ProviderResult {
  readonly id: string;
  readonly created: boolean;
  readonly color: string;
}

const sameServers = (a: readonly KmsServer[], b: readonly KmsServer[]): boolean =>
  a.length === b.length && a.every((s, i) => s.name === b[i]?.name && s.host === b[i]?.host && s.port === b[i]?.port);

/**
 * The KMS as the default key provider, as an operator sets it up in vCenter with trust setup
 * (a)+(b): trust the KMS CA, upload the client certificate the KMS CA issued for the manager.
 * Every manager of the lab uses that one identity, so keys one manager made can be read by the
 * other (the KMS lets an object's owner read it). Safe to rerun: only what is missing is done.
 */
export async function ensureKeyProvider(api: LabManagerClient, kmsDataDir: string, servers: readonly KmsServer[]): Promise<ProviderResult> {
  const { providers } = await api.get<{ providers: Provider[] }>('/api/key-providers');
  let p = providers.find((x) => x.id === LAB_PROVIDER_ID);
  const created = p === undefined;
  if (p === undefined) {
    p = await api.post<Provider>('/api/key-providers', { name: LAB_PROVIDER_ID, servers, default: true });
  } else if (!sameServers(p.servers, servers)) {
    p = await api.call<Provider>('PUT', `/api/key-providers/${LAB_PROVIDER_ID}/servers`, { servers });
  }
  const paths = kmsPaths(kmsDataDir);
  if (p.trust.trustedServerCerts.length === 0) {
    await api.post(`/api/key-providers/${LAB_PROVIDER_ID}/trust/server-certificates`, { certPem: await readFile(paths.caCert, 'utf8') });
  }
  if (p.trust.clientIdentity === null) {
    // The private key travels once, over the pinned HTTPS connection, into the manager's sealed store.
    await api.post(`/api/key-providers/${LAB_PROVIDER_ID}/trust/client-certificate`, {
      certPem: await readFile(paths.clientCert(MANAGER_CLIENT_NAME), 'utf8'),
      keyPem: await readFile(paths.clientKey(MANAGER_CLIENT_NAME), 'utf8'),
    });
  }
  if (!p.isDefault) await api.post(`/api/key-providers/${LAB_PROVIDER_ID}/default`);
  const health = await api.post<{ color: string }>(`/api/key-providers/${LAB_PROVIDER_ID}/health`);
  return { id: LAB_PROVIDER_ID, created, color: health.color };
}
