/**
 * `workspaces/up`: config → spec → create (or start) on the node → pin the host key → ssh_config
 * block → code. Idempotent: the agent's create is idempotent by name, so a second `up` of a
 * running workspace costs one round trip before the (incremental) sync.
 */
import type { CancellationToken } from 'vscode-jsonrpc';
import type { WorkspaceInfo } from '../../agent/protocol';
import type { ProgressReporter } from '../daemon/handlerTable';
import { toVendettaError, VendettaError } from '../errors';
import type {
  ForwardInfo,
  ServiceStatus,
  SyncReport,
  UpWarning,
  WorkspaceUpParams,
  WorkspaceUpResult,
} from '../protocol';
import { fingerprintOf } from '../ssh/fingerprint';
import { syncProject } from '../sync/sender';
import { agentErrorName, parsePublicKey } from './agentReplies';
import { parseGitSource } from './gitClone';
import { sshAlias, workspaceName } from './names';
import { buildInputsHash } from './buildInputs';
import { featureInputsHash } from './featureInputs';
import { agentHooks, buildSpec, loadProject } from './project';
import { laptopGitIdentity } from './gitIdentity';
import { loadLaptopSecrets } from './secrets';
import { runInitializeCommand } from './initializeCommand';
import { isDevcontainerFile, type HookName, type ResolvedWorkspaceConfig } from '../config';
import type { PortsConfig } from '../services/portList';
import type { WorkspaceRecord } from './store';
import { LIVE_STATES, upServices } from './upServices';
import { UpSteps, type UpStep } from './upSteps';
import type { PortForwarder, WorkspaceOps } from './operations';
import { ensureWorkspaceKey } from './workspaceKey';
import { clone, create, overSsh } from './upOnNode';
import { agentWarnings, configWarnings, portNotForwarded, progressWarning, syncConflictWarning } from './upWarnings';
import { writeMachineSettings } from './vscodeSettings';
import { mergeVscode } from './featureCustomizations';

/** What `up` needs besides the manager's operations: who forwards ports for `--forward`. */
export interface UpDeps {
  forwardPorts?: PortForwarder;
}

