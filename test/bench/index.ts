import { devcontainerUp } from './devcontainerUp';
import { extensionActivation } from './extensionActivation';
import type { Benchmark } from './harness';
import { lxdWorkspace } from './lxd';
import { mcpExec } from './mcp';
import { coldConnectHandshake, dispatchRoundTrip, statusOfTwenty } from './nodes';
import { workspaceUpPulled } from './pull';
import { qemuUp } from './qemu';
import { nodeAddRuntimeUpload } from './runtimeUpload';
import { servicesBenchmarks } from './services';
import { syncMemory } from './syncMemory';
import { workspaceBenchmarks } from './workspaces';

/** Every benchmark `npm run bench` knows, in the order they run. */
export const benchmarks: Benchmark[] = [
  dispatchRoundTrip,
  coldConnectHandshake,
  statusOfTwenty,
  nodeAddRuntimeUpload,
  ...workspaceBenchmarks,
  workspaceUpPulled,
  devcontainerUp,
  syncMemory,
  ...servicesBenchmarks,
  mcpExec,
  extensionActivation,
  qemuUp,
  lxdWorkspace,
];
