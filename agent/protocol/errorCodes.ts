/**
 * Every error the agent answers with, in one table: the stable name carried in
 * `AgentErrorData.code` and the JSON-RPC code of the ResponseError. `AgentErrorCodes` and
 * `AgentErrorNames` are views of it, so a name cannot lack a code or the other way round.
 */

const AGENT_ERRORS = {
  /** Params failed validation at the agent's boundary. */
  InvalidParams: { name: 'INVALID_PARAMS', code: -32602 },
  ProtocolMismatch: { name: 'PROTOCOL_MISMATCH', code: 2001 },
  NotInitialized: { name: 'NOT_INITIALIZED', code: 2002 },
  ProviderUnavailable: { name: 'PROVIDER_UNAVAILABLE', code: 2003 },
  /** The agent has no workspace of that name. */
  WorkspaceNotFound: { name: 'WORKSPACE_NOT_FOUND', code: 2010 },
  /** The agent has a record, but the provider no longer knows the workspace (removed behind its back). */
  WorkspaceMissing: { name: 'WORKSPACE_MISSING', code: 2011 },
  /** Refused because the workspace is running (e.g. remove without force). */
  WorkspaceRunning: { name: 'WORKSPACE_RUNNING', code: 2012 },
  WorkspaceNotRunning: { name: 'WORKSPACE_NOT_RUNNING', code: 2013 },
  /** Something else holds the workspace's name on the node (a container not made by this agent). */
  WorkspaceConflict: { name: 'WORKSPACE_CONFLICT', code: 2014 },
  ImageNotFound: { name: 'IMAGE_NOT_FOUND', code: 2015 },
  /** The image has no OpenSSH server. */
  SshdMissing: { name: 'SSHD_MISSING', code: 2016 },
  BuildFailed: { name: 'BUILD_FAILED', code: 2017 },
  /** The provider refused or failed an operation (its message is in the error). */
  ProviderError: { name: 'PROVIDER_ERROR', code: 2018 },
  /** sync-receive refused the stream (a hostile or malformed entry). */
  SyncRefused: { name: 'SYNC_REFUSED', code: 2019 },
  /** The image is built from the project, and the project is not on the node yet: sync, then create again. */
  BuildContextMissing: { name: 'BUILD_CONTEXT_MISSING', code: 2020 },
  /** The workspace's container no longer matches its config (image, env, limits…): recreate it. */
  WorkspaceOutdated: { name: 'WORKSPACE_OUTDATED', code: 2021 },
  /** The registry refused the node's pull (no credentials, wrong ones, no access). */
  ImagePullDenied: { name: 'IMAGE_PULL_DENIED', code: 2022 },
  /** The image is not built for the node's OS/architecture. */
  ImagePlatformMismatch: { name: 'IMAGE_PLATFORM_MISMATCH', code: 2023 },
  /** A pull failed for another reason (the registry unreachable…). */
  ImagePullFailed: { name: 'IMAGE_PULL_FAILED', code: 2024 },
  /** A Dev Container Feature is not where its reference points (registry, project folder). */
  FeatureNotFound: { name: 'FEATURE_NOT_FOUND', code: 2025 },
  /** A feature's options or metadata are wrong (an unknown option, a value outside its enum…). */
  FeatureInvalid: { name: 'FEATURE_INVALID', code: 2026 },
  /** Features' dependsOn/installsAfter form a cycle: no install order exists. */
  FeatureCycle: { name: 'FEATURE_CYCLE', code: 2027 },
  /** A feature's install.sh failed while the image was built. */
  FeatureInstallFailed: { name: 'FEATURE_INSTALL_FAILED', code: 2028 },
  Internal: { name: 'INTERNAL', code: 2099 },
  // JSON-RPC 2.0's own codes, for what is wrong with the message itself.
  /** A message that is not JSON, or broken `Content-Length` framing. */
  ParseError: { name: 'PARSE_ERROR', code: -32700 },
  /** JSON that is not a JSON-RPC 2.0 message. */
  InvalidRequest: { name: 'INVALID_REQUEST', code: -32600 },
  MethodNotFound: { name: 'METHOD_NOT_FOUND', code: -32601 },
} as const;

type Table = typeof AGENT_ERRORS;
type Key = keyof Table;

function view<F extends 'name' | 'code'>(field: F): { readonly [K in Key]: Table[K][F] } {
  return Object.fromEntries(Object.entries(AGENT_ERRORS).map(([key, e]) => [key, e[field]])) as {
    readonly [K in Key]: Table[K][F];
  };
}

/** The JSON-RPC code of each error. */
export const AgentErrorCodes = view('code');
export type AgentErrorCode = Table[Key]['code'];

/** The stable names carried in `AgentErrorData.code`. */
export const AgentErrorNames = view('name');
export type AgentErrorName = Table[Key]['name'];

const CODE_BY_NAME = Object.fromEntries(Object.values(AGENT_ERRORS).map((e) => [e.name, e.code])) as Record<
  AgentErrorName,
  AgentErrorCode
>;

/** The JSON-RPC code an error of this name is sent with. */
export function agentErrorCode(name: AgentErrorName): AgentErrorCode {
  return CODE_BY_NAME[name];
}
