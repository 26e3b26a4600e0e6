/** A real SMTP server on 127.0.0.1 for tests: records every message it accepts, parsed. */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The user the client authenticated as, or undefined when it did not. */
  user?: string;
  /** Header names lower-cased, folded lines joined. */
  headers: Map<string, string>;
  subject: string;
  /** Decoded plain-text body, line ends normalised to \n. */
  text: string;
}

export interface SmtpOptions {
  /** Require AUTH with these credentials; without it the server takes unauthenticated mail. */
  auth?: { user: string; pass: string };
  /** Offer STARTTLS (with smtp-server's self-signed certificate). */
  starttls?: boolean;
  /** Recipients refused at RCPT TO, with the reply code (550 permanent, 450 temporary). */
  refuse?: Record<string, number>;
  /** Listen on this port (default: any free one). */
  port?: number;
}

export interface TestSmtp {
  port: number;
  received: ReceivedMail[];
  close(): Promise<void>;
}

export async function startSmtp(opts: SmtpOptions = {}): Promise<TestSmtp> {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    logger: false,
    disabledCommands: opts.starttls ? [] : ['STARTTLS'],
    authOptional: !opts.auth,
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(auth, _session, cb) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) cb(null, { user: auth.username });
      else cb(new Error('Invalid username or password'));
    },
    onRcptTo(address, _session, cb) {
      const code = opts.refuse?.[address.address];
      if (!code) return cb();
      cb(Object.assign(new Error(`mailbox ${address.address} refused`), { responseCode: code }));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const mailFrom = session.envelope.mailFrom;
        received.push({
          ...parseMessage(Buffer.concat(chunks).toString('latin1')),
          from: mailFrom ? mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return { port, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Just enough RFC 5322/2045 for the plain-text mails we send: headers, 7bit/QP/base64 body. */
function parseMessage(raw: string): { headers: Map<string, string>; subject: string; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? '' : raw.slice(split + 4);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  let bytes: Buffer;
  if (encoding === 'base64') bytes = Buffer.from(body, 'base64');
  else if (encoding === 'quoted-printable') {
    bytes = Buffer.from(
      body.replace(/=\r\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
      'latin1',
    );
  } else bytes = Buffer.from(body, 'latin1');
  return { headers, subject: headers.get('subject') ?? '', text: bytes.toString('utf8').replace(/\r\n/g, '\n') };
}
