/**
 * The top entries of a V8 CPU profile (node --cpu-prof) by self time, in percent of the time the
 * process was busy (idle samples left out), as
 * `node dist/bench/profile-top.js FILE.cpuprofile [N]` or from the harness with --profile.
 */
import { readFileSync } from 'node:fs';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

export function profileTop(file: string, n = 15): { pct: number; name: string }[] {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const names = new Map<number, string>();
  for (const node of p.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url.replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, '').replace(/^file:\/\//, '');
    names.set(node.id, `${functionName || '(anonymous)'} ${where}${where ? `:${lineNumber + 1}` : ''}`.trim());
  }
  const self = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    const name = names.get(id) ?? '?';
    if (name === '(idle)') return;
    total += dt;
    self.set(name, (self.get(name) ?? 0) + dt);
  });
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, t]) => ({ pct: (100 * t) / Math.max(1, total), name }));
}

if (require.main === module) {
  const [file, n] = process.argv.slice(2);
  for (const e of profileTop(file, Number(n ?? 25))) console.log(`${e.pct.toFixed(1).padStart(5)}%  ${e.name}`);
}
