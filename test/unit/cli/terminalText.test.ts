import assert from 'node:assert/strict';
import { jsonText, terminalSafe } from '../../../coordinator/cli/terminalText';

const ESC = '\x1b';
const BEL = '\x07';

/** Nothing a terminal would act on: no C0 control but tab and newline, no DEL, no C1 control. */
function inert(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return !/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(s);
}

describe('text from a workspace is printed without terminal control sequences', () => {
  const hostile: Array<[string, string, string]> = [
    ['OSC 0 window title (BEL)', `a${ESC}]0;pwned${BEL}b`, 'ab'],
    ['OSC 52 clipboard write, base64 with + / =', `a${ESC}]52;c;Y3VybCBldmlsLnNoIHwgc2g+/w==${BEL}b`, 'ab'],
    ['OSC 8 hyperlink (ST-terminated)', `${ESC}]8;;https://evil.example${ESC}\\click${ESC}]8;;${ESC}\\`, 'click'],
    ['CSI clear screen and cursor moves', `a${ESC}[2J${ESC}[H${ESC}[1;31mb${ESC}[0m`, 'ab'],
    ['C1 CSI and C1 OSC', `a\u009b2Jb\u009d0;t\u009cc`, 'abc'],
    ['DCS string', `a${ESC}Pq#0;2;0;0;0${ESC}\\b`, 'ab'],
    ['unterminated OSC', `a${ESC}]0;title never ends`, 'a]0;title never ends'],
    ['lone ESC, BEL, backspace, DEL, NUL', `a${ESC}b${BEL}c\bd\u007fe\u0000f`, 'abcdef'],
    ['two-byte escapes (reset, save cursor)', `a${ESC}cb${ESC}7c`, 'abc'],
    ['carriage return that would overwrite a line', 'rm -rf / # harmless\rls', 'rm -rf / # harmless\nls'],
  ];
  for (const [what, input, expected] of hostile) {
    it(`neutralises ${what}`, () => {
      const out = terminalSafe(input);
      assert.equal(out, expected);
      assert.ok(inert(out), JSON.stringify(out));
    });
  }

  it('keeps newlines, tabs, CRLF line ends and every printable character', () => {
    assert.equal(terminalSafe('a\tb\nc\r\nd'), 'a\tb\nc\nd');
    assert.equal(terminalSafe('naïve — 日本語 🚀 ~!@#$%^&*()[]{}'), 'naïve — 日本語 🚀 ~!@#$%^&*()[]{}');
  });

  it('--json keeps the text exact, with every control escaped', () => {
    const value = { line: `${ESC}]0;t${BEL}\u009b2J\u007f\\\u0085x` };
    const text = jsonText(value, 2);
    assert.ok(inert(text.replace(/\n/g, '')), text);
    assert.deepEqual(JSON.parse(text), value);
    assert.match(text, /\\u009b2J\\u007f\\\\\\u0085x/);
  });
});
