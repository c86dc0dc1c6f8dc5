import type { Command } from 'commander';
import type { LoadedApp } from '../../app/app-file.js';
import type { Controller } from '../../deploy/remote-deploy.js';
import { TrellisError } from '../../errors.js';
import type { Inventory } from '../../inventory/inventory.js';
import { print } from '../output.js';
import { client } from '../session.js';

/**
 * `trellis deploy` and `trellis purge`: the seed's deploy and purge scripts — over SSH (or a
 * local connection) with `--inventory`, else against the running lab (see src/deploy).
 */
export function registerDeploy(program: Command): void {
  program
    .command('deploy')
    .description("install a host owner's service and agent on a VM, start them, wait until ready")
    .requiredOption('--hostowner <name>', 'the host owner (one per microservice) whose service to deploy')
    .requiredOption(
      '--virtualmachine <name>',
      'the VM to deploy it on (a host of the inventory, or a VM of the lab)',
    )
    .option('--domain <name>', "the host owner's domain, if its name exists in several")
    .option('--inventory <file>', 'Ansible YAML inventory: deploy over SSH to its vms group (needs --app)')
    .option('--app <app.yaml>', 'the app file that says what runs for each host owner')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(
      async (opts: {
        hostowner: string;
        virtualmachine: string;
        domain?: string;
        inventory?: string;
        app?: string;
        output: string;
      }) => {
        if (opts.inventory || opts.app) {
          if (!opts.inventory || !opts.app)
            throw new TrellisError('TRELLIS_ERR_VALIDATION', '--inventory and --app go together', {
              hint: 'trellis deploy --inventory inventory.yaml --app examples/voting-app/app.yaml --hostowner=… --virtualmachine=…',
            });
        }
        const { deployRemote } = await import('../../deploy/remote-deploy.js');
        let target: DeployTarget;
        if (opts.inventory && opts.app) {
          const { loadAppFile } = await import('../../app/app-file.js');
          target = { ...(await inventoryTarget(opts.inventory)), app: await loadAppFile(opts.app) };
        } else {
          // Without --inventory: the running lab, whose inventory and apps `lab up` wrote.
          const { runningLab, labAppFor } = await import('../../lab/lab-target.js');
          const lab = await runningLab();
          target = {
            inventory: lab.inventory,
            controller: lab.controller,
            app: await labAppFor(lab.state, opts.hostowner, opts.domain),
          };
        }
        const res = await deployRemote(
          {
            inventory: target.inventory,
            app: target.app,
            hostOwner: opts.hostowner,
            vm: opts.virtualmachine,
            ...(opts.domain && { domain: opts.domain }),
          },
          target.controller,
        );
        if (opts.output === 'json') print(JSON.stringify({ changed: res.changed, urls: res.urls }, null, 2));
        else print(res.lines.join('\n'));
      },
    );

  program
    .command('purge')
    .description(
      'stop and uninstall the services and agents deployed (in one domain, or on one VM); their nodes turn disconnected',
    )
    .option('--domain <name>', 'only this domain')
    .option('--inventory <file>', 'Ansible YAML inventory: purge its vms group over SSH')
    .option('--virtualmachine <name>', 'only this VM')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(
      async (opts: { domain?: string; inventory?: string; virtualmachine?: string; output: string }) => {
        if (opts.domain && opts.virtualmachine)
          throw new TrellisError('TRELLIS_ERR_VALIDATION', 'give --domain or --virtualmachine, not both');
        const { purgeRemote } = await import('../../deploy/remote-deploy.js');
        const target = opts.inventory
          ? await inventoryTarget(opts.inventory)
          : await (await import('../../lab/lab-target.js')).runningLab();
        const res = await purgeRemote(
          {
            inventory: target.inventory,
            ...(opts.domain && { domain: opts.domain }),
            ...(opts.virtualmachine && { vm: opts.virtualmachine }),
          },
          target.controller,
        );
        if (opts.output === 'json') print(JSON.stringify({ nodes: res.nodes }, null, 2));
        else print(res.lines.join('\n'));
      },
    );
}

interface DeployTarget {
  inventory: Inventory;
  controller: Controller;
  app: LoadedApp;
}

/** An inventory of the user's hosts, driven with the CLI's own login. */
async function inventoryTarget(file: string): Promise<Omit<DeployTarget, 'app'>> {
  const { loadInventory } = await import('../../inventory/inventory.js');
  const { connect } = await import('../../remote/connection.js');
  const { currentRelease } = await import('../../release/release.js');
  const { once } = await import('../../fabric/up.js');
  return {
    inventory: await loadInventory(file),
    controller: { admin: await client(), release: once(() => currentRelease()), connect },
  };
}
