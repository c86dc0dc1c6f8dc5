import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { TrellisError } from '../../errors.js';

interface InventoryFlags {
  from: 'aws' | 'gcp' | 'azure';
  file: string;
  private?: boolean;
  user?: string;
}

/**
 * `trellis inventory --from aws|gcp|azure`: seed 003's pipe, a cloud CLI's JSON in, an Ansible
 * YAML inventory out (stdout), warnings about left-out instances on stderr.
 */
export function registerInventory(program: Command): void {
  program
    .command('inventory')
    .description("make an Ansible YAML inventory from a cloud CLI's JSON list of instances")
    .addOption(
      new Option('--from <cloud>', 'which CLI made the JSON')
        .choices(['aws', 'gcp', 'azure'])
        .makeOptionMandatory(),
    )
    .option('-f, --file <file>', 'the JSON file; - is stdin', '-')
    .option('--private', 'use private addresses as ansible_host (for running from inside the network)')
    .option('--user <name>', 'ansible_user for every host')
    .addHelpText(
      'after',
      `
Running instances only; hostname from the trellis-name tag, else the Name tag (AWS) / name,
else the instance id. The trellis-role tag (GCP: label) puts a host in orchestrator, processors
or vms (the default); trellis-processors (GCP: metadata) sets trellis_processors.
See docs/inventory.md.

Examples:
  aws ec2 describe-instances --output json | trellis inventory --from aws > inventory.yaml
  gcloud compute instances list --format=json | trellis inventory --from gcp --user debian > inventory.yaml
  az vm list -d -o json > vms.json && trellis inventory --from azure -f vms.json --private`,
    )
    .action(async (opts: InventoryFlags) => {
      if (opts.user !== undefined && !/^[a-z_][a-z0-9_.-]{0,31}$/i.test(opts.user))
        throw new TrellisError('TRELLIS_ERR_VALIDATION', `--user "${opts.user}" is not a user name`);
      const { convertCloudJson } = await import('../../inventory/convert.js');
      const source = opts.file === '-' ? 'stdin' : opts.file;
      const text = await readInput(opts.file, opts.from);
      const { yaml, warnings } = convertCloudJson(opts.from, text, source, {
        private: opts.private === true,
        ...(opts.user !== undefined && { user: opts.user }),
      });
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
      process.stdout.write(yaml);
    });
}

async function readInput(file: string, cloud: string): Promise<string> {
  if (file !== '-') {
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new TrellisError(
        'TRELLIS_ERR_VALIDATION',
        `-f ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message}`,
        { hint: `give the path of the JSON file (--from ${cloud}), or - to read stdin` },
      );
    }
  }
  if (process.stdin.isTTY)
    throw new TrellisError(
      'TRELLIS_ERR_VALIDATION',
      `no input: pipe in the JSON (--from ${cloud}) or give -f FILE`,
      {
        hint: 'e.g. aws ec2 describe-instances --output json | trellis inventory --from aws > inventory.yaml',
      },
    );
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
