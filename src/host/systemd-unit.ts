import { createHash } from 'node:crypto';
import type { Unit } from './unit.js';

/**
 * A unit as a systemd service file. Pure. Restart=always with the agent's env file as an
 * optional EnvironmentFile=, as the issue asks; the unit's log is appended to the same
 * R/log/NAME.log that `trellis supervise` writes, so operators look in one place either way.
 */

/** `trellis-NAME`, plus a short hash of the root when it is not the default one (several roots). */
export function systemdName(root: string, unit: string): string {
  if (root === '/opt/trellis') return `trellis-${unit}`;
  return `trellis-${unit}-${createHash('sha256').update(root).digest('hex').slice(0, 6)}`;
}

/** systemd's quoting of one ExecStart= word: double quotes, `\\` and `"` escaped, `%` and `$` doubled. */
export function systemdWord(w: string): string {
  return `"${w.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('%', '%%').replaceAll('$', '$$$$')}"`;
}

export function renderSystemdUnit(root: string, u: Unit, hash: string, logFile: string): string {
  const after = u.after.map((a) => `${systemdName(root, a)}.service`);
  const lines = [
    `# Written by trellis host apply; trellis-root: ${root}; trellis-hash: ${hash}`,
    '[Unit]',
    `Description=Trellis ${u.kind} ${u.name}: ${u.description.replaceAll('\n', ' ')}`,
    'Wants=network-online.target',
    `After=network-online.target${after.map((a) => ` ${a}`).join('')}`,
    ...(after.length > 0 ? [`Requires=${after.join(' ')}`] : []),
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${u.exec.map(systemdWord).join(' ')}`,
    `WorkingDirectory=${u.cwd}`,
    ...Object.entries({ ...u.env, TRELLIS_HOST_ROOT: root }).map(
      ([k, v]) => `Environment=${systemdWord(`${k}=${v}`)}`,
    ),
    ...u.envFiles.map((f) => `EnvironmentFile=-${f}`),
    'Restart=always',
    'RestartSec=1',
    'UMask=0077',
    `StandardOutput=append:${logFile}`,
    `StandardError=append:${logFile}`,
    'KillMode=control-group',
    'TimeoutStopSec=10',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ];
  return lines.join('\n');
}
