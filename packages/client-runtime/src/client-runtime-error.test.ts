import { describe, expect, it } from 'vitest';
import { TsmwError } from '@tsmw/core';
import { ClientRuntimeError, clientRuntimeErrorCodes } from './client-runtime-error.js';

describe('ClientRuntimeError', () => {
  it("is a TsmwError with a stable TSMW_ code, cause and isInstance", () => {
    const cause = new Error('EACCES');
    const error = new ClientRuntimeError('TSMW_BOINC_INIT_DATA_INVALID', 'init_data.xml: broken', { cause });
    expect(error).toBeInstanceOf(TsmwError);
    expect(TsmwError.isInstance(error)).toBe(true);
    expect(ClientRuntimeError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ name: 'ClientRuntimeError', code: 'TSMW_BOINC_INIT_DATA_INVALID', isRetryable: false, cause });
    for (const code of clientRuntimeErrorCodes) expect(code).toMatch(/^TSMW_BOINC_[A-Z_]+$/);
  });

  it("recognises copies by marker and code, and nothing else", () => {
    const copy = Object.assign(Object.create(null) as object, { [Symbol.for('tsmw.error')]: true, code: 'TSMW_BOINC_SLOT_PATH_ESCAPE' });
    expect(ClientRuntimeError.isInstance(copy)).toBe(true);
    expect(ClientRuntimeError.isInstance(new TsmwError('TSMW_TRANSPORT', 'x'))).toBe(false);
    expect(ClientRuntimeError.isInstance(Object.assign(new Error('x'), { code: 'TSMW_BOINC_SLOT_PATH_ESCAPE' }))).toBe(false);
    expect(ClientRuntimeError.isInstance(null)).toBe(false);
  });
});
