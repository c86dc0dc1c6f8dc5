import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type Document, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { TrellisError } from '../errors.js';
import { FabricSpec } from './fabric-file.js';
import { type FieldPath, formatFieldPath, lineFinder } from './source-map.js';

/** One thing wrong with a fabric file, located by line and field. */
export interface FabricProblem {
  line: number | undefined;
  /** Dotted field path, e.g. `domains[0].contracts[1].client.users[0]`; '' for the whole file. */
  field: string;
  message: string;
}

/**
 * A fabric file that cannot be used. `.message` is one line an editor can jump to:
 * `fabric.yaml:42: domains[0].contracts[0].client.pathParams.transit: unknown processor "aws-p9"`.
 * The first problem is the error itself; `problems` holds every problem found, so a CLI can
 * show them all at once instead of making the user fix them one run at a time.
 */
export class FabricFileError extends TrellisError {
  readonly file: string;
  readonly line: number | undefined;
  declare readonly field: string;
  /** The bare description, without file, line and field. */
  readonly reason: string;
  readonly problems: FabricProblem[];

  constructor(file: string, problem: FabricProblem, problems: FabricProblem[] = [problem]) {
    super('TRELLIS_ERR_VALIDATION', formatProblem(file, problem), {
      field: problem.field,
      hint: 'see docs/fabric-file.md for the fabric file format',
    });
    this.name = 'FabricFileError';
    this.file = file;
    this.line = problem.line;
    this.reason = problem.message;
    this.problems = problems;
  }
}

/** `file:line: field: message`, leaving out the parts that are unknown. */
export function formatProblem(file: string, p: FabricProblem): string {
  const where = p.line === undefined ? file : `${file}:${p.line}`;
  return p.field === '' ? `${where}: ${p.message}` : `${where}: ${p.field}: ${p.message}`;
}

export interface LoadedFabric {
  spec: FabricSpec;
  /** The path as given, used in messages. */
  file: string;
  /** Line of a field of the spec, e.g. for an error the server reports against a field. */
  lineOf(fieldPath: FieldPath): number | undefined;
}

export async function loadFabricFile(path: string): Promise<LoadedFabric> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new FabricFileError(path, { line: undefined, field: '', message: `cannot read: ${reason}` });
  }
  return parseFabricText(text, path);
}

/** Pure: YAML text → checked spec, or a FabricFileError naming file, line and field. */
export function parseFabricText(text: string, file: string): LoadedFabric {
  const lines = new LineCounter();
  // prettyErrors off: the message stays one line; the position comes from the LineCounter.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const lineOf = lineFinder(doc, lines);

  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => ({
      line: lines.linePos(e.pos[0]).line,
      field: '',
      message: `YAML: ${e.message}`,
    }));
    throw new FabricFileError(file, problems[0]!, problems);
  }

  if (doc.contents === null) {
    throw new FabricFileError(file, {
      line: 1,
      field: '',
      message: 'the file is empty (a fabric file starts with apiVersion: trellis/v1 and kind: Fabric)',
    });
  }
  const parsed = FabricSpec.safeParse(
    yamlToJs(doc, file, (message) => new FabricFileError(file, { line: undefined, field: '', message })),
    {
      error: requiredMessage,
    },
  );
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap(issueProblems).map((p) => ({
      line: lineOf(p.path),
      field: formatFieldPath(p.path),
      message: p.message,
    }));
    throw new FabricFileError(file, problems[0]!, problems);
  }
  return { spec: parsed.data, file, lineOf };
}

/** zod's "expected string, received undefined" means a key is missing; say so. */
function requiredMessage(issue: z.core.$ZodRawIssue): string | undefined {
  return issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : undefined;
}

/** One problem per unknown key, located at the key itself rather than at its object. */
function issueProblems(issue: z.core.$ZodIssue): { path: FieldPath; message: string }[] {
  const path = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
  if (issue.code === 'unrecognized_keys')
    return issue.keys.map((key) => ({ path: [...path, key], message: `unknown key "${key}"` }));
  // `transit` is the only union in the file; zod's bare "Invalid input" would not say what fits.
  if (issue.code === 'invalid_union' && path.at(-1) === 'transit')
    return [{ path, message: 'must be a processor name or a list of processor names' }];
  return [{ path, message: issue.message }];
}

/** The secrets file named by the spec, resolved against the fabric file's directory. */
export function secretsFilePath(loaded: Pick<LoadedFabric, 'spec' | 'file'>): string | undefined {
  const name = loaded.spec.secretsFile;
  return name === undefined ? undefined : resolve(dirname(loaded.file), name);
}

/**
 * The document as plain data. The yaml package refuses a document whose aliases expand beyond
 * its limit (a "billion laughs" file): that refusal names the file here, like every other.
 */
export function yamlToJs(doc: Document, file: string, fail: (message: string) => Error): unknown {
  try {
    return doc.toJS();
  } catch (err) {
    const m = (err as Error).message;
    if (/alias/i.test(m))
      throw fail(`YAML: refused: its aliases expand too far (${m}); ${file} looks like an alias bomb`);
    throw fail(`YAML: ${m}`);
  }
}
