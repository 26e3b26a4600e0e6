/** The registry of subcommands: adding one is a new file in src/cli/ and one line here. */
import type { Command } from './command';
import { alertCommand, contactCommand } from './contact';
import { checkCommand } from './check';
import { migrateCommand } from './migrate';
import { notifyCommand } from './notify';
import { probeCommand } from './probe';
import { sqlCommand } from './sql';
import { statusCommand } from './status';
import { demoCommand } from './demo';
import { watchCommand } from './watch';
import { publishCommand } from './publish';
import { pingCommand, runCommand } from './ping';

export const commands: Command[] = [checkCommand, contactCommand, alertCommand, migrateCommand, notifyCommand, probeCommand, sqlCommand, statusCommand, demoCommand, watchCommand, publishCommand, pingCommand, runCommand];
