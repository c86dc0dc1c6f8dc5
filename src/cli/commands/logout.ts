import type { Command } from 'commander';
import { ApiClient, ApiError } from '../../api-client/client.js';
import { TrellisError } from '../../errors.js';
import { configPath, readConfig, writeConfig } from '../config.js';
import { print } from '../output.js';

/**
 * `trellis logout`: the orchestrator revokes the token first, then it leaves config.yaml, so a
 * copy of the token taken from the file is useless too. A token the orchestrator no longer
 * knows (expired, already revoked) is removed all the same.
 */
export function registerLogout(program: Command): void {
  program
    .command('logout')
    .description('revoke the token of `trellis login` and remove it from $TRELLIS_HOME/config.yaml')
    .action(async () => {
      const cfg = await readConfig();
      const url = process.env.TRELLIS_ORCHESTRATOR || cfg.orchestrator;
      const token = process.env.TRELLIS_TOKEN || cfg.token;
      if (!url || !token) {
        throw new TrellisError('TRELLIS_ERR_UNAUTHENTICATED', 'not logged in: there is no token to revoke', {
          hint: 'nothing to do',
        });
      }
      let revoked = true;
      try {
        await new ApiClient(url, token).logout();
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 401)) throw err;
        revoked = false;
      }
      const fromFile = !process.env.TRELLIS_TOKEN && cfg.token !== undefined;
      if (cfg.token !== undefined && cfg.token === token) {
        const { token: _t, expiresAt: _e, ...rest } = cfg;
        await writeConfig(rest);
      }
      print(
        `logged out of ${url}${revoked ? '' : ' (the token had already expired or been revoked)'}` +
          (fromFile
            ? `; token removed from ${configPath()}`
            : '; TRELLIS_TOKEN is still set in your environment'),
      );
    });
}
