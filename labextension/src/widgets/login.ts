/**
 * The login dialog (`[data-qrt="login-dialog"]`): name, channel, instance and the API key.
 *
 * The key goes from the password field straight into `POST accounts`: the field is emptied as
 * soon as it is read, the value is never written to local storage or logged, and the dialog's
 * DOM is disposed when it closes. A refused key reopens the dialog with the server's one line
 * and everything but the key filled in again.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import type { AccountSummary } from '../api/types';
import type { QuantumModel } from '../model/model';
import { checkLoginForm, CHANNELS, type ILoginForm } from '../model/login';

/** What the form shows again after a refusal (never the key). */
interface ILoginDraft {
  name: string;
  channel: string;
  instance: string;
  error: string | null;
}

/** Attempts in one dialog session before giving up (each is a user's click). */
const MAX_ATTEMPTS = 20;

class LoginForm extends Widget implements Dialog.IBodyWidget<ILoginForm> {
  constructor(draft: ILoginDraft, trans: TranslationBundle) {
    super();
    this.addClass('jp-qrt-login');
    this.node.setAttribute('data-qrt', 'login-dialog');
    const field = (
      label: string,
      input: HTMLInputElement,
      hint: string
    ): HTMLElement => {
      const wrapper = document.createElement('label');
      wrapper.className = 'jp-qrt-field';
      const text = document.createElement('span');
      text.textContent = label;
      const small = document.createElement('small');
      small.textContent = hint;
      wrapper.append(text, input, small);
      return wrapper;
    };
    const input = (
      name: string,
      value: string,
      type = 'text'
    ): HTMLInputElement => {
      const element = document.createElement('input');
      element.name = name;
      element.type = type;
      element.value = value;
      element.className = 'jp-mod-styled';
      element.autocomplete = 'off';
      element.spellcheck = false;
      return element;
    };
    this.nameInput = input('name', draft.name);
    this.channelInput = input('channel', draft.channel);
    this.channelInput.setAttribute('list', 'jp-qrt-channels');
    const channels = document.createElement('datalist');
    channels.id = 'jp-qrt-channels';
    for (const channel of CHANNELS) {
      const option = document.createElement('option');
      option.value = channel;
      channels.append(option);
    }
    this.instanceInput = input('instance', draft.instance);
    this.tokenInput = input('token', '', 'password');
    this.tokenInput.autocomplete = 'new-password';
    if (draft.error) {
      const error = document.createElement('div');
      error.setAttribute('data-qrt', 'login-error');
      error.setAttribute('role', 'alert');
      error.className = 'jp-qrt-error';
      error.textContent = draft.error;
      this.node.append(error);
    }
    this.node.append(
      field(
        'Name',
        this.nameInput,
        'how notebooks refer to it: %qrt_login <name>'
      ),
      field('Channel', this.channelInput, CHANNELS.join(' or ')),
      field(
        'Instance',
        this.instanceInput,
        'the instance CRN (optional: the first one is used)'
      ),
      field(
        'API key',
        this.tokenInput,
        'sent once to the Jupyter server; never shown again'
      ),
      channels
    );
  }

  /** Read the form; the key field is emptied at once. */
  getValue(): ILoginForm {
    const token = this.tokenInput.value;
    this.tokenInput.value = '';
    return {
      name: this.nameInput.value,
      channel: this.channelInput.value.trim() as ILoginForm['channel'],
      instance: this.instanceInput.value,
      token
    };
  }

  readonly nameInput: HTMLInputElement;
  readonly channelInput: HTMLInputElement;
  readonly instanceInput: HTMLInputElement;
  private readonly tokenInput: HTMLInputElement;
}

/**
 * Show the login dialog until the server accepts the account or the user cancels.
 *
 * @returns the new account's summary (name, masked fingerprint), or null when cancelled
 */
export async function showLoginDialog(
  model: QuantumModel,
  trans: TranslationBundle
): Promise<AccountSummary | null> {
  let draft: ILoginDraft = {
    name: '',
    channel: CHANNELS[0],
    instance: '',
    error: null
  };
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const result = await showDialog<ILoginForm>({
      title: trans.__('Log in to IBM Quantum'),
      body: new LoginForm(draft, trans),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.okButton({ label: trans.__('Log in') })
      ],
      focusNodeSelector: 'input[name="name"]'
    });
    if (!result.button.accept || result.value === null) {
      return null;
    }
    const form = result.value;
    const problem = checkLoginForm(form);
    draft = {
      name: form.name,
      channel: form.channel,
      instance: form.instance,
      error: problem
    };
    if (problem) {
      continue;
    }
    try {
      return await model.login(form);
    } catch (reason) {
      draft.error = (reason as Error).message;
    }
  }
  return null;
}
