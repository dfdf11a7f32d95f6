import { connect, type Socket } from 'node:net';
import { HostError } from '../errors.js';

/** Longest QMP message accepted (human-monitor-command output is the biggest we use). */
const MAX_LINE_BYTES = 4 << 20;
/**
 * How long a command may take by default. A hung QEMU must not hold an operation (and the
 * VM's operation lock, which power-off waits for) forever; long commands pass their own.
 */
export const QMP_COMMAND_TIMEOUT_MS = 120_000;

export interface QmpEvent {
  readonly event: string;
  readonly data?: unknown;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/**
 * A QMP client over QEMU's unix socket (docs/interop/qmp-spec: one JSON object per line;
 * greeting, `qmp_capabilities`, then `execute` with an `id` echoed in the reply).
 */
export class QmpClient {
  readonly #socket: Socket;
  readonly #pending = new Map<string, Pending>();
  readonly #eventListeners = new Set<(e: QmpEvent) => void>();
  #buffer = '';
  #nextId = 1;
  #closed: Error | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
  }

  /** Connects, reads the greeting and leaves capabilities negotiation mode. */
  static async connect(path: string): Promise<QmpClient> {
    const socket = connect(path);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new QmpClient(socket);
    const greeting = new Promise<void>((resolve, reject) => {
      client.#greeting = { resolve: () => resolve(), reject };
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => client.#onData(chunk));
    socket.on('error', (err) => client.#fail(err));
    socket.on('close', () => client.#fail(new Error('QMP connection closed')));
    await greeting;
    await client.execute('qmp_capabilities');
    return client;
  }

  #greeting: Pending | undefined;

  /**
   * Runs one command; rejects with HostError QMP_FAILED carrying QEMU's error text, or when
   * no reply came within `timeoutMs` (a late reply is then ignored).
   */
  execute(command: string, args?: Record<string, unknown>, timeoutMs = QMP_COMMAND_TIMEOUT_MS): Promise<unknown> {
    if (this.#closed !== undefined) {
      return Promise.reject(new HostError('HOST_QMP_FAILED', `QMP ${command}: ${this.#closed.message}`));
    }
    const id = `c${this.#nextId++}`;
    const msg = args === undefined ? { execute: command, id } : { execute: command, arguments: args, id };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new HostError('HOST_QMP_FAILED', `QMP ${command}: no reply from QEMU within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(new HostError('HOST_QMP_FAILED', `QMP ${command}: ${err.message}`));
        },
      });
      this.#socket.write(JSON.stringify(msg) + '\n');
    });
  }

  /** `human-monitor-command`: returns the monitor's text output (e.g. from `qemu-io`). */
  async hmp(commandLine: string): Promise<string> {
    const out = await this.execute('human-monitor-command', { 'command-line': commandLine });
    return typeof out === 'string' ? out : '';
  }

  onEvent(listener: (e: QmpEvent) => void): () => void {
    this.#eventListeners.add(listener);
    return () => this.#eventListeners.delete(listener);
  }

  close(): void {
    this.#socket.destroy();
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    if (this.#buffer.length > MAX_LINE_BYTES) {
      this.#fail(new Error('QMP message too long'));
      this.#socket.destroy();
      return;
    }
    let nl: number;
    while ((nl = this.#buffer.indexOf('\n')) >= 0) {
      const line = this.#buffer.slice(0, nl).trim();
      this.#buffer = this.#buffer.slice(nl + 1);
      if (line !== '') this.#onMessage(line);
    }
  }

  #onMessage(line: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      this.#fail(new Error('QMP sent invalid JSON'));
      return;
    }
    if (typeof msg !== 'object' || msg === null) return;
    const m = msg as Record<string, unknown>;
    if ('QMP' in m) {
      this.#greeting?.resolve(undefined);
      this.#greeting = undefined;
      return;
    }
    if (typeof m['event'] === 'string') {
      const e: QmpEvent = { event: m['event'], data: m['data'] };
      for (const l of this.#eventListeners) l(e);
      return;
    }
    const id = typeof m['id'] === 'string' ? m['id'] : undefined;
    const pending = id === undefined ? undefined : this.#pending.get(id);
    if (pending === undefined || id === undefined) return;
    this.#pending.delete(id);
    if ('error' in m) {
      const err = m['error'] as { desc?: unknown } | undefined;
      pending.reject(new Error(typeof err?.desc === 'string' ? err.desc : 'unknown QMP error'));
    } else {
      pending.resolve(m['return']);
    }
  }

  #fail(err: Error): void {
    if (this.#closed !== undefined) return;
    this.#closed = err;
    this.#greeting?.reject(err);
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }
}
