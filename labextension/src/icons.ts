/**
 * The Quantum icon (an atom-like orbit around a qubit), for the sidebar tab and settings.
 */
import { LabIcon } from '@jupyterlab/ui-components';

const svgstr = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="none" stroke="#616161" stroke-width="1.6">
    <ellipse cx="12" cy="12" rx="10" ry="4"/>
    <ellipse cx="12" cy="12" rx="10" ry="4" transform="rotate(60 12 12)"/>
    <ellipse cx="12" cy="12" rx="10" ry="4" transform="rotate(120 12 12)"/>
  </g>
  <circle class="jp-icon3" cx="12" cy="12" r="2" fill="#616161"/>
</svg>`;

export const quantumIcon = new LabIcon({ name: 'jupyter-qrt:quantum', svgstr });
