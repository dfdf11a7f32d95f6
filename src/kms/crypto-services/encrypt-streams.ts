import { KmipError } from '../../kmip/errors.js';
import type { OpContext } from '../context.js';
import { CryptoLimits } from './limits.js';
import type { EncryptionRun } from './symmetric-cipher.js';

/**
 * Multi-part Encrypt (KMIP 1.4 §4.29: Init Indicator, Correlation Value, Final Indicator): the
 * OpenSSL context of each stream waits here between requests, keyed by a random Correlation Value
 * and bound to the identity and key that opened it. Bounded: at most 1024 open streams and 64 per
 * identity (one client cannot take them all), each dropped 60 s after its last part, at most
 * 64 MiB through one stream. The context holds its own
 * copy of the key (OpenSSL's, which JavaScript cannot zero) until the stream ends or expires.
 * Only Encrypt streams: a multi-part Decrypt would release GCM plaintext before its tag is checked.
 */
export const StreamLimits = { MAX_STREAMS: 1024, MAX_PER_IDENTITY: 64, IDLE_MS: 60_000, MAX_BYTES: 64 * 1024 * 1024 } as const;

interface OpenStream {
  readonly identity: string;
  readonly keyId: string;
  readonly run: EncryptionRun;
  expires: number;
  bytes: number;
}

const streams = new Map<string, OpenStream>();

function sweep(now: number): void {
  for (const [k, s] of streams) if (s.expires <= now) streams.delete(k);
}

/** Keeps `run` for the next part; returns its Correlation Value. */
export function openEncryptStream(ctx: OpContext, keyId: string, run: EncryptionRun, firstBytes: number): Buffer {
  const now = ctx.deps.now().getTime();
  sweep(now);
  let mine = 0;
  for (const s of streams.values()) if (s.identity === ctx.identity) mine++;
  if (streams.size >= StreamLimits.MAX_STREAMS || mine >= StreamLimits.MAX_PER_IDENTITY) {
    throw new KmipError('KMIP_GENERAL_FAILURE', `too many multi-part Encrypts open (${StreamLimits.MAX_PER_IDENTITY} per client, ${StreamLimits.MAX_STREAMS} in all); finish some or wait 60 s`);
  }
  const correlation = ctx.deps.randomBytes(16);
  streams.set(correlation.toString('hex'), { identity: ctx.identity, keyId, run, expires: now + StreamLimits.IDLE_MS, bytes: firstBytes });
  return correlation;
}

/** The stream of a Correlation Value, taken out of the table (put it back with keepEncryptStream). */
export function takeEncryptStream(ctx: OpContext, correlation: Buffer, uid: string | undefined, moreBytes: number): OpenStream & { readonly key: string } {
  const now = ctx.deps.now().getTime();
  sweep(now);
  const key = correlation.toString('hex');
  const s = streams.get(key);
  if (s === undefined || s.identity !== ctx.identity || (uid !== undefined && uid !== s.keyId)) {
    throw new KmipError('KMIP_INVALID_FIELD', 'no multi-part Encrypt open with this Correlation Value (finished, expired after 60 s, or another key or identity)');
  }
  streams.delete(key);
  if (moreBytes > CryptoLimits.MAX_DATA_BYTES || s.bytes + moreBytes > StreamLimits.MAX_BYTES) {
    throw new KmipError('KMIP_INVALID_FIELD', `a multi-part Encrypt is limited to ${StreamLimits.MAX_BYTES} bytes; the stream is closed`);
  }
  s.bytes += moreBytes;
  return Object.assign(s, { key });
}

export function keepEncryptStream(ctx: OpContext, s: OpenStream & { readonly key: string }): void {
  s.expires = ctx.deps.now().getTime() + StreamLimits.IDLE_MS;
  streams.set(s.key, s);
}
