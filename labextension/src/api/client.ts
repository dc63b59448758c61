/**
 * Typed calls to the jupyter-qrt server extension.
 *
 * The client knows paths and shapes, not transport: an {@link IRequester} sends a request to a
 * path under `<base_url>/jupyter-qrt/` (in JupyterLab `connection.ts` wraps
 * `ServerConnection.makeRequest`, which adds the cookie's XSRF token; tests pass a fake), so
 * this module imports nothing from JupyterLab and runs under jest as it is.
 */
import type {
  AccountList,
  AccountSummary,
  IDeviceConfiguration,
  IDeviceStatus,
  IDeviceSummary,
  JobsSnapshot,
  NewAccount,
  Status
} from './types';

/**
 * Sends one request to a path under the server extension's namespace.
 */
export interface IRequester {
  /**
   * @param path - relative to `<base_url>/jupyter-qrt/`, query string included
   * @param init - method, headers, body
   */
  request(path: string, init?: RequestInit): Promise<Response>;

  /**
   * The absolute URL of a path (for `EventSource`, which makes its own request).
   */
  url(path: string): string;
}

/**
 * A failed call, with ONE readable line for the user.
 */
export class APIError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
    this.name = 'APIError';
  }
}

/**
 * The one line a failed answer carries.
 *
 * The server extension answers `{"message", "status"}`; the runtime API behind the proxy
 * answers `{"errors": [{"message", "code"}]}` (IBM) or `{"error": ...}`; anything else gets a
 * line naming the status, so the user never sees a blank panel.
 */
export function errorLine(status: number, body: unknown): string {
  let line = '';
  if (typeof body === 'string') {
    line = body;
  } else if (body !== null && typeof body === 'object') {
    const record = body as Record<string, unknown>;
    const errors = record.errors;
    if (typeof record.message === 'string') {
      line = record.message;
    } else if (Array.isArray(errors) && errors.length > 0) {
      const first = errors[0] as Record<string, unknown> | string;
      line =
        typeof first === 'string'
          ? first
          : String(first?.message ?? first?.code ?? '');
    } else if (typeof record.error === 'string') {
      line = record.error;
    } else if (typeof record.errorMessage === 'string') {
      line = record.errorMessage;
    }
  }
  // One line: the first non-empty line, HTML answers (a proxy's error page) reduced away.
  line = line.trim().startsWith('<') ? '' : line.trim().split('\n')[0].trim();
  if (!line) {
    line =
      status === 0
        ? 'The Jupyter server did not answer: check it is still running, then refresh.'
        : `The Jupyter server answered ${status} with no explanation: refresh, or check its log.`;
  }
  return line;
}

const CANCELLABLE = new Set(['queued', 'running']);

/**
 * Whether a job in this state can still be cancelled.
 */
export function isCancellable(status: string): boolean {
  return CANCELLABLE.has(status.toLowerCase());
}

/**
 * The server extension's REST surface, typed from its OpenAPI description.
 */
export class QRTClient {
  constructor(readonly requester: IRequester) {}

  /** `GET status`. */
  status(): Promise<Status> {
    return this.call<Status>('status');
  }

  /** `GET accounts`: names, channel, instance, plan, masked fingerprint. */
  accounts(): Promise<AccountList> {
    return this.call<AccountList>('accounts');
  }

  /**
   * `POST accounts`: the key goes to the server once and is never kept here.
   */
  addAccount(account: NewAccount): Promise<AccountSummary> {
    return this.call<AccountSummary>('accounts', {
      method: 'POST',
      body: JSON.stringify(account)
    });
  }

  /** `PATCH accounts/<name>` with `{"default": true}`. */
  makeDefault(name: string): Promise<AccountSummary> {
    return this.call<AccountSummary>(`accounts/${encodeURIComponent(name)}`, {
      method: 'PATCH',
      body: JSON.stringify({ default: true })
    });
  }

  /** The devices of an account, through the runtime proxy. */
  async devices(account: string): Promise<IDeviceSummary[]> {
    const body = await this.call<{ devices?: unknown[] }>(
      `${runtime(account)}/backends`
    );
    const devices = Array.isArray(body?.devices) ? body.devices : [];
    // Some API versions list bare names.
    return devices.map(device =>
      typeof device === 'string' ? { name: device } : (device as IDeviceSummary)
    );
  }

  /** `GET .../backends/<name>/status`. */
  deviceStatus(account: string, name: string): Promise<IDeviceStatus> {
    return this.call<IDeviceStatus>(
      `${runtime(account)}/backends/${encodeURIComponent(name)}/status`
    );
  }

  /** `GET .../backends/<name>/configuration`. */
  deviceConfiguration(
    account: string,
    name: string
  ): Promise<IDeviceConfiguration> {
    return this.call<IDeviceConfiguration>(
      `${runtime(account)}/backends/${encodeURIComponent(name)}/configuration`
    );
  }

  /** `GET jobs?account=`: the shared watcher's list. */
  jobs(account: string, limit = 50): Promise<JobsSnapshot> {
    return this.call<JobsSnapshot>(
      `jobs?account=${encodeURIComponent(account)}&limit=${limit}`
    );
  }

  /** `POST .../jobs/<id>/cancel` through the proxy. */
  async cancelJob(account: string, id: string): Promise<void> {
    await this.call<unknown>(
      `${runtime(account)}/jobs/${encodeURIComponent(id)}/cancel`,
      { method: 'POST' }
    );
  }

  /** `POST jobs/track`: the watcher fetches the job now (its change comes as an event). */
  async trackJob(account: string, id: string): Promise<void> {
    await this.call<unknown>('jobs/track', {
      method: 'POST',
      body: JSON.stringify({ account, job_id: id })
    });
  }

  /** The URL of the watcher's event stream for an account. */
  eventsUrl(account: string): string {
    return this.requester.url(
      `jobs/events?account=${encodeURIComponent(account)}`
    );
  }

  private async call<T>(path: string, init: RequestInit = {}): Promise<T> {
    let response: Response;
    try {
      response = await this.requester.request(path, init);
    } catch {
      // A network failure's own text ("Failed to fetch") tells the user nothing.
      throw new APIError(errorLine(0, ''), 0);
    }
    const text = await response.text();
    let body: unknown = text;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        // Not JSON (an HTML error page, plain text): errorLine copes with a string.
      }
    }
    if (!response.ok) {
      throw new APIError(errorLine(response.status, body), response.status);
    }
    return (text.length > 0 ? body : undefined) as T;
  }
}

function runtime(account: string): string {
  return `runtime/${encodeURIComponent(account)}/api/v1`;
}
