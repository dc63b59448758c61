import { QRTClient } from '../api/client';
import { QuantumModel } from '../model/model';
import { FakeServer, FakeStream, IBM, LOCAL, STATUS, server } from './fakes';

describe('QuantumModel', () => {
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

  it('shows the active account, its devices by name, and no error', async () => {
    make(server());
    await model.refresh();
    expect(model.active?.name).toBe('local');
    expect(model.active?.readOnly).toBe(true);
    expect(
      model.devices.map(d => [d.name, d.status, d.qubits, d.pending])
    ).toEqual([
      ['fake_alpha', 'paused', 5, 0],
      ['fake_zeta', 'online', 27, 3]
    ]);
    expect(model.error).toBeNull();
    expect(model.canLogin).toBe(true);
    expect(streams.map(s => s.url)).toEqual([
      'http://127.0.0.1:8888/jupyter-qrt/jobs/events?account=local'
    ]);
  });

  it('shows a revoked key as ONE line, keeping the account visible', async () => {
    const s = server();
    s.on('GET', 'accounts', {
      status: 200,
      body: {
        accounts: [{ ...IBM, default: true }],
        default: 'ibm',
        allow_user_accounts: true
      }
    }).on('GET', 'runtime/ibm/api/v1/backends', {
      status: 401,
      body: {
        message:
          'IBM Cloud refused the API key of account ibm: it may be revoked. Log in again.',
        status: 401
      }
    });
    make(s);
    await model.refresh();
    expect(model.error).toBe(
      'IBM Cloud refused the API key of account ibm: it may be revoked. Log in again.'
    );
    expect(model.active?.name).toBe('ibm');
    expect(model.active?.fingerprint).toBe('…wxyz');
    expect(model.active?.warning).toBe(
      'paygo is a paid plan: jobs on ibm cost money.'
    );
    expect(model.devices).toEqual([]);
  });

  it('shows a readable line when the server itself is down', async () => {
    make(server());
    fake.down = true;
    await model.refresh();
    expect(model.ready).toBe(true);
    expect(model.error).toBe(
      'The Jupyter server did not answer: check it is still running, then refresh.'
    );
  });

  it('hides login when the operator does not allow user accounts', async () => {
    const s = server().on('GET', 'status', {
      status: 200,
      body: { ...STATUS, allow_user_accounts: false, mode: 'classroom' }
    });
    make(s);
    await model.refresh();
    expect(model.canLogin).toBe(false);
  });

  it('posts the key once, makes the account the default, and keeps no key', async () => {
    const s = server();
    let saved = false;
    s.on('POST', 'accounts', () => {
      saved = true;
      return { status: 201, body: { ...IBM, default: true } };
    })
      .on('GET', 'accounts', () => ({
        status: 200,
        body: saved
          ? {
              accounts: [LOCAL, { ...IBM, default: true }],
              default: 'ibm',
              allow_user_accounts: true
            }
          : { accounts: [LOCAL], default: 'local', allow_user_accounts: true }
      }))
      .on('GET', 'runtime/ibm/api/v1/backends', {
        status: 200,
        body: { devices: [] }
      });
    make(s);
    await model.refresh();
    await model.login({
      name: 'ibm',
      channel: 'ibm_quantum_platform',
      instance: ' crn:v1:x ',
      token: 'KEY-abcdefghijklmnop-wxyz'
    });
    const posts = s.calls.filter(c => c.method === 'POST');
    expect(posts).toHaveLength(1);
    expect(JSON.parse(posts[0].body ?? '')).toEqual({
      name: 'ibm',
      channel: 'ibm_quantum_platform',
      instance: 'crn:v1:x',
      token: 'KEY-abcdefghijklmnop-wxyz',
      set_default: true
    });
    expect(model.active?.name).toBe('ibm');
    expect(model.active?.fingerprint).toBe('…wxyz');
    const shown = JSON.stringify([
      model.accounts,
      model.devices,
      model.jobs,
      model.error
    ]);
    expect(shown).not.toContain('KEY-abcdefghijklmnop');
  });

  it('refuses a login without a key before sending anything', async () => {
    make(server());
    await expect(
      model.login({
        name: 'ibm',
        channel: 'ibm_quantum_platform',
        instance: '',
        token: ' '
      })
    ).rejects.toThrow(
      'Paste your API key (IBM Quantum Platform: your profile → API key).'
    );
    expect(fake.paths('POST')).toEqual([]);
  });

  it("shows the server's refusal of a key as the dialog's line", async () => {
    const s = server().on('POST', 'accounts', {
      status: 400,
      body: {
        message: 'IAM refused the API key: check you copied all of it.',
        status: 400
      }
    });
    make(s);
    await expect(
      model.login({
        name: 'ibm',
        channel: 'ibm_cloud',
        instance: '',
        token: 'bad'
      })
    ).rejects.toThrow('IAM refused the API key: check you copied all of it.');
  });

  it('switches account with PATCH and then lists the new account', async () => {
    const s = server();
    let active = 'local';
    s.on('PATCH', 'accounts/ibm', () => {
      active = 'ibm';
      return { status: 200, body: { ...IBM, default: true } };
    })
      .on('GET', 'accounts', () => ({
        status: 200,
        body: {
          accounts: [
            { ...LOCAL, default: active === 'local' },
            { ...IBM, default: active === 'ibm' }
          ],
          default: active,
          allow_user_accounts: true
        }
      }))
      .on('GET', 'runtime/ibm/api/v1/backends', {
        status: 200,
        body: {
          devices: [
            { name: 'ibm_fez', status: { name: 'online' }, qubits: 156 }
          ]
        }
      });
    make(s);
    await model.refresh();
    await model.selectAccount('ibm');
    expect(fake.paths('PATCH')).toEqual(['accounts/ibm']);
    expect(model.activeName).toBe('ibm');
    expect(model.devices.map(d => d.name)).toEqual(['ibm_fez']);
    // The job feed follows the new account.
    expect(streams[0].closed).toBe(true);
    expect(streams[1].url).toContain('account=ibm');
  });

  it('opens a device: status and a coupling map with each link once', async () => {
    const s = server()
      .on('GET', 'runtime/local/api/v1/backends/fake_alpha/status', {
        status: 200,
        body: { state: true, status: 'active', length_queue: 2 }
      })
      .on('GET', 'runtime/local/api/v1/backends/fake_alpha/configuration', {
        status: 200,
        body: {
          n_qubits: 3,
          coupling_map: [
            [0, 1],
            [1, 0],
            [1, 2],
            [2, 1],
            [2, 7]
          ],
          basis_gates: ['cz', 'rz', 'sx', 'x']
        }
      });
    make(s);
    await model.refresh();
    await model.openDevice('fake_alpha');
    expect(model.detail).toEqual({
      name: 'fake_alpha',
      status: 'active',
      operational: true,
      pending: 2,
      qubits: 3,
      edges: [
        [0, 1],
        [1, 2]
      ],
      basisGates: ['cz', 'rz', 'sx', 'x'],
      message: null
    });
    model.closeDevice();
    expect(model.detail).toBeNull();
  });
});
