/**
 * The one catalogue of errors Trellis returns. Every error has a stable code (for scripts),
 * an HTTP status (for the API), a message that names what was wrong, and optionally the
 * field it concerns and a hint about what to do.
 */
export const ERRORS = {
  TRELLIS_ERR_BAD_REQUEST: { status: 400, hint: 'check the request body against /api/v1/openapi.json' },
  TRELLIS_ERR_MALFORMED_JSON: { status: 400, hint: 'the body must be valid JSON' },
  TRELLIS_ERR_VALIDATION: { status: 400, hint: 'see /api/v1/openapi.json for the accepted fields' },
  TRELLIS_ERR_UNAUTHENTICATED: { status: 401, hint: 'log in with `trellis login` or POST /api/v1/login' },
  TRELLIS_ERR_BAD_CREDENTIALS: { status: 401, hint: 'check the username, domain and password' },
  TRELLIS_ERR_FORBIDDEN: { status: 403, hint: 'ask a systemAdmin for access' },
  TRELLIS_ERR_NOT_FOUND: { status: 404, hint: 'list what exists with `trellis get`' },
  TRELLIS_ERR_ALREADY_EXISTS: { status: 409, hint: 'choose another name, or update the existing one' },
  TRELLIS_ERR_CONFLICT: { status: 409, hint: undefined },
  TRELLIS_ERR_UNPROCESSABLE: { status: 422, hint: undefined },
  TRELLIS_ERR_LOCKED_OUT: { status: 429, hint: 'wait and try again' },
  TRELLIS_ERR_PAYLOAD_TOO_LARGE: { status: 413, hint: 'send a smaller body' },
  TRELLIS_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, hint: 'send Content-Type: application/json' },
  TRELLIS_ERR_METHOD_NOT_ALLOWED: { status: 405, hint: 'see /api/v1/openapi.json' },
  TRELLIS_ERR_UNAVAILABLE: { status: 503, hint: undefined },
  TRELLIS_ERR_INTERNAL: { status: 500, hint: 'this is a bug; the orchestrator log has the details' },
} as const satisfies Record<string, { status: number; hint: string | undefined }>;

export type ErrorCode = keyof typeof ERRORS;

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  field?: string;
  hint?: string;
}

export class TrellisError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly hint: string | undefined;
  /** Extra headers the API should send, e.g. Retry-After on a lockout. */
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { field?: string; hint?: string; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'TrellisError';
    this.code = code;
    this.field = opts.field;
    this.hint = opts.hint ?? ERRORS[code].hint;
    this.headers = opts.headers ?? {};
  }

  get status(): number {
    return ERRORS[this.code].status;
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message };
    if (this.field !== undefined) body.field = this.field;
    if (this.hint !== undefined) body.hint = this.hint;
    return body;
  }
}

export const notFound = (kind: string, name: string, where = ''): TrellisError =>
  new TrellisError('TRELLIS_ERR_NOT_FOUND', `${kind} "${name}" not found${where}`);

export const alreadyExists = (kind: string, name: string, where = ''): TrellisError =>
  new TrellisError('TRELLIS_ERR_ALREADY_EXISTS', `${kind} "${name}" already exists${where}`);
