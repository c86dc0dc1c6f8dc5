import { existsSync } from 'node:fs';
import type { HostLayout } from './layout.js';
import type { ServiceManager } from './service-manager.js';
import { superviseManager } from './supervise-manager.js';
import { systemdManager } from './systemd-manager.js';

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
