import type { Command } from 'commander';
import { print } from '../output.js';

/**
 * `trellis deploy` and `trellis purge`: the seed's deploy and purge scripts, against the
 * running lab (see src/deploy).
 */
export function registerDeploy(program: Command): void {
  program
    .command('deploy')
    .description("install a host owner's service and agent on a VM of the lab, start them, wait until ready")
    .requiredOption('--hostowner <name>', 'the host owner (one per microservice) whose service to deploy')
    .requiredOption('--virtualmachine <name>', 'the VM to deploy it on (a VM of the lab file)')
    .option('--domain <name>', "the host owner's domain, if its name exists in several")
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (opts: { hostowner: string; virtualmachine: string; domain?: string; output: string }) => {
      const { runningLabTarget } = await import('../../deploy/lab-target.js');
      const { deploy } = await import('../../deploy/deploy.js');
      const res = await deploy(
        { hostOwner: opts.hostowner, vm: opts.virtualmachine, ...(opts.domain && { domain: opts.domain }) },
        await runningLabTarget(),
      );
      if (opts.output === 'json')
        print(JSON.stringify({ changed: res.changed, deployment: res.deployment }, null, 2));
      else print(res.lines.join('\n'));
    });

  program
    .command('purge')
    .description(
      'stop and uninstall every service and agent deployed (in one domain); their nodes turn disconnected',
    )
    .option('--domain <name>', 'only this domain')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (opts: { domain?: string; output: string }) => {
      const { runningLabTarget } = await import('../../deploy/lab-target.js');
      const { purge } = await import('../../deploy/purge.js');
      const res = await purge(opts.domain ? { domain: opts.domain } : {}, await runningLabTarget());
      if (opts.output === 'json') print(JSON.stringify({ nodes: res.nodes }, null, 2));
      else print(res.lines.join('\n'));
    });
}
