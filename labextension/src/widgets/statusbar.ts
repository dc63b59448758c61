/**
 * The status bar item (`[data-qrt="statusbar"]`): the active account and how many of its jobs
 * are running; a click opens the sidebar.
 */
import { Widget } from '@lumino/widgets';

import type { QuantumModel } from '../model/model';

/** The text the item shows. */
export function statusText(model: QuantumModel): string {
  const account = model.activeName || 'no account';
  return `Quantum: ${account} · ${model.running} running`;
}

/**
 * The status bar widget.
 */
export class QuantumStatus extends Widget {
  constructor(
    private readonly model: QuantumModel,
    onClick: () => void
  ) {
    super();
    this.addClass('jp-qrt-statusbar');
    this.node.setAttribute('data-qrt', 'statusbar');
    this.node.title = 'Open the Quantum sidebar';
    this.node.addEventListener('click', onClick);
    model.changed.connect(this.showState, this);
    this.showState();
  }

  /** Show the current account and count. */
  showState(): void {
    const error = this.model.error;
    this.node.textContent = statusText(this.model) + (error ? ' · ⚠' : '');
    this.node.title = error
      ? `Open the Quantum sidebar. ${error}`
      : 'Open the Quantum sidebar';
  }
}
