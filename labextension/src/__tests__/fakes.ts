/**
 * A fake of the server extension behind an IRequester: answers by "METHOD path", records
 * every call (method, path, body) so tests see what would have gone over the wire.
 */
import type { IRequester } from '../api/client';
import type { IEventStream } from '../model/feed';

export interface IFakeAnswer {
  status: number;
  body?: unknown;
  /** A raw text body (an HTML error page, say) instead of JSON. */
  text?: string;
}

export interface ICall {
  method: string;
  path: string;
  body: string | null;
}

export class FakeServer implements IRequester {
  answers = new Map<string, IFakeAnswer | (() => IFakeAnswer)>();
  calls: ICall[] = [];
  /** When set, every request fails as a network error would. */
  down = false;

  on(
    method: string,
    path: string,
    answer: IFakeAnswer | (() => IFakeAnswer)
  ): this {
    this.answers.set(`${method} ${path}`, answer);
    return this;
  }

  url(path: string): string {
    return `http://127.0.0.1:8888/jupyter-qrt/${path}`;
  }

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const method = init.method ?? 'GET';
    this.calls.push({
      method,
      path,
      body: typeof init.body === 'string' ? init.body : null
    });
    if (this.down) {
      throw new TypeError('Failed to fetch');
    }
    const found = this.answers.get(`${method} ${path}`);
    const answer: IFakeAnswer =
      typeof found === 'function'
        ? found()
        : (found ?? {
            status: 404,
            body: { message: `fake: nothing at ${method} ${path}`, status: 404 }
          });
    const text =
      answer.text ??
      (answer.body === undefined ? '' : JSON.stringify(answer.body));
    return new Response(answer.status === 204 ? null : text, {
      status: answer.status
    });
  }

  paths(method?: string): string[] {
    return this.calls
      .filter(call => method === undefined || call.method === method)
      .map(call => call.path);
  }
}

/** A fake EventSource the test drives. */
export class FakeStream implements IEventStream {
  readyState = 0;
  onerror: ((event: Event) => void) | null = null;
  onopen: ((event: Event) => void) | null = null;
  closed = false;
  private listeners: ((event: MessageEvent<string>) => void)[] = [];

  constructor(readonly url: string) {}

  addEventListener(
    type: string,
    listener: (event: MessageEvent<string>) => void
  ): void {
    if (type === 'jobs') {
      this.listeners.push(listener);
    }
  }

  close(): void {
    this.closed = true;
    this.readyState = 2;
  }

  emit(data: unknown): void {
    this.readyState = 1;
    for (const listener of this.listeners) {
      listener({ data: JSON.stringify(data) } as MessageEvent<string>);
    }
  }

  /** The (re)connection succeeded: the server answered 200 and the stream is open. */
  open(): void {
    this.readyState = 1;
    this.onopen?.({} as Event);
  }

  fail(closed: boolean): void {
    this.readyState = closed ? 2 : 0;
    this.onerror?.({} as Event);
  }
}

export const LOCAL = {
  name: 'local',
  channel: 'local',
  instance: 'crn:v1:local:public:quantum-computing:local:a/local::',
  plan: 'local',
  fingerprint: null,
  read_only: true,
  default: true,
  available: true
} as const;

export const IBM = {
  name: 'ibm',
  channel: 'ibm_quantum_platform',
  instance: 'crn:v1:bluemix:public:quantum-computing:us-east:a/abc:def::',
  plan: 'paygo',
  fingerprint: '…wxyz',
  read_only: false,
  default: false,
  available: true
} as const;

export const STATUS = {
  version: '0.1.0',
  namespace: 'jupyter-qrt',
  default_account: 'local',
  allow_user_accounts: true,
  mode: 'personal',
  local: { state: 'running' }
} as const;

/** Let pending promise callbacks run. */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await Promise.resolve();
  }
  await new Promise(resolve => setImmediate(resolve));
}

/** Two devices of the fake server's default account. */
export const DEVICES = {
  devices: [
    {
      name: 'fake_zeta',
      status: { name: 'online' },
      queue_length: 3,
      qubits: 27
    },
    {
      name: 'fake_alpha',
      status: { name: 'paused' },
      queue_length: 0,
      qubits: 5
    }
  ]
};

/** A server with a status, two accounts, the local account's devices and no job. */
export function server(): FakeServer {
  return new FakeServer()
    .on('GET', 'status', { status: 200, body: STATUS })
    .on('GET', 'accounts', {
      status: 200,
      body: {
        accounts: [LOCAL, IBM],
        default: 'local',
        allow_user_accounts: true
      }
    })
    .on('GET', 'runtime/local/api/v1/backends', { status: 200, body: DEVICES })
    .on('GET', 'jobs?account=local&limit=50', {
      status: 200,
      body: { account: 'local', version: 1, jobs: [], error: null }
    });
}
