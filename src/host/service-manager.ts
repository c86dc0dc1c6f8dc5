import type { UnitStatus } from './host-status.js';

/** Whoever keeps a host's units running: systemd where it runs, else `trellis supervise`. */
export interface ServiceManager {
  kind: 'systemd' | 'supervise';
  /** Make the running set match R/units; `changed` units restart even if they are running. */
  sync(changed: string[]): Promise<void>;
  units(): Promise<UnitStatus[]>;
  /** The supervisor's pid (supervise only). */
  pid(): Promise<number | null>;
}
