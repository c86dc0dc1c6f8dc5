/**
 * ioredis and @electric-sql/pglite-socket serve only the Voting App's stores (dependencies of
 * the trellis-examples package, never of Trellis): an install may still lack one (a partial or
 * failed install). They are imported here, on first use, so that only the
 * store needing one fails, with a message naming the package, and nothing else even loads it.
 */
export async function importOptional<T>(load: () => Promise<T>, name: string, what: string): Promise<T> {
  try {
    return await load();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // Only the package itself missing; a broken file inside an installed package stays as it is.
    const missing =
      (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') &&
      new RegExp(`['"]${name.replace(/[/.]/g, '\\$&')}['"]`).test(e.message);
    if (!missing) throw err;
    throw new Error(
      `${what} needs the optional package "${name}", which is not installed: run \`npm install ${name}\` where trellis-examples is installed`,
    );
  }
}
