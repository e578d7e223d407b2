/**
 * The workspace and node config validators, shared by the CLI, the coordinator and the YAML
 * language server. Everything but load.ts is pure: text in, diagnostics out.
 */
export * from './diagnostics';
export {
  validateWorkspaceConfigText,
  validateWorkspaceData,
  WORKSPACE_PATTERN_MESSAGES,
  type WorkspaceValidation,
} from './workspace';
export { validateDevcontainerText, workspaceName, type DevcontainerValidation } from './devcontainer';
export {
  validateNodesText,
  serializeNodesFile,
  NODE_DEFAULTS,
  LOCAL_NODE_NAME,
  NODE_NAME_PATTERN,
  type NodeEntry,
  type NodesFile,
} from './nodes';
export { resolveWorkspaceConfig, WORKSPACE_DEFAULTS } from './resolve';
export { parseDuration, tryParseDuration, parseSize, MAX_DURATION_MS } from './units';
export { MAX_CONFIG_BYTES, checkConfigText, decodeConfigBytes } from './textGuards';
export { closestMatch, editDistance } from './didYouMean';
export type * from './types';
export {
  loadWorkspaceConfig,
  loadNodesFile,
  readConfigFile,
  isDevcontainerFile,
  namedDevcontainers,
  configChoices,
  CONFIG_PATH,
  DEVCONTAINER_PATHS,
  type LoadedWorkspaceConfig,
} from './load';
