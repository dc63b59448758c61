/**
 * The Quantum sidebar (`#jp-qrt-sidebar`, `data-qrt="sidebar"`): the active account with a
 * picker, its devices (click for details and the coupling map), recent jobs with live state,
 * cancel and "insert result cell", and ONE error line when the server reports a problem.
 *
 * The `data-qrt` attributes are the DOM contract the UI tests rely on (`ui-tests/`): keep them.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import type { QuantumModel } from '../model/model';
import type { IAccountView, IDeviceView, IJobView } from '../model/views';
import { quantumIcon } from '../icons';
import { deviceDetailNode } from './detail';
import { h } from './dom';

/** What the sidebar asks its host to do. */
export interface ISidebarActions {
  /** Open the login dialog. */
  login(): void;
  /** Add a code cell reopening this job to the current notebook. */
  insertCell(jobId: string): void;
  /** Refresh (the refresh command). */
  refresh(): void;
}

/**
 * The sidebar widget; it re-renders on each change of the model.
 */
export class QuantumSidebar extends Widget {
  constructor(
    private readonly model: QuantumModel,
    private readonly actions: ISidebarActions,
    private readonly trans: TranslationBundle
  ) {
    super();
    this.id = 'jp-qrt-sidebar';
    this.addClass('jp-qrt-sidebar');
    this.node.setAttribute('data-qrt', 'sidebar');
    this.title.icon = quantumIcon;
    this.title.caption = trans.__('Quantum');
    model.changed.connect(this.render, this);
    this.render();
  }

  /** Draw the current state (only when it changed: an open picker survives a refresh). */
  render(): void {
    const model = this.model;
    const key = JSON.stringify([
      model.ready,
      model.canLogin,
      model.error,
      model.accounts,
      model.devices,
      model.detail,
      model.jobs
    ]);
    if (key === this._drawn) {
      return;
    }
    this._drawn = key;
    const body: (Node | null)[] = [this.header()];
    const error = model.error;
    if (error) {
      body.push(h('div', { 'data-qrt': 'error', role: 'alert' }, error));
    }
    if (!model.ready) {
      body.push(h('p', { class: 'jp-qrt-muted' }, 'Asking the server…'));
    } else {
      body.push(this.accountSection());
      body.push(this.deviceSection());
      body.push(this.detailSection());
      body.push(this.jobSection());
    }
    this.node.replaceChildren(...body.filter((n): n is Node => n !== null));
  }

  private _drawn = '';

  private header(): HTMLElement {
    const refresh = h(
      'button',
      {
        'data-qrt': 'refresh',
        class: 'jp-qrt-button',
        title: this.trans.__('Refresh accounts, devices and jobs')
      },
      'Refresh'
    );
    refresh.addEventListener('click', () => this.actions.refresh());
    const buttons: HTMLElement[] = [refresh];
    if (this.model.canLogin) {
      const login = h(
        'button',
        {
          'data-qrt': 'login',
          class: 'jp-qrt-button jp-mod-accept',
          title: this.trans.__('Add an IBM Quantum account')
        },
        'Log in'
      );
      login.addEventListener('click', () => this.actions.login());
      buttons.push(login);
    }
    return h(
      'header',
      { class: 'jp-qrt-header' },
      h('h2', {}, 'Quantum'),
      h('span', { class: 'jp-qrt-buttons' }, ...buttons)
    );
  }

  private accountSection(): HTMLElement {
    const active = this.model.active;
    const section = h('section', {
      'data-qrt': 'account-section',
      class: 'jp-qrt-section'
    });
    section.append(h('h3', {}, 'Account'));
    if (!active) {
      section.append(
        h(
          'p',
          { 'data-qrt': 'account', class: 'jp-qrt-muted' },
          'No account yet.'
        )
      );
      return section;
    }
    const parts: (HTMLElement | null)[] = [
      h(
        'div',
        { class: 'jp-qrt-account' },
        h('strong', { 'data-qrt': 'account' }, active.name),
        ' ',
        active.fingerprint
          ? h(
              'code',
              {
                'data-qrt': 'fingerprint',
                title: this.trans.__('key fingerprint')
              },
              active.fingerprint
            )
          : null,
        active.readOnly
          ? h(
              'span',
              {
                'data-qrt': 'read-only',
                class: 'jp-qrt-badge',
                title: this.trans.__(
                  'Configured by the server operator: it cannot be changed here'
                )
              },
              'read-only'
            )
          : null
      ),
      h(
        'div',
        { class: 'jp-qrt-muted' },
        h('span', { 'data-qrt': 'channel' }, active.channel),
        active.plan ? ' · plan ' : '',
        active.plan ? h('span', { 'data-qrt': 'plan' }, active.plan) : null
      ),
      active.instance
        ? h(
            'div',
            {
              'data-qrt': 'instance',
              class: 'jp-qrt-muted jp-qrt-ellipsis',
              title: active.instance
            },
            active.instance
          )
        : null,
      active.warning
        ? h(
            'div',
            { 'data-qrt': 'plan-warning', class: 'jp-qrt-warning' },
            active.warning
          )
        : null
    ];
    section.append(...parts.filter((p): p is HTMLElement => p !== null));
    const accounts = this.model.accounts;
    if (accounts.length > 1) {
      section.append(this.picker(accounts));
    }
    return section;
  }

