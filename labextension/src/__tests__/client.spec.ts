import { APIError, QRTClient, errorLine } from '../api/client';
import { FakeServer } from './fakes';

describe('QRTClient', () => {
  it('posts a new account as JSON and answers its summary', async () => {
    const server = new FakeServer().on('POST', 'accounts', {
      status: 201,
      body: { name: 'ibm', fingerprint: '…wxyz' }
    });
    const client = new QRTClient(server);
    const summary = await client.addAccount({
      name: 'ibm',
      channel: 'ibm_quantum_platform',
      token: 'secret-key-1234'
    });
    expect(summary.fingerprint).toBe('…wxyz');
    expect(server.calls).toHaveLength(1);
    expect(JSON.parse(server.calls[0].body ?? '')).toEqual({
      name: 'ibm',
      channel: 'ibm_quantum_platform',
      token: 'secret-key-1234'
    });
  });

  it('switches the default account with PATCH {"default": true}', async () => {
    const server = new FakeServer().on('PATCH', 'accounts/my%20ibm', {
      status: 200,
      body: { name: 'my ibm' }
    });
    await new QRTClient(server).makeDefault('my ibm');
    expect(server.calls[0]).toEqual({
      method: 'PATCH',
      path: 'accounts/my%20ibm',
      body: '{"default":true}'
    });
  });

  it('goes through the runtime proxy for devices, details and cancel', async () => {
    const server = new FakeServer()
      .on('GET', 'runtime/ibm/api/v1/backends', {
        status: 200,
        body: { devices: [{ name: 'fake_a' }, 'fake_b'] }
      })
      .on('POST', 'runtime/ibm/api/v1/jobs/j1/cancel', { status: 204 });
    const client = new QRTClient(server);
    const devices = await client.devices('ibm');
    expect(devices.map(d => d.name)).toEqual(['fake_a', 'fake_b']);
    await client.cancelJob('ibm', 'j1');
    expect(server.paths('POST')).toEqual(['runtime/ibm/api/v1/jobs/j1/cancel']);
  });

  it("turns the server's JSON error into its one line", async () => {
    const server = new FakeServer().on('GET', 'accounts', {
      status: 401,
      body: {
        message: 'The API key of ibm was revoked: log in again with a new key.',
        status: 401
      }
    });
    await expect(new QRTClient(server).accounts()).rejects.toEqual(
      new APIError(
        'The API key of ibm was revoked: log in again with a new key.',
        401
      )
    );
  });

  it('reads IBM error bodies that come back through the proxy', () => {
    expect(
      errorLine(404, { errors: [{ message: 'Backend not found', code: 1216 }] })
    ).toBe('Backend not found');
  });

  it('never shows a blank line: HTML pages and empty bodies get a readable line', () => {
    expect(errorLine(502, '<html><body>Bad Gateway</body></html>')).toBe(
      'The Jupyter server answered 502 with no explanation: refresh, or check its log.'
    );
    expect(errorLine(500, '')).toMatch(/answered 500/);
    expect(errorLine(400, { message: 'first line\nsecond line' })).toBe(
      'first line'
    );
  });

  it('says the server is gone when the network fails', async () => {
    const server = new FakeServer();
    server.down = true;
    await expect(new QRTClient(server).status()).rejects.toThrow(
      'The Jupyter server did not answer: check it is still running, then refresh.'
    );
  });
});
