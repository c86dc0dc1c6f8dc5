import { type Command, Help } from 'commander';

/** One example of a command's help: what it does, then the command line. */
export type Example = [what: string, line: string];

/**
 * The `Examples:` section of every command's --help, as kubectl's help has one, by command
 * path. Kept as one table so a command added without examples is plain to see: the help
 * test walks the command tree and fails on a command missing here.
 */
export const EXAMPLES: Record<string, Example[]> = {
  '': [
    ['log in, then look around', 'trellis login --orchestrator https://127.0.0.1:8443 --username admin'],
    ['list the processors', 'trellis get processors'],
  ],
  orchestrator: [
    [
      'run it on loopback with its store in ./data',
      'TRELLIS_ADMIN_PASSWORD=… trellis orchestrator --listen 127.0.0.1:8443 --data-dir ./data',
    ],
    [
      'restore a backup into an empty data directory',
      'trellis orchestrator --restore backup.json --data-dir ./data',
    ],
  ],
  login: [
    [
      'log in as the systemAdmin, pinning the CA first',
      'trellis login --orchestrator https://127.0.0.1:8443 --username admin --ca-fingerprint sha256:…',
    ],
    [
      'a domainAdmin, password from stdin',
      'trellis login --orchestrator URL --username olga --password-stdin < pw',
    ],
  ],
  logout: [['revoke this login and forget it', 'trellis logout']],
  'revoke-sessions': [
    ['end every session of an admin user', 'trellis revoke-sessions olga'],
    ["end every session of a domain's host owner", 'trellis revoke-sessions service1 --domain voting-app'],
  ],
  get: [
    ['every contract of a domain', 'trellis get contracts --domain voting-app'],
    ['one node, asked of the server by name', 'trellis get node aws-11 -o yaml'],
    ['more columns (addresses, processors, endpoint)', 'trellis get nodes -o wide'],
    ['follow node status changes until Ctrl-C', 'trellis get nodes --watch'],
    ['the refusals of the last 15 minutes, grouped', 'trellis get denials --since 15m --group'],
    ["a processor's table 50, as it changes", 'trellis get flows aws-p1 --watch'],
    ['the service graph of a domain', 'trellis get domain-topology voting-app -o json'],
  ],
  describe: [
    ['a contract: its ID, mode, roles and path params', 'trellis describe contract voting-frontend'],
  ],
  delete: [
    ['a link', 'trellis delete link aws-p1--gcp-p1'],
    ['a contract of one domain', 'trellis delete contract voting-frontend --domain voting-app'],
  ],
  edit: [
    [
      'route a contract through aws-p2',
      'trellis edit role voting-frontend server --path-params \'{"transit":"aws-p2"}\'',
    ],
  ],
  'edit role': [
    [
      'route the server role through aws-p2',
      'trellis edit role voting-frontend server --path-params \'{"transit":"aws-p2"}\'',
    ],
    ["set the client role's User Access List", 'trellis edit role voting-frontend client --users http-proxy'],
  ],
  'edit contract': [
    ['let a contract only report what it would refuse', 'trellis edit contract voting-frontend --mode audit'],
  ],
  path: [
    ['the cheapest path between two processors', 'trellis path --from aws-p1 --to gcp-p1'],
    [
      "the path a contract's flows take",
      'trellis path --from aws-p1 --to gcp-p1 --contract voting-frontend -o json',
    ],
  ],
  apply: [
    ['see what a fabric file would change', 'trellis apply -f fabric.yaml --dry-run'],
    ['make the fabric match it, deleting what it leaves out', 'trellis apply -f fabric.yaml --prune'],
  ],
  processor: [
    [
      'run a processor enrolled with a one-use token',
      'trellis processor --name aws-p1 --listen 10.0.1.5:7400 --token-file token',
    ],
  ],
  agent: [
    [
      "run a VM's agent, serving a contract",
      'trellis agent --token-file token --vm aws-11 --address 10.0.1.11 --processors aws-p1 --serve voting-frontend=127.0.0.1:8080',
    ],
  ],
  flows: [
    ["a processor's table 30 and table 50", 'trellis flows aws-p1'],
    ['the first entries only', 'trellis flows aws-p1 | head'],
  ],
  resolve: [["where this VM's agent listens for a contract", 'trellis resolve voting-frontend.voting-app']],
  lab: [['start the lab, then see it', 'trellis lab up -f lab.yaml && trellis lab status']],
  'lab up': [['start the lab in the background', 'trellis lab up -f lab.yaml --detach']],
  'lab down': [['stop the lab', 'trellis lab down']],
  'lab status': [["the lab's addresses and URLs as JSON", 'trellis lab status -o json']],
  deploy: [
    [
      'deploy onto a VM of the running lab',
      'trellis deploy --hostowner=voting-frontend --virtualmachine=aws-11',
    ],
    [
      'deploy onto a host of an inventory',
      'trellis deploy --inventory hosts.yaml --app app.yaml --hostowner=voting-frontend --virtualmachine=aws-11',
    ],
  ],
  purge: [
    ['purge one domain of the running lab', 'trellis purge --domain voting-app'],
    ['purge one VM of an inventory', 'trellis purge --inventory hosts.yaml --virtualmachine aws-11'],
  ],
  ca: [['the fingerprint to pin', 'trellis ca fingerprint --data-dir ./data']],
  'ca fingerprint': [
    ['the fingerprint of the CA in a data directory', 'trellis ca fingerprint --data-dir ./data'],
  ],
  'ca rotate-ticket-key': [['publish a new ticket key', 'trellis ca rotate-ticket-key -o json']],
  token: [['a one-use token for a VM', 'trellis token create --hostowner voting-frontend --vm aws-11']],
  'token create': [
    [
      'a one-use token for a VM, valid one hour',
      'trellis token create --hostowner voting-frontend --vm aws-11 --ttl 1h',
    ],
    ['a token for a processor', 'trellis token create --switchowner aws-switch --domain voting-app'],
  ],
  node: [['free the name of a rebuilt VM', 'trellis node reset aws-11']],
  'node reset': [['free the name of a rebuilt VM', 'trellis node reset aws-11']],
  host: [['what this host runs', 'trellis host status --root /opt/trellis']],
  'host apply': [
    ['install the units of a HostApply document', 'trellis host apply -f units.yaml --root /opt/trellis'],
  ],
  'host attach': [
    ['attach a service and its agent', 'trellis host attach -f attach.yaml --root /opt/trellis'],
  ],
  'host remove': [
    ['remove a unit but keep its state', 'trellis host remove agent-aws-11 --keep-state --root /opt/trellis'],
  ],
  'host status': [['what this host runs, as JSON', 'trellis host status --root /opt/trellis -o json']],
  supervise: [['keep the units of /opt/trellis running', 'trellis supervise --root /opt/trellis']],
  fabric: [["bring up an inventory's fabric", 'trellis fabric up --inventory hosts.yaml -f fabric.yaml']],
  'fabric up': [
    [
      'install the orchestrator and processors, apply the fabric file',
      'trellis fabric up --inventory hosts.yaml -f fabric.yaml --secrets secrets.yaml',
    ],
  ],
  'fabric status': [
    ['every host, its units and its node', 'trellis fabric status --inventory hosts.yaml -o json'],
  ],
  'fabric down': [['stop and uninstall every unit', 'trellis fabric down --inventory hosts.yaml']],
  release: [['build the release deploy copies', 'trellis release build']],
  'release build': [
    ['build it and print where it is', 'trellis release build -o json'],
    [
      'pack the app package an app file runs from',
      'trellis release build --app examples/voting-app/app.yaml',
    ],
  ],
  inventory: [
    [
      'an inventory from the AWS CLI',
      'aws ec2 describe-instances > aws.json && trellis inventory --from aws -f aws.json',
    ],
  ],
  backup: [['back up the running orchestrator', 'trellis backup --out trellis-backup.json']],
  completion: [
    ['complete in this bash session', 'source <(trellis completion bash)'],
    ['complete in every bash session', "echo 'source <(trellis completion bash)' >> ~/.bashrc"],
    ['complete in zsh (compinit loaded)', 'source <(trellis completion zsh)'],
  ],
};

function section(list: Example[]): string {
  return `\nExamples:\n${list.map(([what, line]) => `  # ${what}\n  ${line}`).join('\n\n')}\n`;
}

/** Adds each command's Examples section to its --help (commands missing from EXAMPLES get none). */
export function addExamples(program: Command): void {
  const help = new Help();
  const walk = (cmd: Command, path: string) => {
    const list = EXAMPLES[path];
    if (list) cmd.addHelpText('after', section(list));
    for (const sub of help.visibleCommands(cmd)) {
      if (sub.name() !== 'help') walk(sub, path ? `${path} ${sub.name()}` : sub.name());
    }
  };
  walk(program, '');
}
