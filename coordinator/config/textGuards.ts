/**
 * Checks made before parsing: a config is small UTF-8 text. A 5 MB file or a binary blob is
 * refused with one clear diagnostic instead of being handed to the YAML/JSON parsers.
 */
import { type Diagnostic, OffsetMapper, diagnosticAt, fileDiagnostic } from './diagnostics';

export const MAX_CONFIG_BYTES = 1024 * 1024;

export function tooLarge(file: string, bytes: number): Diagnostic {
  const size = formatBytes(bytes);
  const limit = formatBytes(MAX_CONFIG_BYTES);
  return fileDiagnostic(file, {
    code: 'too-large',
    message: `the file is ${size === limit ? `over ${size}` : size}; a config file may be at most ${limit}`,
    hint: 'check that this is the right file: a workspace config is a few hundred bytes of YAML',
  });
}

function notText(file: string, text: string, offset: number, what: string): Diagnostic {
  const at = new OffsetMapper(text).position(offset);
  return diagnosticAt(
    file,
    { start: at, end: { line: at.line, col: at.col + 1 } },
    {
      code: 'not-text',
      message: `the file is not text: it contains ${what}`,
      hint: 'a config file must be UTF-8 text; check that this is the right file',
    },
  );
}

/** Size and control-character checks on text that is already decoded (e.g. an editor buffer). */
export function checkConfigText(text: string, file: string): Diagnostic[] {
  // Every UTF-16 unit is at least one UTF-8 byte, so the cheap length test comes first.
  if (text.length > MAX_CONFIG_BYTES) return [tooLarge(file, utf8Length(text))];
  const bytes = utf8Length(text);
  if (bytes > MAX_CONFIG_BYTES) return [tooLarge(file, bytes)];
  // C0 controls other than tab, LF and CR (NUL above all) mean binary data; YAML forbids them too.
  const index = firstControlChar(text);
  if (index >= 0) {
    const code = text.charCodeAt(index);
    const what = code === 0 ? 'NUL bytes' : `the control character 0x${code.toString(16).padStart(2, '0')}`;
    return [notText(file, text, index, what)];
  }
  return [];
}

/** Decodes file bytes as UTF-8 (dropping a BOM), refusing oversized or non-UTF-8 input. */
export function decodeConfigBytes(bytes: Uint8Array, file: string): { text?: string; diagnostics: Diagnostic[] } {
  if (bytes.length > MAX_CONFIG_BYTES) return { diagnostics: [tooLarge(file, bytes.length)] };
  const bad = firstInvalidUtf8(bytes);
  const control = firstControlByte(bytes);
  if (control >= 0 && (bad < 0 || control < bad)) {
    const text = new TextDecoder('utf-8').decode(bytes.subarray(0, control + 1));
    return { diagnostics: checkConfigText(text, file) };
  }
  if (bad >= 0) {
    const prefix = new TextDecoder('utf-8').decode(bytes.subarray(0, bad));
    return {
      diagnostics: [
        notText(
          file,
          prefix,
          prefix.length,
          `a byte that is not UTF-8 (0x${(bytes[bad] ?? 0).toString(16).padStart(2, '0')})`,
        ),
      ],
    };
  }
  const text = new TextDecoder('utf-8', { ignoreBOM: false }).decode(bytes);
  const diagnostics = checkConfigText(text, file);
  return diagnostics.length ? { diagnostics } : { text, diagnostics };
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence, or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i] ?? 0;
    if (c < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) [n, min] = [1, 0x80];
    else if (c >= 0xe0 && c <= 0xef) [n, min] = [2, 0x800];
    else if (c >= 0xf0 && c <= 0xf4) [n, min] = [3, 0x10000];
    else return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const cc = b[i + k];
      if (cc === undefined || (cc & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

/** Control characters are ASCII, so they can be found in the bytes before decoding. */
function firstControlByte(b: Uint8Array): number {
  for (let i = 0; i < b.length; i++) {
    const c = b[i] ?? 0;
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return i;
  }
  return -1;
}

function firstControlChar(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return i;
  }
  return -1;
}

function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1).replace(/\.0$/, '')} KiB`;
  return `${n} bytes`;
}
