/**
 * Positions for a coupling map's qubits. Configurations carry no coordinates, so the qubits
 * start on a grid in index order and a bounded, deterministic spring layout pulls linked qubits
 * together: the same device always draws the same picture.
 */

/** A qubit's position, in a unit box [0, 1] x [0, 1]. */
export interface IPoint {
  x: number;
  y: number;
}

const ITERATIONS = 120;

/**
 * Positions of `count` qubits linked by `edges`.
 */
export function springLayout(
  count: number,
  edges: [number, number][]
): IPoint[] {
  if (count <= 0) {
    return [];
  }
  const columns = Math.ceil(Math.sqrt(count));
  const points: IPoint[] = [];
  for (let i = 0; i < count; i++) {
    points.push({ x: i % columns, y: Math.floor(i / columns) });
  }
  const ideal = 1.0;
  let temperature = columns / 4 + 0.5;
  // O(n^2) repulsion per round, bounded rounds: fine for the few hundred qubits devices have.
  const work = count <= 400 ? ITERATIONS : 0;
  for (let round = 0; round < work; round++) {
    const moves = points.map(() => ({ x: 0, y: 0 }));
    for (let a = 0; a < count; a++) {
      for (let b = a + 1; b < count; b++) {
        const dx = points[a].x - points[b].x;
        const dy = points[a].y - points[b].y;
        const distance = Math.max(Math.hypot(dx, dy), 0.01);
        const push = (ideal * ideal) / distance;
        moves[a].x += (dx / distance) * push;
        moves[a].y += (dy / distance) * push;
        moves[b].x -= (dx / distance) * push;
        moves[b].y -= (dy / distance) * push;
      }
    }
    for (const [a, b] of edges) {
      const dx = points[a].x - points[b].x;
      const dy = points[a].y - points[b].y;
      const distance = Math.max(Math.hypot(dx, dy), 0.01);
      const pull = (distance * distance) / ideal;
      moves[a].x -= (dx / distance) * pull;
      moves[a].y -= (dy / distance) * pull;
      moves[b].x += (dx / distance) * pull;
      moves[b].y += (dy / distance) * pull;
    }
    for (let i = 0; i < count; i++) {
      const length = Math.max(Math.hypot(moves[i].x, moves[i].y), 0.01);
      const step = Math.min(length, temperature);
      points[i].x += (moves[i].x / length) * step;
      points[i].y += (moves[i].y / length) * step;
    }
    temperature *= 0.96;
  }
  return normalise(points);
}

function normalise(points: IPoint[]): IPoint[] {
  const xs = points.map(p => p.x);
  const ys = points.map(p => p.y);
  const [minX, maxX] = [Math.min(...xs), Math.max(...xs)];
  const [minY, maxY] = [Math.min(...ys), Math.max(...ys)];
  const span = Math.max(maxX - minX, maxY - minY) || 1;
  // Centre the drawing in the box along its shorter side.
  const padX = (1 - (maxX - minX) / span) / 2;
  const padY = (1 - (maxY - minY) / span) / 2;
  return points.map(p => ({
    x: padX + (p.x - minX) / span,
    y: padY + (p.y - minY) / span
  }));
}
