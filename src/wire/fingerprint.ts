import { createHash, X509Certificate } from 'node:crypto';

/**
 * A CA's fingerprint as users pin it: `sha256:` and the hex SHA-256 of the certificate's DER,
 * the same digest `openssl x509 -fingerprint -sha256` prints (without its colons). Pinning the
 * CA rather than the orchestrator's own certificate lets the orchestrator re-issue its server
 * certificate (new advertise names, renewal) without every client having to re-pin.
 */
export function caFingerprint(caPem: string): string {
  const der = new X509Certificate(caPem).raw;
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

/** `SHA256:AB:CD…`, `ab cd…` or `sha256:abcd…` → `sha256:abcd…`; undefined when it is not 32 bytes of hex. */
export function normaliseFingerprint(text: string): string | undefined {
  const hex = text
    .trim()
    .replace(/^sha256:/i, '')
    .replace(/[:\s]/g, '')
    .toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? `sha256:${hex}` : undefined;
}
