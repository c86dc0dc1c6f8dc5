/**
 * Versioned schema migrations, applied in order at start. Never edit a released migration:
 * add a new one. Each runs in its own transaction together with its schema_migrations row.
 */
export const MIGRATIONS: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'init',
    sql: `
CREATE TABLE meta (key text PRIMARY KEY, value jsonb NOT NULL);

CREATE TABLE domains (
  name text PRIMARY KEY,
  description text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE admin_users (
  name text PRIMARY KEY,
  role text NOT NULL CHECK (role IN ('systemAdmin', 'domainAdmin')),
  domain text REFERENCES domains(name),
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((role = 'domainAdmin') = (domain IS NOT NULL))
);

CREATE TABLE resource_users (
  domain text NOT NULL REFERENCES domains(name),
  name text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('hostOwner', 'switchOwner')),
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (domain, name)
);

CREATE TABLE contracts (
  id bigint PRIMARY KEY CHECK (id BETWEEN 1 AND 4294967295),
  domain text NOT NULL REFERENCES domains(name),
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  mode text NOT NULL DEFAULT 'enforce' CHECK (mode IN ('enforce', 'audit')),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (domain, name)
);

CREATE TABLE roles (
  contract_id bigint NOT NULL REFERENCES contracts(id) ON DELETE CASCADE,
  role text NOT NULL CHECK (role IN ('client', 'server')),
  users jsonb NOT NULL DEFAULT '[]',
  path_params jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (contract_id, role)
);

CREATE TABLE processors (
  name text PRIMARY KEY,
  zone text NOT NULL,
  description text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE links (
  name text PRIMARY KEY,
  a text NOT NULL REFERENCES processors(name),
  b text NOT NULL REFERENCES processors(name),
  cost integer NOT NULL CHECK (cost >= 1),
  status text NOT NULL CHECK (status IN ('up', 'down'))
);

CREATE TABLE nodes (
  name text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('processor', 'workload')),
  node_id text NOT NULL UNIQUE,
  owner text NOT NULL,
  domain text NOT NULL,
  addresses jsonb NOT NULL,
  processors jsonb NOT NULL DEFAULT '[]',
  public_key text NOT NULL,
  status text NOT NULL CHECK (status IN ('connected', 'disconnected')),
  last_seen timestamptz NOT NULL,
  registered_at timestamptz NOT NULL
);

CREATE TABLE sessions (
  token_hash text PRIMARY KEY,
  subject text NOT NULL,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor text NOT NULL,
  action text NOT NULL,
  kind text NOT NULL,
  name text NOT NULL,
  domain text,
  before jsonb,
  after jsonb
);
CREATE INDEX audit_domain ON audit (domain, id);
`,
  },
  {
    version: 2,
    name: 'data-plane',
    sql: `
ALTER TABLE contracts ADD COLUMN proxy_protocol boolean NOT NULL DEFAULT false;
-- The policy epoch of the contract's last change: tickets issued before it are refused.
ALTER TABLE contracts ADD COLUMN changed_epoch bigint NOT NULL DEFAULT 0;
-- Where the node's data plane listens (processor port, or the agent's inbound port).
ALTER TABLE nodes ADD COLUMN endpoint text NOT NULL DEFAULT '';

CREATE TABLE denials (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL,
  reported_by text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('deny', 'would-deny')),
  domain text NOT NULL,
  contract text NOT NULL,
  contract_id bigint NOT NULL,
  role text NOT NULL,
  src text,
  dst text,
  reason text NOT NULL
);
CREATE INDEX denials_domain ON denials (domain, id);
`,
  },
  {
    version: 3,
    name: 'node-cert-not-after',
    sql: `
-- When the node's current certificate expires: set at registration and at every renewal.
ALTER TABLE nodes ADD COLUMN cert_not_after timestamptz;
`,
  },
  {
    version: 4,
    name: 'enrolment-tokens',
    sql: `
-- One-off credentials a new node enrols with instead of its owner's password (only the
-- secret's SHA-256 is kept). uses counts successful enrolments; a token is spent at max_uses.
CREATE TABLE enrolment_tokens (
  id text PRIMARY KEY,
  secret_hash text NOT NULL,
  domain text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('hostOwner', 'switchOwner')),
  owner text NOT NULL,
  vm text,
  uses integer NOT NULL DEFAULT 0,
  max_uses integer NOT NULL,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by text NOT NULL,
  revoked_at timestamptz
);
`,
  },
  {
    version: 5,
    name: 'store-manifest',
    sql: `
-- How many rows each table holds, kept by triggers in the same transaction as every insert and
-- delete. The integrity check at start compares it with what the tables really hold: a table
-- file truncated or cut short (which Postgres reads as fewer rows, without an error) shows up
-- as a count below the manifest's. It lives in its own file, so damage to one table leaves it.
CREATE TABLE store_manifest (
  table_name text PRIMARY KEY,
  row_count bigint NOT NULL
);

-- Statement-level triggers with transition tables: one UPDATE per statement, however many rows
-- it wrote (a row-level trigger made a 50,000-row insert take minutes: every row's UPDATE of the
-- same manifest row left one more row version for the next to step over).
CREATE FUNCTION store_manifest_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE store_manifest SET row_count = row_count + (SELECT count(*) FROM added)
   WHERE table_name = TG_TABLE_NAME;
  RETURN NULL;
END
$$;

CREATE FUNCTION store_manifest_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE store_manifest SET row_count = row_count - (SELECT count(*) FROM removed)
   WHERE table_name = TG_TABLE_NAME;
  RETURN NULL;
END
$$;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['meta', 'domains', 'admin_users', 'resource_users', 'contracts', 'roles',
    'processors', 'links', 'nodes', 'sessions', 'audit', 'denials', 'enrolment_tokens']
  LOOP
    EXECUTE format('INSERT INTO store_manifest (table_name, row_count) SELECT %L, count(*) FROM %I', t, t);
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION store_manifest_added()',
      t || '_manifest_added', t);
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION store_manifest_removed()',
      t || '_manifest_removed', t);
  END LOOP;
END
$$;
`,
  },
  {
    version: 6,
    name: 'node-status-unreachable',
    sql: `
-- unreachable: the node holds its event stream open but stopped answering its beats
-- (SIGSTOP, a wedged process); paths avoid it until it answers again.
ALTER TABLE nodes DROP CONSTRAINT nodes_status_check;
ALTER TABLE nodes ADD CONSTRAINT nodes_status_check CHECK (status IN ('connected', 'disconnected', 'unreachable'));
`,
  },
  {
    version: 7,
    name: 'denial-codes',
    sql: `
-- The refusal's code (src/deny-codes.ts), as the node reported it. NULL: stored before codes
-- existed; listed as TRELLIS_DENY_NO_CODE with its reason text (no text is classified again).
ALTER TABLE denials ADD COLUMN code text;
`,
  },
];
