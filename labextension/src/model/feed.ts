/**
 * Live job states of one account: the server's shared watcher through server-sent events
 * (`GET jobs/events`), falling back to polling `GET jobs` when the stream cannot be opened.
 *
 * The browser's `EventSource` reconnects by itself when the server ends a stream (it does so
 * every minute on purpose), so one error is no reason to give up; a stream that the browser
 * closed for good (an HTTP error answer) or that fails {@link MAX_STREAM_FAILURES} times in a
 * row without opening means something in between does not pass event streams: poll. A stream
 * that opens and ends quietly is fine (with nothing new, a reconnect brings no event at all).
 */
import type { QRTClient } from '../api/client';
import type { IJobsEvent } from '../api/types';

/** Failures in a row, with no successful (re)connection in between, before polling instead. */
export const MAX_STREAM_FAILURES = 3;

/** The part of `EventSource` the feed uses (tests pass a fake). */
export interface IEventStream {
  readonly readyState: number;
  onerror: ((event: Event) => void) | null;
  onopen: ((event: Event) => void) | null;
  addEventListener(
    type: string,
    listener: (event: MessageEvent<string>) => void
  ): void;
  close(): void;
}

/** Opens an event stream (default: the browser's `EventSource`, with cookies). */
export type EventStreamFactory = (url: string) => IEventStream;

/** What the feed reports. */
export interface IFeedListener {
  /** A change of the jobs (the first has the whole list, `reset: true`). */
  onJobs(event: IJobsEvent): void;
  /** A failed poll: one line (null once polls work again). */
  onError(line: string | null): void;
}

const CLOSED = 2;

function browserStream(url: string): IEventStream {
  return new EventSource(url, { withCredentials: true });
}

/**
 * One account's job feed. Call {@link start}, then {@link dispose} when done.
 */
export class JobFeed {
  constructor(
    private readonly client: QRTClient,
    readonly account: string,
    private readonly listener: IFeedListener,
    private readonly options: {
      intervalMs: () => number;
      openStream?: EventStreamFactory | null;
    }
  ) {}

  /** `stream` while events arrive, `polling` after falling back, `stopped` after dispose. */
  get mode(): 'stream' | 'polling' | 'stopped' {
    return this._mode;
  }

  /** Open the stream, or poll straight away where `EventSource` does not exist. */
  start(): void {
    const open =
      this.options.openStream === undefined
        ? typeof EventSource === 'undefined'
          ? null
          : browserStream
        : this.options.openStream;
    if (open === null) {
      this.startPolling();
      return;
    }
    let stream: IEventStream;
    try {
      stream = open(this.client.eventsUrl(this.account));
    } catch {
      this.startPolling();
      return;
    }
    this._stream = stream;
    this._mode = 'stream';
    stream.addEventListener('jobs', message => {
      this._failures = 0;
      let event: IJobsEvent;
      try {
        event = JSON.parse(message.data) as IJobsEvent;
      } catch {
        return;
      }
      this.listener.onJobs(event);
      this.listener.onError(event.error ?? null);
    });
    stream.onopen = () => {
      this._failures = 0;
    };
    stream.onerror = () => {
      this._failures += 1;
      if (
        stream.readyState === CLOSED ||
        this._failures >= MAX_STREAM_FAILURES
      ) {
        stream.close();
        this._stream = null;
        this.startPolling();
      }
    };
  }

  /** Poll once now (the refresh button), whatever the mode. */
  async pollNow(): Promise<void> {
    if (this._mode === 'stopped') {
      return;
    }
    try {
      const snapshot = await this.client.jobs(this.account);
      if (this.stopped) {
        return;
      }
      this.listener.onJobs({
        account: snapshot.account,
        version: snapshot.version,
        jobs: snapshot.jobs,
        error: snapshot.error ?? null,
        reset: true
      });
      this.listener.onError(snapshot.error ?? null);
    } catch (reason) {
      if (!this.stopped) {
        this.listener.onError((reason as Error).message);
      }
    }
  }

  /** Stop the stream or the polls. */
  dispose(): void {
    this._mode = 'stopped';
    this._stream?.close();
    this._stream = null;
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  /** Read through a getter: the mode changes while a poll is awaited. */
  private get stopped(): boolean {
    return this._mode === 'stopped';
  }

  private startPolling(): void {
    if (this._mode === 'stopped') {
      return;
    }
    this._mode = 'polling';
    const tick = async (): Promise<void> => {
      await this.pollNow();
      if (this._mode === 'polling') {
        this._timer = setTimeout(() => void tick(), this.options.intervalMs());
      }
    };
    void tick();
  }

  private _mode: 'stream' | 'polling' | 'stopped' = 'stream';
  private _stream: IEventStream | null = null;
  private _failures = 0;
  private _timer: ReturnType<typeof setTimeout> | null = null;
}
