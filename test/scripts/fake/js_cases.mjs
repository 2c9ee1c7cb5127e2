// Drives iotjobs-fake-iot with the AWS SDK for JavaScript v3 (@aws-sdk/client-iot).
// usage: node js_cases.mjs NODE_DIR BASE_URL CA_FILE
// NODE_DIR holds node_modules/@aws-sdk/client-iot (installed at test time, never in the repo).
// The server runs with test/scripts/fake/seed.json and --rate-limit DescribeJobExecution=1 --burst 1.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import https from "node:https";

const [nodeDir, url, caFile] = process.argv.slice(2);
const require = createRequire(nodeDir + "/package.json");
const iotlib = require("@aws-sdk/client-iot");
const { NodeHttpHandler } = require("@smithy/node-http-handler");
const { IoTClient, DeleteJobExecutionCommand, DescribeJobExecutionCommand, CancelJobExecutionCommand,
        ListJobExecutionsForThingCommand, paginateListJobExecutionsForJob } = iotlib;

const ca = readFileSync(caFile);
const agent = new https.Agent({ ca, keepAlive: true, maxSockets: 8 });
const failures = [];
const check = (name, ok, detail = "") => {
  console.log((ok ? "PASS " : "FAIL ") + name + (ok ? "" : `: ${detail}`));
  if (!ok) failures.push(name);
};
const client = (secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", maxAttempts = 1) =>
  new IoTClient({
    endpoint: url, region: "us-east-1", maxAttempts,
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: secret },
    requestHandler: new NodeHttpHandler({ httpsAgent: agent }),
  });
const errorOf = async (p) => { try { await p; return null; } catch (e) { return e; } };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const iot = client();
console.log("@aws-sdk/client-iot " + require("@aws-sdk/client-iot/package.json").version);

let r = await iot.send(new DeleteJobExecutionCommand({ thingName: "dev:1", jobId: "job-del", executionNumber: 1 }));
check("js delete terminal execution", r.$metadata.httpStatusCode === 200);

let e = await errorOf(iot.send(new DeleteJobExecutionCommand({ thingName: "dev:1", jobId: "job-del", executionNumber: 1 })));
check("js missing -> ResourceNotFoundException",
  e && e.name === "ResourceNotFoundException" && e.$metadata.httpStatusCode === 404 && !!e.$metadata.requestId, e);

e = await errorOf(iot.send(new DeleteJobExecutionCommand({ thingName: "dev:2", jobId: "job-ip", executionNumber: 1 })));
check("js IN_PROGRESS without force -> InvalidStateTransitionException",
  e && e.name === "InvalidStateTransitionException" && e.$metadata.httpStatusCode === 409, e);
r = await iot.send(new DeleteJobExecutionCommand({ thingName: "dev:2", jobId: "job-ip", executionNumber: 1, force: true }));
check("js IN_PROGRESS with force", r.$metadata.httpStatusCode === 200);

e = await errorOf(iot.send(new DeleteJobExecutionCommand({ thingName: "dev:3", jobId: "job-ns", executionNumber: 1 })));
check("js namespaced without namespaceId -> 404", e && e.name === "ResourceNotFoundException", e);
r = await iot.send(new DeleteJobExecutionCommand({ thingName: "dev:3", jobId: "job-ns", executionNumber: 1, namespaceId: "NS_1" }));
check("js delete with namespaceId", r.$metadata.httpStatusCode === 200);

const seen = [];
let pages = 0;
for await (const page of paginateListJobExecutionsForJob({ client: iot, pageSize: 25 }, { jobId: "job-list" })) {
  pages++;
  for (const item of page.executionSummaries) {
    const thing = item.thingArn.split("/").pop();
    seen.push(thing);
    await iot.send(new DeleteJobExecutionCommand({ thingName: thing, jobId: "job-list",
      executionNumber: item.jobExecutionSummary.executionNumber }));
  }
}
check("js paginate 120 executions in pages of 25 with deletes, each exactly once",
  seen.length === 120 && new Set(seen).size === 120 && pages === 5, `${seen.length} items, ${pages} pages`);
const first = (await iot.send(new ListJobExecutionsForThingCommand({ thingName: "multi:1", status: "QUEUED" }))).executionSummaries;
check("js list for thing with status filter", first.length === 1 && first[0].jobId === "job-q" &&
  first[0].jobExecutionSummary.queuedAt instanceof Date, JSON.stringify(first));

let d = (await iot.send(new DescribeJobExecutionCommand({ thingName: "multi:1", jobId: "job-q" }))).execution;
check("js describe", d.status === "QUEUED" && d.executionNumber === 3, JSON.stringify(d));
await iot.send(new CancelJobExecutionCommand({ thingName: "multi:1", jobId: "job-q", statusDetails: { reason: "test" } }));
await sleep(1100);
d = (await iot.send(new DescribeJobExecutionCommand({ thingName: "multi:1", jobId: "job-q" }))).execution;
check("js cancel", d.status === "CANCELED", JSON.stringify(d));

e = await errorOf(client("wrong").send(new DeleteJobExecutionCommand({ thingName: "dev:9", jobId: "job-x", executionNumber: 1 })));
check("js wrong secret -> InvalidSignatureException",
  e && e.name === "InvalidSignatureException" && e.$metadata.httpStatusCode === 403, e);

await sleep(1100);
const names = [];
let throttled = null;
for (let i = 0; i < 3; i++) {
  const x = await errorOf(iot.send(new DescribeJobExecutionCommand({ thingName: "multi:1", jobId: "job-a" })));
  names.push(x ? x.name : "ok");
  if (x && x.name === "ThrottlingException") throttled = x;
}
check("js (maxAttempts 1) sees ThrottlingException (HTTP 400)",
  throttled && throttled.$metadata.httpStatusCode === 400, JSON.stringify(names));
await sleep(1100);
const retrying = client(undefined, 5);
const attempts = [];
for (let i = 0; i < 3; i++) {
  const out = await retrying.send(new DescribeJobExecutionCommand({ thingName: "multi:1", jobId: "job-a" }));
  attempts.push(out.$metadata.attempts);
}
check("js (standard retries) retries throttling and succeeds", Math.max(...attempts) > 1, JSON.stringify(attempts));

agent.destroy();
console.log(`${failures.length} failure(s)`);
process.exit(failures.length ? 1 : 0);
