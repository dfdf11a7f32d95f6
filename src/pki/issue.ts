import { x509, type CryptoKey } from './x509.js';
import { generateKeyPair, importSigningKey, parsePrivateKey, KeyAlgorithm } from './keys.js';
import { isRsaAlg, jsonName, leafExtensions, randomSerial, serverSans, validity } from './build.js';
import { checkCommonName, checkDays, checkDnsNames, checkIpAddresses, checkUsage } from './names.js';
import { parseCertificate, type ParsedCertificate } from './parse.js';
import { PkiError, PkiErrorCode } from './errors.js';
import { DEFAULT_LEAF_DAYS, type CertificateAndKey, type CertificateUsage } from './types.js';

export interface IssueCertificateOptions {
  readonly ca: CertificateAndKey;
  readonly commonName: string;
  readonly usage: CertificateUsage;
  /** Server certificates always also carry DNS localhost and IP 127.0.0.1. */
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly days?: number;
  readonly keyAlgorithm?: KeyAlgorithm;
}

/** A new key pair and a leaf certificate for it, signed by `ca`. */
export async function issueCertificate(opts: IssueCertificateOptions): Promise<CertificateAndKey> {
  const { keys, alg, keyPem } = await generateKeyPair(opts.keyAlgorithm ?? KeyAlgorithm.ECDSA_P256);
  const cert = await signLeaf({
    ca: opts.ca,
    subject: jsonName(checkCommonName(opts.commonName)),
    publicKey: keys.publicKey,
    subjectIsRsa: isRsaAlg(alg),
    usage: checkUsage(opts.usage),
    dnsNames: checkDnsNames(opts.dnsNames ?? []),
    ipAddresses: checkIpAddresses(opts.ipAddresses ?? []),
    days: checkDays(opts.days, DEFAULT_LEAF_DAYS),
  });
  return { certPem: cert, keyPem };
}

export interface SignLeafParams {
  readonly ca: CertificateAndKey;
  readonly subject: x509.JsonName | x509.Name;
  readonly publicKey: CryptoKey | x509.PublicKey;
  /** RSA subject keys also get keyEncipherment. */
  readonly subjectIsRsa: boolean;
  readonly usage: CertificateUsage;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly days: number;
}

/** Signs a leaf certificate for `publicKey` with the CA key; shared by issueCertificate and signCsr. */
export async function signLeaf(p: SignLeafParams): Promise<string> {
  const caCert = loadIssuer(p.ca.certPem);
  const { keys: caKeys, alg: caAlg } = await importSigningKey(p.ca.keyPem);
  if (!caCert.node.checkPrivateKey(parsePrivateKey(p.ca.keyPem))) {
    throw new PkiError(PkiErrorCode.KEY_MISMATCH, 'the CA private key does not match the CA certificate');
  }
  const sans = serverSans(p.usage, p.dnsNames, p.ipAddresses);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: p.subject,
    issuer: caCert.cert.subjectName,
    ...validity(p.days),
    publicKey: p.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: caAlg.signParams,
    extensions: await leafExtensions({
      usage: p.usage,
      isRsa: p.subjectIsRsa,
      dnsNames: sans.dnsNames,
      ipAddresses: sans.ipAddresses,
      publicKey: p.publicKey,
      issuerCert: caCert.cert,
    }),
  });
  return cert.toString('pem') + '\n';
}

function loadIssuer(certPem: string): ParsedCertificate {
  const ca = parseCertificate(certPem, 'CA certificate');
  if (!ca.node.ca) throw new PkiError(PkiErrorCode.NOT_CA_CERT, 'the issuer certificate is not a CA (basicConstraints CA:false)');
  return ca;
}