  private picker(accounts: IAccountView[]): HTMLElement {
    const select = h('select', {
      'data-qrt': 'account-picker',
      'aria-label': this.trans.__('Active account')
    });
    for (const account of accounts) {
      const label = [
        account.name,
        account.plan,
        account.readOnly ? 'read-only' : ''
      ]
        .filter(Boolean)
        .join(' · ');
      const option = h('option', { value: account.name }, label);
      option.selected = account.active;
      option.disabled = !account.available;
      select.append(option);
    }
    select.addEventListener('change', () => {
      void this.model.selectAccount(select.value);
    });
    return h('label', { class: 'jp-qrt-picker' }, 'Switch to ', select);
  }

  private deviceSection(): HTMLElement {
    const devices = this.model.devices;
    const list = h('ul', { class: 'jp-qrt-list' });
    for (const device of devices) {
      list.append(this.deviceRow(device));
    }
    return h(
      'section',
      { 'data-qrt': 'devices', class: 'jp-qrt-section' },
      h('h3', {}, `Devices (${devices.length})`),
      devices.length
        ? list
        : h('p', { class: 'jp-qrt-muted' }, 'No devices for this account.')
    );
  }

  private deviceRow(device: IDeviceView): HTMLElement {
    const row = h(
      'li',
      {
        'data-qrt-device': device.name,
        class: 'jp-qrt-row jp-qrt-clickable',
        tabindex: '0',
        title: this.trans.__("Show %1's details and coupling map", device.name)
      },
      h(
        'span',
        {
          class: `jp-qrt-dot ${device.operational ? 'jp-qrt-ok' : 'jp-qrt-down'}`
        },
        '●'
      ),
      h('span', { class: 'jp-qrt-name' }, device.name),
      h(
        'span',
        { 'data-qrt': 'device-status', class: 'jp-qrt-muted' },
        device.status
      ),
      h(
        'span',
        { 'data-qrt': 'qubits', class: 'jp-qrt-muted' },
        device.qubits === null ? '' : `${device.qubits} q`
      ),
      h(
        'span',
        {
          'data-qrt': 'pending',
          class: 'jp-qrt-muted',
          title: this.trans.__('pending jobs')
        },
        device.pending === null ? '' : `${device.pending} pending`
      )
    );
    const open = (): void => void this.model.openDevice(device.name);
    row.addEventListener('click', open);
    row.addEventListener('keydown', event => {
      if (event.key === 'Enter') {
        open();
      }
    });
    return row;
  }

  private detailSection(): HTMLElement | null {
    const detail = this.model.detail;
    return detail
      ? deviceDetailNode(detail, () => this.model.closeDevice(), this.trans)
      : null;
  }

  private jobSection(): HTMLElement {
    const jobs = this.model.jobs;
    const list = h('ul', { class: 'jp-qrt-list' });
    for (const job of jobs) {
      list.append(this.jobRow(job));
    }
    return h(
      'section',
      { 'data-qrt': 'jobs', class: 'jp-qrt-section' },
      h('h3', {}, `Recent jobs (${jobs.length})`),
      jobs.length
        ? list
        : h(
            'p',
            { class: 'jp-qrt-muted' },
            'No jobs yet: run a %%sampler cell.'
          )
    );
  }

  private jobRow(job: IJobView): HTMLElement {
    const insert = h(
      'button',
      {
        'data-qrt': 'insert-cell',
        class: 'jp-qrt-button',
        title: this.trans.__(
          'Insert a cell that shows this job in the current notebook'
        )
      },
      'Insert cell'
    );
    insert.addEventListener('click', () => this.actions.insertCell(job.id));
    let cancel: HTMLElement | null = null;
    if (job.cancellable) {
      cancel = h(
        'button',
        {
          'data-qrt': 'cancel',
          class: 'jp-qrt-button',
          title: this.trans.__('Cancel this job')
        },
        'Cancel'
      );
      cancel.addEventListener('click', () => void this.model.cancel(job.id));
    }
    return h(
      'li',
      { 'data-qrt-job': job.id, class: 'jp-qrt-row' },
      h(
        'span',
        {
          class: 'jp-qrt-name jp-qrt-ellipsis',
          title: `${job.id} ${job.created}`
        },
        job.id
      ),
      h(
        'span',
        {
          'data-qrt': 'job-status',
          class: `jp-qrt-status jp-qrt-status-${job.status.toLowerCase().split(' ')[0]}`
        },
        job.status
      ),
      h('span', { class: 'jp-qrt-muted' }, job.backend),
      h('span', { class: 'jp-qrt-buttons' }, cancel, insert)
    );
  }
}