export async function runUp(
  m: WorkspaceOps,
  deps: UpDeps,
  p: WorkspaceUpParams,
  report: ProgressReporter,
  token?: CancellationToken,
): Promise<WorkspaceUpResult> {
  const started = Date.now();
  const git = p.git !== undefined ? parseGitSource(p.git) : undefined;
  const project = await loadProject(p.path, p.config, p.localEnv);
  const name = workspaceName(p.name ?? project.config.name);
  const node = p.node ?? project.config.node;
  const client = m.client(node);
  const ownHooks = project.config.services.length > 0 || agentHooks(project.config) !== undefined;
  // Features may bring lifecycle commands of their own (known once the node has read them).
  const hasServices =
    ownHooks || ((p.provider ?? project.config.provider) === 'docker' && !!project.config.docker.features);
  const hookLabel = hookLabelFor(project.file);
  const forwardPorts = p.forward ? [...new Set(project.config.forwardPorts.map((f) => f.port))] : [];
  const steps = new UpSteps(
    m,
    { name, node, path: p.path, git: !!git, services: hasServices, forwards: forwardPorts.length > 0 },
    report,
    token,
  );
  const say = (step: UpStep, message: string) => steps.say(step, message);
  const warnings: UpWarning[] = configWarnings(project.warnings);
  // Said once the config is read, which is when the number of steps is known (it takes milliseconds).
  say('config', 'Reading the workspace config');
  const holder = m.busy(node, name);
  if (holder) say('config', `Waiting for the \`${holder}\` of ${name} on ${node} that is running to finish`);

  return m.exclusive(
    node,
    name,
    () =>
      steps.guard(async () => {
        const existing = m.store.get(name, node);
        if (existing?.projectPath !== undefined && existing.projectPath !== p.path) {
          throw new VendettaError(
            'WORKSPACE_EXISTS',
            `The workspace ${name} on ${node} belongs to another project (${existing.projectPath})`,
            {
              node,
              hint: `Give this one another name with --name, or remove the other first (\`vendetta workspace rm ${name} --node ${node}\`).`,
            },
          );
        }
        const initialize = project.config.hooks.initialize;
        if (initialize !== undefined) {
          say('config', `Running ${hookLabel('initialize')} here, in ${p.path}`);
          await runInitializeCommand(initialize, p.path, (line) => say('config', line));
        }
        say('key', 'Preparing the workspace key');
        const key = await ensureWorkspaceKey(m.paths);
        const provider = p.provider ?? project.config.provider;
        const build = provider === 'docker' ? project.config.docker.build : undefined;
        const buildHash = build ? await buildInputsHash(p.path, build) : undefined;
        const features = provider === 'docker' ? project.config.docker.features : undefined;
        const featuresHash = features
          ? await featureInputsHash(p.path, {
              base: buildHash ? `build:${buildHash}` : project.config.docker.image,
              features,
              ...(project.config.docker.featureInstallOrder
                ? { installOrder: project.config.docker.featureInstallOrder }
                : {}),
              user: project.config.user ?? 'root',
            })
          : undefined;
        const nodeIdle = m.nodeIdleTimeoutMs(node);
        const gitIdentity = await laptopGitIdentity(p.path);
        const secrets =
          project.config.secretsFile !== undefined
            ? await loadLaptopSecrets(p.path, project.config.secretsFile)
            : undefined;
        const never = secrets ? [secrets.path] : [];
        const spec = buildSpec(
          project.config,
          {
            name,
            ...(p.provider ? { provider: p.provider } : {}),
            ...(buildHash ? { buildHash } : {}),
            ...(featuresHash ? { featuresHash } : {}),
            ...(nodeIdle !== undefined ? { nodeIdleTimeoutMs: nodeIdle } : {}),
            ...(gitIdentity ? { gitIdentity } : {}),
          },
          key.publicKey,
        );
        const record: WorkspaceRecord = {
          name,
          node,
          provider: spec.provider,
          projectPath: p.path,
          ...(git ? { git } : {}),
          sshHost: sshAlias(name, node),
          workspaceFolder: spec.workspaceFolder,
          user: spec.user,
          ...(spec.forwardAgent ? { forwardAgent: true } : {}),
          ...portsOf(project.config),
          createdAt: existing?.createdAt ?? new Date().toISOString(),
        };
        // Recorded before the node is asked (as unfinished until the last step): a create cut off
        // half-way is still listed, and retried.
        steps.track(record);

        const recreate = p.recreate === true && !!existing;
        say('create', `${recreate ? 'Recreating' : existing ? 'Starting' : 'Creating'} ${name} on ${node}`);
        const syncBuildContext = async () => {
          say('create', 'Syncing the build context');
          const sync = { client, node, workspace: name, root: p.path, state: m.syncState, never };
          await syncProject({ ...sync, ...(token ? { token } : {}) });
        };
        // The new image is built from the project as it is now (a Dockerfile's context, local
        // features): it lands on the node first.
        if (recreate && (build || features) && !git) await syncBuildContext();
        const extras = { secrets: secrets?.values, dotfiles: p.dotfiles };
        const onAgentProgress = (message: string) => {
          say('create', message);
          const warning = progressWarning(message);
          if (warning) warnings.push(warning);
        };
        const createOnNode = (isNew: boolean, again: boolean) =>
          create(m, record, spec, { isNew, recreate: again, ...extras }, onAgentProgress, token);
        let info: WorkspaceInfo;
        try {
          info = await createOnNode(!existing, recreate);
        } catch (err) {
          if (
            git ||
            spec.provider !== 'docker' ||
            (!spec.docker.build && !spec.docker.features) ||
            agentErrorName(err) !== 'BUILD_CONTEXT_MISSING'
          )
            throw err;
          // The image is built from the project, which is not on the node yet: the agent kept the
          // half-made workspace, so the code can land first; then the second create builds.
          await syncBuildContext();
          info = await createOnNode(false, false);
        }
        warnings.push(...agentWarnings(info.warnings));
        if (info.state !== 'running' || !info.ssh) {
          throw new VendettaError(
            'WORKSPACE_STATE',
            `${name} on ${node} is ${info.state} after create${info.error ? `: ${info.error.message}` : ''}`,
            {
              node,
              hint: info.error?.hint ?? `\`vendetta workspace status ${name}\` shows what the node reports.`,
            },
          );
        }

        say('hostKey', 'Pinning the host key and writing ssh_config');
        const hostKey = parsePublicKey(info.ssh.hostKey.publicKey);
        if (!hostKey || fingerprintOf(hostKey.key) !== info.ssh.hostKey.fingerprint.replace(/=+$/, '')) {
          throw new VendettaError(
            'AGENT_ERROR',
            `The agent on ${node} reported a host key for ${name} that does not match its fingerprint`,
            { node, hint: 'Upgrade vendetta so the coordinator and the agent match.' },
          );
        }
        // Pinned before the ssh_config block exists, so no ssh ever connects unpinned.
        await m.knownHosts.pin(record.sshHost, 22, hostKey.keyType, hostKey.key);
        m.sshConfig.upsert(m.hostBlock(record));

        let sync: SyncReport | null = null;
        let cloned: WorkspaceUpResult['git'] = null;
        if (git) {
          say('code', `Cloning ${git.url}${git.ref ? ` at ${git.ref}` : ''}`);
          cloned = { ...git, cloned: (await clone(m, record, git)).cloned };
        } else {
          say('code', 'Syncing code');
          sync = await syncProject({
            client,
            node,
            workspace: name,
            root: p.path,
            state: m.syncState,
            never,
            ...(p.overwrite ? { overwrite: true } : {}),
            ...(token ? { token } : {}),
          });
        }
        const vscode = mergeVscode(info.features?.vscode ?? [], project.config.vscode);
        if (vscode?.settings && Object.keys(vscode.settings).length) {
          const settings = vscode.settings;
          const file = await overSsh(m, record, (ssh) => writeMachineSettings(ssh, settings, name));
          say('code', `VS Code settings merged into ${file}`);
        }
        m.emitChange();

        // The services need the code, so they start after it landed.
        let services: ServiceStatus[] | undefined;
        const restarted: string[] = [];
        let stale: string[] = [];
        if (hasServices && !ownHooks && !info.features?.hooks.length) {
          say('services', 'No services or lifecycle commands to run');
        } else if (hasServices) {
          say('services', 'Starting services');
          // Code the sync changed is picked up by restarting the running services that want it.
          const changed = sync !== null && (sync.sent > 0 || sync.deleted > 0);
          const reloadNames = changed
            ? project.config.services.filter((sv) => sv.reload === 'on-sync').map((sv) => sv.name)
            : [];
          services = await upServices(
            m,
            record,
            spec.services ?? [],
            // A recreated workspace is a new container: everything starts, the create hooks run.
            !!existing && !recreate,
            (words) => say('services', `Services: ${words}`),
            token,
            { names: reloadNames, restarted },
            { label: hookLabel, say: (line) => say('services', line) },
          );
          if (changed && existing)
            stale = project.config.services
              .filter(
                (sv) =>
                  sv.reload === 'never' && services?.some((st) => st.name === sv.name && LIVE_STATES.has(st.state)),
              )
              .map((sv) => sv.name);
        }
        let forwards: ForwardInfo[] | undefined;
        if (forwardPorts.length) {
          say('forwards', `Forwarding port${forwardPorts.length > 1 ? 's' : ''} ${forwardPorts.join(', ')}`);
          if (!deps.forwardPorts)
            throw new VendettaError('INTERNAL', 'This coordinator cannot forward ports', {
              hint: 'Restart it with `vendetta coordinator stop`.',
            });
          forwards = [];
          // One port that cannot be forwarded (nothing reaches it on this provider) is said, not fatal to the up.
          for (const port of forwardPorts) {
            try {
              forwards.push(...(await deps.forwardPorts(record, [port])));
            } catch (err) {
              const e = toVendettaError(err);
              m.log.warn('a forwardPorts entry was not forwarded', { workspace: name, node, port, err });
              say('forwards', `Port ${port} is not forwarded: ${e.message}${e.hint ? ` (${e.hint})` : ''}`);
              warnings.push(portNotForwarded(port, e));
            }
          }
        }
        steps.finish();
        m.log.info('workspace up', {
          workspace: name,
          node,
          existed: !!existing,
          sent: sync?.sent,
          bytes: sync?.bytes,
          services: services?.length,
          ms: Date.now() - started,
        });
        return {
          ...m.summary(record),
          existed: !!existing,
          ...(recreate ? { recreated: true } : {}),
          sync,
          git: cloned,
          elapsedMs: Date.now() - started,
          ...(services ? { services } : {}),
          ...(restarted.length ? { restartedServices: restarted } : {}),
          ...(stale.length ? { staleServices: stale } : {}),
          ...(forwards ? { forwards } : {}),
          ...(vscode?.extensions?.length ? { vscodeExtensions: [...vscode.extensions] } : {}),
          warnings: [...warnings, ...syncConflictWarning(sync)],
        };
      }),
    'up',
  );
}

/** A hook as the config names it: `postCreateCommand` in a devcontainer.json, `hooks.postCreate` in config.yaml. */
function hookLabelFor(file: string): (hook: HookName) => string {
  return isDevcontainerFile(file) ? (h) => `${h}Command` : (h) => `hooks.${h}`;
}

/** What `workspace ports` and the tree label ports with, recorded when the config has any. */
function portsOf(c: ResolvedWorkspaceConfig): { ports?: PortsConfig } {
  if (!c.forwardPorts.length && !c.portsAttributes.length && !c.otherPortsAttributes) return {};
  return {
    ports: {
      forwardPorts: c.forwardPorts,
      portsAttributes: c.portsAttributes,
      ...(c.otherPortsAttributes ? { otherPortsAttributes: c.otherPortsAttributes } : {}),
    },
  };
}
