import {
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  X509Certificate,
} from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type * as X509 from '@peculiar/x509';
import { TrellisError } from '../../errors.js';
import { Name } from '../../model/names.js';
import { NodeKind } from '../../model/node.js';
import { nodeUri, type PeerIdentity, peerIdentity } from '../../node/identity/peer-identity.js';
import { CLOCK_SKEW_MS } from '../../wire/clock-skew.js';
import { type LeafIssuer, leafIssuer, sans, serialNumber, signLeaf } from './leaf-certificate.js';
import { NodePublicKey } from './node-key.js';

/**
 * The fabric CA: the orchestrator signs every node's certificate with it, and every mTLS
 * link trusts only it. One ECDSA P-256 key; no intermediates (a fabric is one trust domain).
 */
export interface FabricCa {
  certPem: string;
  /** PKCS#8 PEM; on disk only in ca.key, mode 0600. */
  keyPem: string;
  /** KeyObject for signing */
  key: KeyObject;
}

export interface NodeCertificateRequest {
  /** The node's own P-256 public key (SPKI PEM, or as registration already parsed it); the node keeps the private key. */
  publicKey: string | NodePublicKey;
  name: string;
  kind: NodeKind;
  domain: string;
  /** Addresses the node registered; the IP ones become IP SANs, the rest are ignored. */
  addresses: readonly string[];
  /** Default 7 days. */
  validForMs?: number;
  /** Overrides for tests (e.g. an already-expired certificate). */
  notBefore?: Date;
  notAfter?: Date;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const CA_VALIDITY_MS = 3652 * DAY_MS;
const NODE_VALIDITY_MS = 7 * DAY_MS;
const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNATURE = { name: 'ECDSA', hash: 'SHA-256' } as const;

export async function loadOrCreateCa(dir: string, fabricName?: string): Promise<FabricCa> {
  const certPath = join(dir, 'ca.crt');
  const keyPath = join(dir, 'ca.key');
  const [certPem, keyPem] = await Promise.all([readIfExists(certPath), readIfExists(keyPath)]);
  if (certPem !== undefined && keyPem !== undefined) return checkPair(certPem, keyPem, dir);
  if (certPem !== undefined || keyPem !== undefined) {
    // Never replace half a CA silently: a new key would orphan every certificate already issued.
    throw new TrellisError('TRELLIS_ERR_UNPROCESSABLE', `${dir} has only one of ca.crt and ca.key`, {
      hint: 'restore the missing file, or delete both to create a new fabric CA (all nodes must re-register)',
    });
  }
  const ca = await createCaInMemory(fabricName);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // 'wx' fails if another process created the CA meanwhile; the key is written first so a
  // crash in between leaves the "only one of" error above rather than a cert without its key.
  await writeFile(keyPath, ca.keyPem, { mode: 0o600, flag: 'wx' });
  // 0600 like everything in the data dir: the CA certificate is public, but it is served by
  // GET /api/v1/ca, not read from here by anyone else.
  await writeFile(certPath, ca.certPem, { mode: 0o600, flag: 'wx' });
  return ca;
}

export async function createCaInMemory(fabricName?: string): Promise<FabricCa> {
  const lib = await x509();
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const keys = {
    privateKey: await importSigningKey(privateKey),
    publicKey: await importPublicKey(publicKey),
  };
  // The random id tells apart CAs of different fabrics (or a re-created one) in tooling and logs.
  const subject: X509.JsonName = [{ CN: [`Trellis fabric CA ${randomBytes(6).toString('hex')}`] }];
  if (fabricName) subject.unshift({ O: [fabricName] });
  const now = Date.now();
  const cert = await lib.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject,
    issuer: subject,
    notBefore: new Date(now - CLOCK_SKEW_MS),
    notAfter: new Date(now + CA_VALIDITY_MS),
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    signingAlgorithm: SIGNATURE,
    extensions: [
      // pathLength 0: the CA signs leaves only, never another CA.
      new lib.BasicConstraintsExtension(true, 0, true),
      new lib.KeyUsagesExtension(lib.KeyUsageFlags.keyCertSign | lib.KeyUsageFlags.cRLSign, true),
      await lib.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem, key: privateKey };
}

export async function issueNodeCertificate(
  ca: FabricCa,
  req: NodeCertificateRequest,
): Promise<{ certPem: string; notAfter: string }> {
  // The URI SAN is the node's identity; refusing odd names keeps it unambiguous to parse.
  for (const field of ['name', 'domain'] as const) {
    if (!Name.safeParse(req[field]).success) {
      throw new TrellisError('TRELLIS_ERR_VALIDATION', `${field} "${req[field]}" is not a valid name`, {
        field,
      });
    }
  }
  if (!NodeKind.safeParse(req.kind).success) {
    throw new TrellisError('TRELLIS_ERR_VALIDATION', `kind "${req.kind}" is not processor or workload`, {
      field: 'kind',
    });
  }
  const by = leafIssuerFor(ca);
  const key = typeof req.publicKey === 'string' ? NodePublicKey.parse(req.publicKey) : req.publicKey;
  const now = Date.now();
  const notBefore = req.notBefore ?? new Date(now - CLOCK_SKEW_MS);
  let notAfter = req.notAfter ?? new Date(now + (req.validForMs ?? NODE_VALIDITY_MS));
  // A leaf cannot usefully outlive its CA; clamping makes the returned notAfter honest.
  if (notAfter > by.notAfter) notAfter = by.notAfter;
  const names = [sans.uri(nodeUri(req))];
  for (const address of req.addresses) if (isIP(address)) names.push(sans.ip(address));
  const cert = signLeaf(by, {
    commonName: req.name,
    publicKey: new Uint8Array(key.der),
    sans: names,
    use: 'node',
    notBefore,
    notAfter,
  });
  return { certPem: cert.certPem, notAfter: cert.notAfter.toISOString() };
}

// Parsing the CA certificate and hashing its key id costs more than signing; do it once per CA.
const issuers = new WeakMap<FabricCa, LeafIssuer>();
export function leafIssuerFor(ca: FabricCa): LeafIssuer {
  let by = issuers.get(ca);
  if (!by) {
    by = leafIssuer(ca.certPem, ca.key);
    issuers.set(ca, by);
  }
  return by;
}

// ---------------------------------------------------------------------------------------------

/**
 * @peculiar/x509 resolves its algorithms through tsyringe, which refuses to load without a
 * Reflect metadata API. Its build emits no decorator metadata, so three functions suffice; this
 * WeakMap shim stands in for the reflect-metadata package and is installed only when no real
 * polyfill is present. That is also why x509 is imported lazily: the shim must run first.
 */
function ensureReflectMetadata(): void {
  if ('getMetadata' in Reflect) return;
  const store = new WeakMap<object, Map<PropertyKey | undefined, Map<unknown, unknown>>>();
  const own = (target: object, prop: PropertyKey | undefined, create: boolean) => {
    let byProp = store.get(target);
    if (!byProp && create) {
      byProp = new Map();
      store.set(target, byProp);
    }
    let byKey = byProp?.get(prop);
    if (!byKey && byProp && create) {
      byKey = new Map();
      byProp.set(prop, byKey);
    }
    return byKey;
  };
  Object.assign(Reflect, {
    defineMetadata: (key: unknown, value: unknown, target: object, prop?: PropertyKey) =>
      void own(target, prop, true)!.set(key, value),
    getOwnMetadata: (key: unknown, target: object, prop?: PropertyKey) => own(target, prop, false)?.get(key),
    getMetadata: (key: unknown, target: object, prop?: PropertyKey) => {
      for (let o: object | null = target; o !== null; o = Object.getPrototypeOf(o)) {
        const map = own(o, prop, false);
        if (map?.has(key)) return map.get(key);
      }
      return undefined;
    },
  });
}

let lib: Promise<typeof X509> | undefined;
export function x509(): Promise<typeof X509> {
  lib ??= (async () => {
    ensureReflectMetadata();
    const m = await import('@peculiar/x509');
    m.cryptoProvider.set(globalThis.crypto);
    return m;
  })();
  return lib;
}

function checkPair(certPem: string, keyPem: string, dir: string): FabricCa {
  // A cut-short file otherwise fails as OpenSSL's `DECODER routines::unsupported`, naming nothing.
  const damaged = (file: string, what: string, err: unknown) =>
    new TrellisError(
      'TRELLIS_ERR_UNAVAILABLE',
      `${join(dir, file)} is damaged: not ${what} (${(err as Error).message})`,
      {
        hint: 'restore it from backup (trellis orchestrator --restore BACKUP --data-dir NEW_DIR); a new CA would orphan every node certificate',
      },
    );
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw damaged('ca.key', 'a PEM private key', err);
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (err) {
    throw damaged('ca.crt', 'a PEM certificate', err);
  }
  if (!cert.checkPrivateKey(key)) {
    throw new TrellisError('TRELLIS_ERR_UNPROCESSABLE', `${dir}/ca.key does not belong to ${dir}/ca.crt`, {
      hint: 'restore the matching pair from backup',
    });
  }
  return { certPem, keyPem, key };
}

function importSigningKey(key: KeyObject): Promise<CryptoKey> {
  const der = new Uint8Array(key.export({ type: 'pkcs8', format: 'der' }));
  return globalThis.crypto.subtle.importKey('pkcs8', der, EC_KEY, false, ['sign']);
}

function importPublicKey(key: KeyObject): Promise<CryptoKey> {
  const der = new Uint8Array(key.export({ type: 'spki', format: 'der' }));
  return globalThis.crypto.subtle.importKey('spki', der, EC_KEY, true, ['verify']);
}

/** A serial number as @peculiar/x509 takes it (hex). */
export function randomSerial(): string {
  return Buffer.from(serialNumber()).toString('hex');
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export { nodeUri, type PeerIdentity, peerIdentity };
