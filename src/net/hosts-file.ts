/** /etc/hosts, parsed: name (lower-cased) → addresses in file order. Pure, so it is tested alone. */
import { isIP } from 'node:net';

export type HostsTable = Map<string, string[]>;

export function parseHosts(text: string): HostsTable {
  const table: HostsTable = new Map();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const [address, ...names] = line.split(/\s+/);
    // A zone (fe80::1%eth0) is kept: it is part of how the address is reached.
    if (!isIP(address.split('%')[0])) continue;
    for (const name of names) {
      const key = name.toLowerCase().replace(/\.$/, '');
      const list = table.get(key) ?? [];
      if (!list.includes(address)) list.push(address);
      table.set(key, list);
    }
  }
  return table;
}

/** `search` domains and `ndots` of resolv.conf (the nameservers are c-ares' own business). */
export function parseResolvConf(text: string): { search: string[]; ndots: number } {
  let search: string[] = [];
  let ndots = 1;
  for (const raw of text.split('\n')) {
    const [key, ...rest] = raw.replace(/[#;].*/, '').trim().split(/\s+/);
    if (key === 'search' || key === 'domain') search = rest.filter(Boolean);
    if (key === 'options') {
      for (const opt of rest) {
        const m = /^ndots:(\d+)$/.exec(opt);
        if (m) ndots = Math.min(15, Number(m[1]));
      }
    }
  }
  return { search, ndots };
}
