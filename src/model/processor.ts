import { z } from 'zod';
import { Description, Name } from './names.js';

/** A fabric node that forwards flows; declared here before its process registers. */
export const Processor = z.strictObject({
  name: Name,
  zone: z.string().min(1).max(63).describe('cloud/zone label, e.g. aws, gcp, azr'),
  description: Description.default(''),
});
export type Processor = z.infer<typeof Processor>;

export const ProcessorUpdate = z.strictObject({
  zone: z.string().min(1).max(63).optional(),
  description: Description.optional(),
});
