"""The library and the CLI against moto_server on a free loopback port.

moto does not check signatures and answers 500 (HTML) for an unknown (job, thing) pair; see
AWS-BEHAVIOUR.md section h. Exits non-zero on the first failed check.
"""
import os
import socket
import subprocess
import sys
import time

import boto3

BIN = os.environ["IOTJOBS_BIN_DIR"]
REGION = "us-east-1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto():
    port = free_port()
    cmd = ["moto_server", "-H", "127.0.0.1", "-p", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, url
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("moto_server did not start")


failures = 0


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures += 1


def main():
    proc, url = start_moto()
    try:
        env = dict(os.environ)
        env.update({
            "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": url,
        })
        iot = boto3.client("iot", region_name=REGION, endpoint_url=url,
                           aws_access_key_id="AKIDEXAMPLE",
                           aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
        things = ["thing-lib", "thing-cli"]
        arns = [iot.create_thing(thingName=t)["thingArn"] for t in things]
        iot.create_job(jobId="job-1", targets=arns, document="{}")

        def execution_number(thing):
            r = iot.list_job_executions_for_thing(thingName=thing)
            return [e["jobExecutionSummary"]["executionNumber"] for e in r["executionSummaries"] if e["jobId"] == "job-1"]

        # Library (example 1)
        n = execution_number("thing-lib")
        check(len(n) == 1, "moto created the execution for thing-lib")
        r = subprocess.run([f"{BIN}/example_1_delete_one", "thing-lib", "job-1", str(n[0])], env=env,
                           capture_output=True, text=True, timeout=60)
        print(r.stdout, r.stderr, end="")
        check(r.returncode == 0 and "deleted" in r.stdout, "library deleted thing-lib/job-1")
        check(execution_number("thing-lib") == [], "thing-lib/job-1 is gone (boto3 list)")

        # CLI
        n = execution_number("thing-cli")
        cli = [f"{BIN}/iotjobs", "delete-job-execution", "--thing-name", "thing-cli", "--job-id", "job-1",
               "--execution-number", str(n[0]), "--endpoint-url", url, "--region", REGION]
        r = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=60)
        print(r.stdout, r.stderr, end="")
        check(r.returncode == 0, f"CLI deleted thing-cli/job-1 (exit {r.returncode})")
        check(execution_number("thing-cli") == [], "thing-cli/job-1 is gone (boto3 list)")

        # Wrong execution number: moto answers 404 ResourceNotFoundException.
        iot.create_job(jobId="job-2", targets=[arns[1]], document="{}")
        cli2 = [f"{BIN}/iotjobs", "delete-job-execution", "--thing-name", "thing-cli", "--job-id", "job-2",
                "--execution-number", "999999", "--endpoint-url", url, "--region", REGION]
        r = subprocess.run(cli2, env=env, capture_output=True, text=True, timeout=60)
        print(r.stdout, r.stderr, end="")
        check(r.returncode == 254, f"CLI: missing execution -> exit 254 (got {r.returncode})")
        check("An error occurred (ResourceNotFoundException) when calling the DeleteJobExecution operation"
              in r.stderr, "CLI: missing execution -> ResourceNotFoundException message")
        r = subprocess.run([f"{BIN}/example_1_delete_one", "thing-cli", "job-2", "999999"], env=env,
                           capture_output=True, text=True, timeout=60)
        print(r.stdout, r.stderr, end="")
        check(r.returncode == 1 and "ResourceNotFoundException" in r.stdout, "library: missing -> ResourceNotFoundException")

        # Unknown (thing, job): moto answers 500 with an HTML page. An unknown service error, no crash.
        cli3 = [f"{BIN}/iotjobs", "delete-job-execution", "--thing-name", "no-such-thing", "--job-id", "job-1",
                "--execution-number", "1", "--endpoint-url", url, "--region", REGION, "--max-attempts", "1"]
        r = subprocess.run(cli3, env=env, capture_output=True, text=True, timeout=60)
        print(r.stdout, r.stderr, end="")
        check(r.returncode == 254, f"CLI: moto 500 HTML -> exit 254 (got {r.returncode})")
        check("An error occurred (500) when calling the DeleteJobExecution operation" in r.stderr,
              "CLI: moto 500 HTML -> unknown service error (500)")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(f"moto: {'FAILED' if failures else 'passed'} ({failures} failures)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
