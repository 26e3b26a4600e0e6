/**
 * A bad configuration: the message names the file, section, key, value and what is allowed.
 * With no key it is about a whole section; with no section it is about the whole file.
 */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly section: string,
    readonly key: string,
    readonly value: string | undefined,
    readonly allowed: string,
  ) {
    const where = key ? `[${section}] ${key}` : `[${section}]`;
    // A section has no value of its own, so "is missing" would be wrong there.
    const got = value === undefined ? (key ? ' is missing' : '') : ` = ${JSON.stringify(value)} is invalid`;
    super(section ? `${file}: ${where}${got}: ${allowed}` : `${file}: ${allowed}`);
    this.name = 'ConfigError';
  }
}
