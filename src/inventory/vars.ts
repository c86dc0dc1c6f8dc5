import { isAbsolute } from 'node:path';
import { splitShellWords } from './shell-words.js';

/**
 * The inventory variables Trellis reads, each checked where it is written (a group's `vars:` or a
 * host's entry), so a mistake is reported at its own line even when a higher-precedence value
 * would hide it. Other `ansible_*` variables and any non-Trellis variable pass through untouched:
 * they belong to Ansible and to the user's playbooks.
 */

/**
 * Every `trellis_*` variable Trellis understands. Any other `trellis_*` name is refused, because
 * a misspelt `trellis_procesors` would otherwise be silently ignored and the VM deployed without
 * its processors. Add a name here when a new Trellis variable is introduced.
 */
export const TRELLIS_VARS = [
  'trellis_advertise',
  'trellis_processors',
  'trellis_root',
  // Where the host's daemons bind, when not the advertised address (e.g. 0.0.0.0 behind NAT).
  'trellis_listen',
  // Where a VM's services bind and its agent's client listeners serve (see docs/production.md).
  'trellis_workload_address',
  // DOMAIN/NAME of the switch owner processors enrol as, when the fabric has several.
  'trellis_switch_owner',
  // The port the host's orchestrator or processor listens on (default 7420 / 7500).
  'trellis_port',
  // `copy` (default): the release is copied to the host. `link` (local connection only, the
  // lab): the host runs the controller's own Trellis in place — nothing to copy on one machine.
  'trellis_release',
  // `auto` (default: systemd where it is PID 1, else `trellis supervise`), `systemd`, `supervise`.
  'trellis_service_manager',
  // Read by the Ansible role (deploy/ansible), not by the CLI: known so that the inventory that
  // drives the playbook still drives `trellis … --inventory` (and their typos are caught).
  'trellis_hostowner',
  'trellis_app',
  'trellis_domain',
  'trellis_cli',
] as const;

export const DEFAULT_TRELLIS_ROOT = '/opt/trellis';
export const DEFAULT_SSH_PORT = 22;

/** Aliases Ansible still honours; the first name is the preferred one. */
export const HOST_VARS = ['ansible_host', 'ansible_ssh_host'] as const;
export const PORT_VARS = ['ansible_port', 'ansible_ssh_port'] as const;
export const USER_VARS = ['ansible_user', 'ansible_ssh_user'] as const;
export const KEY_VARS = ['ansible_ssh_private_key_file', 'ansible_private_key_file'] as const;
export const SSH_ARGS_VARS = ['ansible_ssh_common_args', 'ansible_ssh_extra_args'] as const;

const CONNECTIONS = ['ssh', 'local'] as const;

/** Why `value` is not acceptable for `name`, or undefined when it is (or is not ours to judge). */
export function checkVar(name: string, value: unknown): string | undefined {
  if (name.startsWith('trellis_') && !(TRELLIS_VARS as readonly string[]).includes(name)) {
    const near = TRELLIS_VARS.find((known) => editDistance(known, name) <= 2);
    const guess = near === undefined ? '' : `; did you mean ${near}?`;
    return `is not a Trellis variable (known: ${TRELLIS_VARS.join(', ')})${guess}`;
  }
  if ((HOST_VARS as readonly string[]).includes(name)) return checkAddress(value);
  if ((PORT_VARS as readonly string[]).includes(name))
    return portOf(value) === undefined ? 'must be a port number from 1 to 65535' : undefined;
  if ((USER_VARS as readonly string[]).includes(name) || (KEY_VARS as readonly string[]).includes(name))
    return checkPlainString(value);
  if ((SSH_ARGS_VARS as readonly string[]).includes(name)) {
    const plain = checkPlainString(value, true);
    if (plain !== undefined) return plain;
    const split = splitShellWords(value as string);
    return 'error' in split ? `cannot be split into ssh arguments: ${split.error}` : undefined;
  }
  switch (name) {
    case 'ansible_connection':
      return (CONNECTIONS as readonly unknown[]).includes(value)
        ? undefined
        : `must be "ssh" or "local" (Trellis connects to hosts in no other way), not ${show(value)}`;
    case 'ansible_group_priority':
      return Number.isInteger(value) || (typeof value === 'string' && /^-?\d+$/.test(value))
        ? undefined
        : 'must be an integer';
    case 'trellis_root':
      if (checkPlainString(value) !== undefined) return checkPlainString(value);
      return isAbsolute(value as string) ? undefined : `must be an absolute path, not ${show(value)}`;
    case 'trellis_advertise':
    case 'trellis_listen':
    case 'trellis_workload_address':
      return checkAddress(value);
    case 'trellis_switch_owner':
      return typeof value === 'string' && /^([a-z0-9-]+\/)?[a-z0-9-]+$/.test(value)
        ? undefined
        : `must read DOMAIN/NAME (a switch owner of the fabric file), not ${show(value)}`;
    case 'trellis_port':
      return portOf(value) === undefined ? 'must be a port number from 1 to 65535' : undefined;
    case 'trellis_release':
      return value === 'copy' || value === 'link'
        ? undefined
        : `must be "copy" or "link", not ${show(value)}`;
    case 'trellis_service_manager':
      return value === 'auto' || value === 'systemd' || value === 'supervise'
        ? undefined
        : `must be "auto", "systemd" or "supervise", not ${show(value)}`;
    case 'trellis_processors':
      return processorsOf(value) === undefined
        ? 'must be a list of processor names or a comma-separated string of them'
        : undefined;
    default:
      return undefined;
  }
}

/** `22`, `"22"` → 22; anything else (including 0, 65536, "22x") → undefined. */
export function portOf(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535 ? n : undefined;
}

/** `[a, b]` or `"a, b"` → ['a', 'b']; an empty string or list → []. */
export function processorsOf(value: unknown): string[] | undefined {
  if (typeof value === 'string') {
    if (value.includes('{{')) return undefined;
    return value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }
  if (
    Array.isArray(value) &&
    value.every((v) => typeof v === 'string' && /^\S+$/.test(v) && !v.includes('{{'))
  )
    return value as string[];
  return undefined;
}

function checkAddress(value: unknown): string | undefined {
  const plain = checkPlainString(value);
  if (plain !== undefined) return plain;
  return /\s/.test(value as string) ? `must be a host name or IP address, not ${show(value)}` : undefined;
}

/**
 * A non-empty string, and not a Jinja template: Ansible would render `{{ … }}`, Trellis cannot,
 * and using the braces literally would send Trellis to a host that does not exist.
 */
function checkPlainString(value: unknown, emptyOk = false): string | undefined {
  if (typeof value !== 'string') return `must be a string, not ${show(value)}`;
  if (!emptyOk && value.trim() === '') return 'must not be empty';
  if (value.includes('{{'))
    return 'is a Jinja template; Trellis does not render templates, write the value itself';
  return undefined;
}

function show(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return JSON.stringify(value);
}

/** Levenshtein distance, for "did you mean" on misspelt variable names. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
