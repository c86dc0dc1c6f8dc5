/**
 * A client listener and the agent's local API serve only their own VM. On a real host they bind
 * loopback, which nothing off the host reaches; in the lab every VM shares one loopback, so the
 * agent checks the source of each connection as well. Pure, so the rule is tested without sockets.
 */

/** `::ffff:127.0.2.11` → `127.0.2.11`: the same peer whether the socket is v4 or dual-stack. */
export function normaliseAddress(a: string | undefined): string {
  if (!a) return '';
  const lower = a.toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice(7) : lower;
}

/**
 * The source a connection to a loopback address gets when its client binds nothing: on a host
 * shared by the lab's VMs it names no VM (the kernel picks it for every unbound connection), so
 * it is the host's own and accepted; another VM's address is not.
 */
const UNBOUND_LOOPBACK_SOURCES = new Set(['127.0.0.1', '::1']);

export type SourceVerdict = { ok: true } | { ok: false; source: string };

/**
 * Accepted: the connection comes from the address it arrived at, from one of the VM's own
 * addresses, or (arriving at a loopback address) from the loopback's unbound source.
 */
export function fromOwnVm(o: {
  remote: string | undefined;
  local: string | undefined;
  own: readonly string[];
}): SourceVerdict {
  const remote = normaliseAddress(o.remote);
  const local = normaliseAddress(o.local);
  if (remote !== '' && remote === local) return { ok: true };
  if (o.own.some((a) => normaliseAddress(a) === remote)) return { ok: true };
  if (isLoopback(local) && UNBOUND_LOOPBACK_SOURCES.has(remote)) return { ok: true };
  return { ok: false, source: remote || 'an unknown address' };
}

function isLoopback(a: string): boolean {
  return a === '::1' || a.startsWith('127.');
}

/** The reason recorded with the denial: names the listener, its VM and the refused source. */
export function foreignSourceReason(contract: string, vm: string, source: string): string {
  return `refused: client listener of "${contract}" on VM ${vm} serves only its own VM; connection from ${source}`;
}
