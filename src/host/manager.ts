import { existsSync } from 'node:fs';
import type { UnitStatus } from './host-status.js';
import type { HostLayout } from './layout.js';
import { superviseManager } from './supervise-manager.js';
import { systemdManager } from './systemd-manager.js';

/** Whoever keeps a host's units running: systemd where it runs, else `trellis supervise`. */
export interface ServiceManager {
  kind: 'systemd' | 'supervise';
  /** Make the running set match R/units; `changed` units restart even if they are running. */
  sync(changed: string[]): Promise<void>;
  units(): Promise<UnitStatus[]>;
  /** The supervisor's pid (supervise only). */
  pid(): Promise<number | null>;
}

/**
 * systemd when it is PID 1 (`/run/systemd/system` exists, as sd_booted() checks);
 * TRELLIS_SERVICE_MANAGER=supervise forces the fallback (containers with a systemd that
 * does not manage them).
 */
export function serviceManager(layout: HostLayout): ServiceManager {
  const forced = process.env.TRELLIS_SERVICE_MANAGER;
  if (forced === 'supervise') return superviseManager(layout);
  if (forced === 'systemd' || existsSync('/run/systemd/system')) return systemdManager(layout);
  return superviseManager(layout);
}
