import type { Command } from 'commander';
import { TrellisError } from '../errors.js';
import type { ControlOptions } from '../node/runtime/control.js';
import { decodeEnrolmentToken } from '../wire/enrolment-token.js';
import { readPasswordFile } from './password-file.js';

/** The flags agent and processor share for reaching and trusting the orchestrator. */
export interface NodeAccessFlags {
  orchestrator?: string;
  passwordFile?: string;
  tokenFile?: string;
  caFingerprint?: string;
  caFile?: string;
}

export function addNodeAccessOptions(cmd: Command, owner: string): Command {
  return cmd
    .option('--orchestrator <url>', 'orchestrator URL (default: the one in --token-file)')
    .option('--password-file <file>', `the ${owner}'s password (the seed's way in; or --token-file)`)
    .option(
      '--token-file <file>',
      'an enrolment token (trellis token create): used once, then the node logs in with its own key',
    )
    .option('--ca-fingerprint <sha256:hex>', "pin the orchestrator's CA (default: the one in --token-file)")
    .option('--ca-file <file>', "trust this CA certificate for the orchestrator's HTTPS");
}

export interface NodeAccess {
  orchestrator: string;
  password?: string;
  access: Pick<ControlOptions, 'enrolmentToken' | 'trust'>;
}

/**
 * Either an owner and password, or an enrolment token (which names the orchestrator and its CA
 * fingerprint, so nothing else is needed). Explicit flags win over what the token carries.
 */
export async function readNodeAccess(
  flags: NodeAccessFlags,
  owner: string | undefined,
  ownerFlag: string,
): Promise<NodeAccess> {
  let token: string | undefined;
  let fromToken: { url: string; ca: string } | undefined;
  if (flags.tokenFile) {
    token = await readPasswordFile(flags.tokenFile);
    const decoded = decodeEnrolmentToken(token);
    if (typeof decoded === 'string')
      throw new TrellisError('TRELLIS_ERR_VALIDATION', `${flags.tokenFile}: ${decoded}`);
    fromToken = decoded;
  } else if (!flags.passwordFile || !owner) {
    throw new TrellisError(
      'TRELLIS_ERR_VALIDATION',
      `give --token-file, or ${ownerFlag} with --password-file`,
      {
        hint: 'an admin mints a token with `trellis token create`',
      },
    );
  }
  const orchestrator = flags.orchestrator ?? fromToken?.url;
  if (!orchestrator) throw new TrellisError('TRELLIS_ERR_VALIDATION', 'no --orchestrator URL');
  const fingerprint = flags.caFingerprint ?? fromToken?.ca;
  return {
    orchestrator,
    ...(flags.passwordFile && { password: await readPasswordFile(flags.passwordFile) }),
    access: {
      ...(token && { enrolmentToken: token }),
      trust: { ...(fingerprint && { fingerprint }), ...(flags.caFile && { caFile: flags.caFile }) },
    },
  };
}
