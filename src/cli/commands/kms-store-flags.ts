import type { EtcdTlsFiles } from '../../kms/serve.js';
import { UsageError } from '../../errors.js';

/** The flags that choose a key server's store, shared by `kms serve`, `kms backup` and `kms restore`. */
export const KMS_STORE_FLAGS = {
  store: { type: 'string' },
  etcd: { type: 'string' },
  'etcd-prefix': { type: 'string' },
  'etcd-ca': { type: 'string' },
  'etcd-cert': { type: 'string' },
  'etcd-key': { type: 'string' },
} as const;

export interface StoreFlagValues {
  readonly store?: string | undefined;
  readonly etcd?: string | undefined;
  readonly 'etcd-prefix'?: string | undefined;
  readonly 'etcd-ca'?: string | undefined;
  readonly 'etcd-cert'?: string | undefined;
  readonly 'etcd-key'?: string | undefined;
}

/** The etcd client TLS files, checked as a set: a certificate without its key or a CA is a usage error, not ignored. */
export function etcdTlsFromFlags(values: StoreFlagValues, store: string, usage: string): EtcdTlsFiles | undefined {
  const { 'etcd-ca': caFile, 'etcd-cert': certFile, 'etcd-key': keyFile } = values;
  if (caFile === undefined && certFile === undefined && keyFile === undefined) return undefined;
  if (store !== 'etcd') throw new UsageError(`--etcd-ca/--etcd-cert/--etcd-key need --store etcd\nusage: ${usage}`);
  if (caFile === undefined) throw new UsageError(`--etcd-cert/--etcd-key need --etcd-ca\nusage: ${usage}`);
  if ((certFile === undefined) !== (keyFile === undefined)) throw new UsageError(`--etcd-cert and --etcd-key go together\nusage: ${usage}`);
  return { caFile, ...(certFile === undefined || keyFile === undefined ? {} : { certFile, keyFile }) };
}
