/**
 * The integrity library (`audit-router/integrity`): verify a chained trail from code, as
 * `audit-router verify` does (the report uses it for its "chain status"), and the key loaders.
 */
export { verifyPaths, verifyTrail } from './verify';
export type { Finding, FindingKind, FileReport, Severity, TrailReport, VerifyOptions, VerifyReport } from './verify';
export { loadPublicKey, loadSecret } from './keys';
export { redactionToken } from './redaction-token';
