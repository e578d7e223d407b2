/**
 * The tools that are thin clients of coordinator requests: nodes, workspaces and their
 * lifecycle, service logs and ports. Results go back as JSON text (and structuredContent), the
 * same shapes `vendetta … --json` prints.
 */
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import {
  ListNodes,
  ListPortsRequest,
  ListWorkspacesRequest,
  LogsRequest,
  RemoveWorkspaceRequest,
  StartWorkspaceRequest,
  StopWorkspaceRequest,
  WorkspaceStatusRequest,
  WorkspaceUp,
  type LogsParams,
  type NodeSummary,
  type WorkspaceUpParams,
} from '../../protocol';
import { parseSince } from '../../services/parse';
import { json, refOf, tool, workspaceArg, type ToolSpec } from './toolSpec';

/** A node as a model needs it: reachable or not, and which providers it can run. */
function nodeView(n: NodeSummary): Record<string, unknown> {
  const providers = n.providers
    ? Object.entries(n.providers)
        .filter(([, p]) => p.available)
        .map(([name, p]) => (p.version ? `${name} ${p.version}` : name))
    : [];
  return {
    name: n.name,
    host: n.host,
    transport: n.transport,
    status: n.status,
    providers,
    agentVersion: n.agentVersion,
    latencyMs: n.latencyMs,
    ...(n.error ? { error: n.error } : {}),
  };
}

/**
 * MCP progress must grow with every notification; the coordinator sends several messages within
 * one step (the agent's sub-steps), so each repeat moves halfway to the step's end.
 */
export class StepProgress {
  private last = 0;
  total = 1;

  next(step: number, total: number): number {
    this.total = Math.max(total, 1);
    const start = Math.max(step - 1, 0);
    this.last = start > this.last ? start : this.last + (Math.max(start + 1, this.last + 1e-6) - this.last) / 2;
    return this.last;
  }
}

/** As `up --dotfiles`, `--dotfiles-install-command`, `--dotfiles-target-path` and VS Code's `vendetta.dotfiles.*`. */
const dotfilesArg = z
  .object({
    repository: z
      .string()
      .min(1)
      .max(2048)
      .describe(
        "A git URL the node can clone (https://…, ssh://…, git@host:path, file:///…), an absolute path on the node, or GitHub's owner/repo.",
      ),
    installCommand: z
      .string()
      .min(1)
      .max(1024)
      .optional()
      .describe(
        'The script in the repository to run as the login user (default: the first of install.sh, install, bootstrap.sh, bootstrap, script/bootstrap, setup.sh, setup, script/setup; none: its dotfiles are linked into ~).',
      ),
    targetPath: z
      .string()
      .min(1)
      .max(1024)
      .optional()
      .describe(
        'Where the clone goes in the workspace: ~/dotfiles (default), another folder under ~, or an absolute path.',
      ),
  })
  .strict()
  .optional()
  .describe(
    "The user's dotfiles, cloned and installed once per workspace after it is made; a failure is a warning in the result, not an error.",
  );

