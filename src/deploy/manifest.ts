import { chmod, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { Name } from '../model/index.js';

/**
 * What `trellis deploy` installs on a VM: one host owner's service and the agent that attaches
 * it, written as `deployment.json` in the VM's directory next to the host owner's password
 * (0600). Everything needed to (re)start the pair is in these files, so whoever supervises the
 * VM — the lab's supervisor today, systemd over SSH later — needs nothing else.
 */
export const Deployment = z.strictObject({
  apiVersion: z.literal('trellis/v1'),
  kind: z.literal('Deployment'),
  hostOwner: Name,
  domain: Name,
  vm: Name,
  /** The VM's address: the agent's listeners and the service bind here. */
  address: z.string().min(1),
  processors: z.array(Name).min(1),
  orchestrator: z.string().url(),
  /** The orchestrator CA the agent pins (its fingerprint), as on a real host. */
  caFingerprint: z.string().optional(),
  /** `CONTRACT=HOST:PORT`, addresses resolved. */
  serve: z.array(z.string()),
  workload: z
    .strictObject({
      /** Absolute path of the service's Node module. */
      module: z.string().min(1),
      args: z.array(z.string()),
      /** Resolved values (no `{address}` left). */
      env: z.record(z.string(), z.string()),
      cwd: z.string().min(1),
    })
    .nullable(),
  /** The port the service publishes on the VM's address, if any. */
  exposedPort: z.number().int().nullable(),
  installedAt: z.string(),
});
export type Deployment = z.infer<typeof Deployment>;

/** The files of one VM's installation. */
export interface InstallPaths {
  manifest: string;
  password: string;
}

/** undefined when nothing is installed; a damaged manifest counts as nothing (deploy rewrites it). */
export async function readDeployment(paths: InstallPaths): Promise<Deployment | undefined> {
  let text: string;
  try {
    text = await readFile(paths.manifest, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const parsed = Deployment.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The password first, the manifest last (renamed into place): a manifest means a whole install. */
export async function writeDeployment(paths: InstallPaths, d: Deployment, password: string): Promise<void> {
  await writeFile(paths.password, `${password}\n`, { mode: 0o600 });
  await chmod(paths.password, 0o600);
  const tmp = `${paths.manifest}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(d, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, paths.manifest);
}

export async function removeDeployment(paths: InstallPaths): Promise<void> {
  await rm(paths.manifest, { force: true });
  await rm(paths.password, { force: true });
}
