import type { KeyAlgorithm } from './keys.js';
import { caExtensions } from './build.js';
import { checkCommonName, checkDays } from './names.js';
import { selfSignNewKey } from './self-signed.js';
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
  return selfSignNewKey(cn, days, opts.keyAlgorithm, ({ keys }) => caExtensions(keys.publicKey));
}
