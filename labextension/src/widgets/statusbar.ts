/**
 * The status bar item (`[data-qrt="statusbar"]`): the active account and how many of its jobs
 * are running; a click opens the sidebar.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import type { QuantumModel } from '../model/model';

/** The text the item shows. */
export function statusText(
  model: QuantumModel,
  trans: TranslationBundle
): string {
  const account = model.activeName || trans.__('no account');
  return trans.__('Quantum: %1 · %2 running', account, model.running);
}

/**
 * The status bar widget.
 */
export class QuantumStatus extends Widget {
  constructor(
    private readonly model: QuantumModel,
    onClick: () => void,
    private readonly trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-qrt-statusbar');
    this.node.setAttribute('data-qrt', 'statusbar');
    this.node.title = trans.__('Open the Quantum sidebar');
    this.node.addEventListener('click', onClick);
    model.changed.connect(this.showState, this);
    this.showState();
  }

  /** Show the current account and count. */
  showState(): void {
    const error = this.model.error;
    this.node.textContent =
      statusText(this.model, this.trans) + (error ? ' · ⚠' : '');
    this.node.title = error
      ? this.trans.__('Open the Quantum sidebar. %1', error)
      : this.trans.__('Open the Quantum sidebar');
  }
}
