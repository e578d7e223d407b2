// Types of aptSources.mjs for the TypeScript tests.
export interface AptEntry {
  type: string;
  uri: string;
  suites: string[];
}
export function parseOneLine(text: string): AptEntry[];
export function parseDeb822(text: string): AptEntry[];
export function pickMirror(entries: AptEntry[], suite: string): string | undefined;
export function readAptSources(etc?: string): { files: string[]; entries: AptEntry[] };
export function debianMirror(
  suite: string,
  env?: NodeJS.ProcessEnv,
  etc?: string,
): { mirror: string } | { error: string; hint: string };
export function parseAptProxy(shellOutput: string): Record<string, string>;
export function aptProxyEnv(env?: NodeJS.ProcessEnv): Record<string, string>;
