import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makePrivateDir } from '../../fs/private-files.js';
import { createCa, issueCertificate, writeCertificateFile, writePrivateKeyFile } from '../../pki/index.js';

/** The etcd PKI of a `kms cluster up` directory (DIR/etcd-pki): members' client+peer TLS, the KMS nodes' client certificate. */
export interface ClusterEtcdPki {
  readonly caFile: string;
  /** Member certificate: server and client use (peers authenticate each other with it). */
  readonly memberCertFile: string;
  readonly memberKeyFile: string;
  /** What the KMS nodes (and `kms cluster status`) present to etcd (--client-cert-auth). */
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
}

export function clusterEtcdPkiPaths(dir: string): ClusterEtcdPki {
  const d = join(dir, 'etcd-pki');
  return {
    caFile: join(d, 'ca.crt'),
    memberCertFile: join(d, 'member.crt'),
    memberKeyFile: join(d, 'member.key'),
    clientCertFile: join(d, 'kms-node.crt'),
    clientKeyFile: join(d, 'kms-node.key'),
  };
}

export function hasClusterEtcdPki(dir: string): boolean {
  return existsSync(clusterEtcdPkiPaths(dir).clientKeyFile);
}

/**
 * Creates DIR/etcd-pki once: a CA only for this etcd cluster (its key is not kept: nothing is
 * issued later), a member certificate for 127.0.0.1/localhost with server and client use, and the
 * KMS nodes' client certificate. Owner-only files in a 0700 directory.
 */
export async function ensureClusterEtcdPki(dir: string): Promise<ClusterEtcdPki> {
  const p = clusterEtcdPkiPaths(dir);
  if (hasClusterEtcdPki(dir)) return p;
  await makePrivateDir(join(dir, 'etcd-pki'));
  const ca = await createCa({ commonName: 'vmcrypt kms cluster etcd CA' });
  const member = await issueCertificate({ ca, commonName: 'etcd-member', usage: 'both' });
  const client = await issueCertificate({ ca, commonName: 'kms-node', usage: 'client' });
  await writeCertificateFile(p.caFile, ca.certPem);
  await writeCertificateFile(p.memberCertFile, member.certPem);
  await writePrivateKeyFile(p.memberKeyFile, member.keyPem);
  await writeCertificateFile(p.clientCertFile, client.certPem);
  await writePrivateKeyFile(p.clientKeyFile, client.keyPem); // written last: its presence marks the set complete
  return p;
}
