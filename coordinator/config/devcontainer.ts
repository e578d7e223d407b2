/**
 * `.devcontainer/devcontainer.json` (JSON with comments) as a fallback config: the fields that
 * map onto a Docker workspace are taken (the converters live beside this file), the rest is
 * named in a warning so nobody wonders why it had no effect.
 */
import { type Node as JsonNode, type ParseError, createScanner, parseTree, printParseErrorCode } from 'jsonc-parser';
import {
  type Diagnostic,
  type DiagnosticInit,
  OffsetMapper,
  type Range,
  diagnosticAt,
  fileDiagnostic,
  hasErrors,
  sortDiagnostics,
} from './diagnostics';
import { checkConfigText } from './textGuards';
import { dirname, resolve } from 'node:path';
import { configDirOf, convertBuild, convertLifecycle, LIFECYCLE_KEYS } from './devcontainerBuild';
import { type DevcontainerContext, objectProps, stringMapOf } from './devcontainerContext';
import { convertFeatures } from './devcontainerFeatures';
import { convertRunOptions } from './devcontainerRun';
import { convertCustomizations, convertEnv, convertWorkspace, projectMountTarget } from './devcontainerWorkspace';
import { type DevcontainerVars, substituteDevcontainer } from './devcontainerVars';
import { convertForwardPorts, convertPortsAttributes } from './devcontainerPorts';
import type { WorkspaceConfig } from './types';
import { validateWorkspaceData } from './workspace';

/**
 * devcontainer.json fields Vendetta does not honour (yet), with what to do instead: each one
 * present is named in a warning, and so is any field not known at all.
 */
const NOT_HONOURED: Record<string, string> = {
  appPort: 'use `forwardPorts`',
  updateRemoteUserUID: "the login user's UID is not changed",
  userEnvProbe: "the login shell's environment is not probed",
  shutdownAction: 'a workspace keeps running until `vendetta workspace stop`',
  waitFor: 'every lifecycle command finishes before `up` does',
  hostRequirements: 'the node is not checked against host requirements',
  secrets: 'recommended secrets are not asked for',
  service: 'Docker Compose is not supported',
  runServices: 'Docker Compose is not supported',
};

/** Top-level fields a converter reads (or, like `$schema`, that have no effect to report). */
const HANDLED = new Set([
  '$schema',
  'name',
  'image',
  'build',
  'dockerFile',
  'context',
  'mounts',
  'runArgs',
  'privileged',
  'capAdd',
  'securityOpt',
  'init',
  'forwardPorts',
  'portsAttributes',
  'otherPortsAttributes',
  'containerEnv',
  'remoteEnv',
  'remoteUser',
  'containerUser',
  'workspaceFolder',
  'workspaceMount',
  'overrideCommand',
  'customizations',
  'dockerComposeFile',
  'features',
  'overrideFeatureInstallOrder',
  ...LIFECYCLE_KEYS.map(([k]) => k),
]);

const JSON_ERRORS: Record<string, string> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'expected a property name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: 'expected `:` after the property name',
  CommaExpected: 'expected `,` between items',
  CloseBraceExpected: 'expected `}`: an object is not closed',
  CloseBracketExpected: 'expected `]`: a list is not closed',
  EndOfFileExpected: 'unexpected text after the end of the JSON value',
  InvalidCommentToken: 'invalid comment',
  UnexpectedEndOfComment: 'a /* comment is never closed',
  UnexpectedEndOfString: 'a string is never closed',
  UnexpectedEndOfNumber: 'a number is cut off',
  InvalidUnicode: 'invalid \\u escape',
  InvalidEscapeCharacter: 'invalid escape character',
  InvalidCharacter: 'invalid character in a string',
};

export interface DevcontainerValidation {
  config?: WorkspaceConfig;
  diagnostics: Diagnostic[];
}

/**
 * `folderName` (the project folder's name) names the workspace when devcontainer.json has no usable
 * `name`; `vars` are what `${...}` variables are substituted from (the project folder and this
 * file, absolute, and the environment of whoever runs `up`).
 */
