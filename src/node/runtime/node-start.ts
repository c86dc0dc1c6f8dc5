import type { Logger } from 'pino';
import { loadOrCreateNodeKey } from '../identity/keys.js';
import { type ControlOptions, ControlSession, type NodeIdentity, type Registration } from './control.js';
import { makeDirPrivate } from './private-files.js';

/** Who a node logs in as and where it keeps its state: what a processor and an agent both start from. */
export interface NodeStart {
  orchestrator: string;
  /** The owner's login (switch owner or host owner); with `access.enrolmentToken` none is needed. */
  username?: string;
  domain?: string;
  password?: string;
  access?: Pick<ControlOptions, 'enrolmentToken' | 'trust'>;
  stateDir: string;
  log: Logger;
}

/**
 * The start every fabric node shares: a private state directory, a control session to the
 * orchestrator, the node's own key (made once, kept), and its registration under that key.
 */
export async function startNode(
  o: NodeStart,
  registration: Omit<Registration, 'publicKeyPem'>,
): Promise<{ control: ControlSession; identity: NodeIdentity; publicKeyPem: string }> {
  await makeDirPrivate(o.stateDir);
  const control = new ControlSession({
    orchestrator: o.orchestrator,
    ...(o.username !== undefined && { username: o.username }),
    ...(o.domain && { domain: o.domain }),
    ...(o.password !== undefined && { password: o.password }),
    ...o.access,
    stateDir: o.stateDir,
    log: o.log,
  });
  const key = await loadOrCreateNodeKey(o.stateDir);
  const identity = await control.register(
    { ...registration, publicKeyPem: key.publicKeyPem },
    key.privateKeyPem,
  );
  return { control, identity, publicKeyPem: key.publicKeyPem };
}
