import { describe, expect, it } from 'vitest';
import { codeForStatus } from '../api-client/client.js';
import { ERRORS, type ErrorCode } from '../errors.js';
import { EXIT, exitCodeFor } from './exit-codes.js';

describe('CLI exit codes (docs/cli.md, Exit codes)', () => {
  it('maps every error code of errors.ts to the kind of failure it is', () => {
    const table = Object.fromEntries(Object.keys(ERRORS).map((c) => [c, exitCodeFor(c as ErrorCode)]));
    expect(table).toEqual({
      TRELLIS_ERR_BAD_REQUEST: 2,
      TRELLIS_ERR_MALFORMED_JSON: 2,
      TRELLIS_ERR_VALIDATION: 2,
      TRELLIS_ERR_PAYLOAD_TOO_LARGE: 2,
      TRELLIS_ERR_NOT_FOUND: 3,
      TRELLIS_ERR_UNAUTHENTICATED: 4,
      TRELLIS_ERR_BAD_CREDENTIALS: 4,
      TRELLIS_ERR_FORBIDDEN: 4,
      TRELLIS_ERR_LOCKED_OUT: 4,
      TRELLIS_ERR_UNAVAILABLE: 5,
      TRELLIS_ERR_ALREADY_EXISTS: 1,
      TRELLIS_ERR_CONFLICT: 1,
      TRELLIS_ERR_UNPROCESSABLE: 1,
      TRELLIS_ERR_UNSUPPORTED_MEDIA_TYPE: 1,
      TRELLIS_ERR_METHOD_NOT_ALLOWED: 1,
      TRELLIS_ERR_INTERNAL: 1,
    });
  });

  it('a code this CLI does not know (a newer orchestrator) is "other", not a crash', () => {
    expect(exitCodeFor('TRELLIS_ERR_FROM_THE_FUTURE' as ErrorCode)).toBe(EXIT.other);
  });

  it("an error answer without Trellis's body is read by its status (a proxy's 502 is unavailable)", () => {
    expect(exitCodeFor(codeForStatus(502))).toBe(EXIT.unavailable);
    expect(exitCodeFor(codeForStatus(503))).toBe(EXIT.unavailable);
    expect(exitCodeFor(codeForStatus(404))).toBe(EXIT.notFound);
    expect(exitCodeFor(codeForStatus(401))).toBe(EXIT.refused);
    expect(exitCodeFor(codeForStatus(403))).toBe(EXIT.refused);
    expect(exitCodeFor(codeForStatus(400))).toBe(EXIT.usage);
    expect(exitCodeFor(codeForStatus(500))).toBe(EXIT.other);
  });
});
