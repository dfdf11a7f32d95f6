import { decodeRngSeedRequest, encodeRngSeedResponse } from '../../kmip/payloads/rng-seed.js';
import type { OperationHandler } from '../context.js';

/**
 * RNG Seed (KMIP 1.4 §4.36): answered with Data Length 0 — the server took none of the seed. Its
 * generator is OpenSSL's CSPRNG (CTR_DRBG, seeded and reseeded by OpenSSL from the operating
 * system), and Node exposes no way to add bytes to its pool (no RAND_add / RAND_seed binding).
 * §4.36 lets a server accept less than offered; saying 0 is the truth. The seed is zeroed at once.
 */
export const handleRngSeed: OperationHandler = async (_ctx, payload) => {
  const req = decodeRngSeedRequest(payload);
  req.data.fill(0);
  return { payload: encodeRngSeedResponse({ dataLength: 0 }) };
};
