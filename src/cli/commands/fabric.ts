import { join } from 'node:path';
import type { Command } from 'commander';
import { trellisHome } from '../../home/config.js';
import { print, renderTable } from '../output.js';
import { client } from '../session.js';

/**
 * `trellis fabric up|status|down --inventory INV`: the fabric on real hosts (see src/fabric).
 * `up` leaves the CLI logged in to the new orchestrator with its CA pinned.
 */
export function registerFabric(program: Command): void {
  const fabric = program
    .command('fabric')
    .description('the orchestrator and processors of an inventory, on real hosts');

  fabric
    .command('up')
    .description(
      'install and start the orchestrator and every processor of the inventory, apply the fabric file',
    )
    .requiredOption('--inventory <file>', 'Ansible YAML inventory (groups orchestrator, processors, vms)')
    .requiredOption('-f, --file <fabric.yaml>', 'the fabric file to apply')
    .option('--secrets <file>', 'where generated passwords go (default $TRELLIS_HOME/secrets.yaml)')
    .action(async (opts: { inventory: string; file: string; secrets?: string }) => {
      const { loadInventory } = await import('../../inventory/inventory.js');
      const { loadFabricFile } = await import('../../apply/index.js');
      const { fabricUp } = await import('../../fabric/up.js');
      const { connect } = await import('../../remote/connection.js');
      const { currentRelease } = await import('../../release/release.js');
      const inv = await loadInventory(opts.inventory);
      const res = await fabricUp(inv, await loadFabricFile(opts.file), {
        release: () => currentRelease(),
        connect,
        secretsFile: opts.secrets ?? join(trellisHome(), 'secrets.yaml'),
        out: (l) => process.stderr.write(`${l}\n`),
      });
      const { keepFabricLogin } = await import('../../home/fabric-login.js');
      const file = await keepFabricLogin(res);
      print([...res.lines, `logged in:       admin (CA pinned, saved in ${file})`].join('\n'));
    });

  fabric
    .command('status')
    .description('what runs on every host of the inventory, and what the orchestrator sees')
    .requiredOption('--inventory <file>', 'Ansible YAML inventory (groups orchestrator, processors, vms)')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (opts: { inventory: string; output: string }) => {
      const { loadInventory } = await import('../../inventory/inventory.js');
      const { fabricStatus } = await import('../../fabric/status.js');
      const { connect } = await import('../../remote/connection.js');
      const admin = await client().catch(() => undefined);
      const rows = await fabricStatus(await loadInventory(opts.inventory), connect, admin);
      if (opts.output === 'json') return print(JSON.stringify(rows, null, 2));
      print(
        renderTable(rows, [
          { header: 'HOST', value: (r) => r.host },
          { header: 'GROUPS', value: (r) => r.groups.join(',') },
          { header: 'CONNECTION', value: (r) => r.connection },
          {
            header: 'UNITS',
            value: (r) =>
              r.status === null
                ? `unreachable: ${r.error}`
                : r.status.units.map((u) => `${u.name}(${u.pid === null ? 'down' : 'up'})`).join(' ') ||
                  'none',
          },
          {
            header: 'NODE',
            value: (r) => (r.node ? `${r.node.status} (${r.node.domain}/${r.node.owner})` : ''),
          },
        ]),
      );
    });

  fabric
    .command('down')
    .description(
      'stop and uninstall every unit on every host (services, agents, processors, the orchestrator)',
    )
    .requiredOption('--inventory <file>', 'Ansible YAML inventory (groups orchestrator, processors, vms)')
    .action(async (opts: { inventory: string }) => {
      const { loadInventory } = await import('../../inventory/inventory.js');
      const { fabricDown } = await import('../../fabric/status.js');
      const { connect } = await import('../../remote/connection.js');
      await fabricDown(await loadInventory(opts.inventory), connect, (l) => print(l));
    });
}
