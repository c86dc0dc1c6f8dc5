import type { Command } from 'commander';
import { TrellisError } from '../../errors.js';
import type { ContractMode, PathParams, RoleName } from '../../model/index.js';
import { print } from '../output.js';
import { client, contractDomain } from '../session.js';

/** Like zod's safeParse for a string enum, without loading zod into every CLI process. */
function parseChoice<T extends string>(
  v: string,
  choices: readonly T[],
): { success: true; data: T } | { success: false } {
  return (choices as readonly string[]).includes(v) ? { success: true, data: v as T } : { success: false };
}

function parseJson(flag: string, text: string): PathParams {
  try {
    return JSON.parse(text) as PathParams;
  } catch (err) {
    throw new TrellisError(
      'TRELLIS_ERR_MALFORMED_JSON',
      `${flag} is not valid JSON: ${(err as Error).message}`,
      { field: flag },
    );
  }
}

export function registerEdit(program: Command): void {
  const edit = program.command('edit').description('change a role or a contract');

  edit
    .command('role')
    .description("set a role's path params and/or User Access List (the console's SET + SUBMIT in one step)")
    .argument('<contract>', 'the contract whose role to change')
    .argument('<role>', 'client | server')
    .option(
      '--path-params <json>',
      'e.g. \'{"role":"server","contract":"voting-frontend","transit":"aws-p2"}\'',
    )
    .option('--users <names>', 'comma-separated host owners (replaces the list)')
    .option('--domain <domain>', "the contract's domain (needed only if the name is in several)")
    .action(
      async (
        contract: string,
        role: string,
        opts: { pathParams?: string; users?: string; domain?: string },
      ) => {
        const r = parseChoice<RoleName>(role, ['client', 'server']);
        if (!r.success)
          throw new TrellisError(
            'TRELLIS_ERR_VALIDATION',
            `role must be "client" or "server", not "${role}"`,
          );
        if (opts.pathParams === undefined && opts.users === undefined) {
          throw new TrellisError('TRELLIS_ERR_VALIDATION', 'nothing to change', {
            hint: 'pass --path-params and/or --users',
          });
        }
        const api = await client();
        const domain = await contractDomain(api, contract, opts.domain);
        const c = await api.setRole(domain, contract, r.data, {
          ...(opts.pathParams !== undefined && { pathParams: parseJson('--path-params', opts.pathParams) }),
          ...(opts.users !== undefined && {
            users: opts.users
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean),
          }),
        });
        const now = c.roles.find((x) => x.name === r.data)!;
        print(
          `role ${r.data} of contract "${contract}" (${domain}) updated: users [${now.users.join(', ')}], pathParams ${JSON.stringify(now.pathParams)}`,
        );
      },
    );

  edit
    .command('contract')
    .description("set a contract's mode (enforce | audit) or description")
    .argument('<contract>', 'the contract to change')
    .option('--mode <mode>', 'enforce | audit')
    .option('--description <text>', "the contract's new description")
    .option('--domain <domain>', "the contract's domain (needed only if the name is in several)")
    .action(async (contract: string, opts: { mode?: string; description?: string; domain?: string }) => {
      const mode =
        opts.mode === undefined ? undefined : parseChoice<ContractMode>(opts.mode, ['enforce', 'audit']);
      if (mode && !mode.success)
        throw new TrellisError(
          'TRELLIS_ERR_VALIDATION',
          `--mode must be "enforce" or "audit", not "${opts.mode}"`,
        );
      const api = await client();
      const domain = await contractDomain(api, contract, opts.domain);
      const c = await api.setContract(domain, contract, {
        ...(mode?.success && { mode: mode.data }),
        ...(opts.description !== undefined && { description: opts.description }),
      });
      print(`contract "${c.name}" (${c.domain}) updated: mode ${c.mode}`);
    });
}
