import { z } from 'zod';
import { Name, Password } from './names.js';

export const AdminRole = z.enum(['systemAdmin', 'domainAdmin']);
export type AdminRole = z.infer<typeof AdminRole>;

/** A console/API user. A domainAdmin is confined to exactly one domain. */
export const AdminUser = z.strictObject({
  name: Name,
  role: AdminRole,
  domain: Name.nullable().default(null),
});
export type AdminUser = z.infer<typeof AdminUser>;

export const AdminUserCreate = AdminUser.extend({ password: Password }).refine(
  (u) => (u.role === 'domainAdmin') === (u.domain !== null),
  { message: 'a domainAdmin needs a domain and a systemAdmin has none', path: ['domain'] },
);
export type AdminUserCreate = z.infer<typeof AdminUserCreate>;

export const PasswordChange = z.strictObject({ password: Password });
