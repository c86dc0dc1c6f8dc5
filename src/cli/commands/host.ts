import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { Command } from 'commander';
import { TrellisError } from '../../errors.js';
import { print, renderTable } from '../output.js';
import { readStdin } from '../prompt.js';

/**
 * `trellis host …` and `trellis supervise`: what runs ON a host. `trellis deploy` and
 * `trellis fabric up` call these over SSH (or locally); the Ansible role calls them too, so
 * the on-host logic exists once. Operators use `host status` to see what a host runs.
 */
export function registerHost(program: Command): void {
  const host = program
    .command('host')
    .description("manage this host's Trellis units (run on the host itself)");
  const rootOption = (c: Command) =>
    c.option(
      '--root <dir>',
      'trellis_root: where Trellis lives on this host',
      process.env.TRELLIS_ROOT ?? '/opt/trellis',
    );

  rootOption(
    host
      .command('apply')
      .description('install or update units (a HostApply document) and wait until they are ready')
      .requiredOption('-f, --file <file>', 'the HostApply JSON document, or - for stdin'),
  ).action(async (opts: { root: string; file: string }) => {
    const { hostApply } = await import('../../host/apply.js');
    const res = await hostApply(absolute(opts.root), await readJson(opts.file));
    print(JSON.stringify(res, null, 2));
  });

  rootOption(
    host
      .command('attach')
      .description(
        "attach a host owner's service on this host: its agent and workload units (a HostAttach document)",
      )
      .requiredOption('-f, --file <file>', 'the HostAttach JSON document, or - for stdin'),
  ).action(async (opts: { root: string; file: string }) => {
    const { hostAttach } = await import('../../host/attach.js');
    print(JSON.stringify(await hostAttach(absolute(opts.root), await readJson(opts.file)), null, 2));
  });

  rootOption(
    host
      .command('remove')
      .description('stop and uninstall units (their tokens and node state go; data/ stays)')
      .option(
        '--keep-state',
        "keep each unit's state/ (node key and certificate, the orchestrator's store): a stop that a later apply resumes with the same identity",
      )
      .argument('<unit...>', 'the units to remove, as `trellis host status` names them'),
  ).action(async (names: string[], opts: { root: string; keepState?: boolean }) => {
    const { hostRemove } = await import('../../host/apply.js');
    print(
      JSON.stringify(
        await hostRemove(absolute(opts.root), names, { keepState: opts.keepState === true }),
        null,
        2,
      ),
    );
  });

  rootOption(
    host
      .command('status')
      .description('what this host runs')
      .option('-o, --output <format>', 'table or json', 'table'),
  ).action(async (opts: { root: string; output: string }) => {
    const { hostStatus } = await import('../../host/apply.js');
    const st = await hostStatus(absolute(opts.root));
    if (opts.output === 'json') return print(JSON.stringify(st, null, 2));
    print(
      `root ${st.root}, manager ${st.manager}${st.pid ? ` (pid ${st.pid})` : ''}, releases ${st.releases.join(', ') || 'none'}`,
    );
    print(
      renderTable(st.units, [
        { header: 'UNIT', value: (u) => u.name },
        { header: 'KIND', value: (u) => u.kind },
        { header: 'PID', value: (u) => (u.pid === null ? 'down' : String(u.pid)) },
        { header: 'RESTARTS', value: (u) => String(u.restarts) },
        {
          header: 'FOR',
          value: (u) =>
            Object.entries(u.labels)
              .map(([k, v]) => `${k}=${v}`)
              .join(' '),
        },
      ]),
    );
  });

  rootOption(
    program
      .command('supervise')
      .description("keep this host's units running where systemd does not (started by `trellis host apply`)"),
  ).action(async (opts: { root: string }) => {
    const { superviseHost } = await import('../../host/supervise.js');
    const stamp = () => new Date().toISOString();
    await superviseHost(absolute(opts.root), (l) => process.stdout.write(`${stamp()} ${l}\n`));
  });
}

function absolute(p: string): string {
  return isAbsolute(p) ? p : resolve(p);
}

async function readJson(file: string): Promise<unknown> {
  const text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TrellisError(
      'TRELLIS_ERR_VALIDATION',
      `${file === '-' ? 'stdin' : file}: not JSON: ${(err as Error).message}`,
    );
  }
}
