import type { FastifyError, FastifyInstance } from 'fastify';
import { TrellisError } from '../../errors.js';

/** Fastify's own errors (body parsing, limits) translated into the catalogue. */
function fromFastify(err: FastifyError): TrellisError | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new TrellisError('TRELLIS_ERR_MALFORMED_JSON', `the body is not valid JSON: ${err.message}`, {
        field: 'body',
      });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new TrellisError('TRELLIS_ERR_MALFORMED_JSON', 'the body is empty but Content-Type says JSON', {
        field: 'body',
      });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new TrellisError(
        'TRELLIS_ERR_PAYLOAD_TOO_LARGE',
        'the body is larger than the orchestrator accepts',
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new TrellisError(
        'TRELLIS_ERR_UNSUPPORTED_MEDIA_TYPE',
        `unsupported Content-Type: ${err.message}`,
      );
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new TrellisError('TRELLIS_ERR_BAD_REQUEST', 'Content-Length does not match the body');
    default:
      break;
  }
  // SQLSTATE class 22 (data exception): a value the store cannot hold, e.g. a NUL byte.
  if (typeof err.code === 'string' && /^22[0-9A-Z]{3}$/.test(err.code)) {
    return new TrellisError(
      'TRELLIS_ERR_BAD_REQUEST',
      'a value in the request cannot be stored (invalid characters or range)',
    );
  }
  if (err instanceof SyntaxError || err.statusCode === 400) {
    return new TrellisError('TRELLIS_ERR_MALFORMED_JSON', `the body is not valid JSON: ${err.message}`, {
      field: 'body',
    });
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return new TrellisError('TRELLIS_ERR_BAD_REQUEST', err.message);
  }
  return undefined;
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, req, reply) => {
    const known = error instanceof TrellisError ? error : fromFastify(error);
    if (known) {
      for (const [k, v] of Object.entries(known.headers)) reply.header(k, v);
      return reply.code(known.status).send({ error: known.toBody() });
    }
    // A bug: log it with the request id, and answer without leaking internals.
    req.log.error({ err: error }, 'unhandled error');
    const internal = new TrellisError('TRELLIS_ERR_INTERNAL', `internal error (request ${req.id})`);
    return reply.code(500).send({ error: internal.toBody() });
  });

  app.setNotFoundHandler((req, reply) => {
    const err = new TrellisError(
      'TRELLIS_ERR_NOT_FOUND',
      `no such endpoint: ${req.method} ${req.url.split('?')[0]}`,
      {
        hint: 'see /api/v1/openapi.json',
      },
    );
    return reply.code(404).send({ error: err.toBody() });
  });
}
