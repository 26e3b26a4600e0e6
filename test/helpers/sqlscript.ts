/** Reads the repository's .sql files (install.sql, fixtures) as single statements for mysql2's query(). */
import { readFileSync } from 'node:fs';
import { resolve, sep } from 'node:path';

/** The repository root, whether this runs compiled (dist/test/helpers) or not (test/helpers). */
export const REPO_ROOT = resolve(__dirname, __dirname.includes(`${sep}dist${sep}`) ? '../../..' : '../..');

/** The statements of a script, each as written (no `--` comment lines); `;` ends a statement at a line's end. */
export function sqlStatements(relPath: string): string[] {
  const text = readFileSync(resolve(REPO_ROOT, relPath), 'utf8');
  return text
    .split(/;[ \t]*$/m)
    .map((s) => s.replace(/^[ \t]*--.*$/gm, '').trim())
    .filter(Boolean);
}
