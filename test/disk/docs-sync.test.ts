import { describe, expect, it } from 'vitest';
import { DiskErrorCode } from '../../src/disk/errors.js';
import { codeSet, documentedErrorCodes, readDoc } from '../helpers/error-code-docs.js';

// fastify-style: the docs cannot drift from the code.
describe('docs/disk.md stays in sync', () => {
  it('its "## Error codes" table lists exactly the DiskError codes', () => {
    const documented = documentedErrorCodes(readDoc('disk.md'));
    expect(codeSet(documented)).toEqual(codeSet(Object.values(DiskErrorCode)));
    expect(documented.length, 'a code listed twice').toBe(new Set(documented).size);
  });
});
