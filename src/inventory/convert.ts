import { TrellisError } from '../errors.js';
import { CLOUD_COMMANDS, type Cloud, type Conversion, type ConvertOptions, inventoryOf } from './cloud.js';
import { fromAws } from './from-aws.js';
import { fromAzure } from './from-azure.js';
import { fromGcp } from './from-gcp.js';
import { jsonErrorPosition } from './json-position.js';
import { renderInventory } from './render.js';

const CONVERTERS: Record<Cloud, (data: unknown, opts: ConvertOptions, source: string) => Conversion> = {
  aws: fromAws,
  gcp: fromGcp,
  azure: fromAzure,
};

/** Pure: a cloud CLI's JSON text → inventory YAML and the warnings for stderr. */
export function convertCloudJson(
  cloud: Cloud,
  text: string,
  source: string,
  opts: ConvertOptions & { user?: string; madeAt?: Date },
): { yaml: string; warnings: string[] } {
  const hint = `pipe in the output of \`${CLOUD_COMMANDS[cloud]}\``;
  if (text.trim() === '')
    throw new TrellisError(
      'TRELLIS_ERR_MALFORMED_JSON',
      `${source}: empty; expected the JSON of --from ${cloud}`,
      { hint },
    );
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    const { line, column } = jsonErrorPosition(text);
    throw new TrellisError(
      'TRELLIS_ERR_MALFORMED_JSON',
      `${source}:${line}:${column}: not JSON: ${(err as Error).message.split('\n')[0]!.slice(0, 120)}`,
      { hint },
    );
  }
  const conversion = CONVERTERS[cloud](data, opts, source);
  const spec = inventoryOf(cloud, conversion, {
    private: opts.private,
    madeAt: opts.madeAt ?? new Date(),
    ...(opts.user !== undefined && { user: opts.user }),
  });
  return { yaml: renderInventory(spec), warnings: conversion.warnings };
}
