/**
 * Text that came from a workspace (service logs, build output, sshd output, errors from commands
 * in it) made harmless for a terminal: what is in a workspace is someone else's code, and escape
 * sequences could retitle the window, clear the screen, write the clipboard (OSC 52), plant links
 * or hide lines. strip-ansi (ansi-regex) removes whole CSI, OSC, DCS/SOS/PM/APC and other escape
 * sequences; what it leaves (a lone or unterminated ESC, BEL, backspace, other C0 and C1 controls,
 * DEL) is removed here, and a carriage return that would overwrite a line starts a new one instead.
 * Newlines and tabs stay. `--json` output keeps the text exact (see jsonText).
 */
import stripAnsi from 'strip-ansi';

// C0 controls but tab and newline, DEL, C1 controls (U+0080–U+009F, which terminals may read as CSI, OSC…).
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

export function terminalSafe(text: string): string {
  return stripAnsi(text).replace(/\r\n/g, '\n').replace(/\r/g, '\n').replace(CONTROLS, '');
}

/**
 * JSON.stringify leaves DEL and the C1 controls raw: escaped as \u00XX they still parse to the same
 * string, and a terminal that shows the JSON does not act on them.
 */
export function jsonText(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(
    /[\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
