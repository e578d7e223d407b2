/**
 * The coordinator ⇄ agent contract. JSON-RPC 2.0 over the agent daemon's Unix socket
 * (bridged through `vendetta-agent attach` on an SSH exec channel, or a child process's
 * stdio for the `local` transport). Imports nothing but vscode-jsonrpc types.
 */
import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { CreateWorkspaceParams, ManifestEntry, RemoveWorkspaceParams, WorkspaceInfo, WorkspaceNameParams } from './workspaces';
export * from './workspaces';
export * from './services';
/** Bumped on any incompatible change; exchanged in `initialize`. */
export declare const AGENT_PROTOCOL_VERSION = 1;
/** Node and workspace names, everywhere: DESIGN.md "Names and untrusted input". */
export declare const NAME_PATTERN: RegExp;
export declare const AgentErrorCodes: {
    /** Params failed validation at the agent's boundary. */
    readonly InvalidParams: -32602;
    readonly ProtocolMismatch: 2001;
    readonly NotInitialized: 2002;
    readonly ProviderUnavailable: 2003;
    /** Workspaces (see ./workspaces.ts). */
    readonly WorkspaceNotFound: 2010;
    readonly WorkspaceMissing: 2011;
    readonly WorkspaceRunning: 2012;
    readonly WorkspaceNotRunning: 2013;
    readonly WorkspaceConflict: 2014;
    readonly ImageNotFound: 2015;
    readonly SshdMissing: 2016;
    readonly BuildFailed: 2017;
    readonly ProviderError: 2018;
    readonly SyncRefused: 2019;
    readonly BuildContextMissing: 2020;
    readonly Internal: 2099;
};
export type AgentErrorCode = (typeof AgentErrorCodes)[keyof typeof AgentErrorCodes];
/** `data` of every ResponseError the agent sends. */
export interface AgentErrorData {
    /** Stable machine-readable name, e.g. `PROTOCOL_MISMATCH`. */
    code: string;
    hint?: string;
    provider?: ProviderName;
    /** Messages of the cause chain, outermost first. */
    causes?: string[];
    /** On PROTOCOL_MISMATCH: what the agent speaks, so the client can say what to upgrade. */
    protocolVersion?: number;
    agentVersion?: string;
}
/** The stable names carried in `AgentErrorData.code`. */
export declare const AgentErrorNames: {
    readonly InvalidParams: "INVALID_PARAMS";
    readonly ProtocolMismatch: "PROTOCOL_MISMATCH";
    readonly NotInitialized: "NOT_INITIALIZED";
    readonly ProviderUnavailable: "PROVIDER_UNAVAILABLE";
    readonly Internal: "INTERNAL";
    /** A message that is not JSON, or broken `Content-Length` framing. */
    readonly ParseError: "PARSE_ERROR";
    /** JSON that is not a JSON-RPC 2.0 message. */
    readonly InvalidRequest: "INVALID_REQUEST";
    readonly MethodNotFound: "METHOD_NOT_FOUND";
    /** The agent has no workspace of that name. */
    readonly WorkspaceNotFound: "WORKSPACE_NOT_FOUND";
    /** The agent has a record, but the provider no longer knows the workspace (removed behind its back). */
    readonly WorkspaceMissing: "WORKSPACE_MISSING";
    /** Refused because the workspace is running (e.g. remove without force). */
    readonly WorkspaceRunning: "WORKSPACE_RUNNING";
    readonly WorkspaceNotRunning: "WORKSPACE_NOT_RUNNING";
    /** Something else holds the workspace's name on the node (a container not made by this agent). */
    readonly WorkspaceConflict: "WORKSPACE_CONFLICT";
    readonly ImageNotFound: "IMAGE_NOT_FOUND";
    /** The image has no OpenSSH server. */
    readonly SshdMissing: "SSHD_MISSING";
    readonly BuildFailed: "BUILD_FAILED";
    /** The image is built from the project, and the project is not on the node yet: sync, then create again. */
    readonly BuildContextMissing: "BUILD_CONTEXT_MISSING";
    /** The provider refused or failed an operation (its message is in the error). */
    readonly ProviderError: "PROVIDER_ERROR";
    /** sync-receive refused the stream (a hostile or malformed entry). */
    readonly SyncRefused: "SYNC_REFUSED";
};
export type AgentErrorName = (typeof AgentErrorNames)[keyof typeof AgentErrorNames];
/** Where the agent lives on a node: `$VENDETTA_AGENT_HOME`, else `~/<DEFAULT_AGENT_HOME_DIR>`. */
export declare const AGENT_HOME_ENV = "VENDETTA_AGENT_HOME";
export declare const DEFAULT_AGENT_HOME_DIR = ".vendetta-agent";
/** The daemon's socket, inside the agent home. */
export declare const AGENT_SOCKET_NAME = "agent.sock";
/** What `vendetta-agent version` prints (one JSON line on stdout). */
export interface AgentVersionOutput {
    version: string;
    buildId: string;
    protocolVersion: number;
}
export type ProviderName = 'docker' | 'lxc' | 'qemu';
export declare const PROVIDER_NAMES: readonly ProviderName[];
export interface InitializeParams {
    protocolVersion: number;
    clientName: string;
    clientVersion: string;
}
export interface InitializeResult {
    protocolVersion: number;
    agentVersion: string;
    /** sha256 prefix of the running agent bundle: a coordinator with a different build upgrades it. */
    buildId: string;
    /** Daemon process id and start time, so a client can tell a restarted daemon. */
    pid: number;
    startedAt: string;
    /**
     * The daemon's socket on its node: next time a coordinator may open an SSH streamlocal
     * channel straight to it, without running `attach`.
     */
    socket?: string;
    /** The Node.js binary and the agent.js the daemon runs: agent commands run with the same pair. */
    execPath?: string;
    script?: string;
}
export interface ProviderStatus {
    available: boolean;
    version?: string;
    /** Why it is unavailable, in words a person understands. */
    error?: string;
    /** What to do about `error`. */
    hint?: string;
}
export interface QemuStatus extends ProviderStatus {
    /** /dev/kvm exists and is usable by the agent's user. */
    kvm: boolean;
    /** `qemu-system-<arch>` that was probed. */
    binary?: string;
    /** Why KVM is not usable (TCG still works, slowly). */
    kvmError?: string;
}
export interface DockerStatus extends ProviderStatus {
    apiVersion?: string;
    /** The Engine API socket that was probed. */
    socket?: string;
}
export interface LxcStatus extends ProviderStatus {
    /** Which way the agent drives containers: the LXD/Incus REST API, or the classic lxc-* tools. */
    backend?: 'incus' | 'lxd' | 'lxc-tools';
    /** The LXD/Incus API socket, when `backend` is incus or lxd. */
    socket?: string;
}
export interface ProvidersInfo {
    docker: DockerStatus;
    lxc: LxcStatus;
    qemu: QemuStatus;
}
export interface SystemInfo {
    hostname: string;
    /** PRETTY_NAME from /etc/os-release, else `os.type()`. */
    os: string;
    /** `uname -m` (x86_64, aarch64), else Node's `os.arch()`. */
    arch: string;
    /** `uname -r`. */
    kernel: string;
    cpus: number;
    memoryTotalBytes: number;
    memoryAvailableBytes: number;
    /** Free bytes on the file system holding the agent's home. */
    diskFreeBytes: number;
    diskTotalBytes: number;
    /** 1, 5 and 15 minute load averages. */
    load: [number, number, number];
    uptimeSeconds: number;
    nodeVersion: string;
}
export interface NodeInfo {
    agentVersion: string;
    system: SystemInfo;
    providers: ProvidersInfo;
}
export interface PingResult {
    /** Agent clock, ms since the epoch. */
    now: number;
}
export declare const Initialize: RequestType<InitializeParams, InitializeResult, AgentErrorData>;
export declare const Ping: RequestType0<PingResult, AgentErrorData>;
export declare const GetNodeInfo: RequestType0<NodeInfo, AgentErrorData>;
/** Stops the daemon after answering (used by `node remove --purge` and by upgrades). */
export declare const Shutdown: RequestType0<{
    pid: number;
}, AgentErrorData>;
/** Every request the agent answers, method → [params, result]: a handler table typed by it misses none. */
export interface AgentRequestMap {
    initialize: [InitializeParams, InitializeResult];
    'agent/ping': [undefined, PingResult];
    'node/info': [undefined, NodeInfo];
    'agent/shutdown': [undefined, {
        pid: number;
    }];
    'workspaces/create': [CreateWorkspaceParams, WorkspaceInfo];
    'workspaces/start': [WorkspaceNameParams, WorkspaceInfo];
    'workspaces/stop': [WorkspaceNameParams, WorkspaceInfo];
    'workspaces/remove': [RemoveWorkspaceParams, {
        name: string;
    }];
    'workspaces/inspect': [WorkspaceNameParams, WorkspaceInfo];
    'workspaces/list': [Record<string, never>, WorkspaceInfo[]];
    'workspaces/manifest': [WorkspaceNameParams, {
        files: ManifestEntry[];
    }];
}
export interface LogParams {
    level: 'error' | 'warn' | 'info' | 'debug';
    message: string;
}
/** Agent → client: something worth putting in the coordinator's log. */
export declare const LogNotification: NotificationType<LogParams>;
