import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { TrellisError } from '../errors.js';
import { caFingerprint } from '../wire/fingerprint.js';
import type { FabricCa } from './pki/ca.js';
import type { Db, Sql } from './store/db.js';
import { RESTORE_HINT } from './store/integrity.js';
import { getMeta, setMeta } from './store/repos/meta.js';
import { KEYRING_FILE, type TicketKeyring } from './tickets/keyring.js';

/**
 * The store remembers which fabric CA and which ticket keys it works with (fingerprints only,
 * in meta). The key files live beside the store, not in it, so each can be lost or damaged on
 * its own; without this record a missing ticket.key or CA was silently replaced by a new one,
 * and every node certificate or ticket stopped verifying.
 */
const CA_RECORD = 'caFingerprint';
const TICKET_RECORD = 'ticketKeyIds';

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

/** Before the CA and ticket keys load (which would create missing ones): refuses to replace recorded keys. */
export async function expectKeyFiles(db: Db, dataDir: string): Promise<void> {
  const ca = await getMeta<string>(db, CA_RECORD);
  if (ca !== undefined) {
    for (const f of ['ca.crt', 'ca.key']) {
      if (!(await exists(join(dataDir, f)))) {
        throw new TrellisError(
          'TRELLIS_ERR_UNAVAILABLE',
          `${join(dataDir, f)} is missing, but the store works with fabric CA ${ca}: a new CA would orphan every node certificate`,
          { hint: RESTORE_HINT },
        );
      }
    }
  }
  const ids = await getMeta<string[]>(db, TICKET_RECORD);
  if (
    ids !== undefined &&
    !(await exists(join(dataDir, KEYRING_FILE))) &&
    !(await exists(join(dataDir, 'ticket.key')))
  ) {
    throw new TrellisError(
      'TRELLIS_ERR_UNAVAILABLE',
      `${join(dataDir, 'ticket.key')} is missing, but the store works with ticket key ${ids.join(', ')}: a new key would make every node refuse every ticket`,
      { hint: RESTORE_HINT },
    );
  }
}

/** After they loaded: they must be the recorded ones; the first start (or an older store) records them. */
export async function checkKeyRecords(
  db: Db,
  dataDir: string,
  ca: FabricCa,
  ring: TicketKeyring,
): Promise<void> {
  const fp = caFingerprint(ca.certPem);
  const recordedCa = await getMeta<string>(db, CA_RECORD);
  if (recordedCa !== undefined && recordedCa !== fp) {
    throw new TrellisError(
      'TRELLIS_ERR_UNAVAILABLE',
      `${join(dataDir, 'ca.crt')} is fabric CA ${fp}, but the store works with ${recordedCa}: the nodes' certificates are not from this CA`,
      { hint: `put back the data dir's own ca.crt and ca.key; ${RESTORE_HINT}` },
    );
  }
  const ids = ring.describe().map((k) => k.id);
  const recorded = await getMeta<string[]>(db, TICKET_RECORD);
  // Keys rotate and retire, so the record is the ring at its last change: one key in common
  // shows it is the same ring, none that the file was replaced.
  if (recorded !== undefined && !ids.some((id) => recorded.includes(id))) {
    const file = (await exists(join(dataDir, KEYRING_FILE))) ? KEYRING_FILE : 'ticket.key';
    throw new TrellisError(
      'TRELLIS_ERR_UNAVAILABLE',
      `${join(dataDir, file)} holds ticket key ${ids.join(', ')}, but the store works with ${recorded.join(', ')}: every node would refuse every ticket`,
      { hint: `put back the data dir's own ${file}; ${RESTORE_HINT}` },
    );
  }
  if (recordedCa === undefined || recorded === undefined || recorded.join() !== ids.join()) {
    await db.transaction(async (sql) => {
      await setMeta(sql, CA_RECORD, fp);
      await recordTicketKeys(sql, ring);
    });
  }
}

/** After a rotation, in the same transaction as its audit record. */
export async function recordTicketKeys(sql: Sql, ring: TicketKeyring): Promise<void> {
  await setMeta(
    sql,
    TICKET_RECORD,
    ring.describe().map((k) => k.id),
  );
}
