import type { Command } from 'commander';
import { orchestratorLogger } from '../../orchestrator/log.js';
import { parseListen } from '../listen.js';

export function registerOrchestrator(program: Command): void {
  program
    .command('orchestrator')
    .description('run the orchestrator: REST API, store, identity, policy, paths')
    .requiredOption('--listen <host:port>', 'address to listen on', '127.0.0.1:7420')
    .option(
      '--data-dir <dir>',
      'data directory (embedded PGlite store, admin-password)',
      './.trellis/orchestrator',
    )
    .option('--log-level <level>', 'pino log level', 'info')
    .action(async (opts: { listen: string; dataDir: string; logLevel: string }) => {
      // Loaded here, not at the top: each process loads only the component it runs.
      const { createOrchestrator } = await import('../../orchestrator/server.js');

      const { host, port } = parseListen(opts.listen);
      await (await import('../../node-runtime/private-files.js')).makeDirPrivate(opts.dataDir);
      const logger = orchestratorLogger(opts.logLevel);
      const databaseUrl = process.env.DATABASE_URL;
      const orch = await createOrchestrator({
        dataDir: opts.dataDir,
        ...(databaseUrl && { databaseUrl }),
        ...(process.env.TRELLIS_ADMIN_PASSWORD && { adminPassword: process.env.TRELLIS_ADMIN_PASSWORD }),
        logger,
      });
      // A fleet reconnecting at once overflows the default backlog (511): see docs/benchmarks.md.
      const url = await orch.app.listen({ host, port, backlog: 4096 });
      const store = databaseUrl ? 'postgres (DATABASE_URL)' : `pglite in ${opts.dataDir}`;
      process.stderr.write(`trellis orchestrator listening on ${url} (store: ${store})\n`);
      if (orch.boot.adminPasswordFile) {
        process.stderr.write(
          `created systemAdmin "admin"; its password is in ${orch.boot.adminPasswordFile}\n`,
        );
      } else if (orch.boot.adminCreated) {
        process.stderr.write('created systemAdmin "admin" with the password from TRELLIS_ADMIN_PASSWORD\n');
      }
      const stop = async () => {
        await orch.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
