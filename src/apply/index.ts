/** `trellis apply`: the fabric file (schema, loader with line numbers) and the pure plan. */
export * from './fabric-file.js';
export * from './load.js';
export * from './plan.js';
export * from './source-map.js';
