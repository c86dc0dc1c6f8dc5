import { join } from 'node:path';
import type { Command } from 'commander';
import { ApiError } from '../../api-client/client.js';
import type { Change } from '../../apply/plan.js';
import { trellisHome } from '../../home/config.js';
import { print, render } from '../output.js';
import { client } from '../session.js';
import { outputOption } from './get.js';

const SIGN = { create: '+', update: '~', delete: '-' } as const;

/** One line per change, then the fields an update changes: a plan a reviewer can read. */
function describeChanges(changes: Change[]): string {
  if (changes.length === 0) return 'No changes: the fabric already matches the file.';
  const lines: string[] = [];
  for (const c of changes) {
    lines.push(`${SIGN[c.action]} ${c.action} ${c.kind} ${c.domain ? `${c.domain}/` : ''}${c.name}`);
    if (c.action === 'update' && c.before && c.after) {
      const before = c.before as Record<string, unknown>;
      const after = c.after as Record<string, unknown>;
      for (const key of Object.keys(after)) {
        const b = JSON.stringify(before[key]);
        const a = JSON.stringify(after[key]);
        if (a !== b) lines.push(`    ${key}: ${b} -> ${a}`);
      }
    }
  }
  const count = (a: Change['action']) => changes.filter((c) => c.action === a).length;
  lines.push(`${count('create')} to create, ${count('update')} to update, ${count('delete')} to delete.`);
  return lines.join('\n');
}

export function registerApply(program: Command): void {
  program
    .command('apply')
    .description('make the fabric match a fabric file (declarative, idempotent, all or nothing)')
    .requiredOption('-f, --file <fabric.yaml>', 'the fabric file (docs/fabric-file.md)')
    .option('--dry-run', 'show what would change, change nothing')
    .option('--prune', 'also delete what the file no longer lists (see docs/fabric-file.md)')
    .option(
      '--secrets <file>',
      "secrets file (default: the file's secretsFile, else $TRELLIS_HOME/secrets.yaml)",
    )
    .addOption(outputOption())
    .action(
      async (opts: {
        file: string;
        dryRun?: boolean;
        prune?: boolean;
        secrets?: string;
        output: 'table' | 'json' | 'yaml';
      }) => {
        // Loaded here: the fabric-file schema (zod, yaml) is only needed by this command.
        const { FabricFileError, loadFabricFile, parseFieldPath, secretsFilePath } = await import(
          '../../apply/index.js'
        );
        const { addSecrets, readSecrets } = await import('../../apply/secrets.js');
        const loaded = await loadFabricFile(opts.file);
        const secrets = opts.secrets ?? secretsFilePath(loaded) ?? join(trellisHome(), 'secrets.yaml');
        const api = await client();
        let res: Awaited<ReturnType<typeof api.apply>>;
        try {
          res = await api.apply(loaded.spec, {
            prune: !!opts.prune,
            dryRun: !!opts.dryRun,
            passwords: await readSecrets(secrets),
          });
        } catch (err) {
          // The server names a field of the spec; the user wants the line of the file.
          if (err instanceof ApiError && err.body.field && !err.body.field.startsWith('body')) {
            const line = loaded.lineOf(parseFieldPath(err.body.field));
            const problem = { line, field: err.body.field, message: err.body.message };
            throw new FabricFileError(loaded.file, problem);
          }
          throw err;
        }
        const generated = Object.keys(res.generatedPasswords);
        if (generated.length > 0) await addSecrets(secrets, res.generatedPasswords);
        // On stderr, so `-o json` stays one document; the apply succeeded, so the exit stays 0.
        for (const w of res.warnings ?? []) process.stderr.write(`warning: ${w}\n`);
        if (opts.output === 'table') {
          print(describeChanges(res.changes));
          if (opts.dryRun) print('(dry run: nothing was changed)');
          if (generated.length > 0)
            print(`Generated passwords for ${generated.join(', ')}: written to ${secrets}`);
        } else {
          const changes = res.changes.map(({ action, kind, name, domain, before, after }) => ({
            action,
            kind,
            name,
            domain,
            before,
            after,
          }));
          print(render({ dryRun: res.dryRun, changes }, opts.output, []));
        }
      },
    );
}
