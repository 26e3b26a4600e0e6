/**
 * CPU and memory of processes by pid, read from /proc (Linux): CPU % over a window from the
 * utime+stime ticks of /proc/PID/stat, RSS from VmRSS in /proc/PID/status. No sampling thread: two
 * reads bound a window, and a light poll keeps the peak RSS.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

/** Clock ticks per second of /proc/PID/stat; 100 on every Linux this runs on (getconf CLK_TCK). */
const CLK_TCK = 100;

export interface ProcSample {
  at: number;
  /** CPU seconds used so far (user + system). */
  cpuS: number;
  rssMb: number;
}

export function sampleProc(pid: number): ProcSample | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces; the fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuS = (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime: fields 14 and 15
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { at: Date.now(), cpuS, rssMb: rssKb / 1024 };
  } catch {
    return null; // the process is gone
  }
}

/** Busy and total jiffies of the whole machine (/proc/stat), for the load others put on it. */
function machineTicks(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = cpu[3] + (cpu[4] ?? 0); // idle + iowait
  const total = cpu.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

export interface ProcCost {
  cpuPct: number;
  rssMb: number;
  peakRssMb: number;
}

/** Watches named processes over one window; `stop()` gives each one's CPU % and RSS. */
export class ProcWindow {
  private readonly start = new Map<string, ProcSample>();
  private readonly peak = new Map<string, number>();
  private readonly machine0 = machineTicks();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pids: Map<string, number>) {
    for (const [name, pid] of pids) {
      const s = sampleProc(pid);
      if (s) {
        this.start.set(name, s);
        this.peak.set(name, s.rssMb);
      }
    }
    this.timer = setInterval(() => this.pollPeak(), 1_000);
  }

  private pollPeak(): void {
    for (const [name, pid] of this.pids) {
      const s = sampleProc(pid);
      if (s) this.peak.set(name, Math.max(this.peak.get(name) ?? 0, s.rssMb));
    }
  }

  stop(): { procs: Record<string, ProcCost>; machineCpuPct: number; loadavg1: number } {
    clearInterval(this.timer);
    const procs: Record<string, ProcCost> = {};
    for (const [name, pid] of this.pids) {
      const a = this.start.get(name);
      const b = sampleProc(pid);
      if (!a || !b) continue;
      const cpuPct = (100 * (b.cpuS - a.cpuS)) / Math.max(0.001, (b.at - a.at) / 1000);
      procs[name] = { cpuPct, rssMb: b.rssMb, peakRssMb: Math.max(this.peak.get(name) ?? 0, b.rssMb) };
    }
    const m = machineTicks();
    // Percent of the whole machine (all cores) that was busy, ours and everyone else's.
    const machineCpuPct = (100 * (m.busy - this.machine0.busy)) / Math.max(1, m.total - this.machine0.total);
    return { procs, machineCpuPct, loadavg1: loadavg()[0] };
  }
}
