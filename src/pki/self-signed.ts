import { x509 } from './x509.js';
import { generateKeyPair, KeyAlgorithm } from './keys.js';
import { isRsaAlg, jsonName, leafExtensions, randomSerial, serverSans, validity } from './build.js';
import { checkCommonName, checkDays, checkUsage } from './names.js';
import { DEFAULT_LEAF_DAYS, type CertificateAndKey, type CertificateUsage } from './types.js';

export interface CreateSelfSignedOptions {
  readonly commonName: string;
  readonly usage: CertificateUsage;
  readonly days?: number;
  readonly keyAlgorithm?: KeyAlgorithm;
}

/**
 * A self-signed leaf (CA:false, no Key Usage, EKU per `usage`): the certificate vCenter's
 * "generate a self-signed client certificate" produces, to be pinned on the KMS by fingerprint.
 */
export async function createSelfSigned(opts: CreateSelfSignedOptions): Promise<CertificateAndKey> {
  const cn = checkCommonName(opts.commonName);
  const usage = checkUsage(opts.usage);
  const days = checkDays(opts.days, DEFAULT_LEAF_DAYS);
  const { keys, alg, keyPem } = await generateKeyPair(opts.keyAlgorithm ?? KeyAlgorithm.ECDSA_P256);
  const sans = serverSans(usage, [], []);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: jsonName(cn),
    ...validity(days),
    keys,
    signingAlgorithm: alg.signParams,
    extensions: await leafExtensions({
      usage,
      isRsa: isRsaAlg(alg),
      dnsNames: sans.dnsNames,
      ipAddresses: sans.ipAddresses,
      publicKey: keys.publicKey,
      selfSigned: true,
    }),
  });
  return { certPem: cert.toString('pem') + '\n', keyPem };
}
