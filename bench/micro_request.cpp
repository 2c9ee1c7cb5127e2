// The wire layer's per-request work (lib/jobs/wire.hpp), beside the signing benchmarks:
//
//   BM_validate_build_delete      validate() + build_request() for DeleteJobExecution
//                                 thing-123456/job-56/123456 (what every delete does before signing)
//   BM_validate_build_delete_opts the same with force=true and a namespaceId (query built too)
//   BM_build_list_for_job         validate() + build_request() for ListJobExecutionsForJob with
//                                 status, maxResults and a 200-byte nextToken
//   BM_parse_error_404            parse_error_response() of a ResourceNotFoundException answer
//                                 (x-amzn-ErrorType header, JSON body with message)
//   BM_parse_error_409_body_only  the same for an InvalidStateTransitionException named only in the body
//   BM_parse_error_503_html       a 503 with an HTML body (the status-code path, no JSON)
//   BM_parse_list_page/N          parse_list_job_executions_for_job_response() of a page of N
//                                 summaries (N = 1, 50, 250), bytes/s = body bytes
#include <benchmark/benchmark.h>

#include "jobs/wire.hpp"

#include <iotjobs/delete_job_execution.hpp>
#include <iotjobs/job_execution.hpp>
#include <iotjobs/list_job_executions.hpp>

#include <string>

namespace {

using namespace iotjobs;
using namespace iotjobs::detail;

void BM_validate_build_delete(benchmark::State& state) {
    delete_job_execution_request req;
    req.thing_name = "thing-123456";
    req.job_id = "job-56";
    req.execution_number = 123456;
    for (auto _ : state) {
        error_code ec = validate(req);
        operation_request op = build_request(req);
        benchmark::DoNotOptimize(ec);
        benchmark::DoNotOptimize(op);
    }
}
BENCHMARK(BM_validate_build_delete);

void BM_validate_build_delete_opts(benchmark::State& state) {
    delete_job_execution_request req;
    req.thing_name = "factory:line-7:thing-123456";
    req.job_id = "firmware-update-2026-11";
    req.execution_number = 9007199254740993;
    req.force = true;
    req.namespace_id = "AWS";
    for (auto _ : state) {
        error_code ec = validate(req);
        operation_request op = build_request(req);
        benchmark::DoNotOptimize(ec);
        benchmark::DoNotOptimize(op);
    }
}
BENCHMARK(BM_validate_build_delete_opts);

void BM_build_list_for_job(benchmark::State& state) {
    list_job_executions_for_job_request req;
    req.job_id = "job-56";
    req.status = job_execution_status::succeeded;
    req.max_results = 250;
    req.next_token = std::string(200, 'T') + "+/=";
    for (auto _ : state) {
        error_code ec = validate(req);
        operation_request op = build_request(req);
        benchmark::DoNotOptimize(ec);
        benchmark::DoNotOptimize(op);
    }
}
BENCHMARK(BM_build_list_for_job);

void BM_parse_error_404(benchmark::State& state) {
    const std::string body =
        R"({"message":"Job Execution thing-1/job-1/1 not found","__type":"ResourceNotFoundException"})";
    for (auto _ : state) {
        parsed_error e = parse_error_response(404, "Not Found", "ResourceNotFoundException:http://internal.amazon.com/",
                                              "5f1b9c3e-0000-4000-8000-000000000001", "", body);
        benchmark::DoNotOptimize(e);
    }
}
BENCHMARK(BM_parse_error_404);

void BM_parse_error_409_body_only(benchmark::State& state) {
    const std::string body =
        R"({"code":"aws.iot#InvalidStateTransitionException","message":"Cannot delete an IN_PROGRESS execution without force"})";
    for (auto _ : state) {
        parsed_error e = parse_error_response(409, "Conflict", "", "", "5f1b9c3e-0000-4000-8000-000000000002", body);
        benchmark::DoNotOptimize(e);
    }
}
BENCHMARK(BM_parse_error_409_body_only);

void BM_parse_error_503_html(benchmark::State& state) {
    const std::string body = "\n  <html><body><h1>503 Service Unavailable</h1></body></html>\n";
    for (auto _ : state) {
        parsed_error e = parse_error_response(503, "", "", "", "", body);
        benchmark::DoNotOptimize(e);
    }
}
BENCHMARK(BM_parse_error_503_html);

std::string list_page(int n) {
    std::string body = R"({"executionSummaries":[)";
    for (int i = 0; i < n; ++i) {
        if (i) body += ',';
        body += R"({"thingArn":"arn:aws:iot:us-east-1:123456789012:thing/thing-)" + std::to_string(i) +
                R"(","jobExecutionSummary":{"status":"SUCCEEDED","queuedAt":1764115200.123,)"
                R"("startedAt":1764115201.5,"lastUpdatedAt":1764115260.25,"executionNumber":)" +
                std::to_string(1000000 + i) + R"(,"retryAttempt":0}})";
    }
    body += R"(],"nextToken":"AAMA-EFRSHlQT1ZoQmFqSXd0NW9HZmlhZz09"})";
    return body;
}

void BM_parse_list_page(benchmark::State& state) {
    const std::string body = list_page(static_cast<int>(state.range(0)));
    for (auto _ : state) {
        list_job_executions_result r;
        error_code ec = parse_list_job_executions_for_job_response(body, r);
        benchmark::DoNotOptimize(ec);
        benchmark::DoNotOptimize(r);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(body.size()));
    state.counters["items_per_s"] =
        benchmark::Counter(static_cast<double>(state.iterations() * state.range(0)), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_parse_list_page)->Arg(1)->Arg(50)->Arg(250);

}  // namespace
