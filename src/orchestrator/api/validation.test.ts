import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseSpecText } from '../../spec-file.js';
import { parseInput } from './validation.js';

const Body = z.strictObject({ name: z.string(), port: z.number().optional() });

describe('validation messages (regression: a wrong type was reported as "is required")', () => {
  it('a missing field is required; a field of the wrong type says what it got', () => {
    expect(() => parseInput(Body, {}, 'body')).toThrow('body.name is required');
    expect(() => parseInput(Body, { name: 123 }, 'body')).toThrow(
      'body.name: Invalid input: expected string, received number',
    );
  });

  it('the same in spec files (lab, app): file:line: field: what is wrong', () => {
    const schema = z.strictObject({ kind: z.literal('App'), domain: z.string() });
    expect(() => parseSpecText('kind: App\ndomain: 123\n', 'app.yaml', schema, 'hint')).toThrow(
      'app.yaml:2: domain: Invalid input: expected string, received number',
    );
    expect(() => parseSpecText('kind: App\n', 'app.yaml', schema, 'hint')).toThrow(/domain: is required/);
  });
});
