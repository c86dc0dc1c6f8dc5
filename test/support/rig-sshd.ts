import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from './rig-netns.js';

/**
 * A real OpenSSH server per rig host, as a cloud VM would run one: its own host key made for
 * this run, root logins with the rig's key only (no password, no keyboard-interactive, no PAM),
 * listening on the host's address alone. The files live in the rig's dir, never in /etc/ssh.
 */

export const SSHD = '/usr/sbin/sshd';
export const SFTP_SERVER = '/usr/lib/openssh/sftp-server';

export interface SshdFiles {
  config: string;
  hostKey: string;
  log: string;
  pidFile: string;
}

/** An ed25519 key pair without passphrase; ssh-keygen writes the private half 0600. */
export async function makeKey(file: string, comment: string): Promise<string> {
  const r = await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
  if (r.code !== 0) throw new Error(`ssh-keygen for ${file} failed: ${r.stderr.trim()}`);
  return (await readFile(`${file}.pub`, 'utf8')).trim();
}

/** The sshd_config text (pure). StrictModes is off because the rig's files sit under /tmp (1777). */
export function sshdConfig(o: {
  address: string;
  hostKey: string;
  pidFile: string;
  authorizedKeys: string;
}): string {
  return [
    `ListenAddress ${o.address}:22`,
    `HostKey ${o.hostKey}`,
    `PidFile ${o.pidFile}`,
    `AuthorizedKeysFile ${o.authorizedKeys}`,
    'AuthenticationMethods publickey',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitEmptyPasswords no',
    'PermitRootLogin prohibit-password',
    'UsePAM no',
    'StrictModes no',
    'PermitUserEnvironment no',
    'X11Forwarding no',
    'UseDNS no',
    'LogLevel VERBOSE',
    // Ansible and scp copy files over SFTP.
    `Subsystem sftp ${SFTP_SERVER}`,
    '',
  ].join('\n');
}

/** Host key, config and the paths of log and pid file under `dir` (this host's sshd dir). */
export async function prepareSshd(
  dir: string,
  address: string,
  authorizedKeys: string,
): Promise<SshdFiles & { publicKey: string }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  const publicKey = await makeKey(hostKey, `rig-host-${address}`);
  const files = {
    config: join(dir, 'sshd_config'),
    hostKey,
    log: join(dir, 'sshd.log'),
    pidFile: join(dir, 'sshd.pid'),
  };
  await writeFile(files.config, sshdConfig({ address, hostKey, pidFile: files.pidFile, authorizedKeys }), {
    mode: 0o600,
  });
  // Debian's sshd insists on its privilege-separation directory (systemd makes it at boot).
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const t = await run(SSHD, ['-t', '-f', files.config]);
  if (t.code !== 0) throw new Error(`sshd rejects ${files.config}: ${t.stderr.trim()}`);
  return { ...files, publicKey };
}

/** The argv (run through `ip netns exec`) of a foreground sshd logging to its file. */
export function sshdArgv(f: SshdFiles): string[] {
  return [SSHD, '-D', '-f', f.config, '-E', f.log];
}

/** The ssh client options every rig connection uses: the rig's key only, its known_hosts only. */
export function sshOptions(key: string, knownHosts: string): string[] {
  return [
    '-F',
    '/dev/null',
    '-i',
    key,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'ConnectTimeout=5',
  ];
}

/**
 * Waits (bounded retries) until `probe` — an ssh from the bastion running `node --version` —
 * succeeds, and returns its output; throws with the last error and the sshd log otherwise.
 */
export async function waitForSsh(
  what: string,
  probe: () => Promise<{ code: number; stdout: string; stderr: string }>,
  log: string,
  attempts = 100,
): Promise<string> {
  let last = '';
  for (let i = 0; i < attempts; i++) {
    const r = await probe();
    if (r.code === 0) return r.stdout.trim();
    last = r.stderr.trim();
    await sleep(100);
  }
  const tail = await readFile(log, 'utf8').catch(() => '(no log)');
  throw new Error(`ssh to ${what} never worked: ${last}\nsshd log:\n${tail.slice(-2000)}`);
}
