import { Etcd3, type IOptions } from 'etcd3';
import { KmsError, KmsErrorCode } from '../errors.js';
import { noRetryPolicy, skipFailedHostPolicy } from './etcd-policy.js';

/**
 * TLS to the etcd members (endpoints then use https://): the CA that issued the members'
 * certificates, and this node's client certificate + key when etcd runs with
 * --client-cert-auth. Without it the link is plain HTTP/2: fine on loopback, and key material
 * is sealed either way, but attributes and owners would cross a network in clear.
 */
export interface EtcdTlsOptions {
  readonly caPem: string;
  readonly certPem?: string;
  readonly keyPem?: string;
}

/** The etcd3 client options for `tls` (none without it). */
export function etcdCredentials(tls: EtcdTlsOptions | undefined): { credentials?: NonNullable<IOptions['credentials']> } {
  if (tls === undefined) return {};
  return {
    credentials: {
      rootCertificate: Buffer.from(tls.caPem),
      ...(tls.certPem === undefined ? {} : { certChain: Buffer.from(tls.certPem) }),
      ...(tls.keyPem === undefined ? {} : { privateKey: Buffer.from(tls.keyPem) }),
    },
  };
}

/**
 * The etcd3 client of one key store: TLS exactly when the endpoints say https://, and no retry
 * of its own (the store retries whole operations within its budget, see etcd-retry.ts); a member
 * that failed is skipped for a second so the next attempt goes to another one.
 */
export function createEtcdClient(endpoints: readonly string[], tls: EtcdTlsOptions | undefined, dialTimeoutMs: number): Etcd3 {
  if (tls !== undefined && endpoints.some((e) => !e.startsWith('https://'))) {
    throw new KmsError(KmsErrorCode.CONFIG_INVALID, 'etcd TLS options need https:// endpoints');
  }
  if (tls === undefined && endpoints.some((e) => e.startsWith('https://'))) {
    throw new KmsError(KmsErrorCode.CONFIG_INVALID, 'https:// etcd endpoints need the etcd CA (and client certificate) options');
  }
  if ((tls?.certPem === undefined) !== (tls?.keyPem === undefined)) {
    throw new KmsError(KmsErrorCode.CONFIG_INVALID, 'etcd client certificate and key go together');
  }
  return new Etcd3({
    hosts: [...endpoints],
    ...etcdCredentials(tls),
    dialTimeout: dialTimeoutMs,
    faultHandling: { global: noRetryPolicy(), host: () => skipFailedHostPolicy(1000) },
  });
}
