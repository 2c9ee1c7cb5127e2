#!/usr/bin/env python3
"""Drives iotjobs-fake-iot with boto3 and awscli (python3 -m awscli, v1).

usage: boto3_cases.py BASE_URL CA_FILE
The server must have been started with test/scripts/fake/seed.json and
--rate-limit DescribeJobExecution=1 --burst 1. Prints one line per check; exit 1 on any failure.
"""
import json
import os
import subprocess
import sys

import boto3
import botocore
from botocore.config import Config

URL, CA = sys.argv[1], sys.argv[2]
AKID, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
failures = []


def check(name, ok, detail=""):
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else f": {detail}"), flush=True)
    if not ok:
        failures.append(name)


def client(secret=SECRET, attempts=1):
    return boto3.client(
        "iot", endpoint_url=URL, region_name="us-east-1", verify=CA,
        aws_access_key_id=AKID, aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": attempts, "mode": "standard"}))


def error_of(fn):
    try:
        fn()
    except botocore.exceptions.ClientError as e:
        return e
    return None


iot = client()
print(f"boto3 {boto3.__version__}, botocore {botocore.__version__}")

# 1. delete a terminal execution (thingName with ':')
r = iot.delete_job_execution(thingName="dev:1", jobId="job-del", executionNumber=1)
check("boto3 delete terminal execution", r["ResponseMetadata"]["HTTPStatusCode"] == 200)

# 2. ResourceNotFoundException for a missing one (the same, again)
e = error_of(lambda: iot.delete_job_execution(thingName="dev:1", jobId="job-del", executionNumber=1))
check("boto3 missing -> ResourceNotFoundException",
      e is not None and e.response["Error"]["Code"] == "ResourceNotFoundException"
      and e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
      and len(e.response["ResponseMetadata"].get("RequestId", "")) > 0, e)
check("boto3 modeled exception class",
      isinstance(e, iot.exceptions.ResourceNotFoundException), type(e))

# 3. IN_PROGRESS: 409 without force, success with force
e = error_of(lambda: iot.delete_job_execution(thingName="dev:2", jobId="job-ip", executionNumber=1))
check("boto3 IN_PROGRESS without force -> InvalidStateTransitionException",
      e is not None and e.response["Error"]["Code"] == "InvalidStateTransitionException"
      and e.response["ResponseMetadata"]["HTTPStatusCode"] == 409, e)
r = iot.delete_job_execution(thingName="dev:2", jobId="job-ip", executionNumber=1, force=True)
check("boto3 IN_PROGRESS with force", r["ResponseMetadata"]["HTTPStatusCode"] == 200)

# 4. namespaceId
e = error_of(lambda: iot.delete_job_execution(thingName="dev:3", jobId="job-ns", executionNumber=1))
check("boto3 namespaced execution without namespaceId -> 404",
      e is not None and e.response["Error"]["Code"] == "ResourceNotFoundException", e)
r = iot.delete_job_execution(thingName="dev:3", jobId="job-ns", executionNumber=1, namespaceId="NS_1")
check("boto3 delete with namespaceId", r["ResponseMetadata"]["HTTPStatusCode"] == 200)

# 5. list every execution of a job across pages, deleting between pages
seen = []
pages = 0
for page in iot.get_paginator("list_job_executions_for_job").paginate(
        jobId="job-list", PaginationConfig={"PageSize": 25}):
    pages += 1
    for item in page["executionSummaries"]:
        thing = item["thingArn"].rsplit("/", 1)[1]
        seen.append(thing)
        # delete what was just listed: the next token must stay valid
        iot.delete_job_execution(thingName=thing, jobId="job-list",
                                 executionNumber=item["jobExecutionSummary"]["executionNumber"])
expected = {f"pg:{i}" for i in range(1, 121)}
check("boto3 paginate 120 executions in pages of 25, each exactly once",
      len(seen) == 120 and set(seen) == expected and pages == 5, f"{len(seen)} items, {pages} pages")

# list for thing, with status filter
r = iot.list_job_executions_for_thing(thingName="multi:1", status="QUEUED", maxResults=250)
check("boto3 list_job_executions_for_thing status filter",
      [x["jobId"] for x in r["executionSummaries"]] == ["job-q"], r["executionSummaries"])
d = iot.describe_job_execution(thingName="multi:1", jobId="job-q")["execution"]
check("boto3 describe_job_execution", d["status"] == "QUEUED" and d["executionNumber"] == 3, d)
iot.cancel_job_execution(thingName="multi:1", jobId="job-q", statusDetails={"reason": "test"})
# (Describe is rate-limited at 1/s: wait for a token.)
import time
time.sleep(1.1)
d = iot.describe_job_execution(thingName="multi:1", jobId="job-q")["execution"]
check("boto3 cancel_job_execution", d["status"] == "CANCELED", d)

# 6. wrong secret is rejected
e = error_of(lambda: client(secret="wrong").delete_job_execution(
    thingName="dev:9", jobId="job-x", executionNumber=1))
check("boto3 wrong secret -> InvalidSignatureException",
      e is not None and e.response["Error"]["Code"] == "InvalidSignatureException"
      and e.response["ResponseMetadata"]["HTTPStatusCode"] == 403, e)

# 7. throttling: DescribeJobExecution=1/s, burst 1
time.sleep(1.1)
one = client(attempts=1)
codes = []
for _ in range(3):
    e = error_of(lambda: one.describe_job_execution(thingName="multi:1", jobId="job-a"))
    codes.append(e.response["Error"]["Code"] if e else "ok")
check("boto3 (max_attempts=1) sees ThrottlingException", "ThrottlingException" in codes, codes)
e = error_of(lambda: one.describe_job_execution(thingName="multi:1", jobId="job-a"))
if e is not None:
    check("ThrottlingException is HTTP 400", e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, e.response)
time.sleep(1.1)
retrying = client(attempts=5)
attempts = []
for _ in range(3):
    r = retrying.describe_job_execution(thingName="multi:1", jobId="job-a")
    attempts.append(r["ResponseMetadata"]["RetryAttempts"])
check("boto3 (standard retries) retries throttling and succeeds", max(attempts) > 0, attempts)

# 8. awscli v1 (python3 -m awscli): the same cases through the CLI
env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
env.update(AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SECRET, AWS_DEFAULT_REGION="us-east-1",
           AWS_CONFIG_FILE="/nonexistent/iotjobs-test/config",
           AWS_SHARED_CREDENTIALS_FILE="/nonexistent/iotjobs-test/credentials",
           AWS_EC2_METADATA_DISABLED="true", AWS_MAX_ATTEMPTS="1")


def aws(*args, secret=None):
    e = dict(env)
    if secret:
        e["AWS_SECRET_ACCESS_KEY"] = secret
    p = subprocess.run([sys.executable, "-m", "awscli", "--endpoint-url", URL, "--ca-bundle", CA,
                        "--output", "json", "iot", *args], env=e, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


try:
    import awscli
    print(f"awscli {awscli.__version__} (python3 -m awscli)")
    rc, out, err = aws("delete-job-execution", "--thing-name", "cli:1", "--job-id", "job-cli",
                       "--execution-number", "1")
    check("awscli delete terminal execution", rc == 0, err)
    rc, out, err = aws("delete-job-execution", "--thing-name", "cli:1", "--job-id", "job-cli",
                       "--execution-number", "1")
    check("awscli missing -> ResourceNotFoundException", rc != 0 and "ResourceNotFoundException" in err, err)
    rc, out, err = aws("delete-job-execution", "--thing-name", "cli:2", "--job-id", "job-cli",
                       "--execution-number", "1")
    check("awscli IN_PROGRESS -> InvalidStateTransitionException",
          rc != 0 and "InvalidStateTransitionException" in err, err)
    rc, out, err = aws("delete-job-execution", "--thing-name", "cli:2", "--job-id", "job-cli",
                       "--execution-number", "1", "--force")
    check("awscli IN_PROGRESS with --force", rc == 0, err)
    rc, out, err = aws("delete-job-execution", "--thing-name", "cli:3", "--job-id", "job-cli",
                       "--execution-number", "1", "--namespace-id", "NS_1")
    check("awscli delete with --namespace-id", rc == 0, err)
    rc, out, err = aws("list-job-executions-for-job", "--job-id", "job-cli-list", "--page-size", "7")
    items = json.loads(out)["executionSummaries"] if rc == 0 else []
    things = [x["thingArn"].rsplit("/", 1)[1] for x in items]
    check("awscli list all 30 executions across pages of 7, each once",
          rc == 0 and len(things) == 30 and len(set(things)) == 30, err or things)
    rc, out, err = aws("delete-job-execution", "--thing-name", "cli:1", "--job-id", "job-cli",
                       "--execution-number", "1", secret="wrong")
    check("awscli wrong secret -> InvalidSignatureException", rc != 0 and "InvalidSignatureException" in err, err)
    # One awscli process takes about a second: refill slowly so the second call is surely throttled.
    subprocess.run(["curl", "-s", "--cacert", CA, "-X", "POST", "-d",
                    '{"limits": {"DescribeJobExecution": 0.01}, "burst": 1}', URL + "/_fake/rate-limits"],
                   check=True, capture_output=True)
    aws("describe-job-execution", "--thing-name", "multi:1", "--job-id", "job-a")
    rc, out, err = aws("describe-job-execution", "--thing-name", "multi:1", "--job-id", "job-a")
    check("awscli throttled -> ThrottlingException", rc != 0 and "ThrottlingException" in err, err)
except ImportError:
    print("SKIPPED (awscli part): python3 -m awscli is not installed")

stats = json.loads(subprocess.run(["curl", "-s", "--cacert", CA, URL + "/_fake/stats"],
                                  capture_output=True, text=True).stdout or "{}")
check("server saw every request signed correctly except the wrong-secret ones",
      stats.get("signature_failures") == (2 if "awscli" in sys.modules else 1), stats.get("signature_failures"))
print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
