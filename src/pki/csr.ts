import { x509 } from './x509.js';
import { checkPublicKey, generateKeyPair, KeyAlgorithm } from './keys.js';
import { jsonName } from './build.js';
import { checkCommonName, checkDays, checkDnsNames, checkIpAddresses, checkUsage } from './names.js';
import { parseCsr } from './parse.js';
import { signLeaf } from './issue.js';
import { PkiError, PkiErrorCode } from './errors.js';
import { DEFAULT_LEAF_DAYS, type CertificateAndKey, type CertificateUsage } from './types.js';

export interface CreateCsrOptions {
  readonly commonName: string;
  readonly keyAlgorithm?: KeyAlgorithm;
}

/** A new key pair and a PKCS#10 request for it (subject CN only; the signer decides usage). */
export async function createCsr(opts: CreateCsrOptions): Promise<{ csrPem: string; keyPem: string }> {
  const cn = checkCommonName(opts.commonName);
  const { keys, alg, keyPem } = await generateKeyPair(opts.keyAlgorithm ?? KeyAlgorithm.ECDSA_P256);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: jsonName(cn),
    keys,
    signingAlgorithm: alg.signParams,
  });
  return { csrPem: csr.toString('pem') + '\n', keyPem };
}

export interface SignCsrOptions {
  readonly ca: CertificateAndKey;
  readonly csrPem: string;
  readonly usage: CertificateUsage;
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly days?: number;
}

/**
 * Signs a CSR with the CA: subject and public key come from the request (after its
 * self-signature verifies); extensions the request asks for are ignored, usage is ours.
 */
export async function signCsr(opts: SignCsrOptions): Promise<{ certPem: string }> {
  const csr = parseCsr(opts.csrPem);
  if (!(await csr.verify())) {
    throw new PkiError(PkiErrorCode.BAD_CSR_SIGNATURE, 'the certificate signing request signature does not verify');
  }
  const { isRsa } = checkPublicKey(new Uint8Array(csr.publicKey.rawData));
  const certPem = await signLeaf({
    ca: opts.ca,
    subject: csr.subjectName,
    publicKey: csr.publicKey,
    subjectIsRsa: isRsa,
    usage: checkUsage(opts.usage),
    dnsNames: checkDnsNames(opts.dnsNames ?? []),
    ipAddresses: checkIpAddresses(opts.ipAddresses ?? []),
    days: checkDays(opts.days, DEFAULT_LEAF_DAYS),
  });
  return { certPem };
}
