import { describe, expect, it } from 'vitest';
import { codeSet, documentedErrorCodes, readDoc } from '../../helpers/error-code-docs.js';
import { LabErrorCode } from '../../../src/cli/lab/errors.js';

describe('docs/lab.md stays in sync', () => {
  it('its "## Error codes" table lists every LabErrorCode and the host start code, once', () => {
    const documented = documentedErrorCodes(readDoc('lab.md'));
    expect(codeSet(documented)).toEqual(codeSet([...Object.values(LabErrorCode), 'LAB_HOST_FAILED']));
    expect(documented.length).toBe(new Set(documented).size);
  });
});
