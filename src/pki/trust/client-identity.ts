import { createPublicKey } from 'node:crypto';
import { certificateInfo } from '../info.js';
import { parseCertificates, parseCsr, type ParsedCertificate } from '../parse.js';
import { parsePrivateKey } from '../keys.js';
import { checkClientUsage, checkKeyMatches, checkValidity, verifyChain } from '../checks.js';
import { createCsr } from '../csr.js';
import { createSelfSigned } from '../self-signed.js';
import { openPrivateKey, sealPrivateKey } from '../private-key-seal.js';
import { PkiError, PkiErrorCode } from '../errors.js';
import type { KeyAlgorithm } from '../keys.js';
import { ClientIdentitySource, type ClientIdentity, type ProviderTrust } from './model.js';

/** The master key that seals the client private key, and the record it belongs to (AAD). */
export interface SealParams {
  readonly masterKey: Buffer;
  /** E.g. the key provider id: a sealed key copied to another provider's record will not open. */
  readonly context: string;
  readonly now?: Date;
}

function identity(source: ClientIdentitySource, chain: readonly ParsedCertificate[], keyPem: string, seal: SealParams): ClientIdentity {
  const leaf = chain[0] as ParsedCertificate;
  const info = certificateInfo(leaf.pem);
  return {
    source,
    certPem: chain.map((c) => c.pem).join(''),
    sealedKey: sealPrivateKey(keyPem, seal.masterKey, seal.context),
    subjectCn: info.subjectCn,
    sha256Fingerprint: info.sha256Fingerprint,
    notAfter: info.notAfter.toISOString(),
  };
}

function trustedCas(trust: ProviderTrust, extraCaPem: string | undefined): ParsedCertificate[] {
  const pems = [...trust.trustedServerCerts, ...(extraCaPem === undefined ? [] : [extraCaPem])];
  return pems.flatMap((p) => parseCertificates(p, 'trusted CA certificate')).filter((c) => c.node.ca);
}

/**
 * (b) Upload a client certificate (leaf first, intermediates after) and its private key, signed
 * by the KMS CA: the CA given as `kmsCaPem`, or else a CA already trusted under (a). Checks the
 * chain, the key/certificate match, validity and client usage before anything is stored.
 */
export function acceptClientCertificate(
  trust: ProviderTrust,
  upload: { readonly certPem: string; readonly keyPem: string; readonly kmsCaPem?: string },
  seal: SealParams,
): ProviderTrust {
  const now = seal.now ?? new Date();
  const chain = parseCertificates(upload.certPem, 'client certificate');
  const leaf = chain[0] as ParsedCertificate;
  checkKeyMatches(leaf, parsePrivateKey(upload.keyPem));
  checkValidity(leaf, now);
  checkClientUsage(leaf);
  const anchors = trustedCas(trust, upload.kmsCaPem);
  if (anchors.length === 0) {
    throw new PkiError(PkiErrorCode.INVALID_STATE, 'no KMS CA to verify the client certificate against: trust the KMS CA first, or pass it');
  }
  verifyChain(leaf, chain.slice(1), anchors, now);
  return { ...trust, clientIdentity: identity(ClientIdentitySource.UPLOADED, chain, upload.keyPem, seal) };
}

/**
 * (c) step 1: a new key pair (sealed, kept as pending) and a CSR for the KMS admin to sign.
 * A previous pending CSR is replaced.
 */
export async function startCsr(
  trust: ProviderTrust,
  opts: { readonly commonName: string; readonly keyAlgorithm?: KeyAlgorithm },
  seal: SealParams,
): Promise<{ trust: ProviderTrust; csrPem: string }> {
  const { csrPem, keyPem } = await createCsr(
    opts.keyAlgorithm === undefined ? { commonName: opts.commonName } : { commonName: opts.commonName, keyAlgorithm: opts.keyAlgorithm },
  );
  const pendingCsr = {
    csrPem,
    sealedKey: sealPrivateKey(keyPem, seal.masterKey, seal.context),
    commonName: opts.commonName,
    createdAt: (seal.now ?? new Date()).toISOString(),
  };
  return { trust: { ...trust, pendingCsr }, csrPem };
}

