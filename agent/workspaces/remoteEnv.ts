/**
 * devcontainer.json's `remoteEnv`: variables for SSH logins and lifecycle hooks only, never in the
 * container's own environment. A value may use `${containerEnv:VAR}` (or `${containerEnv:VAR:default}`),
 * the container's environment as the provider reports it (image env and the spec's env), which only
 * the node knows: it is resolved here, as the Dev Containers reference resolves it.
 */
const CONTAINER_ENV = /\$\{containerEnv:([^}:]*)(?::([^}]*))?\}/g;

export function resolveRemoteEnv(
  remoteEnv: Readonly<Record<string, string>> | undefined,
  containerEnv: Readonly<Record<string, string>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(remoteEnv ?? {}))
    out[k] = v.replace(CONTAINER_ENV, (_m, name: string, fallback: string | undefined) =>
      // A missing variable is its default, else empty (as a shell, and the reference, have it).
      Object.prototype.hasOwnProperty.call(containerEnv, name) ? containerEnv[name]! : (fallback ?? ''),
    );
  return out;
}

/** What a login sees: the container's env with remoteEnv over it. */
export function loginEnv(
  spec: { env: Record<string, string>; remoteEnv?: Record<string, string> },
  containerEnv?: Readonly<Record<string, string>>,
): Record<string, string> {
  return { ...spec.env, ...resolveRemoteEnv(spec.remoteEnv, containerEnv ?? spec.env) };
}
