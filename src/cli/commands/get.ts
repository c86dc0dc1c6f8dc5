import { Argument, type Command, Option } from 'commander';
import { type ApiClient, ApiError } from '../../api-client/client.js';
import { TrellisError } from '../../errors.js';
import { ALIASES, DENIAL_FILTERS, type DenialFilters, KINDS, type Kind, WATCHABLE } from '../get-kinds.js';
import { type Column, type OutputFormat, print, render } from '../output.js';
import { client } from '../session.js';
import { watch } from '../watch.js';
import { denialEvents, flowsEvents, nodeEvents } from '../watch-events.js';

/** `-o`: table, json or yaml; `wide` (a table with more columns) only where a command offers it. */
export const outputOption = (opts: { wide?: boolean } = {}) =>
  new Option('-o, --output <format>', `output format${opts.wide ? ' (wide: a table with more columns)' : ''}`)
    .choices(opts.wide ? ['table', 'wide', 'json', 'yaml'] : ['table', 'json', 'yaml'])
    .default('table');

type GetOptions = DenialFilters & { domain?: string; output: OutputFormat | 'wide'; watch?: boolean };

const KIND_LIST = `${Object.keys(KINDS).join(' | ')} | domain-topology`;

async function getDomainTopology(
  api: ApiClient,
  domain: string | undefined,
  format: OutputFormat,
): Promise<void> {
  if (!domain)
    throw new TrellisError('TRELLIS_ERR_VALIDATION', 'which domain?', {
      hint: 'trellis get domain-topology DOMAIN',
    });
  const t = await api.domainTopology(domain);
  if (format !== 'table') {
    print(render({ nodes: t.nodes, edges: t.edges }, format, []));
    return;
  }
  print(render(t.nodes, 'table', [{ header: 'HOST OWNER', value: (n) => n.name }]));
  print('');
  print(
    render(t.edges, 'table', [
      { header: 'CONTRACT', value: (e) => e.contract },
      { header: 'CLIENT', value: (e) => e.client },
      { header: 'SERVER', value: (e) => e.server },
    ]),
  );
}

/** The one object NAME of a kind, by a GET of that object; its 404 names the kind and NAME. */
async function getOne(api: ApiClient, k: Kind<unknown>, kindArg: string, name: string, domain?: string) {
  try {
    return await k.one!(api, name, domain);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      throw new TrellisError(
        'TRELLIS_ERR_NOT_FOUND',
        `${k.singular} "${name}" not found${domain ? ` in domain "${domain}"` : ''}`,
        { hint: `list what exists: trellis get ${kindArg}` },
      );
    }
    throw err;
  }
}

/** A flow table's processor that does not exist is "not found" by its name, as any object. */
async function listOf(api: ApiClient, k: Kind<unknown>, of: string, opts: GetOptions) {
  try {
    return await k.list(api, opts.domain, opts, of);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404)
      throw new TrellisError('TRELLIS_ERR_NOT_FOUND', `${k.nameIs} "${of}" not found`, {
        hint: `list what exists: trellis get ${k.nameIs}s`,
      });
    throw err;
  }
}

