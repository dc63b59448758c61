// Runs job_cancel.js's cancelJob (after page.js, as the browser gets it) under node with a fake
// page, model and fetch; prints JSON.
import { pathToFileURL } from "node:url";

const [modulePath] = process.argv.slice(2);
const { cancelJob } = await import(pathToFileURL(modulePath).href);

function fakeModel(values) {
  const sets = [];
  const sent = [];
  return {
    sets,
    sent,
    get: (k) => values[k],
    set: (k, v) => {
      values[k] = v;
      sets.push([k, v]);
    },
    save_changes: () => sets.push(["save_changes"]),
    send: (content) => sent.push(content),
  };
}

const page = {
  document: {
    body: { dataset: { baseUrl: "/user/alice/" } },
    getElementById: () => null,
    cookie: "_xsrf=tok-9",
  },
  location: { pathname: "/user/alice/lab" },
};

async function run(account, status, answer) {
  const requests = [];
  const model = fakeModel({ job_id: "job 1", account, message: "" });
  const fetch = async (url, init) => {
    requests.push({ url, method: init.method, headers: init.headers });
    return { ok: status < 400, status, json: async () => answer };
  };
  const outcome = await cancelJob(model, { fetch, ...page });
  return { outcome, requests, sets: model.sets, sent: model.sent };
}

const out = {
  server: await run("ibm main", 204, {}),
  ended: await run("local", 409, {
    errors: [{ message: "Job job 1 has already ended (Completed).", code: 1409 }],
  }),
  kernel: await run("", 204, {}),
};
console.log(JSON.stringify(out));
