import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ApiError } from '../../api-client/client.js';
import {
  type OrchestratorTrust,
  parseFingerprintFlag,
  pinCa,
  resolveTrust,
  type TrustSource,
} from '../../api-client/trust.js';
import { TrellisError } from '../../errors.js';
import { caFingerprint } from '../../wire/fingerprint.js';
import { backoffMs, sleep } from './backoff.js';

/**
 * The CA a node trusts for the orchestrator's HTTPS. A pinned fingerprint is turned into the CA
 * once and kept in the state dir (orchestrator-ca.pem), so a node restarted while the orchestrator
 * is down still knows whom to trust, and a later answer from an impostor still fails the pin.
 */
export async function nodeTrust(
  url: string,
  src: TrustSource,
  stateDir: string,
  log: Logger,
  stopped: () => boolean,
): Promise<OrchestratorTrust> {
  if (src.caFile || !src.fingerprint) return resolveTrust(url, src);
  const file = join(stateDir, 'orchestrator-ca.pem');
  const cached = await readFile(file, 'utf8').catch(() => undefined);
  if (cached && safeFingerprint(cached) === parseFingerprintFlag(src.fingerprint)) return { caPem: cached };
  for (let attempt = 0; ; attempt++) {
    try {
      const caPem = await pinCa(url, src.fingerprint);
      await writeFile(file, caPem, { mode: 0o600 });
      return { caPem };
    } catch (err) {
      // A wrong pin is final (someone else answers); an unreachable orchestrator is not.
      if (err instanceof TrellisError && err.code !== 'TRELLIS_ERR_UNAVAILABLE') throw err;
      if (err instanceof ApiError && err.status !== 0) throw err;
      if (stopped()) throw err;
      if (attempt === 0)
        log.warn({ err: (err as Error).message }, 'cannot reach the orchestrator to pin its CA; retrying');
      await sleep(backoffMs(attempt));
    }
  }
}

function safeFingerprint(pem: string): string | undefined {
  try {
    return caFingerprint(pem);
  } catch {
    return undefined;
  }
}
