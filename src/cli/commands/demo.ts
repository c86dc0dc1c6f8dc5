import { join } from 'node:path';
import type { Command } from 'commander';
import { trellisHome } from '../config.js';
import { parseListen } from '../listen.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the local demo: orchestrator + the Voting App fabric, logged in (Ctrl-C stops it)')
    .option('-f, --file <fabric.yaml>', 'fabric file to apply', 'examples/voting-app/fabric.yaml')
    .option('--listen <host:port>', 'orchestrator address', '127.0.0.1:7420')
    .action(async (opts: { file: string; listen: string }) => {
      // Loaded here, not at the top: each process loads only the component it runs.
      const { runDemo } = await import('../../lab/demo.js');

      const log = (l: string) => process.stdout.write(`${l}\n`);
      const demo = await runDemo({ fabricFile: opts.file, listen: parseListen(opts.listen), log });
      const lab = join(trellisHome(), 'lab');
      log('');
      log(`Console:       ${demo.url}/   (open it in a browser)`);
      log(`Orchestrator:  ${demo.url}   (API under /api/v1, OpenAPI at /api/v1/openapi.json)`);
      log(`Admin login:   admin / the password in ${join(lab, 'admin-password')}`);
      log(`Host owners:   passwords in ${join(lab, 'secrets.yaml')}`);
      log('The CLI is logged in; try:');
      log('  npx trellis get contracts --domain voting-app');
      log('  npx trellis get domain-topology voting-app -o json');
      log('  npx trellis path --from aws-p1 --to gcp-p1 --contract voting-frontend');
      log('Ctrl-C stops it.');
      const stop = async () => {
        await demo.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