export function validateDevcontainerText(
  text: string,
  file: string,
  folderName?: string,
  vars?: DevcontainerVars,
): DevcontainerValidation {
  try {
    return convert(text, file, folderName, vars ?? devcontainerVarsFor(file, process.env));
  } catch (err) {
    const message = `could not read the file: ${err instanceof Error ? err.message : String(err)}`;
    return { diagnostics: [fileDiagnostic(file, { code: 'internal', message, hint: 'this is a bug in vendetta' })] };
  }
}

/** The variables of a devcontainer.json at `file`: its project folder found from its place. */
export function devcontainerVarsFor(file: string, env: DevcontainerVars['env']): DevcontainerVars {
  const configFile = resolve(file);
  const dir = configDirOf(configFile);
  const folder = dirname(configFile);
  return {
    configFile,
    localWorkspaceFolder: dir === '.devcontainer' ? dirname(folder) : dir === '.' ? folder : dirname(dirname(folder)),
    env,
  };
}

function convert(
  text: string,
  file: string,
  folderName: string | undefined,
  vars: DevcontainerVars,
): DevcontainerValidation {
  const guard = checkConfigText(text, file);
  if (guard.length) return { diagnostics: guard };
  const mapper = new OffsetMapper(text);
  const rangeOf = (n: JsonNode): Range => mapper.range(n.offset, n.offset + n.length);
  const diagnostics: Diagnostic[] = [];
  const report = (n: JsonNode | Range, init: DiagnosticInit) =>
    diagnostics.push(diagnosticAt(file, 'offset' in n ? rangeOf(n) : n, init));

  if (text.trim() === '') {
    return {
      diagnostics: [
        fileDiagnostic(file, {
          code: 'empty',
          message: 'the file is empty; a devcontainer.json needs at least `image`',
          hint: 'e.g. { "image": "vendetta/debian:bookworm" }',
        }),
      ],
    };
  }
  const deep = tooDeepAt(text);
  if (deep !== undefined) {
    report(mapper.range(deep, deep + 1), {
      code: 'too-deep',
      message: `the file is nested more than ${MAX_JSON_DEPTH} levels deep`,
      hint: 'devcontainer.json needs only a few levels of nesting',
    });
    return { diagnostics };
  }
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  // One message per spot: jsonc-parser often reports a follow-on error at the same offset.
  const seenOffsets = new Set<number>();
  for (const e of errors) {
    if (seenOffsets.has(e.offset)) continue;
    seenOffsets.add(e.offset);
    report(mapper.range(e.offset, e.offset + Math.max(1, e.length)), {
      code: 'json-syntax',
      message: JSON_ERRORS[printParseErrorCode(e.error)] ?? 'invalid JSON',
      hint: 'devcontainer.json is JSON with comments; check the syntax around here',
    });
  }
  if (errors.length || !root) return { diagnostics: sortDiagnostics(diagnostics) };
  if (root.type !== 'object') {
    report(root, { code: 'schema', message: 'devcontainer.json must hold a JSON object ({ ... })' });
    return { diagnostics };
  }

  const props = objectProps(root);
  substituteDevcontainer(
    { props, report },
    root,
    vars,
    (name, mount) =>
      (typeof mount === 'string' ? projectMountTarget(mount, vars.localWorkspaceFolder) : undefined) ??
      `/workspaces/${workspaceName(name, folderName)}`,
  );
  // Where each part of the resulting config came from, so its diagnostics point into this file.
  const sources = new Map<string, JsonNode>();
  const config: WorkspaceConfig = {
    name: workspaceName(props.get('name')?.value.value, folderName),
    provider: 'docker',
  };
  const nameNode = props.get('name');
  if (nameNode) sources.set('name', nameNode.value);
  const ctx: DevcontainerContext = {
    file,
    props,
    config,
    sources,
    report,
    objectProps,
    stringMap: (n, what) => stringMapOf(n, what, report),
  };

  const str = (key: string): string | undefined => {
    const p = props.get(key);
    if (!p) return undefined;
    if (p.value.type !== 'string') {
      report(p.value, { code: 'schema', message: `\`${key}\` must be a string` });
      return undefined;
    }
    return p.value.value as string;
  };

  const compose = props.get('dockerComposeFile');
  if (compose) {
    report(compose.key, {
      code: 'unsupported',
      message: '`dockerComposeFile`: Docker Compose projects are not supported',
      hint: 'write .vendetta/config.yaml instead: the workspace `image` (or `docker.build`), and each Compose service under `services:` with its `command`, `port`, `depends_on` and `healthcheck`; they run inside the workspace',
    });
  }
  const image = str('image');
  if (image !== undefined) {
    config.docker = { image };
    sources.set('docker/image', props.get('image')!.value);
  }
  convertBuild(ctx);
  convertFeatures(ctx);
  convertRunOptions(ctx);
  convertPortsAttributes(ctx);
  if (!props.has('image') && !props.has('build') && !props.has('dockerFile') && !compose) {
    report(mapper.range(root.offset, root.offset + 1), {
      code: 'schema',
      message: 'devcontainer.json has no `image` or `build`',
      hint: 'add "image": "vendetta/debian:bookworm" (or your image), or "build": { "dockerfile": "Dockerfile" }',
    });
  }

  convertForwardPorts(ctx);

  convertEnv(ctx);
  convertWorkspace(ctx, vars);
  convertCustomizations(ctx);
  convertLifecycle(ctx);

  for (const [key, p] of props) {
    if (HANDLED.has(key)) continue;
    const why = NOT_HONOURED[key];
    report(
      p.key,
      why
        ? { code: 'unsupported', severity: 'warning', message: `\`${key}\` is not supported and is ignored`, hint: why }
        : {
            code: 'unsupported',
            severity: 'warning',
            message: `\`${key}\` is not a devcontainer.json field Vendetta knows; it is ignored`,
            hint: 'check the spelling against the Dev Containers reference (containers.dev/implementors/json_reference)',
          },
    );
  }

  {
    // The converted parts are checked even when other fields were wrong, to report everything at once.
    const locate = (path: readonly string[], opts: { key?: boolean } = {}): Range => {
      for (let n = path.length; n > 0; n--) {
        const prefix = path.slice(0, n).join('/');
        const node = (opts.key && n === path.length ? sources.get(prefix + '#key') : undefined) ?? sources.get(prefix);
        if (node) return rangeOf(node);
      }
      return mapper.range(root.offset, root.offset + 1);
    };
    diagnostics.push(
      ...validateWorkspaceData(config, file, locate).map((d) => ({ ...d, message: renameLabels(d.message) })),
    );
  }
  sortDiagnostics(diagnostics);
  return hasErrors(diagnostics) ? { diagnostics } : { config, diagnostics };
}

