import { open, rename, rm } from 'node:fs/promises';
import type { Command } from 'commander';
import { print } from '../output.js';
import { client } from '../session.js';

/**
 * `trellis backup --out FILE`: the running orchestrator's consistent snapshot (store, fabric CA,
 * ticket keys), fetched through its admin API. The file holds ca.key and the ticket keys: it is
 * created 0600 and appears under its name only once complete, so a reader never sees half a backup.
 */
export function registerBackup(program: Command): void {
  program
    .command('backup')
    .description(
      'write a consistent backup of the orchestrator (store, CA, ticket keys) to a 0600 file (systemAdmin)',
    )
    .requiredOption('--out <file>', 'where to write it (replaced if it exists)')
    .addHelpText(
      'after',
      `
Restore it into an empty data dir with: trellis orchestrator --restore FILE --data-dir NEW_DIR`,
    )
    .action(async (opts: { out: string }) => {
      const api = await client();
      const backup = await api.backup();
      const body = JSON.stringify(backup);
      const tmp = `${opts.out}.${process.pid}.tmp`;
      const fh = await open(tmp, 'wx', 0o600);
      try {
        await fh.writeFile(body);
        await fh.chmod(0o600);
        await fh.sync();
      } catch (err) {
        await fh.close();
        await rm(tmp, { force: true });
        throw err;
      }
      await fh.close();
      await rename(tmp, opts.out);
      const c = backup.counts;
      print(
        `backup written to ${opts.out} (mode 0600, ${Math.ceil(body.length / 1024)} KiB): ${c.domains ?? 0} domains, ${c.contracts ?? 0} contracts, ${c.nodes ?? 0} nodes, ${c.processors ?? 0} processors; store ${backup.store}, schema ${backup.schemaVersion}, CA ${backup.caFingerprint}`,
      );
    });
}
