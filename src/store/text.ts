/**
 * Makes any text fit a VARCHAR column: well-formed (a lone UTF-16 surrogate becomes U+FFFD),
 * NUL-free, and cut by characters (code points, as MySQL counts a utf8mb4 VARCHAR), never
 * inside a surrogate pair. Pure.
 */
export function fitText(text: string, maxChars: number): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD').replace(/\u0000/g, '');
  // A string of n UTF-16 units has at most n code points: short strings need no counting.
  if (clean.length <= maxChars) return clean;
  const points = Array.from(clean);
  return points.length <= maxChars ? clean : `${points.slice(0, Math.max(0, maxChars - 1)).join('')}…`;
}

/**
 * The last resort when a column still refuses a text (a database whose columns are not utf8mb4):
 * every character outside printable ASCII written as \u{…}, then cut to fit.
 */
export function asciiText(text: string, maxChars: number): string {
  const escaped = Array.from(fitText(text, maxChars * 4), (ch) => {
    const cp = ch.codePointAt(0)!;
    return cp >= 0x20 && cp < 0x7f ? ch : `\\u{${cp.toString(16)}}`;
  }).join('');
  return escaped.length <= maxChars ? escaped : `${escaped.slice(0, maxChars - 3)}...`;
}
