import { springLayout } from '../model/layout';
import { checkLoginForm } from '../model/login';
import { resultCellSource } from '../model/views';

describe('views', () => {
  it('writes the result cell that reopens a job', () => {
    expect(resultCellSource('d1abc')).toBe(
      '%load_ext jupyter_qrt\n%qrt_job d1abc'
    );
  });

  it('lays out a coupling map inside the unit box, the same way every time', () => {
    const edges: [number, number][] = [
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 4]
    ];
    const first = springLayout(5, edges);
    expect(first).toHaveLength(5);
    for (const p of first) {
      expect(p.x).toBeGreaterThanOrEqual(0);
      expect(p.x).toBeLessThanOrEqual(1);
      expect(p.y).toBeGreaterThanOrEqual(0);
      expect(p.y).toBeLessThanOrEqual(1);
    }
    expect(springLayout(5, edges)).toEqual(first);
    // Distinct qubits get distinct places.
    const keys = new Set(first.map(p => `${p.x.toFixed(3)},${p.y.toFixed(3)}`));
    expect(keys.size).toBe(5);
  });

  it.each([
    [
      { name: '', channel: 'ibm_cloud', instance: '', token: 'k' },
      /Give the account a name/
    ],
    [
      { name: 'a b', channel: 'ibm_cloud', instance: '', token: 'k' },
      /letters, digits/
    ],
    [
      { name: 'local', channel: 'ibm_cloud', instance: '', token: 'k' },
      /built-in offline/
    ],
    [
      { name: 'ibm', channel: 'ibm_quantum', instance: '', token: 'k' },
      /Channel must be/
    ],
    [
      { name: 'ibm', channel: 'ibm_cloud', instance: '', token: '' },
      /Paste your API key/
    ]
  ])('refuses a bad login form with one line (%#)', (form, line) => {
    expect(
      checkLoginForm(form as Parameters<typeof checkLoginForm>[0])
    ).toMatch(line);
  });
});
