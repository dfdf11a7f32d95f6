import { x509 } from './x509.js';
import { generateKeyPair, KeyAlgorithm, type GeneratedKeyPair } from './keys.js';
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
 * A new key pair and a certificate it signs itself, carrying `extensions` (a CA's or a
 * leaf's). Name and days are checked by the caller.
 */
export async function selfSignNewKey(
  commonName: string,
  days: number,
  keyAlgorithm: KeyAlgorithm | undefined,
  extensions: (pair: GeneratedKeyPair) => Promise<x509.Extension[]>,
): Promise<CertificateAndKey> {
  const pair = await generateKeyPair(keyAlgorithm ?? KeyAlgorithm.ECDSA_P256);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: jsonName(commonName),
    ...validity(days),
    keys: pair.keys,
    signingAlgorithm: pair.alg.signParams,
    extensions: await extensions(pair),
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: pair.keyPem };
}

/**
 * A self-signed leaf (CA:false, no Key Usage, EKU per `usage`): the certificate vCenter's
 * "generate a self-signed client certificate" produces, to be pinned on the KMS by fingerprint.
 */
export async function createSelfSigned(opts: CreateSelfSignedOptions): Promise<CertificateAndKey> {
  const cn = checkCommonName(opts.commonName);
  const usage = checkUsage(opts.usage);
  const days = checkDays(opts.days, DEFAULT_LEAF_DAYS);
  const sans = serverSans(usage, [], []);
  return selfSignNewKey(cn, days, opts.keyAlgorithm, ({ keys, alg }) => leafExtensions({
    usage,
    isRsa: isRsaAlg(alg),
    dnsNames: sans.dnsNames,
    ipAddresses: sans.ipAddresses,
    publicKey: keys.publicKey,
    selfSigned: true,
  }));
}
