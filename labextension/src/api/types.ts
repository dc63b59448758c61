/**
 * Names for the shapes of the server extension's answers, taken from the generated
 * `schema.ts` (itself generated from `jupyter_qrt/server/openapi.json`: never edit by hand).
 */
import type { components } from './schema';

type Schemas = components['schemas'];

export type Status = Schemas['Status'];
export type AccountSummary = Schemas['AccountSummary'];
export type AccountList = Schemas['AccountList'];
export type NewAccount = Schemas['NewAccount'];
export type AccountChange = Schemas['AccountChange'];
export type WatchedJob = Schemas['WatchedJob'];
export type JobsSnapshot = Schemas['JobsSnapshot'];
export type ErrorBody = Schemas['Error'];

/**
 * One server-sent `jobs` event of `GET jobs/events` (see `server/watcher_routes.py`).
 */
export interface IJobsEvent {
  account: string;
  version: number;
  jobs: WatchedJob[];
  removed?: string[];
  error: string | null;
  reset?: boolean;
}

/**
 * The runtime API's device summary (`GET runtime/<account>/api/v1/backends`).
 */
export interface IDeviceSummary {
  name: string;
  status?: { name?: string; reason?: string } | string;
  queue_length?: number;
  qubits?: number;
  n_qubits?: number;
  physical_qubits?: number;
}

/**
 * The runtime API's `GET backends/<name>/status`.
 */
export interface IDeviceStatus {
  state?: boolean;
  status?: string;
  message?: string;
  length_queue?: number;
  backend_version?: string;
}

/**
 * The parts of a backend configuration the sidebar shows.
 */
export interface IDeviceConfiguration {
  backend_name?: string;
  n_qubits?: number;
  coupling_map?: number[][] | null;
  basis_gates?: string[];
  processor_type?: { family?: string; revision?: string | number };
  simulator?: boolean;
}
