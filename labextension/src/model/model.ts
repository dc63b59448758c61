/**
 * The Quantum sidebar's model: what the server says, turned into what the sidebar and the
 * status bar show, with one error line.
 *
 * Every action goes through the server extension (`QRTClient`); the model never holds a key:
 * the login form's token goes straight into `POST accounts` and is not kept.
 */
import { Signal, type ISignal } from '@lumino/signaling';

import { APIError, QRTClient } from '../api/client';
import type {
  AccountSummary,
  IJobsEvent,
  NewAccount,
  Status,
  WatchedJob
} from '../api/types';
import { JobFeed, type EventStreamFactory } from './feed';
import { checkLoginForm, type ILoginForm } from './login';
import {
  accountViews,
  applyJobsEvent,
  deviceDetail,
  deviceViews,
  jobViews,
  runningCount,
  type IAccountView,
  type IDeviceDetail,
  type IDeviceView,
  type IJobView
} from './views';

/** Where an error line came from; the first present in this order is shown. */
type ErrorSource = 'action' | 'server' | 'devices' | 'detail' | 'jobs';
const ERROR_ORDER: ErrorSource[] = [
  'action',
  'server',
  'devices',
  'detail',
  'jobs'
];

/** Default seconds between refreshes (the settings editor changes it). */
export const DEFAULT_REFRESH_SECONDS = 10;

export type { ILoginForm };

/**
 * The sidebar's state and actions.
 */
export class QuantumModel {
  constructor(
    readonly client: QRTClient,
    private readonly options: { openStream?: EventStreamFactory | null } = {}
  ) {}

  /** Emitted after every change of what is shown. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Seconds between refreshes of devices (and job polls when streaming fails). */
  get refreshSeconds(): number {
    return this._refreshSeconds;
  }
  set refreshSeconds(value: number) {
    this._refreshSeconds =
      Number.isFinite(value) && value >= 1 ? value : DEFAULT_REFRESH_SECONDS;
  }

  /** The server's status (null before the first answer). */
  get status(): Status | null {
    return this._status;
  }

  /** Whether users may add accounts (the login button is hidden otherwise). */
  get canLogin(): boolean {
    return this._status?.allow_user_accounts ?? false;
  }

  /** The active (default) account's name, '' before the first answer. */
  get activeName(): string {
    return this._active;
  }

  /** The active account's row, if known. */
  get active(): IAccountView | null {
    return this.accounts.find(account => account.active) ?? null;
  }

  /** The accounts, as the picker shows them. */
  get accounts(): IAccountView[] {
    return accountViews(this._accounts, this._active);
  }

  /** The active account's devices. */
  get devices(): IDeviceView[] {
    return this._devices;
  }

  /** The open device's details, or null. */
  get detail(): IDeviceDetail | null {
    return this._detail;
  }

  /** Recent jobs of the active account, newest first. */
  get jobs(): IJobView[] {
    return jobViews(this._jobs.values());
  }

  /** How many jobs are running now. */
  get running(): number {
    return runningCount(this._jobs.values());
  }

  /** ONE readable line when something failed, else null. */
  get error(): string | null {
    for (const source of ERROR_ORDER) {
      const line = this._errors.get(source);
      if (line) {
        return line;
      }
    }
    return null;
  }

  /** Whether the first refresh has come back. */
  get ready(): boolean {
    return this._ready;
  }

  /** How jobs arrive: `stream`, `polling`, or `stopped` before an account is known. */
  get feedMode(): string {
    return this._feed?.mode ?? 'stopped';
  }

  /** Refresh now, then every {@link refreshSeconds}. */
  start(): void {
    if (this._started) {
      return;
    }
    this._started = true;
    const tick = async (): Promise<void> => {
      await this.refresh();
      if (this._started) {
        this._timer = setTimeout(
          () => void tick(),
          this._refreshSeconds * 1000
        );
      }
    };
    void tick();
  }

  /**
   * Ask the server again: status, accounts, the active account's devices; (re)open the job
   * feed when the active account changed.
   */
  async refresh(options: { jobs?: boolean } = {}): Promise<void> {
    try {
      const [status, list] = await Promise.all([
        this.client.status(),
        this.client.accounts()
      ]);
      this._status = status;
      this._accounts = list.accounts;
      this._active = list.default;
      this._errors.delete('server');
    } catch (reason) {
      this.fail('server', reason);
      this._ready = true;
      this._changed.emit();
      return;
    }
    this._ready = true;
    this.follow(this._active);
    if (options.jobs) {
      await this._feed?.pollNow();
    }
    await this.loadDevices(this._active);
    this._changed.emit();
  }

