/** Public entry of the PKI component: certificates for the KMS, the manager and the hosts. */
export { createCa, type CreateCaOptions } from './ca.js';
export { issueCertificate, type IssueCertificateOptions } from './issue.js';
export { createSelfSigned, type CreateSelfSignedOptions } from './self-signed.js';
export { createCsr, signCsr, type CreateCsrOptions, type SignCsrOptions } from './csr.js';
export { certificateInfo, normalizeFingerprint, type CertificateInfo } from './info.js';
export { certificateValidityProblem } from './validity.js';
export { sealPrivateKey, openPrivateKey } from './private-key-seal.js';
export { writePrivateKeyFile, writeCertificateFile, readPemFile } from './files.js';
export { KeyAlgorithm } from './keys.js';
export { CertificateUsage, type CertificateAndKey } from './types.js';
export { PkiError, PkiErrorCode } from './errors.js';
