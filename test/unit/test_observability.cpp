// The latency histogram (bucket boundaries, percentiles), the log record's text form and the
// request identity decoded for log records.
#include "observe/histogram.hpp"
#include "observe/logger.hpp"
#include "observe/metrics.hpp"

#include <iotjobs/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <memory>

using iotjobs::detail::latency_histogram;
using namespace std::chrono_literals;

TEST_CASE("histogram: buckets are contiguous, ordered and at most 1/64 of their values wide") {
    using h = latency_histogram;
    CHECK(h::bucket_count == 1408);
    CHECK(h::lower_bound(0) == 0);
    for (std::size_t i = 0; i + 1 < h::bucket_count; ++i) {
        const auto lo = h::lower_bound(i), next = h::lower_bound(i + 1);
        REQUIRE(next > lo);
        CHECK(h::index_of(lo) == i);
        CHECK(h::index_of(next - 1) == i);
        if (lo >= h::linear_limit)
            CHECK((next - lo) * 64 <= lo);
        else
            CHECK(next - lo == 1);
    }
    // Known boundaries: exact below 128 us, then pairs, then [2^e, 2^e + 2^(e-6)).
    CHECK(h::index_of(127) == 127);
    CHECK(h::index_of(128) == 128);
    CHECK(h::index_of(129) == 128);
    CHECK(h::index_of(130) == 129);
    CHECK(h::lower_bound(h::index_of(1001)) == 1000);  // [1000, 1008): 8 us wide at 1 ms
    CHECK(h::lower_bound(h::index_of(1000) + 1) == 1008);
    CHECK(h::lower_bound(h::index_of(1'000'000)) == 999'424);  // 1 s within 0.06 %
    // Clamped at the top: 134 s and anything longer share the last bucket.
    CHECK(h::index_of(h::max_value) == h::bucket_count - 1);
    CHECK(h::index_of(1'000'000'000'000) == h::bucket_count - 1);
    CHECK(h::lower_bound(h::bucket_count - 1) <= h::max_value);
}

TEST_CASE("histogram: percentiles, mean and max") {
    auto h = std::make_unique<latency_histogram>();
    auto s = h->summary();
    CHECK(s.count == 0);
    CHECK(s.p99.count() == 0);
    for (int v = 1; v <= 100; ++v) h->record(std::chrono::microseconds(v));  // exact buckets
    s = h->summary();
    CHECK(s.count == 100);
    CHECK(s.p50 == 50us);
    CHECK(s.p90 == 90us);
    CHECK(s.p99 == 99us);
    CHECK(s.max == 100us);
    CHECK(s.mean == 50us);  // 5050 / 100, truncated

    auto g = std::make_unique<latency_histogram>();
    for (int i = 0; i < 98; ++i) g->record(1ms);
    g->record(20ms);
    g->record(5s);
    s = g->summary();
    CHECK(s.count == 100);
    // 1000 us is in [1000, 1008): reported as the bucket's highest value, 1007 us.
    CHECK(s.p50 == 1007us);
    CHECK(s.p90 == 1007us);
    CHECK(s.p99 >= 20ms);
    CHECK(s.p99 * 64 <= 20ms * 65);
    CHECK(s.max == 5s);  // exact
    // A single value: every percentile is capped at the exact max.
    auto one = std::make_unique<latency_histogram>();
    one->record(12345us);
    s = one->summary();
    CHECK(s.p50 == 12345us);
    CHECK(s.p99 == 12345us);
    // Negative or zero durations count in the first bucket.
    one->record(-5us);
    CHECK(one->summary().count == 2);
}

TEST_CASE("metrics: failures are counted by error in bounded slots") {
    using m = iotjobs::detail::call_metrics;
    CHECK(m::slot_of(iotjobs::service_errc::invalid_request) == 0);
    CHECK(m::slot_of(iotjobs::service_errc::unknown_service_error) == m::service_slots - 1);
    CHECK(m::slot_of(iotjobs::client_errc::invalid_thing_name) == m::service_slots);
    CHECK(m::slot_of(iotjobs::client_errc::deadline_exceeded) == m::cancelled_slot - 1);
    CHECK(m::slot_of(boost::asio::error::operation_aborted) == m::cancelled_slot);
    CHECK(m::slot_of(boost::beast::error::timeout) == m::timeout_slot);
    CHECK(m::slot_of(boost::asio::error::connection_reset) == m::transport_slot);
    CHECK(m::slot_of(iotjobs::error_code(99, iotjobs::service_category())) == m::transport_slot);

    auto cm = std::make_unique<m>();
    cm->started();
    cm->started();
    cm->finished(iotjobs::operation_kind::cancel_job_execution, iotjobs::service_errc::version_conflict, 3ms);
    iotjobs::client_metrics snap;
    cm->snapshot(snap);
    CHECK(snap.in_flight == 1);
    CHECK(snap.calls_started == 2);
    CHECK(snap.failures == 1);
    REQUIRE(snap.failures_by_error.size() == 1);
    CHECK(snap.failures_by_error[0].code == iotjobs::service_errc::version_conflict);
    CHECK(snap.operation(iotjobs::operation_kind::cancel_job_execution).latency.count == 1);
    CHECK(iotjobs::detail::operation_kind_of("ListJobExecutionsForThing") ==
          iotjobs::operation_kind::list_job_executions_for_thing);
    CHECK(iotjobs::detail::operation_kind_of("Nope") == iotjobs::operation_kind::other);
}

TEST_CASE("metrics: a single writer (single_threaded clients) counts what locked updates count") {
    using m = iotjobs::detail::call_metrics;
    const auto run = [](bool single) {
        auto cm = std::make_unique<m>();
        cm->single_writer(single);
        const iotjobs::error_code errors[] = {
            {}, iotjobs::service_errc::version_conflict, {}, boost::asio::error::operation_aborted, {}};
        for (int i = 0; i < 50; ++i) {
            cm->started();
            if (i % 7 == 6) continue;  // left in flight
            cm->finished(
                i % 2 ? iotjobs::operation_kind::delete_job_execution : iotjobs::operation_kind::describe_job_execution,
                errors[i % 5], std::chrono::microseconds(i * i * 37 % 100'000));
        }
        iotjobs::client_metrics snap;
        cm->snapshot(snap);
        return snap;
    };
    const iotjobs::client_metrics a = run(false), b = run(true);
    CHECK(b.in_flight == 7);
    CHECK(a.in_flight == b.in_flight);
    CHECK(a.calls_started == b.calls_started);
    CHECK(a.successes == b.successes);
    CHECK(a.failures == b.failures);
    REQUIRE(a.failures_by_error.size() == b.failures_by_error.size());
    for (std::size_t i = 0; i < a.failures_by_error.size(); ++i) {
        CHECK(a.failures_by_error[i].code == b.failures_by_error[i].code);
        CHECK(a.failures_by_error[i].count == b.failures_by_error[i].count);
    }
    for (const auto k :
         {iotjobs::operation_kind::delete_job_execution, iotjobs::operation_kind::describe_job_execution}) {
        const auto &x = a.operation(k).latency, &y = b.operation(k).latency;
        CHECK(x.count == y.count);
        CHECK(x.count > 0);
        CHECK(x.mean == y.mean);
        CHECK(x.max == y.max);
        CHECK(x.p50 == y.p50);
        CHECK(x.p99 == y.p99);
    }
}

TEST_CASE("log: identity decoded from paths and queries; the text form lists the fields set") {
    using iotjobs::detail::identity_of;
    auto id = identity_of("/things/my%3Athing/jobs/job-1/executionNumber/7", "force=true&namespaceId=ns%201");
    CHECK(id.thing_name == "my:thing");
    CHECK(id.job_id == "job-1");
    CHECK(id.execution_number == 7);
    CHECK(id.namespace_id == "ns 1");
    id = identity_of("/things/t/jobs/j", "executionNumber=-3");
    CHECK(id.execution_number == -3);
    id = identity_of("/jobs/j/things", "status=QUEUED");
    CHECK(id.thing_name.empty());
    CHECK(id.job_id == "j");
    CHECK(!id.execution_number);
    id = identity_of("/things/t%zz/jobs", "");
    CHECK(id.thing_name == "t%zz");  // malformed escapes are kept as they are
    CHECK(id.job_id.empty());

    iotjobs::log_record r;
    r.message = "hello";
    CHECK(iotjobs::format(r) == "hello");
    r.operation = "DeleteJobExecution";
    r.thing_name = "t";
    r.execution_number = 2;
    r.attempt = 1;
    r.http_status = 404;
    r.aws_error = "ResourceNotFoundException";
    r.latency = 1500us;
    CHECK(iotjobs::format(r) ==
          "hello [op=DeleteJobExecution thing=t execution=2 attempt=1 status=404 "
          "error=ResourceNotFoundException latency_us=1500]");
    CHECK(iotjobs::to_string(iotjobs::log_level::warn) == "WARN");

    int calls = 0;
    iotjobs::detail::logger off(iotjobs::log_level::debug, nullptr, nullptr);
    CHECK(!off.on(iotjobs::log_level::error));
    iotjobs::detail::logger info(iotjobs::log_level::info, nullptr, [&](const iotjobs::log_record&) { ++calls; });
    CHECK(info.on(iotjobs::log_level::warn));
    CHECK(!info.on(iotjobs::log_level::debug));
    CHECK(!info.on(iotjobs::log_level::off));
    info.emit(iotjobs::log_level::info, "client", "x");
    CHECK(calls == 1);
}
