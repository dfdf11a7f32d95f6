import { describe, expect, it } from 'vitest';
import { PkiErrorCode } from '../../src/pki/errors.js';
import { codeSet, documentedErrorCodes, readDoc } from '../helpers/error-code-docs.js';

// fastify-style: the docs cannot drift from the code.
describe('docs/pki.md stays in sync', () => {
  it('its "## Error codes" table lists exactly the PkiError codes', () => {
    const documented = documentedErrorCodes(readDoc('pki.md'));
    expect(codeSet(documented)).toEqual(codeSet(Object.values(PkiErrorCode)));
    expect(documented.length, 'a code listed twice').toBe(new Set(documented).size);
  });
});
