// The observability hot-path pieces (lib/observe/):
//
//   BM_histogram_record        latency_histogram::record() of a varying latency (one relaxed
//                              fetch_add per bucket and sum, a relaxed load for the max)
//   BM_histogram_summary       summary() of a filled histogram (p50/p90/p99/max: what metrics()
//                              does per operation)
//   BM_call_metrics_finished   call_metrics::started() + finished() of one call (what the client
//                              adds to every call with client_config::metrics on)
//   BM_log_check_off           logger::on(debug) with the level at info: the cost of a debug record
//                              that is not built
//   BM_log_record_structured   building a per-attempt record and handing it to a structured sink
//   BM_log_record_text         the same through a string sink (iotjobs::format)
#include <benchmark/benchmark.h>

#include "observe/histogram.hpp"
#include "observe/logger.hpp"
#include "observe/metrics.hpp"

#include <memory>

namespace {

using namespace iotjobs;
using namespace iotjobs::detail;

void BM_histogram_record(benchmark::State& state) {
    auto h = std::make_unique<latency_histogram>();
    std::int64_t v = 500;
    for (auto _ : state) {
        h->record(std::chrono::microseconds(v));
        v = v * 1103515245 % 200000 + 100;
    }
}
BENCHMARK(BM_histogram_record);

void BM_histogram_summary(benchmark::State& state) {
    auto h = std::make_unique<latency_histogram>();
    for (std::int64_t v = 100; v < 2000000; v = v * 11 / 10) h->record(std::chrono::microseconds(v));
    for (auto _ : state) benchmark::DoNotOptimize(h->summary());
}
BENCHMARK(BM_histogram_summary);

void BM_call_metrics_finished(benchmark::State& state) {
    auto m = std::make_unique<call_metrics>();
    const error_code ok;
    for (auto _ : state) {
        m->started();
        m->finished(operation_kind_of("DeleteJobExecution"), ok, std::chrono::microseconds(1234));
    }
}
BENCHMARK(BM_call_metrics_finished);

void BM_log_check_off(benchmark::State& state) {
    logger lg(log_level::info, nullptr, [](const log_record&) {});
    for (auto _ : state) benchmark::DoNotOptimize(lg.on(log_level::debug));
}
BENCHMARK(BM_log_check_off);

log_record attempt_record(std::string& msg, const request_identity& id) {
    log_record r;
    r.level = log_level::debug;
    r.component = "client";
    r.operation = "DeleteJobExecution";
    set_identity(r, id);
    r.attempt = 1;
    r.http_status = 200;
    r.request_id = "5f1b9c3e-0000-4000-8000-000000000001";
    r.latency = std::chrono::microseconds(850);
    msg = "attempt 1: HTTP 200 request id 5f1b9c3e-0000-4000-8000-000000000001";
    r.message = msg;
    return r;
}

void BM_log_record_structured(benchmark::State& state) {
    logger lg(log_level::debug, nullptr, [](const log_record& r) { benchmark::DoNotOptimize(r.attempt); });
    for (auto _ : state) {
        auto id = identity_of("/things/thing-123456/jobs/job-56/executionNumber/123456", "");
        std::string msg;
        lg.emit(attempt_record(msg, id));
    }
}
BENCHMARK(BM_log_record_structured);

void BM_log_record_text(benchmark::State& state) {
    logger lg(
        log_level::debug, [](log_level, std::string_view t) { benchmark::DoNotOptimize(t.size()); }, nullptr);
    for (auto _ : state) {
        auto id = identity_of("/things/thing-123456/jobs/job-56/executionNumber/123456", "");
        std::string msg;
        lg.emit(attempt_record(msg, id));
    }
}
BENCHMARK(BM_log_record_text);

}  // namespace