export const workspaceTools: ToolSpec[] = [
  tool({
    name: 'list_nodes',
    title: 'List nodes',
    description:
      'List the machines (nodes) workspaces can run on, with their status (online/offline) and the providers (docker, lxc, qemu) each has.',
    kind: 'read',
    input: {},
    async run(_a, ctx) {
      const nodes = (await ctx.link.request(ListNodes)).map(nodeView);
      return { text: json(nodes), structured: { nodes } };
    },
  }),
  tool({
    name: 'list_workspaces',
    title: 'List workspaces',
    description:
      'List all workspaces with their node, provider, state (running/stopped/…) and the folder the project is in inside each.',
    kind: 'read',
    input: {},
    async run(_a, ctx) {
      const workspaces = await ctx.link.request(ListWorkspacesRequest, {});
      return { text: json(workspaces), structured: { workspaces } };
    },
  }),
  tool({
    name: 'workspace_status',
    title: 'Workspace status',
    description:
      'Show one workspace in detail: state, image, user, project folder, sshd, and each service with its health.',
    kind: 'read',
    input: { ...workspaceArg },
    async run(a, ctx) {
      const s = await ctx.link.request(WorkspaceStatusRequest, refOf(a));
      return { text: json(s), structured: { ...s }, workspace: s.name, node: s.node };
    },
  }),
  tool({
    name: 'workspace_up',
    title: 'Create or update a workspace',
    description:
      "Create (or start) the workspace of a project folder on this machine and send its code (again: only what changed); reports progress, and in `warnings` what failed without stopping it (e.g. the dotfiles' install). Can take minutes the first time.",
    kind: 'write',
    input: {
      path: z
        .string()
        .min(1)
        .refine(isAbsolute, 'must be an absolute path')
        .describe(
          'Absolute path of the project folder on the machine running vendetta (it holds .vendetta/config.yaml or .devcontainer/devcontainer.json).',
        ),
      node: workspaceArg.node.describe("Node to run it on (default: the config's node, else local)."),
      provider: z.enum(['docker', 'lxc', 'qemu']).optional().describe("Provider (default: the config's)."),
      name: workspaceArg.workspace.optional().describe("Workspace name (default: the config's name)."),
      dotfiles: dotfilesArg,
    },
    async run(a, ctx) {
      const params: WorkspaceUpParams = { path: a.path };
      if (a.node) params.node = a.node;
      if (a.provider) params.provider = a.provider;
      if (a.name) params.name = a.name;
      if (a.dotfiles) params.dotfiles = a.dotfiles;
      const steps = new StepProgress();
      const p = ctx.link.progressToken((s) =>
        ctx.progress(steps.next(s.step, s.total), s.total, `[${s.step}/${s.total}] ${s.message}`),
      );
      try {
        const r = await ctx.link.request(WorkspaceUp, { ...params, progressToken: p.token });
        ctx.progress(steps.total, steps.total, 'done');
        return { text: json(r), structured: { ...r }, workspace: r.name, node: r.node };
      } finally {
        p.done();
      }
    },
  }),
  tool({
    name: 'workspace_start',
    title: 'Start a workspace',
    description: 'Start a stopped workspace (its files and services come back).',
    kind: 'write',
    input: { ...workspaceArg },
    async run(a, ctx) {
      const s = await ctx.link.request(StartWorkspaceRequest, refOf(a));
      return { text: json(s), structured: { ...s }, workspace: s.name, node: s.node };
    },
  }),
  tool({
    name: 'workspace_stop',
    title: 'Stop a workspace',
    description: 'Stop a running workspace: its processes and services end, its files stay.',
    kind: 'destructive',
    input: { ...workspaceArg },
    async run(a, ctx) {
      const s = await ctx.link.request(StopWorkspaceRequest, refOf(a));
      return { text: json(s), structured: { ...s }, workspace: s.name, node: s.node };
    },
  }),
  tool({
    name: 'workspace_rm',
    title: 'Remove a workspace',
    description: 'Remove a workspace for good: its container and its files on the node. Cannot be undone.',
    kind: 'destructive',
    input: { ...workspaceArg, force: z.boolean().optional().describe('Remove it even while it runs.') },
    async run(a, ctx) {
      const r = await ctx.link.request(RemoveWorkspaceRequest, { ...refOf(a), ...(a.force ? { force: true } : {}) });
      return { text: json(r), structured: { ...r }, workspace: r.name, node: r.node };
    },
  }),
  tool({
    name: 'service_logs',
    title: 'Service logs',
    description:
      "Read the logs of a workspace's services (all interleaved, or one service, or the postCreate/postStart hooks), newest last.",
    kind: 'read',
    input: {
      ...workspaceArg,
      service: z.string().max(64).optional().describe('One service name, or postCreate / postStart; default all.'),
      tail: z.number().int().min(1).max(5000).optional().describe('Only the last N lines (default 200).'),
      since: z
        .string()
        .max(40)
        .optional()
        .describe('Only lines since a duration ago (30s, 5m, 2h) or an ISO 8601 time.'),
    },
    async run(a, ctx) {
      const params: LogsParams = { ...refOf(a), tail: a.tail ?? 200 };
      if (a.service) params.service = a.service;
      if (a.since) params.since = parseSince(a.since);
      const { lines } = await ctx.link.request(LogsRequest, params);
      const text = lines
        .map((l) => `${l.time} ${l.service}${l.stream === 'stdout' ? '' : ` (${l.stream})`}: ${l.line}`)
        .join('\n');
      return {
        text: text || '(no log lines)',
        structured: { lines },
        workspace: a.workspace,
        ...(a.node ? { node: a.node } : {}),
      };
    },
  }),
  tool({
    name: 'list_ports',
    title: 'List ports',
    description:
      "List a workspace's ports: its services' (node port, health), the config's forwardPorts and ports found listening inside it, each with its source, label and forwarded URL.",
    kind: 'read',
    input: { ...workspaceArg },
    async run(a, ctx) {
      const ports = await ctx.link.request(ListPortsRequest, refOf(a));
      return { text: json(ports), structured: { ports }, workspace: a.workspace, ...(a.node ? { node: a.node } : {}) };
    },
  }),
];
