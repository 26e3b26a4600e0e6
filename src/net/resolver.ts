/**
 * Name resolution for check targets that never touches libuv's thread pool: IP literals are
 * answered at once, /etc/hosts is read (and re-read when it changes) by us, and everything else
 * goes to c-ares (node:dns Resolver, its own sockets and timers). `dns.lookup` (getaddrinfo) runs on
 * the 4 pool threads that fs and crypto share, so a few names whose resolver never answers would
 * queue every other lookup behind them; here a hanging name delays only its own check.
 */
import { Resolver } from 'node:dns/promises';
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseHosts, parseResolvConf, type HostsTable } from './hosts-file';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export interface LookupOptions {
  /** 4 or 6 to ask for one family; 0 (default) for IPv4 answers, else IPv6 ones. */
  family?: 0 | 4 | 6;
  /** The whole lookup, every query and search domain included, ends by then. */
  timeoutMs: number;
}

export interface HostResolverOptions {
  /** Servers as `ip` or `ip:port` (`[v6]:port`); default the system's (resolv.conf, read by c-ares). */
  servers?: string[];
  hostsFile?: string;
  resolvConf?: string;
}

/** How often the files are looked at again (a stat; read only when their mtime changed). */
const FILES_RECHECK_MS = 5_000;
const LOOPBACK: readonly ResolvedAddress[] = [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }];

export class LookupError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
    this.name = 'LookupError';
  }
}

interface FileCache<T> {
  value: T;
  mtimeMs: number;
  checkedAt: number;
}

export class HostResolver {
  private readonly resolver: Resolver;
  private readonly hostsFile: string;
  private readonly resolvConf: string;
  private hosts: FileCache<HostsTable> | null = null;
  private search: FileCache<{ search: string[]; ndots: number }> | null = null;

  constructor(opts: HostResolverOptions = {}) {
    // Short tries: the caller's deadline is what bounds a lookup; these only bound c-ares' own retries.
    this.resolver = new Resolver({ timeout: 2_000, tries: 2 });
    if (opts.servers?.length) this.resolver.setServers(opts.servers);
    this.hostsFile = opts.hostsFile ?? '/etc/hosts';
    this.resolvConf = opts.resolvConf ?? '/etc/resolv.conf';
  }

  /** Addresses of `name` (at least one), or a LookupError saying why not. */
  async lookup(name: string, opts: LookupOptions): Promise<ResolvedAddress[]> {
    const family = opts.family ?? 0;
    const host = name.replace(/^\[|\]$/g, '');
    const literal = isIP(host.split('%')[0]);
    if (literal) {
      if (family && family !== literal) throw new LookupError(`${host} is not an IPv${family} address`, 'EFAMILY');
      return [{ address: host, family: literal as 4 | 6 }];
    }
    const key = host.toLowerCase().replace(/\.$/, '');
    const fromFile = this.fromHostsFile(key, family);
    if (fromFile.length) return fromFile;
    // Like glibc: "localhost" and its subdomains are loopback even when /etc/hosts says nothing.
    if (key === 'localhost' || key.endsWith('.localhost')) return LOOPBACK.filter((a) => !family || a.family === family);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LookupError(`DNS lookup of ${host} timed out after ${opts.timeoutMs / 1000} s`, 'ETIMEOUT')), opts.timeoutMs);
    });
    try {
      return await Promise.race([this.query(key, family), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  private fromHostsFile(key: string, family: 0 | 4 | 6): ResolvedAddress[] {
    const table: HostsTable = this.cached('hosts', this.hostsFile, parseHosts, new Map<string, string[]>());
    const all: ResolvedAddress[] = (table.get(key) ?? []).map((address: string) => ({ address, family: isIP(address.split('%')[0]) as 4 | 6 }));
    if (family) return all.filter((a) => a.family === family);
    const v4 = all.filter((a) => a.family === 4);
    return v4.length ? v4 : all;
  }

  /** The names to try, as the system resolver would: search domains first for short names. */
  private candidates(key: string): string[] {
    const { search, ndots } = this.cached('search', this.resolvConf, parseResolvConf, { search: [], ndots: 1 });
    const dots = key.split('.').length - 1;
    const searched = search.map((d) => `${key}.${d}`);
    return dots >= ndots ? [key, ...searched] : [...searched, key];
  }

  private async query(key: string, family: 0 | 4 | 6): Promise<ResolvedAddress[]> {
    let last: unknown;
    for (const name of this.candidates(key)) {
      try {
        const found = await this.queryOne(name, family);
        if (found.length) return found;
      } catch (err) {
        last = err;
        const code = (err as { code?: string }).code;
        // Only "no such name" moves on to the next candidate; a failing server fails the lookup.
        if (code !== 'ENOTFOUND' && code !== 'ENODATA') break;
      }
    }
    const code = (last as { code?: string } | undefined)?.code ?? 'ENOTFOUND';
    if (code === 'ETIMEOUT') throw new LookupError(`DNS lookup of ${key} timed out (no answer from the DNS server)`, code);
    throw new LookupError(`DNS lookup of ${key} failed: ${code === 'ENOTFOUND' || code === 'ENODATA' ? 'no such host' : code}`, code);
  }

  /** A and AAAA at once; the IPv4 answer is taken as soon as it has addresses (as getaddrinfo's default order would). */
  private queryOne(name: string, family: 0 | 4 | 6): Promise<ResolvedAddress[]> {
    const as = (f: 4 | 6) => (list: string[]): ResolvedAddress[] => list.map((address) => ({ address, family: f }));
    const v4 = (): Promise<ResolvedAddress[]> => this.resolver.resolve4(name).then(as(4));
    const v6 = (): Promise<ResolvedAddress[]> => this.resolver.resolve6(name).then(as(6));
    if (family === 4) return v4();
    if (family === 6) return v6();
    const a6 = v6();
    a6.catch(() => undefined); // heard below if the IPv4 answer is empty
    return v4().then(
      (found): ResolvedAddress[] | Promise<ResolvedAddress[]> => (found.length ? found : a6),
      (err: unknown) => a6.then((found) => (found.length ? found : Promise.reject(err)), () => Promise.reject(err)),
    );
  }

  /** A parsed file, re-read when its mtime changes (stat at most every FILES_RECHECK_MS); `fallback` when unreadable. */
  private cached<T>(slot: 'hosts' | 'search', path: string, parse: (text: string) => T, fallback: T): T {
    const now = Date.now();
    const current = (slot === 'hosts' ? this.hosts : this.search) as FileCache<T> | null;
    if (current && now - current.checkedAt < FILES_RECHECK_MS) return current.value;
    let next: FileCache<T>;
    try {
      // Synchronous on purpose: these are tiny files, and the async fs API queues on the very thread pool avoided here.
      const mtimeMs = statSync(path).mtimeMs;
      next = current && current.mtimeMs === mtimeMs ? { ...current, checkedAt: now } : { value: parse(readFileSync(path, 'utf8')), mtimeMs, checkedAt: now };
    } catch {
      next = { value: fallback, mtimeMs: -1, checkedAt: now };
    }
    if (slot === 'hosts') this.hosts = next as FileCache<HostsTable>;
    else this.search = next as FileCache<{ search: string[]; ndots: number }>;
    return next.value;
  }

  /** Abandons every outstanding query (their callers see ECANCELLED). */
  cancel(): void {
    this.resolver.cancel();
  }
}
