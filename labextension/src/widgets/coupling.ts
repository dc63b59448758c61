/**
 * A device's coupling map as an SVG: one circle per qubit, one line per link.
 */
import type { IDeviceDetail } from '../model/views';
import { springLayout } from '../model/layout';

const SVG = 'http://www.w3.org/2000/svg';
const SIZE = 240;
const MARGIN = 14;

/**
 * Draw a device's coupling map (`[data-qrt="coupling-map"]`).
 */
export function couplingMapSvg(detail: IDeviceDetail): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('data-qrt', 'coupling-map');
  svg.setAttribute('viewBox', `0 0 ${SIZE} ${SIZE}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute(
    'aria-label',
    `Coupling map of ${detail.name}: ${detail.qubits} qubits, ${detail.edges.length} links`
  );
  svg.classList.add('jp-qrt-coupling');
  const points = springLayout(detail.qubits, detail.edges).map(p => ({
    x: MARGIN + p.x * (SIZE - 2 * MARGIN),
    y: MARGIN + p.y * (SIZE - 2 * MARGIN)
  }));
  const radius = detail.qubits > 60 ? 3 : 6;
  for (const [a, b] of detail.edges) {
    const line = document.createElementNS(SVG, 'line');
    line.setAttribute('x1', points[a].x.toFixed(1));
    line.setAttribute('y1', points[a].y.toFixed(1));
    line.setAttribute('x2', points[b].x.toFixed(1));
    line.setAttribute('y2', points[b].y.toFixed(1));
    line.setAttribute('data-qrt-edge', `${a}-${b}`);
    svg.appendChild(line);
  }
  points.forEach((point, qubit) => {
    const circle = document.createElementNS(SVG, 'circle');
    circle.setAttribute('cx', point.x.toFixed(1));
    circle.setAttribute('cy', point.y.toFixed(1));
    circle.setAttribute('r', String(radius));
    circle.setAttribute('data-qrt-qubit', String(qubit));
    const title = document.createElementNS(SVG, 'title');
    title.textContent = `qubit ${qubit}`;
    circle.appendChild(title);
    svg.appendChild(circle);
  });
  return svg;
}
