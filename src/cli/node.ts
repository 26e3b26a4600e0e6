/** `gobearmon CONFIG`: validates the config and runs the role it names until SIGTERM/SIGINT. */
import { loadConfig } from '../config/load';

export async function runNode(file: string): Promise<number> {
  const config = loadConfig(file);
  console.error(`gobearmon: ${file} names a ${config.role}; roles are not built yet`);
  return 1;
}
