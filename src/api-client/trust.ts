import { readFile } from 'node:fs/promises';
import { Agent, fetch } from 'undici';
import { TrellisError } from '../errors.js';
import { caFingerprint, normaliseFingerprint } from '../wire/fingerprint.js';
import { type Fetcher, unreachableBody } from './client.js';

/**
 * How a client decides that it speaks to the real orchestrator. Over HTTPS it trusts exactly
 * one CA — the one its user pinned — never the system store when a pin is given: a public CA
 * must not be able to vouch for a fabric's orchestrator.
 */
export interface OrchestratorTrust {
  /** The CA (PEM) that must have signed the orchestrator's server certificate. */
  caPem?: string;
}

/** What a user gives: a fingerprint to pin (`--ca-fingerprint`), or the CA file itself (`--ca-file`). */
export interface TrustSource {
  fingerprint?: string;
  caFile?: string;
}

export function parseFingerprintFlag(text: string, flag = '--ca-fingerprint'): string {
  const fp = normaliseFingerprint(text);
  if (!fp) {
    throw new TrellisError('TRELLIS_ERR_VALIDATION', `${flag} "${text}" is not a SHA-256 fingerprint`, {
      hint: 'copy the "ca fingerprint: sha256:…" line the orchestrator printed at start, or run `trellis ca fingerprint` where you are logged in',
    });
  }
  return fp;
}

/**
 * Turns a fingerprint into the CA to trust: fetches GET /api/v1/ca without verifying the
 * server (nothing secret is sent on that request) and accepts the CA only if its digest is the
 * pinned one. Every later request verifies the server against that CA, so a man in the middle
 * who relays the real CA gains nothing: his own certificate does not chain to it.
 */
export async function pinCa(baseUrl: string, fingerprint: string): Promise<string> {
  const want = parseFingerprintFlag(fingerprint);
  if (!baseUrl.startsWith('https:')) {
    throw new TrellisError(
      'TRELLIS_ERR_VALIDATION',
      `a CA pin needs an https:// orchestrator URL, not ${baseUrl}`,
      {
        hint: 'use the https:// URL the orchestrator printed at start',
      },
    );
  }
  const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
  let body: { caPem?: unknown };
  try {
    const res = await fetch(new URL('/api/v1/ca', baseUrl), {
      dispatcher,
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`GET /api/v1/ca answered HTTP ${res.status}`);
    body = (await res.json()) as { caPem?: unknown };
  } catch (err) {
    throw unreachable(baseUrl, err);
  } finally {
    void dispatcher.close();
  }
  if (typeof body.caPem !== 'string') {
    throw new TrellisError('TRELLIS_ERR_UNAVAILABLE', `${baseUrl} answered GET /api/v1/ca without a caPem`);
  }
  let got: string;
  try {
    got = caFingerprint(body.caPem);
  } catch {
    throw new TrellisError(
      'TRELLIS_ERR_UNAVAILABLE',
      `${baseUrl} answered GET /api/v1/ca with a caPem that is not a certificate`,
    );
  }
  if (got !== want) {
    throw new TrellisError(
      'TRELLIS_ERR_FORBIDDEN',
      `orchestrator at ${baseUrl} presents CA ${got}, but ${want} is pinned: refusing to talk to it`,
      {
        hint: 'if the fabric CA was really re-created, pin the new fingerprint; otherwise something between you and the orchestrator is impersonating it',
      },
    );
  }
  return body.caPem;
}

/** The CA to trust from a flag pair; undefined when neither is given (system trust, or plain HTTP on loopback). */
export async function resolveTrust(baseUrl: string, src: TrustSource): Promise<OrchestratorTrust> {
  if (src.caFile) {
    const caPem = await readFile(src.caFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new TrellisError('TRELLIS_ERR_VALIDATION', `--ca-file ${src.caFile}: ${err.code ?? err.message}`);
    });
    try {
      const fp = caFingerprint(caPem);
      if (src.fingerprint && fp !== parseFingerprintFlag(src.fingerprint)) {
        throw new TrellisError(
          'TRELLIS_ERR_VALIDATION',
          `--ca-file ${src.caFile} is ${fp}, not the --ca-fingerprint ${src.fingerprint}`,
        );
      }
    } catch (err) {
      if (err instanceof TrellisError) throw err;
      throw new TrellisError('TRELLIS_ERR_VALIDATION', `--ca-file ${src.caFile} is not a PEM certificate`);
    }
    return { caPem };
  }
  if (src.fingerprint) return { caPem: await pinCa(baseUrl, src.fingerprint) };
  return {};
}

/**
 * A fetch that trusts exactly `trust.caPem` (or the system store without one), on one
 * connection pool: the CLI, an agent and a processor each talk to one orchestrator.
 */
export function pinnedFetch(trust: OrchestratorTrust, localAddress?: string): Fetcher {
  // undici 6 reads the source address from the Agent's own options, not from `connect`.
  const dispatcher = new Agent({
    ...(localAddress && { localAddress }),
    connect: { ...(trust.caPem && { ca: trust.caPem }) },
  });
  // undici's Response is the WHATWG one the global fetch returns; only its TypeScript types differ.
  return (url, init) => fetch(url, { ...init, dispatcher }) as unknown as Promise<Response>;
}

export function unreachable(baseUrl: string, err: unknown): TrellisError {
  const b = unreachableBody(baseUrl, err);
  return new TrellisError(b.code, b.message, { ...(b.hint && { hint: b.hint }) });
}
