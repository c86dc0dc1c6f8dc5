import type { z } from 'zod';
import { TrellisError } from '../../errors.js';
import { formatFieldPath } from '../../field-path.js';

/**
 * Parses input with a zod schema, turning the first issue into an error that names the field
 * path (`body.roles.client.users[0]`) and says what is wrong with it in plain words.
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  where: 'body' | 'query' | 'params' | '',
): z.output<S> {
  // reportInput: without it zod 4 leaves `input` out of every issue, and a wrong type (name: 123)
  // read as a missing field ("is required").
  const res = schema.safeParse(input, { reportInput: true });
  if (res.success) return res.data;
  const issue = res.error.issues[0]!;
  // '' reports paths relative to the input itself (a fabric spec, whose paths map to file lines).
  let path: PropertyKey[] = where === '' ? [...issue.path] : [where, ...issue.path];
  let message: string;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    path = [...path, key];
    message = `unknown field "${formatFieldPath(path)}"`;
  } else if (issue.code === 'invalid_type' && issue.input === undefined) {
    message = `${formatFieldPath(path)} is required`;
  } else {
    message = `${formatFieldPath(path)}: ${issue.message}`;
  }
  if (where === 'body' && input === undefined) message = 'a JSON body is required';
  return throwValidation(message, formatFieldPath(path));
}

function throwValidation(message: string, field: string): never {
  throw new TrellisError('TRELLIS_ERR_VALIDATION', message, { field });
}