/** Messages about the converted config, in devcontainer.json's own words. */
function renameLabels(message: string): string {
  return message
    .replace(/`docker\.image`/g, '`image`')
    .replace(/`vscode\./g, '`customizations.vscode.')
    .replace(/`env\./g, '`containerEnv.')
    .replace(/`user`/g, '`remoteUser`')
    .replace(/`docker\.build/g, '`build')
    .replace(/`docker\.featureInstallOrder/g, '`overrideFeatureInstallOrder')
    .replace(/`docker\.features/g, '`features')
    .replace(/`docker\.run\./g, '`')
    .replace(/`hooks\.(\w+)/g, (_all, hook: string) => `\`${LIFECYCLE_KEYS.find(([, h]) => h === hook)?.[0] ?? hook}`);
}

/** jsonc-parser recurses per level; deeper input is refused before it can exhaust the stack. */
const MAX_JSON_DEPTH = 64;

function tooDeepAt(text: string): number | undefined {
  const scanner = createScanner(text, true);
  let depth = 0;
  // SyntaxKind values: 1 `{`, 3 `[` open; 2 `}`, 4 `]` close; 17 end of file (a const enum, so numbers here).
  for (let kind = scanner.scan(); kind !== 17; kind = scanner.scan()) {
    if (kind === 1 || kind === 3) {
      if (++depth > MAX_JSON_DEPTH) return scanner.getTokenOffset();
    } else if (kind === 2 || kind === 4) depth = Math.max(0, depth - 1);
  }
  return undefined;
}

/** A valid workspace name from devcontainer's free-text `name` or the folder name. */
export function workspaceName(...candidates: unknown[]): string {
  for (const c of candidates) {
    if (typeof c !== 'string') continue;
    const slug = c
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+/, '')
      .slice(0, 63)
      .replace(/-+$/, '');
    if (slug) return slug;
  }
  return 'workspace';
}
