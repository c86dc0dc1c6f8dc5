import type { Command } from 'commander';
import { ApiError } from '../../api-client/client.js';
import { configPath, readConfig, writeConfig } from '../../home/config.js';
import { print } from '../output.js';
import { client } from '../session.js';

/**
 * `trellis logout`: the orchestrator revokes the token first, then it leaves config.yaml, so a
 * copy of the token taken from the file is useless too. A token the orchestrator no longer
 * knows (expired, already revoked) is removed all the same. The CA pins stay: they belong to
 * the orchestrator, not to the login.
 */
export function registerLogout(program: Command): void {
  program
    .command('logout')
    .description('revoke the token of `trellis login` and remove it from $TRELLIS_HOME/config.yaml')
    .action(async () => {
      // The same client, and the same pinned CA, as every other command: "not logged in" when
      // there is no token.
      const api = await client();
      let revoked = true;
      try {
        await api.logout();
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 401)) throw err;
        revoked = false;
      }
      const cfg = await readConfig();
      const fromFile = !process.env.TRELLIS_TOKEN && cfg.token !== undefined;
      if (fromFile) {
        const { token: _t, expiresAt: _e, ...rest } = cfg;
        await writeConfig(rest);
      }
      print(
        `logged out of ${api.baseUrl}${revoked ? '' : ' (the token had already expired or been revoked)'}` +
          (fromFile
            ? `; token removed from ${configPath()}`
            : '; TRELLIS_TOKEN is still set in your environment'),
      );
    });
}