/**
 * (c) step 2: the certificate the KMS admin signed from our CSR. It must carry the pending
 * key's public key, be valid and usable by a client; when the KMS CA is trusted (or given) the
 * signature is verified against it too. The pending key becomes the client identity.
 */
export function acceptSignedCertificate(
  trust: ProviderTrust,
  upload: { readonly certPem: string; readonly kmsCaPem?: string },
  seal: SealParams,
): ProviderTrust {
  const pending = trust.pendingCsr;
  if (pending === null) throw new PkiError(PkiErrorCode.INVALID_STATE, 'no CSR is pending for this key provider: generate one first');
  const now = seal.now ?? new Date();
  const chain = parseCertificates(upload.certPem, 'signed certificate');
  const leaf = chain[0] as ParsedCertificate;
  const csr = parseCsr(pending.csrPem);
  const csrSpki = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' }).export({ format: 'der', type: 'spki' });
  if (!leaf.node.publicKey.export({ format: 'der', type: 'spki' }).equals(csrSpki)) {
    throw new PkiError(PkiErrorCode.KEY_MISMATCH, 'the signed certificate is not for the pending CSR key (was it signed from another request?)');
  }
  checkValidity(leaf, now);
  checkClientUsage(leaf);
  const anchors = trustedCas(trust, upload.kmsCaPem);
  if (upload.kmsCaPem !== undefined || anchors.some((a) => leaf.node.checkIssued(a.node))) {
    verifyChain(leaf, chain.slice(1), anchors, now);
  }
  const keyPem = openPrivateKey(pending.sealedKey, seal.masterKey, seal.context);
  return { ...trust, pendingCsr: null, clientIdentity: identity(ClientIdentitySource.CSR, chain, keyPem, seal) };
}

/**
 * (d) A self-signed client certificate; the KMS admin pins it (by the returned SHA-256
 * fingerprint, or by adding the certificate to the KMS trust list).
 */
export async function createSelfSignedIdentity(
  trust: ProviderTrust,
  opts: { readonly commonName: string; readonly days?: number; readonly keyAlgorithm?: KeyAlgorithm },
  seal: SealParams,
): Promise<{ trust: ProviderTrust; certPem: string; sha256Fingerprint: string }> {
  const { certPem, keyPem } = await createSelfSigned({
    commonName: opts.commonName,
    usage: 'client',
    ...(opts.days === undefined ? {} : { days: opts.days }),
    ...(opts.keyAlgorithm === undefined ? {} : { keyAlgorithm: opts.keyAlgorithm }),
  });
  const id = identity(ClientIdentitySource.SELF_SIGNED, parseCertificates(certPem), keyPem, seal);
  return { trust: { ...trust, clientIdentity: id }, certPem, sha256Fingerprint: id.sha256Fingerprint };
}

/** What a KMIP client needs to connect: CA list, client certificate chain and the opened key. */
export interface ClientTlsCredentials {
  readonly ca: readonly string[];
  readonly certPem: string;
  readonly keyPem: string;
}

/** Opens the sealed identity for a TLS connection. Refuses when setup is incomplete or the certificate expired. */
export function clientCredentials(trust: ProviderTrust, seal: SealParams): ClientTlsCredentials {
  if (trust.trustedServerCerts.length === 0) {
    throw new PkiError(PkiErrorCode.INVALID_STATE, 'the key provider trusts no KMS certificate yet');
  }
  const id = trust.clientIdentity;
  if (id === null) throw new PkiError(PkiErrorCode.INVALID_STATE, 'the key provider has no client certificate yet');
  checkValidity(parseCertificates(id.certPem)[0] as ParsedCertificate, seal.now ?? new Date());
  return { ca: [...trust.trustedServerCerts], certPem: id.certPem, keyPem: openPrivateKey(id.sealedKey, seal.masterKey, seal.context) };
}
