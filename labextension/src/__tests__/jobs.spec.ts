import { QRTClient } from '../api/client';
import { QuantumModel } from '../model/model';
import { FakeServer, FakeStream, server, settle } from './fakes';

describe('QuantumModel: jobs', () => {
  let streams: FakeStream[];
  let model: QuantumModel;
  let fake: FakeServer;

  function make(s: FakeServer): QuantumModel {
    fake = s;
    model = new QuantumModel(new QRTClient(s), {
      openStream: url => {
        const stream = new FakeStream(url);
        streams.push(stream);
        return stream;
      }
    });
    return model;
  }

  beforeEach(() => {
    streams = [];
  });
  afterEach(() => model?.dispose());

  it('follows jobs from the event stream and counts the running ones', async () => {
    make(server());
    await model.refresh();
    const stream = streams[0];
    stream.emit({
      account: 'local',
      version: 5,
      reset: true,
      error: null,
      jobs: [
        {
          id: 'j1',
          status: 'Completed',
          created: '2026-01-01T10:00:00Z',
          backend: 'fake_a'
        },
        {
          id: 'j2',
          status: 'Running',
          created: '2026-01-01T11:00:00Z',
          backend: 'fake_a'
        }
      ]
    });
    expect(model.jobs.map(j => [j.id, j.status, j.cancellable])).toEqual([
      ['j2', 'Running', true],
      ['j1', 'Completed', false]
    ]);
    expect(model.running).toBe(1);
    stream.emit({
      account: 'local',
      version: 6,
      error: null,
      jobs: [
        { id: 'j2', status: 'Completed', created: '2026-01-01T11:00:00Z' }
      ],
      removed: ['j1']
    });
    expect(model.jobs.map(j => [j.id, j.status])).toEqual([
      ['j2', 'Completed']
    ]);
    expect(model.running).toBe(0);
  });

  it("shows the watcher's error line (upstream down) and clears it when polls work", async () => {
    make(server());
    await model.refresh();
    streams[0].emit({
      account: 'local',
      version: 7,
      jobs: [],
      error: 'The runtime service did not answer (upstream down): retrying.'
    });
    expect(model.error).toBe(
      'The runtime service did not answer (upstream down): retrying.'
    );
    streams[0].emit({ account: 'local', version: 8, jobs: [], error: null });
    expect(model.error).toBeNull();
  });

  it('falls back to polling GET jobs when the event stream is refused', async () => {
    const s = server().on('GET', 'jobs?account=local&limit=50', {
      status: 200,
      body: {
        account: 'local',
        version: 3,
        jobs: [{ id: 'p1', status: 'Queued', created: '2026-01-01T00:00:00Z' }],
        error: null
      }
    });
    make(s);
    await model.refresh();
    streams[0].fail(true);
    await settle();
    expect(model.feedMode).toBe('polling');
    expect(fake.paths('GET')).toContain('jobs?account=local&limit=50');
    expect(model.jobs.map(j => j.id)).toEqual(['p1']);
  });

  it('keeps the stream through the reconnects EventSource makes by itself', async () => {
    make(server());
    await model.refresh();
    streams[0].fail(false);
    streams[0].emit({
      account: 'local',
      version: 9,
      jobs: [],
      error: null,
      reset: true
    });
    streams[0].fail(false);
    expect(model.feedMode).toBe('stream');
  });

  it('keeps the stream when quiet streams end and reconnect (no event in between)', async () => {
    // The server ends each stream after a minute; with nothing new it sends no event on the
    // reconnect, only heartbeats: a successful reconnect is no failure.
    make(server());
    await model.refresh();
    for (let cycle = 0; cycle < 5; cycle++) {
      streams[0].open();
      streams[0].fail(false);
    }
    expect(model.feedMode).toBe('stream');
    expect(fake.paths('GET')).not.toContain('jobs?account=local&limit=50');
  });

  it('cancels through the proxy and asks the watcher to follow the job', async () => {
    const s = server()
      .on('POST', 'runtime/local/api/v1/jobs/j2/cancel', { status: 204 })
      .on('POST', 'jobs/track', {
        status: 202,
        body: { account: 'local', job_id: 'j2', version: 1 }
      });
    make(s);
    await model.refresh();
    await model.cancel('j2');
    expect(fake.paths('POST')).toEqual([
      'runtime/local/api/v1/jobs/j2/cancel',
      'jobs/track'
    ]);
    expect(model.error).toBeNull();
  });

  it('reports a cancel that went through even when the watcher cannot follow the job', async () => {
    const s = server()
      .on('POST', 'runtime/local/api/v1/jobs/j3/cancel', { status: 204 })
      .on('POST', 'jobs/track', {
        status: 503,
        body: { message: 'The watcher is restarting.', status: 503 }
      });
    make(s);
    await model.refresh();
    await model.cancel('j3');
    expect(fake.paths('POST')).toEqual([
      'runtime/local/api/v1/jobs/j3/cancel',
      'jobs/track'
    ]);
    expect(model.error).toBeNull();
  });

  it('shows why a cancel was refused', async () => {
    const s = server().on('POST', 'runtime/local/api/v1/jobs/j9/cancel', {
      status: 409,
      body: {
        errors: [{ code: 3209, message: 'Job j9 is already in a final state.' }]
      }
    });
    make(s);
    await model.refresh();
    await model.cancel('j9');
    expect(model.error).toBe('Job j9 is already in a final state.');
  });
});
