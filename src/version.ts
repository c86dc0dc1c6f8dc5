/** The Trellis version, shown by `trellis --version` and /api/v1/health. */
export const VERSION = '0.1.0';
