import { clientCredentials, type ProviderTrust, type SealParams } from '../pki/trust/index.js';
import type { TlsIdentity } from '../kmip/client/client-credentials.js';

/**
 * The TLS trust/identity of a key provider from its trust setup (src/pki/trust: trusted KMS
 * CA or server certificates + our client certificate, its private key unsealed here). Throws
 * the PKI error when the setup is incomplete or the client certificate expired. The returned
 * key PEM is a secret: keep it only as long as the provider lives.
 */
export function tlsIdentityFromTrust(trust: ProviderTrust, seal: SealParams): TlsIdentity {
  const c = clientCredentials(trust, seal);
  return { ca: [...c.ca], cert: c.certPem, key: c.keyPem };
}
