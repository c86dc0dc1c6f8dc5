/**
 * The import rules of src/ (issue 13): no cycle between modules or between src's top-level
 * folders, fabric nodes (processor, agent and the node layer) never import the orchestrator,
 * the examples (their own package) import nothing of Trellis but trellis/workload. `npm run lint:imports` checks them; .ci/run runs it.
 */
const NODE = '^src/(processor|agent|node|wire)/';
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A module must not reach itself through its imports.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-folder-cycle',
      severity: 'error',
      scope: 'folder',
      comment: "Folders depend one way: a folder's imports must not lead back to it.",
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'node-not-orchestrator',
      severity: 'error',
      comment: 'A fabric node runs without the orchestrator code: it speaks to it only over the API.',
      from: { path: NODE },
      to: { path: '^src/orchestrator/' },
    },
    {
      name: 'node-layer-below-nodes',
      severity: 'error',
      comment:
        'src/node is what every fabric node runs (identity, control session, flow server, pool, splice): it must not reach up into one kind of node.',
      from: { path: '^src/node/' },
      to: { path: '^src/(processor|agent)/' },
    },
    {
      name: 'examples-only-workload',
      severity: 'error',
      comment:
        'The examples are workloads (their own package): they see the fabric only as any workload does, through trellis/workload (the env file, the PROXY v2 header).',
      from: { path: '^examples/' },
      to: { path: '^src/', pathNot: '^src/workload/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['\\.test\\.ts$', '(^|/)dist/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
