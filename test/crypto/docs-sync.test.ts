import { describe, expect, it } from 'vitest';
import { CryptoErrorCode } from '../../src/crypto/errors.js';
import { codeSet, documentedErrorCodes, readDoc } from '../helpers/error-code-docs.js';

// fastify-style: the docs cannot drift from the code.
describe('docs/crypto.md stays in sync', () => {
  it('its "## Error codes" table lists exactly the CryptoError codes', () => {
    const documented = documentedErrorCodes(readDoc('crypto.md'));
    expect(codeSet(documented)).toEqual(codeSet(Object.values(CryptoErrorCode)));
    expect(documented.length, 'a code listed twice').toBe(new Set(documented).size);
  });
});
