import { describe, expect, it } from 'vitest';
import { ProcessErrorCode } from '../../src/proc/errors.js';
import { codeSet, documentedErrorCodes, readDoc } from '../helpers/error-code-docs.js';

// fastify-style: the docs cannot drift from the code.
describe('docs/leaves.md stays in sync', () => {
  it('its "## Error codes" table lists exactly the ProcessError codes', () => {
    const documented = documentedErrorCodes(readDoc('leaves.md'));
    expect(codeSet(documented)).toEqual(codeSet(Object.values(ProcessErrorCode)));
    expect(documented.length, 'a code listed twice').toBe(new Set(documented).size);
  });
});
