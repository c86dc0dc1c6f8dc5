import { z } from 'zod';

/**
 * Names of domains, users, contracts, processors and nodes: DNS-label-like, because they end
 * up in resolver names (`voting-frontend.voting-app`), env var names and URLs.
 */
export const Name = z
  .string()
  .min(1)
  .max(63)
  .regex(
    /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/,
    'must be lowercase letters, digits and "-", starting and ending with a letter or digit',
  );
export type Name = z.infer<typeof Name>;

export const Description = z.string().max(1024);

/** Passwords arrive in requests only; they are never returned or logged. */
export const Password = z.string().min(8, 'must be at least 8 characters').max(256);