  /** Make another account the default (`PATCH accounts/<name>`), then refresh. */
  async selectAccount(name: string): Promise<void> {
    this._errors.delete('action');
    try {
      await this.client.makeDefault(name);
    } catch (reason) {
      this.fail('action', reason);
      this._changed.emit();
      return;
    }
    this._detail = null;
    await this.refresh();
  }

  /**
   * Add an account (`POST accounts`, made the default) and refresh. Throws an
   * {@link APIError} with the server's line when the server refuses it.
   */
  async login(form: ILoginForm): Promise<AccountSummary> {
    const problem = checkLoginForm(form);
    if (problem) {
      throw new APIError(problem, 400);
    }
    const body: NewAccount = {
      name: form.name.trim(),
      channel: form.channel,
      token: form.token,
      set_default: true
    };
    if (form.instance.trim()) {
      body.instance = form.instance.trim();
    }
    const summary = await this.client.addAccount(body);
    this._errors.delete('action');
    await this.refresh();
    return summary;
  }

  /** Show a device's details (status and coupling map). */
  async openDevice(name: string): Promise<void> {
    const account = this._active;
    try {
      const [status, configuration] = await Promise.all([
        this.client.deviceStatus(account, name),
        this.client.deviceConfiguration(account, name)
      ]);
      this._detail = deviceDetail(name, status, configuration);
      this._errors.delete('detail');
    } catch (reason) {
      this._detail = null;
      this.fail('detail', reason);
    }
    this._changed.emit();
  }

  /** Close the device details. */
  closeDevice(): void {
    this._detail = null;
    this._errors.delete('detail');
    this._changed.emit();
  }

  /** Cancel a job through the proxy; the watcher then reports its new state. */
  async cancel(id: string): Promise<void> {
    const account = this._active;
    this._errors.delete('action');
    try {
      await this.client.cancelJob(account, id);
    } catch (reason) {
      this.fail('action', reason);
      this._changed.emit();
      return;
    }
    try {
      await this.client.trackJob(account, id);
    } catch {
      // The cancel went through; the watcher's next poll shows the new state anyway.
    }
    this._changed.emit();
  }

  /** Show a line from outside the model (e.g. "open a notebook first"). */
  report(line: string | null): void {
    if (line) {
      this._errors.set('action', line);
    } else {
      this._errors.delete('action');
    }
    this._changed.emit();
  }

  /** Stop refreshing and close the job feed. */
  dispose(): void {
    this._started = false;
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    this._feed?.dispose();
    this._feed = null;
    Signal.clearData(this);
  }

  private follow(account: string): void {
    if (!account || this._feed?.account === account) {
      return;
    }
    this._feed?.dispose();
    this._jobs = new Map();
    this._errors.delete('jobs');
    this._feed = new JobFeed(
      this.client,
      account,
      {
        onJobs: (event: IJobsEvent) => {
          if (event.account && event.account !== this._active) {
            return;
          }
          this._jobs = applyJobsEvent(this._jobs, event);
          this._changed.emit();
        },
        onError: (line: string | null) => {
          const before = this._errors.get('jobs') ?? null;
          if (line) {
            this._errors.set('jobs', line);
          } else {
            this._errors.delete('jobs');
          }
          if (before !== line) {
            this._changed.emit();
          }
        }
      },
      {
        intervalMs: () => this._refreshSeconds * 1000,
        openStream: this.options.openStream
      }
    );
    this._feed.start();
  }

  private async loadDevices(account: string): Promise<void> {
    try {
      this._devices = deviceViews(await this.client.devices(account));
      this._errors.delete('devices');
    } catch (reason) {
      this._devices = [];
      this.fail('devices', reason);
    }
  }

  private fail(source: ErrorSource, reason: unknown): void {
    const line =
      reason instanceof APIError
        ? reason.message
        : 'Something went wrong in the Quantum sidebar: refresh to try again.';
    this._errors.set(source, line);
  }

  private _changed = new Signal<this, void>(this);
  private _refreshSeconds = DEFAULT_REFRESH_SECONDS;
  private _status: Status | null = null;
  private _accounts: AccountSummary[] = [];
  private _active = '';
  private _devices: IDeviceView[] = [];
  private _detail: IDeviceDetail | null = null;
  private _jobs = new Map<string, WatchedJob>();
  private _errors = new Map<ErrorSource, string>();
  private _feed: JobFeed | null = null;
  private _ready = false;
  private _started = false;
  private _timer: ReturnType<typeof setTimeout> | null = null;
}
