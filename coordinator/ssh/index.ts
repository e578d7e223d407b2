/** The SSH layer: pooled connections to nodes, pinned host keys, the agent's install and attach. */
export type { SshNodeTarget } from './target';
export { sshDestination, hostPort } from './target';
export { KnownHosts, knownHostsPattern, type PinnedKey } from './knownHosts';
export { fingerprintOf, keyTypeOf, normalizeFingerprint } from './fingerprint';
export { probeHostKey } from './connect';
export { ensureIdentity, generatedKeyPath, type IdentityInfo } from './identity';
export { createSshAgentClient, SshAgentClient } from '../nodes/sshAgentClient';
export type { SshAgentClientOptions, SshAgentClientStats } from '../nodes/sshAgentClientOptions';
export { diagnoseNode } from './diagnose';
export { purgeAgent } from './purge';
export { shellQuote, shellCommand } from './shellQuote';
export { validateHost, validateTarget } from './hostValidation';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';
