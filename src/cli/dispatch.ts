/** `gobearmon [SUBCOMMAND] ARGS`: picks the subcommand, or starts the role a config file names. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commands } from './index';
import { UsageError, beforeSeparator } from './command';
import { runNode } from './node';
import { ConfigError } from '../config/error';

const VERSION = (JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')) as { version: string }).version;

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'usage: gobearmon CONFIG               start the role the config file names (worker node or viewserver)',
    '       gobearmon SUBCOMMAND [ARGS]    (gobearmon SUBCOMMAND --help for its options)',
    '       gobearmon --version',
    '',
    'subcommands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--version' || first === '-v') {
    console.log(`gobearmon ${VERSION}`);
    return 0;
  }
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    (first === undefined ? console.error : console.log)(usage());
    return first === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === first);
  try {
    if (command) {
      const own = command.ownOptions ? command.ownOptions(rest) : beforeSeparator(rest);
      if (own.includes('--help') || own.includes('-h')) {
        console.log(command.usage);
        return 0;
      }
      return await command.run(rest);
    }
    if (first.startsWith('-') || !existsSync(first)) {
      console.error(`gobearmon: ${first.startsWith('-') ? 'unknown option' : 'no such subcommand or config file'}: ${first}\n\n${usage()}`);
      return 2;
    }
    return await runNode(first);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`gobearmon ${first}: ${err.message}\n\n${command?.usage ?? usage()}`);
      return 2;
    }
    if (err instanceof ConfigError) {
      console.error(`gobearmon: ${err.message}`);
      return 2;
    }
    throw err;
  }
}
