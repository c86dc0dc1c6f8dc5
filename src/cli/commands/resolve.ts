import type { Command } from 'commander';
import { TrellisError } from '../../errors.js';
import { print } from '../output.js';

export function registerResolve(program: Command): void {
  program
    .command('resolve')
    .description("ask a VM's agent where a contract's local listener is: NAME = <contract>.<domain>")
    .argument('<name>', 'e.g. voting-frontend.voting-app')
    .option('--agent <host:port>', "the agent's local API (default $TRELLIS_AGENT, else 127.0.0.1:7401)")
    .action(async (name: string, opts: { agent?: string }) => {
      const agent = opts.agent ?? process.env.TRELLIS_AGENT ?? '127.0.0.1:7401';
      let res: Response;
      try {
        res = await fetch(`http://${agent}/api/v1/service/resolver?name=${encodeURIComponent(name)}`);
      } catch (err) {
        throw new TrellisError(
          'TRELLIS_ERR_BAD_REQUEST',
          `cannot reach the agent at ${agent} (${(err as Error).message})`,
          {
            hint: "pass --agent <the agent's --client-address>:7401 (in the lab, the VM's address)",
          },
        );
      }
      const text = await res.text();
      if (!res.ok) {
        const msg =
          (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? `HTTP ${res.status}`;
        throw new TrellisError('TRELLIS_ERR_NOT_FOUND', msg);
      }
      print(text);
    });
}
