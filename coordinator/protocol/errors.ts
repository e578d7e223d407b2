/**
 * Numeric codes carried by ResponseError; `ErrorData.code` carries the stable name.
 * Application codes live above 1000, clear of JSON-RPC's reserved range.
 */
export const ErrorCodes = {
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  PROTOCOL_MISMATCH: 1001,
  INVALID_NAME: 1002,
  NODE_NOT_FOUND: 1003,
  NODE_EXISTS: 1004,
  NODE_UNREACHABLE: 1005,
  HOST_KEY_MISMATCH: 1006,
  HOST_KEY_UNCONFIRMED: 1007,
  AUTH_FAILED: 1008,
  NODE_RUNTIME_MISSING: 1009,
  AGENT_INSTALL_FAILED: 1010,
  AGENT_ERROR: 1011,
  REGISTRY_INVALID: 1012,
  CONFIG_INVALID: 1013,
  INVALID_HOST: 1014,
  IDENTITY_INVALID: 1015,
  CANCELLED: 1016,
  /** Another coordinator already serves this VENDETTA_HOME. */
  ALREADY_RUNNING: 1017,
  WORKSPACE_NOT_FOUND: 1018,
  /** The same workspace name on several nodes, and no node given. */
  WORKSPACE_AMBIGUOUS: 1019,
  WORKSPACE_EXISTS: 1020,
  /** The workspace is not in a state that allows the request (e.g. not running for a tunnel). */
  WORKSPACE_STATE: 1021,
  SYNC_FAILED: 1022,
  TUNNEL_FAILED: 1023,
  /** A lifecycle command (initialize, onCreate … postStart) exited non-zero or could not run. */
  LIFECYCLE_COMMAND_FAILED: 1024,
  /** VENDETTA_HOME, or a file in it, is a link or can be changed by someone other than the user. */
  HOME_UNTRUSTED: 1030,
  /** Setting up a node needs root, and the SSH user is not root and has no passwordless sudo. */
  NODE_PRIVILEGE_REQUIRED: 1040,
  /** A command that installs or sets up something on a node (`node prepare`, a runtime) failed. */
  NODE_PREPARE_FAILED: 1041,
  /** The workspace's `secretsFile` is tracked by git, missing, or not NAME=value lines. */
  SECRETS_REFUSED: 1042,
  INTERNAL: 1099,
} as const;
export type ErrorName = keyof typeof ErrorCodes;

/** `data` of every ResponseError the coordinator sends. */
export interface ErrorData {
  code: ErrorName;
  hint?: string;
  node?: string;
  provider?: string;
  /** Messages of the cause chain, outermost first. */
  causes?: string[];
  /** Extra structured detail (e.g. both fingerprints of a host-key mismatch). */
  details?: Record<string, unknown>;
}
