import type { Command } from 'commander';
import { TrellisError } from '../../errors.js';
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
          const { loadInventory } = await import('../../inventory/inventory.js');
          const { loadAppFile } = await import('../../app/app-file.js');
          const { deployRemote } = await import('../../deploy/remote-deploy.js');
          const { connect } = await import('../../remote/connection.js');
          const { currentRelease } = await import('../../release/release.js');
          const res = await deployRemote(
            {
              inventory: await loadInventory(opts.inventory),
              app: await loadAppFile(opts.app),
              hostOwner: opts.hostowner,
              vm: opts.virtualmachine,
              ...(opts.domain && { domain: opts.domain }),
            },
            { admin: await client(), release: () => currentRelease(), connect },
          );
          if (opts.output === 'json')
            print(JSON.stringify({ changed: res.changed, urls: res.urls }, null, 2));
          else print(res.lines.join('\n'));
          return;
        }
        const { runningLabTarget } = await import('../../deploy/lab-target.js');
        const { deploy } = await import('../../deploy/deploy.js');
        const res = await deploy(
          { hostOwner: opts.hostowner, vm: opts.virtualmachine, ...(opts.domain && { domain: opts.domain }) },
          await runningLabTarget(),
        );
        if (opts.output === 'json')
          print(JSON.stringify({ changed: res.changed, deployment: res.deployment }, null, 2));
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
    .option('--virtualmachine <name>', 'only this VM (with --inventory)')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(
      async (opts: { domain?: string; inventory?: string; virtualmachine?: string; output: string }) => {
        if (opts.inventory) {
          if (opts.domain && opts.virtualmachine)
            throw new TrellisError('TRELLIS_ERR_VALIDATION', 'give --domain or --virtualmachine, not both');
          const { loadInventory } = await import('../../inventory/inventory.js');
          const { purgeRemote } = await import('../../deploy/remote-deploy.js');
          const { connect } = await import('../../remote/connection.js');
          const { currentRelease } = await import('../../release/release.js');
          const res = await purgeRemote(
            {
              inventory: await loadInventory(opts.inventory),
              ...(opts.domain && { domain: opts.domain }),
              ...(opts.virtualmachine && { vm: opts.virtualmachine }),
            },
            { admin: await client(), release: () => currentRelease(), connect },
          );
          if (opts.output === 'json') print(JSON.stringify({ nodes: res.nodes }, null, 2));
          else print(res.lines.join('\n'));
          return;
        }
        if (opts.virtualmachine)
          throw new TrellisError('TRELLIS_ERR_VALIDATION', '--virtualmachine needs --inventory');
        const { runningLabTarget } = await import('../../deploy/lab-target.js');
        const { purge } = await import('../../deploy/purge.js');
        const res = await purge(opts.domain ? { domain: opts.domain } : {}, await runningLabTarget());
        if (opts.output === 'json') print(JSON.stringify({ nodes: res.nodes }, null, 2));
        else print(res.lines.join('\n'));
      },
    );
}
