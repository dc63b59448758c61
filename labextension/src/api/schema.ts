/**
 * Generated from ../jupyter_qrt/server/openapi.json by `npm run generate:api`: do not edit.
 * `npm run check:api` fails when this file is stale.
 */

export interface paths {
    "/status": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Version, mode, default account, whether users may add accounts, the local service's health. */
        get: operations["getStatus"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/accounts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every account: names, channel, instance, plan, masked fingerprint. Never a key. */
        get: operations["listAccounts"];
        put?: never;
        /** Add an account: the key is validated with IAM and the instance before it is saved. */
        post: operations["addAccount"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/accounts/{account}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                account: components["parameters"]["account"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Delete an account (not a read-only one, not local). */
        delete: operations["deleteAccount"];
        options?: never;
        head?: never;
        /** Change an account: {"default": true} makes it the default. */
        patch: operations["updateAccount"];
        trace?: never;
    };
    "/runtime/{account}/{path}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                account: components["parameters"]["account"];
                /** @description [experimental/]api/v1/<runtime path>, globalsearch/<path> or globalcatalog/<path>: nothing else is forwarded. */
                path: string;
            };
            cookie?: never;
        };
        /** Forward a runtime API call to the account's upstream. */
        get: operations["proxyGet"];
        /** Forward a runtime API call to the account's upstream. */
        put: operations["proxyPut"];
        /** Forward a runtime API call to the account's upstream. */
        post: operations["proxyPost"];
        /** Forward a runtime API call to the account's upstream. */
        delete: operations["proxyDelete"];
        options?: never;
        head?: never;
        /** Forward a runtime API call to the account's upstream. */
        patch: operations["proxyPatch"];
        trace?: never;
    };
    "/iam/identity/token": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** IAM's API-key exchange for the kernel token: a short-lived bearer valid on the proxy only. */
        post: operations["exchangeKernelToken"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/jobs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The jobs the shared watcher knows for an account. */
        get: operations["listWatchedJobs"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/jobs/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Changes to the watched jobs of an account, as server-sent events. */
        get: operations["watchJobs"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/jobs/track": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Follow a job at once (a job submitted from a notebook appears within one poll). */
        post: operations["trackJob"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        Error: {
            /** @description One readable line: what went wrong and what to do. */
            message: string;
            status: number;
        };
        LocalHealth: {
            /** @enum {string} */
            state: "off" | "starting" | "running" | "failed";
            url?: string;
            data_dir?: string;
            message?: string;
        };
        Status: {
            version: string;
            /** @enum {string} */
            namespace: "jupyter-qrt";
            default_account: string;
            allow_user_accounts: boolean;
            /** @enum {string} */
            mode: "personal" | "classroom";
            local: components["schemas"]["LocalHealth"];
            watcher?: {
                [key: string]: unknown;
            };
        };
        AccountSummary: {
            name: string;
            /** @enum {string|null} */
            channel: "ibm_quantum_platform" | "ibm_cloud" | "local" | null;
            instance: string | null;
            plan: string | null;
            /** @description The key masked: its last four characters only. */
            fingerprint: string | null;
            read_only: boolean;
            default: boolean;
            available: boolean;
            message?: string;
        };
        AccountList: {
            accounts: components["schemas"]["AccountSummary"][];
            default: string;
            allow_user_accounts: boolean;
        };
        NewAccount: {
            name: string;
            /** @enum {string} */
            channel?: "ibm_quantum_platform" | "ibm_cloud" | "local";
            /** @description The API key: posted once, never answered. */
            token: string;
            instance?: string;
            url?: string;
            region?: string;
            plans_preference?: string[];
            set_default?: boolean;
        };
        AccountChange: {
            /** @enum {boolean} */
            default?: true;
        };
        IAMToken: {
            access_token: string;
            refresh_token?: string;
            token_type: string;
            expires_in: number;
            expiration: number;
            scope?: string;
        };
        IAMError: {
            errorCode: string;
            errorMessage: string;
        };
        WatchedJob: {
            id: string;
            status: string;
            backend?: string | null;
            program?: string | null;
            created?: string | null;
            session_id?: string | null;
            tags?: string[];
        } & {
            [key: string]: unknown;
        };
        JobsSnapshot: {
            account: string;
            version: number;
            jobs: components["schemas"]["WatchedJob"][];
            error: string | null;
        };
    };
    responses: {
        /** @description One readable line */
        Error: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
    };
    parameters: {
        account: string;
        /** @description Default: the default account. */
        accountQuery: string;
    };
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    getStatus: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The status */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Status"];
                };
            };
            401: components["responses"]["Error"];
            403: components["responses"]["Error"];
        };
    };
    listAccounts: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The accounts */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AccountList"];
                };
            };
            401: components["responses"]["Error"];
            403: components["responses"]["Error"];
        };
    };
    addAccount: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["NewAccount"];
            };
        };
        responses: {
            /** @description Saved */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AccountSummary"];
                };
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Error"];
            403: components["responses"]["Error"];
            409: components["responses"]["Error"];
            502: components["responses"]["Error"];
        };
    };
    deleteAccount: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                account: components["parameters"]["account"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["Error"];
            403: components["responses"]["Error"];
            404: components["responses"]["Error"];
        };
    };
    updateAccount: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                account: components["parameters"]["account"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["AccountChange"];
            };
        };
        responses: {
            /** @description Changed */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AccountSummary"];
                };
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Error"];
            403: components["responses"]["Error"];
            404: components["responses"]["Error"];
        };
    };
    proxyGet: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                account: components["parameters"]["account"];
                /** @description [experimental/]api/v1/<runtime path>, globalsearch/<path> or globalcatalog/<path>: nothing else is forwarded. */
                path: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The upstream's answer, or an Error for a refused path, account or host */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    proxyPut: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                account: components["parameters"]["account"];
                /** @description [experimental/]api/v1/<runtime path>, globalsearch/<path> or globalcatalog/<path>: nothing else is forwarded. */
                path: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The upstream's answer, or an Error for a refused path, account or host */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    proxyPost: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                account: components["parameters"]["account"];
                /** @description [experimental/]api/v1/<runtime path>, globalsearch/<path> or globalcatalog/<path>: nothing else is forwarded. */
                path: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The upstream's answer, or an Error for a refused path, account or host */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    proxyDelete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                account: components["parameters"]["account"];
                /** @description [experimental/]api/v1/<runtime path>, globalsearch/<path> or globalcatalog/<path>: nothing else is forwarded. */
                path: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The upstream's answer, or an Error for a refused path, account or host */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    proxyPatch: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                account: components["parameters"]["account"];
                /** @description [experimental/]api/v1/<runtime path>, globalsearch/<path> or globalcatalog/<path>: nothing else is forwarded. */
                path: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The upstream's answer, or an Error for a refused path, account or host */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    exchangeKernelToken: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/x-www-form-urlencoded": {
                    grant_type: string;
                    apikey: string;
                };
            };
        };
        responses: {
            /** @description A bearer */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IAMToken"];
                };
            };
            /** @description IAM's error */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IAMError"];
                };
            };
        };
    };
    listWatchedJobs: {
        parameters: {
            query?: {
                /** @description Default: the default account. */
                account?: components["parameters"]["accountQuery"];
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The watched jobs */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JobsSnapshot"];
                };
            };
            401: components["responses"]["Error"];
            403: components["responses"]["Error"];
            404: components["responses"]["Error"];
        };
    };
    watchJobs: {
        parameters: {
            query?: {
                /** @description Default: the default account. */
                account?: components["parameters"]["accountQuery"];
                since?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description An event stream */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": string;
                };
            };
            401: components["responses"]["Error"];
            403: components["responses"]["Error"];
            404: components["responses"]["Error"];
        };
    };
    trackJob: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    account?: string;
                    job_id: string;
                };
            };
        };
        responses: {
            /** @description Tracked */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        account: string;
                        job_id: string;
                        version: number;
                    };
                };
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Error"];
            403: components["responses"]["Error"];
            404: components["responses"]["Error"];
        };
    };
}
