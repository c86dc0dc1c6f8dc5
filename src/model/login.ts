import { z } from 'zod';

/** What POST /login answers: a bearer token, when it expires, and who it stands for. */
export const LoginAnswer = z.object({
  token: z.string(),
  expiresAt: z.string(),
  /** `type` is `admin` or `resource`; the rest depends on it (role, domain, kind). */
  principal: z.record(z.string(), z.unknown()),
});
export type LoginAnswer = z.infer<typeof LoginAnswer>;
