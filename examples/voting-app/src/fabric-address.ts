import { contractEnvName, readEnvFile } from 'trellis/workload';

/**
 * Where a service finds the next one: the local listener its agent opened for a contract,
 * published as `<CONTRACT>_ADDR=host:port` (e.g. VOTING_BACKEND_ADDR). A service never dials
 * another service directly — only this address.
 *
 * The agent writes the lines to its env file and the lab passes them as environment variables;
 * when TRELLIS_ENV_FILE names the file it is read again on every (re)connect, so a listener
 * granted or moved after the service started is picked up without a restart.
 */
export type AddressSource = () => Promise<string | undefined>;

export { contractEnvName };

export function fabricAddress(contract: string, env: NodeJS.ProcessEnv = process.env): AddressSource {
  const name = contractEnvName(contract);
  return async () => {
    if (env.TRELLIS_ENV_FILE) {
      const fromFile = (await readEnvFile(env.TRELLIS_ENV_FILE))[name];
      if (fromFile) return fromFile;
    }
    return env[name] || undefined;
  };
}

/** A fixed address (tests, or wiring services directly). */
export function fixedAddress(address: string): AddressSource {
  return async () => address;
}

export interface HostPort {
  host: string;
  port: number;
}

/** `127.0.2.3:40001` or `[::1]:40001`; the error names the value and the expected form. */
export function parseHostPort(value: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port < 1 || port > 65535) {
    throw new Error(`bad address ${JSON.stringify(value)}: expected host:port, e.g. 127.0.2.3:40001`);
  }
  return { host: (m[1] ?? m[2])!, port };
}

/** Resolves a source to host:port, or throws an error naming the missing variable. */
export async function requireAddress(source: AddressSource, contract: string): Promise<HostPort> {
  const value = await source();
  if (!value) {
    throw new Error(
      `${contractEnvName(contract)} is not set: no fabric listener for contract ${contract} (yet)`,
    );
  }
  return parseHostPort(value);
}
