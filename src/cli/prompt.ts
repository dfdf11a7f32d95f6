import { createInterface } from 'node:readline/promises';
import { VmcryptError } from '../errors.js';

const MAX_SECRET = 1024;

/** Reads one line from a terminal with echo off (a password). */
export async function promptSecret(question: string): Promise<string> {
  const stdin = process.stdin;
  if (stdin.isTTY !== true) throw new VmcryptError('PASSWORD_INPUT', 'no terminal to ask for the password: use --password-file FILE, --password-stdin or VMCRYPT_PASSWORD');
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  try {
    return await new Promise<string>((resolve, reject) => {
      let value = '';
      const onData = (chunk: string): void => {
        for (const ch of chunk) {
          if (ch === '\r' || ch === '\n') { stdin.off('data', onData); process.stderr.write('\n'); resolve(value); return; }
          if (ch === '\u0003') { stdin.off('data', onData); process.stderr.write('\n'); reject(new VmcryptError('PASSWORD_INPUT', 'interrupted')); return; }
          if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
          else if (value.length < MAX_SECRET) value += ch;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
  }
}

/** Asks a yes/no question on the terminal; anything but y/yes is no. */
export async function confirm(question: string): Promise<boolean> {
  if (process.stdin.isTTY !== true) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** All of stdin, bounded (a password piped in), without its trailing newline. */
export async function readStdinLine(max = MAX_SECRET): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin) {
    const b = c as Buffer;
    size += b.length;
    if (size > max) throw new VmcryptError('PASSWORD_INPUT', `stdin: more than ${max} bytes, not a password`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
