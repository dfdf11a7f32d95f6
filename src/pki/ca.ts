import { x509 } from './x509.js';
import { generateKeyPair, KeyAlgorithm } from './keys.js';
import { caExtensions, jsonName, randomSerial, validity } from './build.js';
import { checkCommonName, checkDays } from './names.js';
import { DEFAULT_CA_DAYS, type CertificateAndKey } from './types.js';

export interface CreateCaOptions {
  readonly commonName: string;
  readonly days?: number;
  readonly keyAlgorithm?: KeyAlgorithm;
}

/** A self-signed CA (basicConstraints CA:true pathLen 0, keyCertSign|cRLSign) that issues leaf certificates. */
export async function createCa(opts: CreateCaOptions): Promise<CertificateAndKey> {
  const cn = checkCommonName(opts.commonName);
  const days = checkDays(opts.days, DEFAULT_CA_DAYS);
  const { keys, alg, keyPem } = await generateKeyPair(opts.keyAlgorithm ?? KeyAlgorithm.ECDSA_P256);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: jsonName(cn),
    ...validity(days),
    keys,
    signingAlgorithm: alg.signParams,
    extensions: await caExtensions(keys.publicKey),
  });
  return { certPem: cert.toString('pem') + '\n', keyPem };
}
