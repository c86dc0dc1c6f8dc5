import type { ErrorCode } from '../errors.js';

/**
 * How `trellis` ends, so that a script can tell "fix your command" from "it is not there" from
 * "you may not" from "try again later" without parsing stderr. The one table of docs/cli.md
 * (Exit codes); every failure is mapped here and nowhere else.
 */
export const EXIT = {
  ok: 0,
  /** Anything not below: a conflict, an internal error, a failed step of a deploy. */
  other: 1,
  /** The command line, or the input it names (a file, a flag's value), is wrong. */
  usage: 2,
  notFound: 3,
  /** Not logged in, a bad or expired token, wrong credentials, locked out, not allowed. */
  refused: 4,
  /** Nothing answered (no orchestrator, network down, TLS not verifiable) or it is unavailable. */
  unavailable: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const BY_CODE: Partial<Record<ErrorCode, ExitCode>> = {
  TRELLIS_ERR_BAD_REQUEST: EXIT.usage,
  TRELLIS_ERR_MALFORMED_JSON: EXIT.usage,
  TRELLIS_ERR_VALIDATION: EXIT.usage,
  TRELLIS_ERR_PAYLOAD_TOO_LARGE: EXIT.usage,
  TRELLIS_ERR_NOT_FOUND: EXIT.notFound,
  TRELLIS_ERR_UNAUTHENTICATED: EXIT.refused,
  TRELLIS_ERR_BAD_CREDENTIALS: EXIT.refused,
  TRELLIS_ERR_FORBIDDEN: EXIT.refused,
  TRELLIS_ERR_LOCKED_OUT: EXIT.refused,
  TRELLIS_ERR_UNAVAILABLE: EXIT.unavailable,
};

/** The exit code of an error the API (or the CLI itself) named with one of errors.ts's codes. */
export function exitCodeFor(code: ErrorCode): ExitCode {
  return BY_CODE[code] ?? EXIT.other;
}
