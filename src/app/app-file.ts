import { z } from 'zod';
import { TrellisError } from '../errors.js';
import { Name } from '../model/index.js';
import { type ParsedSpec, parseSpecText, readSpecFile } from '../spec-file.js';

/**
 * An app file (`kind: App`): what runs for each host owner of one application, written once and
 * deployed onto any VM (`trellis deploy --app APP --hostowner H --virtualmachine VM`). Which VM
 * and which processors is the inventory's business; this file says only what runs.
 *
 * Values may use placeholders, filled in per VM at deploy time:
 *   {address}  the VM's workload address (trellis_workload_address, default its address)
 *   {datadir}  a directory for the service's data, kept across restarts and re-deploys
 *   {vm}       the VM's inventory name
 *   {release}  the Trellis release on the VM
 *   {app}      the app's own package on the VM: the npm package holding the app file (the
 *              nearest package.json above it), copied there by deploy with its dependencies
 */

export const APP_HINT = 'see docs/app-file.md for the app file format';

const Port = z.number().int().min(1).max(65535);
const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');

export const ServiceSpec = z
  .strictObject({
    /** Any executable and its arguments, e.g. [python3, -m, http.server, '8080']. */
    command: z.array(z.string().min(1)).min(1).optional(),
    /** A Node module, run with the host's node (the app package's modules: `{app}/dist/…`). */
    module: z.string().min(1).optional(),
    args: z.array(z.string()).default([]),
    env: z.record(EnvName, z.string()).default({}),
    /** Server-role contracts this service answers, and on which port of {address}. */
    serve: z.record(Name, Port).default({}),
    /** The port users reach it on directly (only a service the app publishes, like a front door). */
    expose: z
      .strictObject({
        port: Port,
        /** Named URLs on that port, e.g. { vote: /voting/vote }, printed by deploy. */
        paths: z.record(Name, z.string().regex(/^\//, 'must start with /')).default({}),
      })
      .optional(),
  })
  .refine((s) => !(s.command && s.module), { message: 'give command or module, not both' })
  .refine((s) => !(s.args.length > 0 && !s.command && !s.module), {
    message: 'args without command or module',
  });
export type ServiceSpec = z.infer<typeof ServiceSpec>;

export const AppSpec = z.strictObject({
  apiVersion: z.literal('trellis/v1'),
  kind: z.literal('App'),
  /** The domain whose host owners these are. */
  domain: Name,
  description: z.string().optional(),
  /** Keyed by host owner. */
  services: z.record(Name, ServiceSpec),
});
export type AppSpec = z.infer<typeof AppSpec>;

export type LoadedApp = ParsedSpec<AppSpec>;

export async function loadAppFile(path: string): Promise<LoadedApp> {
  const { file, text } = await readSpecFile(path, APP_HINT);
  return parseAppText(text, file);
}

export function parseAppText(text: string, file: string): LoadedApp {
  return parseSpecText(text, file, AppSpec, APP_HINT);
}

/** The values a VM gives the placeholders. */
export interface Placeholders {
  address: string;
  datadir: string;
  vm: string;
  release: string;
  /** Where the app package is on the VM; undefined when deploy installed none. */
  app: string | undefined;
}

/** Whether any value of the service names the app package (then deploy must install it). */
export function usesAppPackage(service: ServiceSpec): boolean {
  const values = [
    ...(service.command ?? []),
    service.module ?? '',
    ...service.args,
    ...Object.values(service.env),
  ];
  return values.some((v) => v.includes('{app}'));
}

export function fill(value: string, p: Placeholders): string {
  return value
    .replaceAll('{address}', p.address)
    .replaceAll('{datadir}', p.datadir)
    .replaceAll('{vm}', p.vm)
    .replaceAll('{release}', p.release)
    .replaceAll('{app}', () => {
      if (p.app === undefined) {
        throw new TrellisError(
          'TRELLIS_ERR_VALIDATION',
          `"${value}" names {app}, but no app package is installed on the VM`,
          {
            hint: 'deploy installs the package holding the app file; put a package.json beside or above it',
          },
        );
      }
      return p.app;
    });
}
