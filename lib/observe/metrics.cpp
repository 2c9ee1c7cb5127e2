#include "observe/metrics.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>

namespace iotjobs {

std::string_view to_string(operation_kind k) noexcept {
    switch (k) {
    case operation_kind::delete_job_execution: return "DeleteJobExecution";
    case operation_kind::list_job_executions_for_job: return "ListJobExecutionsForJob";
    case operation_kind::list_job_executions_for_thing: return "ListJobExecutionsForThing";
    case operation_kind::describe_job_execution: return "DescribeJobExecution";
    case operation_kind::cancel_job_execution: return "CancelJobExecution";
    case operation_kind::other: break;
    }
    return "other";
}

namespace detail {

operation_kind operation_kind_of(std::string_view name) noexcept {
    for (std::size_t i = 0; i + 1 < operation_kind_count; ++i)
        if (name == to_string(static_cast<operation_kind>(i))) return static_cast<operation_kind>(i);
    return operation_kind::other;
}

std::size_t call_metrics::slot_of(const error_code& ec) noexcept {
    const int v = ec.value();
    if (ec.category() == service_category() && v >= 1 && static_cast<std::size_t>(v) <= service_slots)
        return static_cast<std::size_t>(v - 1);
    if (ec.category() == client_category() && v >= 1 && static_cast<std::size_t>(v) <= client_slots)
        return service_slots + static_cast<std::size_t>(v - 1);
    if (ec == boost::asio::error::operation_aborted) return cancelled_slot;
    if (ec == boost::beast::error::timeout) return timeout_slot;
    return transport_slot;
}

void call_metrics::finished(operation_kind k, const error_code& ec, std::chrono::microseconds latency) noexcept {
    add(in_flight_, ~std::uint64_t{0});  // minus one
    per_op& op = ops_[static_cast<std::size_t>(k)];
    if (ec) {
        add(op.failures, 1);
        add(errors_[slot_of(ec)], 1);
    } else {
        add(op.successes, 1);
    }
    op.latency.record(latency, single_writer_);
}

namespace {
error_count error_of_slot(std::size_t i) {
    using m = call_metrics;
    if (i < m::service_slots) return {make_error_code(static_cast<service_errc>(i + 1)), "service", 0};
    if (i < m::cancelled_slot)
        return {make_error_code(static_cast<client_errc>(i - m::service_slots + 1)), "client", 0};
    if (i == m::cancelled_slot) return {boost::asio::error::operation_aborted, "cancelled", 0};
    if (i == m::timeout_slot) return {boost::beast::error::timeout, "timeout", 0};
    return {error_code{}, "transport", 0};
}
}  // namespace

void call_metrics::snapshot(client_metrics& m) const {
    m.in_flight = in_flight_.load(std::memory_order_relaxed);
    m.retry_quota_exhausted = quota_exhausted_.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < error_slots; ++i) {
        if (auto n = errors_[i].load(std::memory_order_relaxed)) {
            m.failures_by_error.push_back(error_of_slot(i));
            m.failures_by_error.back().count = n;
        }
    }
    for (std::size_t i = 0; i < operation_kind_count; ++i) {
        operation_metrics& o = m.operations[i];
        o.name = to_string(static_cast<operation_kind>(i));
        o.successes = ops_[i].successes.load(std::memory_order_relaxed);
        o.failures = ops_[i].failures.load(std::memory_order_relaxed);
        o.calls = o.successes + o.failures;
        o.latency = ops_[i].latency.summary();
        m.successes += o.successes;
        m.failures += o.failures;
    }
    m.calls_started = m.successes + m.failures + m.in_flight;
}

}  // namespace detail
}  // namespace iotjobs
