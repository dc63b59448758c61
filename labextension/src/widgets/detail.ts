/**
 * A device's details in the sidebar (`[data-qrt="device-detail"]`): status, queue, gates and
 * the coupling map.
 */
import type { TranslationBundle } from '@jupyterlab/translation';

import type { IDeviceDetail } from '../model/views';
import { couplingMapSvg } from './coupling';
import { h } from './dom';

/**
 * The details section of one device.
 */
export function deviceDetailNode(
  detail: IDeviceDetail,
  onClose: () => void,
  trans: TranslationBundle
): HTMLElement {
  const close = h(
    'button',
    {
      'data-qrt': 'close-detail',
      class: 'jp-qrt-button',
      title: trans.__('Close')
    },
    trans.__('Close')
  );
  close.addEventListener('click', onClose);
  return h(
    'section',
    { 'data-qrt': 'device-detail', class: 'jp-qrt-section jp-qrt-detail' },
    h('header', { class: 'jp-qrt-header' }, h('h3', {}, detail.name), close),
    h(
      'div',
      { class: 'jp-qrt-muted' },
      trans.__(
        '%1 · %2 qubits · %3 pending · %4 links',
        detail.status,
        detail.qubits,
        detail.pending ?? '?',
        detail.edges.length
      )
    ),
    detail.message ? h('div', { class: 'jp-qrt-muted' }, detail.message) : null,
    detail.basisGates.length
      ? h(
          'div',
          { class: 'jp-qrt-muted' },
          trans.__('gates: %1', detail.basisGates.join(', '))
        )
      : null,
    couplingMapSvg(detail)
  );
}
