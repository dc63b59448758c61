/**
 * Checks of the login form before anything is sent: one line that says what to fix.
 */
import type { NewAccount } from '../api/types';

/** What the login dialog sends (the token is posted once and dropped). */
export interface ILoginForm {
  name: string;
  channel: NonNullable<NewAccount['channel']>;
  instance: string;
  token: string;
}

/**
 * The channels a user can log in to: IBM Quantum Platform (and its older name), or `local` for
 * a key of this server's local service (e.g. a class's instance with a usage limit, made with
 * `jupyter-qrt keys create`); the built-in `local` account itself needs no login.
 */
export const CHANNELS = ['ibm_quantum_platform', 'ibm_cloud', 'local'] as const;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$/;

/**
 * What is wrong with the form, or null when it can be sent.
 */
export function checkLoginForm(form: ILoginForm): string | null {
  const name = form.name.trim();
  if (!name) {
    return 'Give the account a name (for example ibm): notebooks use it in %qrt_login <name>.';
  }
  if (!NAME.test(name)) {
    return 'The name may use letters, digits and _ . @ - (start with a letter or digit, 100 at most).';
  }
  if (name === 'local') {
    return 'local is the built-in offline account: choose another name.';
  }
  if (!(CHANNELS as readonly string[]).includes(form.channel)) {
    return `Channel must be ${CHANNELS.join(', ')}.`;
  }
  if (!form.token.trim()) {
    return 'Paste your API key (IBM Quantum Platform: your profile → API key).';
  }
  return null;
}
