/** A bad configuration value: the message names the file, section, key, value and what is allowed. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly section: string,
    readonly key: string,
    readonly value: string | undefined,
    readonly allowed: string,
  ) {
    const where = key ? `[${section}] ${key}` : `[${section}]`;
    const got = value === undefined ? 'is missing' : `= ${JSON.stringify(value)} is invalid`;
    super(`${file}: ${where} ${got}: ${allowed}`);
    this.name = 'ConfigError';
  }
}
