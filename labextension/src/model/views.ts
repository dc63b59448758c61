/**
 * What the sidebar shows, computed from the server's answers by pure functions (no DOM, no
 * JupyterLab), so jest checks them directly.
 */
import type {
  AccountSummary,
  IDeviceConfiguration,
  IDeviceStatus,
  IDeviceSummary,
  IJobsEvent,
  WatchedJob
} from '../api/types';

/** Plans that cost money per job (the kernel's `connection.py` warns on the same). */
const PAID_PLANS = new Set([
  'paygo',
  'pay-as-you-go',
  'paid',
  'subscription',
  'premium',
  'flex'
]);

/** One row of the account picker. */
export interface IAccountView {
  name: string;
  channel: string;
  instance: string;
  plan: string;
  fingerprint: string;
  readOnly: boolean;
  active: boolean;
  available: boolean;
  /** One line under the account: a paid plan, or why it is not available. */
  warning: string | null;
}

/** One row of the device list. */
export interface IDeviceView {
  name: string;
  status: string;
  operational: boolean;
  qubits: number | null;
  pending: number | null;
}

/** One row of the job list. */
export interface IJobView {
  id: string;
  status: string;
  backend: string;
  program: string;
  created: string;
  cancellable: boolean;
}

/** A device's details: its status and coupling map. */
export interface IDeviceDetail {
  name: string;
  status: string;
  operational: boolean;
  pending: number | null;
  qubits: number;
  edges: [number, number][];
  basisGates: string[];
  message: string | null;
}

/**
 * The accounts as the picker shows them.
 */
export function accountViews(
  accounts: AccountSummary[],
  active: string
): IAccountView[] {
  return accounts.map(account => {
    const plan = account.plan ?? '';
    let warning: string | null = null;
    if (!account.available) {
      warning = account.message ?? `${account.name} is not available now.`;
    } else if (PAID_PLANS.has(plan.toLowerCase())) {
      warning = `${plan} is a paid plan: jobs on ${account.name} cost money.`;
    }
    return {
      name: account.name,
      channel: account.channel ?? '',
      instance: account.instance ?? '',
      plan,
      fingerprint: account.fingerprint ?? '',
      readOnly: account.read_only,
      active: account.name === active,
      available: account.available,
      warning
    };
  });
}

/**
 * The device rows, sorted by name.
 */
export function deviceViews(devices: IDeviceSummary[]): IDeviceView[] {
  return devices
    .filter(device => typeof device?.name === 'string')
    .map(device => {
      const raw = device.status;
      const status = typeof raw === 'string' ? raw : (raw?.name ?? 'unknown');
      const qubits =
        device.qubits ?? device.n_qubits ?? device.physical_qubits ?? null;
      return {
        name: device.name,
        status,
        operational: ['online', 'active'].includes(status.toLowerCase()),
        qubits: typeof qubits === 'number' ? qubits : null,
        pending:
          typeof device.queue_length === 'number' ? device.queue_length : null
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * A device's details from its status and configuration.
 */
export function deviceDetail(
  name: string,
  status: IDeviceStatus,
  configuration: IDeviceConfiguration
): IDeviceDetail {
  const qubits = configuration.n_qubits ?? 0;
  const seen = new Set<string>();
  const edges: [number, number][] = [];
  // The coupling map lists directed pairs (often both directions): draw each link once.
  for (const pair of configuration.coupling_map ?? []) {
    if (!Array.isArray(pair) || pair.length !== 2) {
      continue;
    }
    const [a, b] = pair;
    if (!Number.isInteger(a) || !Number.isInteger(b) || a === b) {
      continue;
    }
    if (a < 0 || b < 0 || a >= qubits || b >= qubits) {
      continue;
    }
    const key = a < b ? `${a}-${b}` : `${b}-${a}`;
    if (!seen.has(key)) {
      seen.add(key);
      edges.push(a < b ? [a, b] : [b, a]);
    }
  }
  return {
    name,
    status: status.status ?? (status.state ? 'active' : 'unknown'),
    operational: status.state ?? false,
    pending:
      typeof status.length_queue === 'number' ? status.length_queue : null,
    qubits,
    edges,
    basisGates: configuration.basis_gates ?? [],
    message: status.message ?? null
  };
}

/**
 * The job rows, newest first.
 */
export function jobViews(jobs: Iterable<WatchedJob>): IJobView[] {
  const rows: IJobView[] = [];
  for (const job of jobs) {
    rows.push({
      id: job.id,
      status: job.status,
      backend: job.backend ?? '',
      program: job.program ?? '',
      created: job.created ?? '',
      cancellable: ['queued', 'running'].includes(job.status.toLowerCase())
    });
  }
  return rows.sort((a, b) =>
    a.created === b.created
      ? a.id.localeCompare(b.id)
      : b.created.localeCompare(a.created)
  );
}

/**
 * Fold one `jobs` event into the known jobs (by id): a reset replaces them all.
 */
export function applyJobsEvent(
  known: Map<string, WatchedJob>,
  event: IJobsEvent
): Map<string, WatchedJob> {
  const next = event.reset
    ? new Map<string, WatchedJob>()
    : new Map<string, WatchedJob>(known);
  for (const job of event.jobs ?? []) {
    if (job && typeof job.id === 'string') {
      next.set(job.id, job);
    }
  }
  for (const id of event.removed ?? []) {
    next.delete(id);
  }
  return next;
}

/** Jobs whose status says they are running now. */
export function runningCount(jobs: Iterable<WatchedJob>): number {
  let count = 0;
  for (const job of jobs) {
    if (job.status.toLowerCase() === 'running') {
      count += 1;
    }
  }
  return count;
}

/**
 * The code of the "insert result cell" button.
 */
export function resultCellSource(jobId: string): string {
  return `%load_ext jupyter_qrt\n%qrt_job ${jobId}`;
}
