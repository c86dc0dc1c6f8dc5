import type { FastifyInstance } from 'fastify';
import { TrellisError } from '../../errors.js';

/**
 * The orchestrator's JSON body parser. Fastify's own refuses prototype keys too, but reports
 * them (and every syntax error) as one opaque "Body is not valid JSON": this one says what is
 * wrong — where the syntax breaks, or which key is refused — and still refuses `__proto__` and
 * `constructor.prototype` anywhere in the document (prototype pollution).
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') {
    throw new TrellisError('TRELLIS_ERR_MALFORMED_JSON', 'the body is empty but Content-Type says JSON', {
      field: 'body',
    });
  }
  let forbidden: string | undefined;
  let value: unknown;
  try {
    value = JSON.parse(text, (key, v: unknown) => {
      if (key === '__proto__') forbidden = '"__proto__"';
      else if (key === 'constructor' && v !== null && typeof v === 'object' && 'prototype' in v)
        forbidden = '"constructor.prototype"';
      return v;
    });
  } catch (err) {
    throw new TrellisError(
      'TRELLIS_ERR_MALFORMED_JSON',
      `the body is not valid JSON: ${(err as Error).message}`,
      {
        field: 'body',
      },
    );
  }
  if (forbidden) {
    throw new TrellisError(
      'TRELLIS_ERR_VALIDATION',
      `the body holds a ${forbidden} key, which is refused (prototype pollution)`,
      { field: 'body' },
    );
  }
  return value;
}

export function installJsonBody(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