export function registerGet(program: Command): void {
  program
    .command('get')
    .description(`list resources, or get one by NAME: ${KIND_LIST} DOMAIN`)
    .addArgument(
      // A fixed set: the shell completes it, and a misspelt kind is a usage error naming them.
      new Argument('<kind>', `what to list: ${KIND_LIST} (singular spellings too)`).choices([
        ...Object.keys(KINDS),
        'domain-topology',
        ...Object.keys(ALIASES),
      ]),
    )
    .argument(
      '[name]',
      'get only this one, asked of the server by name (for flows: the processor; for domain-topology: the domain)',
    )
    .option('--domain <domain>', 'only this domain (for a NAME in several domains: which one)')
    .option('--contract <name>', 'denials: only this contract')
    .option('--node <name>', 'denials: only those this node reported or is the source or destination of')
    .option(
      '--reason <code>',
      'denials: only this refusal code (TRELLIS_DENY_NO_SERVER, or its label no-server, … as in docs/refusals.md)',
    )
    .option('--since <time>', 'denials: from this ISO time, or this long ago (30s, 15m, 2h, 7d)')
    .option('--until <time>', 'denials: up to this ISO time, or this long ago')
    .option('--group', 'denials: one row per repeated refusal, with a count')
    .option(
      '-w, --watch',
      `${WATCHABLE.join(', ')}: print the table, then a line per change, until Ctrl-C (over the event stream)`,
    )
    .addOption(outputOption({ wide: true }))
    .action(async (kindArg: string, name: string | undefined, opts: GetOptions) => {
      const wide = opts.output === 'wide';
      const format: OutputFormat = wide ? 'table' : (opts.output as OutputFormat);
      if (kindArg === 'domain-topology') {
        if (opts.watch) throw watchRefused(kindArg);
        return getDomainTopology(await client(), name ?? opts.domain, format);
      }
      const kindName = ALIASES[kindArg] ?? kindArg;
      const k = KINDS[kindName];
      if (!k) {
        throw new TrellisError('TRELLIS_ERR_VALIDATION', `unknown kind "${kindArg}"`, {
          hint: `one of: ${Object.keys(KINDS).join(', ')}, domain-topology`,
        });
      }
      const used = DENIAL_FILTERS.filter((f) => opts[f] !== undefined);
      if (kindName !== 'denials' && used.length > 0) {
        throw new TrellisError('TRELLIS_ERR_VALIDATION', `--${used[0]} filters denials only`, {
          hint: 'trellis get denials --contract C --node N --reason CODE --since 15m --group',
        });
      }
      if (k.nameIs && !name) {
        throw new TrellisError('TRELLIS_ERR_VALIDATION', `which ${k.nameIs}?`, {
          hint: `trellis get ${kindArg} ${k.nameIs.toUpperCase()}`,
        });
      }
      if (name && !k.nameIs && !k.one) {
        throw new TrellisError('TRELLIS_ERR_VALIDATION', `${kindArg} are not got by name`, {
          hint: `list them: trellis get ${kindArg}`,
        });
      }
      if (opts.watch && !(WATCHABLE as readonly string[]).includes(kindName)) throw watchRefused(kindArg);
      if (opts.watch && format !== 'table') {
        throw new TrellisError('TRELLIS_ERR_VALIDATION', '--watch prints a table: leave out -o json/yaml', {
          hint: 'trellis get nodes --watch (or -o wide)',
        });
      }
      const columns: Column<unknown>[] = wide ? [...k.columns, ...(k.wide ?? [])] : k.columns;
      const api = await client();
      const rows = async () =>
        k.nameIs
          ? listOf(api, k, name!, opts)
          : name && k.one
            ? [await getOne(api, k, kindArg, name, opts.domain)]
            : k.list(api, opts.domain, opts);
      if (opts.watch) {
        const key = k.key ?? ((r: unknown) => JSON.stringify(r));
        // Each kind follows its own events; denials and flow tables only on a stream that asks.
        const follows =
          kindName === 'denials'
            ? { kinds: ['denial'], onEvent: denialEvents(opts.domain, opts) }
            : kindName === 'flows'
              ? { kinds: ['flows'], onEvent: flowsEvents(name!) }
              : { onEvent: nodeEvents(api, name, opts.domain) };
        return watch<unknown>(api, {
          columns,
          rows,
          key,
          // A flow's idle age and a node's last-seen time move all the time: they are no change.
          change: (r) => JSON.stringify({ ...(r as object), idleAge: undefined, lastSeen: undefined }),
          ...follows,
        });
      }
      if (name && !k.nameIs)
        return print(render(await getOne(api, k, kindArg, name, opts.domain), format, columns));
      print(render(await rows(), format, columns));
    });
}

const watchRefused = (kindArg: string) =>
  new TrellisError('TRELLIS_ERR_VALIDATION', `--watch follows ${WATCHABLE.join(', ')}, not ${kindArg}`, {
    hint: 'trellis get nodes --watch',
  });
