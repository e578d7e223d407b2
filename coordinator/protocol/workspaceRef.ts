/** Which workspace a request means; apart from workspaces.ts so services.ts names it without a cycle. */
export interface WorkspaceRef {
  name: string;
  /** Needed only when the name exists on more than one node. */
  node?: string;
}
