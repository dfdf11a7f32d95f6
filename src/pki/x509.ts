// @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs the Reflect
// polyfill loaded first; this module is the only place that imports the library, so the
// order is guaranteed for every caller.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };
export const subtle = webcrypto.subtle;

// WebCrypto types from Node (the tsconfig has no DOM lib).
export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;
export type Algorithm = webcrypto.Algorithm;
export type EcdsaParams = webcrypto.EcdsaParams;
export type RsaHashedImportParams = webcrypto.RsaHashedImportParams;
export type EcKeyImportParams = webcrypto.EcKeyImportParams;
