/** HEAT's verbose log format: `<unix s> : INFO|FAIL|ERR : <program> :` then each line as `> line`. */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { LogLevel } from './machine';

export function formatRecord(unixMs: number, level: LogLevel, program: string, text: string): string {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return `${Math.floor(unixMs / 1000)} : ${level} : ${program} :\n${lines.map((l) => `> ${l}\n`).join('')}`;
}

/** Appends records to the log file (opened once, appended as HEAT did; synchronous so records never interleave). */
export class HeatLog {
  private readonly fd: number;

  constructor(path: string) {
    this.fd = openSync(path, 'a');
  }

  write(unixMs: number, level: LogLevel, program: string, text: string): void {
    writeSync(this.fd, formatRecord(unixMs, level, program, text));
  }

  close(): void {
    closeSync(this.fd);
  }
}
