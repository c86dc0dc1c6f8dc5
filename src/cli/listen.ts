import { TrellisError } from '../errors.js';

/** `127.0.0.1:7420`, `[::1]:7420` or `:7420` (loopback). */
export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535) {
    throw new TrellisError('TRELLIS_ERR_VALIDATION', `--listen "${s}" is not HOST:PORT`, {
      hint: 'e.g. 127.0.0.1:7420',
    });
  }
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}
