import { BraidError } from '../model/errors.js';

/**
 * `expression`: one JavaScript expression whose value is the result (sync transforms).
 * `function`: the body of an async function; `return` gives the result (automation steps).
 */
export type CodeMode = 'expression' | 'function';

/** The file name V8 puts in positions of user code; positions are found again by it. */
export const USER_CODE_FILENAME = 'braid-user-code';

/** Where in the user's own text something happened, 1-based. */
export interface CodePosition {
  line: number;
  column: number;
}

// Strict mode forbids these as parameter names; reserved words cannot be names at all. A caller
// passing one is a Braid bug, so it is refused before it could be reported as the user's syntax error.
const RESERVED = new Set(
  (
    'await break case catch class const continue debugger default delete do else enum eval export ' +
    'extends false finally for function if implements import in instanceof interface let new null ' +
    'package private protected public return static super switch this throw true try typeof var ' +
    'void while with yield arguments'
  ).split(' '),
);
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Input names in a stable order (they are part of the compile cache key). */
export function inputNamesOf(inputs: Record<string, unknown>): string[] {
  const names = Object.keys(inputs).sort();
  for (const name of names) {
    if (!IDENTIFIER.test(name) || RESERVED.has(name)) {
      throw new BraidError(500, 'sandbox_input', `sandbox input name ${JSON.stringify(name)} is not usable`, {
        input: name,
      });
    }
  }
  return names;
}

/**
 * The script compiled for user code: a function taking the inputs as parameters. The user's text
 * starts at column 0 of the second line and the script is compiled with line offset -1, so V8's
 * positions are positions in the user's own text. Strict mode makes an undeclared assignment an
 * error instead of an attempt to create a global. The closing part starts on a new line so that a
 * trailing `// comment` in the user's text cannot swallow it.
 */
export function wrapUserCode(mode: CodeMode, source: string, inputNames: readonly string[]): string {
  const params = inputNames.join(', ');
  if (mode === 'expression') return `(function (${params}) { 'use strict'; return (\n${source}\n); })`;
  return `(async function (${params}) { 'use strict';\n${source}\n})`;
}

/** The line offset to compile `wrapUserCode` output with (its prefix is one line). */
export const WRAPPER_LINE_OFFSET = -1;

/**
 * Clamps a position into the user's text: a missing `)` is reported by V8 on the wrapper's closing
 * line, which the user never wrote; the end of their last line is where the fix goes.
 */
export function clampPosition(position: CodePosition, source: string): CodePosition {
  const lines = source.split('\n');
  if (position.line >= 1 && position.line <= lines.length) return position;
  if (position.line < 1) return { line: 1, column: 1 };
  const last = lines[lines.length - 1] ?? '';
  return { line: lines.length, column: last.length + 1 };
}

/**
 * Whether V8 reported an error where the user's text has already ended. The token it names then
 * belongs to the wrapper (`Unexpected token ';'` for `(value`), which would only confuse.
 */
export function isPastEnd(position: CodePosition, source: string): boolean {
  const lines = source.split('\n');
  const last = lines[lines.length - 1] ?? '';
  return position.line > lines.length || (position.line === lines.length && position.column > last.length);
}

const POSITION_IN_MESSAGE = new RegExp(`\\s*\\[${USER_CODE_FILENAME}:(\\d+):(\\d+)\\]$`);
const POSITION_IN_STACK = new RegExp(`${USER_CODE_FILENAME}:(\\d+):(\\d+)`);

/** isolated-vm appends `[file:line:column]` to a compile error's message; split it off. */
export function splitSyntaxMessage(message: string): { message: string; position: CodePosition | undefined } {
  const found = POSITION_IN_MESSAGE.exec(message);
  if (!found) return { message, position: undefined };
  return {
    message: message.slice(0, found.index),
    position: { line: Number(found[1]), column: Number(found[2]) },
  };
}

/** The innermost frame of user code in a stack trace (frames of Braid's runner are skipped). */
export function positionInStack(stack: string): CodePosition | undefined {
  const found = POSITION_IN_STACK.exec(stack);
  return found ? { line: Number(found[1]), column: Number(found[2]) } : undefined;
}

/** A short one-line form of user code for messages; the full text goes into the error details. */
export function excerpt(source: string, max = 120): string {
  const flat = source.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
