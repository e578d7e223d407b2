/**
 * The header block of a `Content-Length: N\r\n\r\n<N bytes>` frame: what may stand in it, and the
 * body length it announces. Strict, so a peer that sends anything else (an HTTP request, binary
 * noise) is refused at its first bytes rather than when a header cap or a timeout runs out.
 */

/** RFC 7230 token characters, for header names. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE = /^[\x20-\x7e\t]*$/;
const LENGTH_LINE = 'Content-Length: ';

/**
 * What is wrong with the header text seen so far, or undefined. While the header is incomplete its
 * last line may be cut anywhere, so that line is only checked for characters no header can hold.
 */
export function checkHeaderText(text: string, complete: boolean): string | undefined {
  const lines = text.split('\r\n');
  const partial = complete ? undefined : lines.pop();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0 || !HEADER_NAME.test(line.slice(0, colon)) || !HEADER_VALUE.test(line.slice(colon + 1)))
      return notAHeader(line);
  }
  if (partial !== undefined && partial.length > 0) {
    const colon = partial.indexOf(':');
    const name = colon < 0 ? partial.replace(/\r$/, '') : partial.slice(0, colon);
    const ok =
      (name.length === 0 || HEADER_NAME.test(name)) &&
      (colon < 0 || HEADER_VALUE.test(partial.slice(colon + 1).replace(/\r$/, '')));
    if (!ok) return notAHeader(partial);
  }
  return undefined;
}

/** The Content-Length of a complete, checked header block, or what is wrong with it. */
export function contentLength(header: string): number | string {
  // The one line every writer here (and vscode-jsonrpc's, without a Content-Type) sends: no split needed.
  if (header.startsWith(LENGTH_LINE) && /^\d{1,12}$/.test(header.slice(LENGTH_LINE.length)))
    return Number(header.slice(LENGTH_LINE.length));
  let length: number | undefined;
  for (const line of header.split('\r\n')) {
    const colon = line.indexOf(':');
    if (line.slice(0, colon).trim().toLowerCase() !== 'content-length') continue;
    const value = line.slice(colon + 1).trim();
    if (!/^\d{1,12}$/.test(value))
      return `Content-Length must be a number of bytes, got ${JSON.stringify(value.slice(0, 20))}`;
    length = Number(value);
  }
  return length ?? 'a message header has no Content-Length';
}

function notAHeader(line: string): string {
  return `expected a \`Content-Length: N\` header, got ${JSON.stringify(line.slice(0, 60))}`;
}
