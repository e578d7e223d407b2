/**
 * The one place the Docker provider touches the engine: the provider-neutral HTTP-over-Unix-socket
 * client (../unixHttp.ts), speaking as Docker (its Host header, its `{"message": …}` error bodies,
 * its socket's failure hints).
 */
import { jsonErrorText, UnixHttpClient, type HttpCall, type UnixHttpApi } from '../unixHttp';
import { dockerApiDescription } from './detect';

export { HttpStatusError as EngineHttpError, pathWithQuery } from '../unixHttp';
export type EngineCall = HttpCall;

/** The engine's `{"message": "…"}` error body, or the raw text. */
export const engineMessage = (body: Buffer | string): string => jsonErrorText(body, 'message');

const DOCKER_API: UnixHttpApi = {
  name: 'Docker',
  host: 'docker',
  provider: 'docker',
  socket: dockerApiDescription,
  errorText: engineMessage,
};

export class EngineClient extends UnixHttpClient {
  constructor(socketPath: string, defaultTimeoutMs?: number) {
    super(DOCKER_API, socketPath, defaultTimeoutMs);
  }
}
