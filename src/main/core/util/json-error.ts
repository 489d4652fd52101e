/**
 * What was wrong with a text JSON.parse refused, and where, quoting none of it. For an unexpected token V8
 * quotes the text around it (`Unexpected token 'Z', ..."{"token":Zq8rT3xWv9"... is not valid JSON`): in a
 * configuration file that can be a mistyped secret, which must not reach the log, the timeline or an API
 * answer. That form becomes the line and column of the token, found from where the quote sits (V8 shows ten
 * characters before it, or the text from its start); V8's other messages name a position and quote nothing.
 */
const QUOTING = /^Unexpected token '([\s\S])', (\.\.\.)?"([\s\S]*?)"(?:\.\.\.)? is not valid JSON$/;
const CONTEXT_BEFORE = 10;

export function jsonErrorText(error: unknown, text: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const m = QUOTING.exec(message);
  if (!m) return message;
  const [, token, cut, excerpt] = m as unknown as [string, string, string | undefined, string];
  const start = text.indexOf(excerpt);
  const at = start < 0 ? -1 : cut ? start + CONTEXT_BEFORE : start + excerpt.indexOf(token);
  if (at < 0) return 'Unexpected character in JSON';
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  const column = at - before.lastIndexOf('\n');
  return `Unexpected character in JSON at position ${at} (line ${line} column ${column})`;
}
