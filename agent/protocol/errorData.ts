/** The `data` of the agent's errors, apart from index.ts so the method files can name it without a cycle. */
import type { ProviderName } from './providerNames';

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
