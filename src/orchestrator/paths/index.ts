export { mergeRoleParams, type PathConstraints } from './constraints.js';
export { buildGraph, type Graph, type PathGraph } from './graph.js';
export type { FailedConstraint, PathResult } from './result.js';
export { computePath } from './route.js';
