import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { formatProblem, yamlToJs } from './apply/load.js';
import { lineFinder } from './apply/source-map.js';
import { TrellisError } from './errors.js';
import { type FieldPath, formatFieldPath } from './field-path.js';

/**
 * Reading a YAML spec file (lab, app) against its zod schema: every problem reported at once,
 * each as `file:line: field: message`, so a user fixes them all in one pass.
 */

export interface SpecProblem {
  path: FieldPath;
  message: string;
}

export interface ParsedSpec<T> {
  spec: T;
  file: string;
  /** `file.yaml:12: vms[0].name: …` for a problem found later (e.g. against the fabric). */
  problemError(problems: SpecProblem[]): TrellisError;
}

/** The file's text, or an error naming it (`file: cannot read: no such file`). */
export async function readSpecFile(path: string, hint: string): Promise<{ file: string; text: string }> {
  const file = resolve(path);
  try {
    return { file, text: await readFile(file, 'utf8') };
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw specError(path, [{ line: undefined, field: '', message: `cannot read: ${reason}` }], hint);
  }
}

/** Pure: YAML text → checked spec, or an error naming file, line and field. */
export function parseSpecText<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
  hint: string,
): ParsedSpec<z.infer<S>> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw specError(
      file,
      doc.errors.map((e) => ({
        line: lines.linePos(e.pos[0]).line,
        field: '',
        message: `YAML: ${e.message}`,
      })),
      hint,
    );
  }
  const lineOf = lineFinder(doc, lines);
  const located = (problems: SpecProblem[]) =>
    problems.map((p) => ({ line: lineOf(p.path), field: formatFieldPath(p.path), message: p.message }));
  if (doc.contents === null) {
    throw specError(file, [{ line: 1, field: '', message: 'the file is empty' }], hint);
  }
  const data = yamlToJs(doc, file, (message) =>
    specError(file, [{ line: undefined, field: '', message }], hint),
  );
  const parsed = schema.safeParse(data, { reportInput: true });
  if (!parsed.success) throw specError(file, located(parsed.error.issues.flatMap(issueProblems)), hint);
  return { spec: parsed.data, file, problemError: (problems) => specError(file, located(problems), hint) };
}

/** zod's wording made specific: a missing key "is required", an unknown one is named at its line. */
function issueProblems(issue: z.core.$ZodIssue): SpecProblem[] {
  const path = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
  if (issue.code === 'unrecognized_keys')
    return issue.keys.map((key) => ({ path: [...path, key], message: `unknown key "${key}"` }));
  if (issue.code === 'invalid_type' && issue.input === undefined) return [{ path, message: 'is required' }];
  return [{ path, message: issue.message }];
}

/** Every problem on its own line, so one run shows them all. */
function specError(
  file: string,
  problems: { line: number | undefined; field: string; message: string }[],
  hint: string,
): TrellisError {
  const [first, ...rest] = problems.map((p) => formatProblem(file, p));
  const message = [first, ...rest.map((r) => `  ${r}`)].join('\n');
  return new TrellisError('TRELLIS_ERR_VALIDATION', message, { hint });
}
