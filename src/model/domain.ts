import { z } from 'zod';
import { Description, Name } from './names.js';

/** An application's namespace: every user, contract and workload node lives in one domain. */
export const Domain = z.strictObject({
  name: Name,
  description: Description.default(''),
});
export type Domain = z.infer<typeof Domain>;

export const DomainUpdate = z.strictObject({ description: Description });
