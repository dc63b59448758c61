import { checkLoginForm } from '../model/login';

describe('checkLoginForm', () => {
  const form = {
    name: 'class',
    channel: 'local' as const,
    instance: '',
    token: 'fake-key-for-tests-only'
  };

  it('takes a key of the local service (a class instance), which needs no URL', () => {
    expect(checkLoginForm(form)).toBeNull();
  });

  it('takes the IBM channels', () => {
    expect(
      checkLoginForm({ ...form, channel: 'ibm_quantum_platform' })
    ).toBeNull();
    expect(checkLoginForm({ ...form, channel: 'ibm_cloud' })).toBeNull();
  });

  it('refuses a channel the server does not know, saying which it takes', () => {
    const message = checkLoginForm({
      ...form,
      channel: 'ibm_quantum' as never
    });
    expect(message).toContain('ibm_quantum_platform');
    expect(message).toContain('local');
  });

  it('refuses the name of the built-in account', () => {
    expect(checkLoginForm({ ...form, name: 'local' })).toContain(
      'choose another name'
    );
  });
});
