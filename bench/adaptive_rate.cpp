// Adaptive retry mode against a rate limit the client does not know (issue 4).
//
// Starts the fake IoT Jobs endpoint in-process with a DeleteJobExecution rate limit L, seeds
// enough executions, and runs one client with C coroutines deleting as fast as the client lets
// them for D seconds. Prints a per-second timeline and a summary: the achieved (successful)
// rate after the warm-up as a fraction of L, and the fraction of requests throttled, overall
// and after the warm-up.
//
//   iotjobs-bench-adaptive [--limit 50] [--burst 0] [--duration 20] [--concurrency 16]
//                          [--warmup 5] [--mode adaptive|standard] [--max-attempts 3] [--trace]
#include "bench_args.hpp"
#include "fake/server.hpp"

#include <iotjobs/client.hpp>
#include <iotjobs/delete_job_execution.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace asio = boost::asio;
namespace fake = iotjobs::fake;
using clock_type = std::chrono::steady_clock;

namespace {

struct options {
    double limit = 50;
    double burst = 0;  // 0: the fake's default, max(1, limit)
    int duration = 20;
    int concurrency = 16;
    int warmup = 5;
    iotjobs::retry_mode mode = iotjobs::retry_mode::adaptive;
    unsigned max_attempts = 3;
    bool trace = false;  // print the limiter's decreases (the client's debug log lines "adaptive ...")
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "error: %s\nusage: iotjobs-bench-adaptive [--limit N/s] [--burst N] [--duration S] "
                 "[--concurrency C] [--warmup S] [--mode adaptive|standard] [--max-attempts N] [--trace]\n",
                 why);
    std::exit(2);
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&] { return iotjobs::bench::take_value(argc, argv, i, usage); };
        try {
            if (a == "--limit")
                o.limit = std::stod(value());
            else if (a == "--burst")
                o.burst = std::stod(value());
            else if (a == "--duration")
                o.duration = std::stoi(value());
            else if (a == "--concurrency")
                o.concurrency = std::stoi(value());
            else if (a == "--warmup")
                o.warmup = std::stoi(value());
            else if (a == "--trace")
                o.trace = true;
            else if (a == "--max-attempts")
                o.max_attempts = static_cast<unsigned>(std::stoul(value()));
            else if (a == "--mode") {
                auto m = value();
                if (m == "adaptive")
                    o.mode = iotjobs::retry_mode::adaptive;
                else if (m == "standard")
                    o.mode = iotjobs::retry_mode::standard;
                else
                    usage("--mode must be adaptive or standard");
            } else
                usage("unknown option");
        } catch (const std::logic_error&) {
            usage("bad number");
        }
    }
    if (!(o.limit > 0) || o.duration < 1 || o.concurrency < 1 || o.warmup < 0 || o.warmup >= o.duration ||
        o.max_attempts < 1)
        usage("out-of-range value");
    return o;
}

// Cumulative counters at one instant.
struct sample {
    std::uint64_t sent = 0;       // attempts the client sent (requests that got an answer or failed)
    std::uint64_t throttled = 0;  // throttled by the server's rate limiter
    std::uint64_t ok = 0;         // executions deleted
};

sample take(const fake::server& s, const iotjobs::client& c) {
    auto st = s.stats();
    sample x;
    x.sent = c.stats().requests;
    x.throttled = st.throttled;
    x.ok = st.count("DeleteJobExecution", "ok");
    return x;
}

double ratio(double a, double b) { return b > 0 ? a / b : 0.0; }

}  // namespace

int main(int argc, char** argv) {
    const options o = parse(argc, argv);

    fake::server s;
    s.start();
    fake::generate_options g;
    // Even with no throttling at all the server cannot delete more than limit*duration + burst.
    g.count = static_cast<std::uint64_t>(o.limit * o.duration * 1.5) + static_cast<std::uint64_t>(o.burst) + 1000;
    g.jobs = 100;
    s.generate(g);
    s.set_rate_limits({fake::rate_limit{fake::operation::delete_job_execution, o.limit, o.burst}});

    asio::io_context ctx;
    iotjobs::client_config cfg;
    cfg.region = "us-east-1";
    cfg.endpoint_url = s.base_url();
    cfg.static_credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
    cfg.retry.mode = o.mode;
    cfg.retry.max_attempts = o.max_attempts;
    cfg.pool.max_size = static_cast<std::size_t>(o.concurrency);
    if (o.trace) {
        cfg.level = iotjobs::log_level::debug;
        cfg.log = [start = clock_type::now()](iotjobs::log_level, std::string_view m) {
            if (m.starts_with("adaptive"))
                std::printf("%7.3f %.*s\n", std::chrono::duration<double>(clock_type::now() - start).count(),
                            static_cast<int>(m.size()), m.data());
        };
    }
    iotjobs::client c(ctx.get_executor(), cfg);

    std::uint64_t next = 0, calls = 0, calls_ok = 0, calls_throttled = 0, calls_other = 0;
    std::map<std::string, std::uint64_t> other_errors;
    const auto start = clock_type::now();
    const auto stop_at = start + std::chrono::seconds(o.duration);

    for (int w = 0; w < o.concurrency; ++w) {
        asio::co_spawn(
            ctx,
            [&]() -> asio::awaitable<void> {
                while (clock_type::now() < stop_at && next < g.count) {
                    auto i = static_cast<std::int64_t>(++next);
                    iotjobs::delete_job_execution_request req{
                        "thing-" + std::to_string(i), "job-" + std::to_string(i % 100), i, {}, {}};
                    auto [ec] = co_await iotjobs::delete_job_execution(c, req, asio::as_tuple(asio::deferred));
                    ++calls;
                    if (!ec)
                        ++calls_ok;
                    else if (iotjobs::is_throttling(ec))
                        ++calls_throttled;
                    else {
                        ++calls_other;
                        ++other_errors[ec.message()];
                    }
                }
            },
            asio::detached);
    }

    // Samples once a second, on whole seconds from the start.
    std::vector<sample> samples{sample{}};
    asio::co_spawn(
        ctx,
        [&]() -> asio::awaitable<void> {
            asio::steady_timer t(ctx);
            for (int sec = 1; sec <= o.duration; ++sec) {
                t.expires_at(start + std::chrono::seconds(sec));
                co_await t.async_wait(asio::use_awaitable);
                samples.push_back(take(s, c));
            }
        },
        asio::detached);

    ctx.run();
    const auto final_sample = take(s, c);
    const double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();

    std::printf(
        "adaptive-rate bench: limit %.1f/s (burst %s), %d coroutines, %d s, warm-up %d s, mode %s, "
        "max attempts %u\n",
        o.limit, o.burst > 0 ? std::to_string(o.burst).c_str() : "default", o.concurrency, o.duration, o.warmup,
        o.mode == iotjobs::retry_mode::adaptive ? "adaptive" : "standard", o.max_attempts);
    std::printf("%4s %8s %10s %8s %10s\n", "sec", "sent", "throttled", "ok", "ok/limit");
    for (std::size_t i = 1; i < samples.size(); ++i) {
        const auto& a = samples[i - 1];
        const auto& b = samples[i];
        std::printf("%4zu %8llu %10llu %8llu %9.2f%s\n", i, static_cast<unsigned long long>(b.sent - a.sent),
                    static_cast<unsigned long long>(b.throttled - a.throttled),
                    static_cast<unsigned long long>(b.ok - a.ok), ratio(double(b.ok - a.ok), o.limit),
                    static_cast<int>(i) <= o.warmup ? "  (warm-up)" : "");
    }

    const auto& w = samples[static_cast<std::size_t>(o.warmup)];
    const auto& e = samples.back();
    const double steady_secs = static_cast<double>(samples.size() - 1 - static_cast<std::size_t>(o.warmup));
    const double steady_rate = ratio(double(e.ok - w.ok), steady_secs);
    std::printf("\nsummary\n");
    std::printf("  achieved rate after warm-up: %.2f/s = %.3f of the limit\n", steady_rate,
                ratio(steady_rate, o.limit));
    std::printf(
        "  throttled: %.2f%% overall (%llu of %llu requests), %.2f%% after warm-up (%llu of %llu)\n",
        100.0 * ratio(double(final_sample.throttled), double(final_sample.sent)),
        static_cast<unsigned long long>(final_sample.throttled), static_cast<unsigned long long>(final_sample.sent),
        100.0 * ratio(double(e.throttled - w.throttled), double(e.sent - w.sent)),
        static_cast<unsigned long long>(e.throttled - w.throttled), static_cast<unsigned long long>(e.sent - w.sent));
    std::printf(
        "  calls: %llu (ok %llu, failed throttled after %u attempts %llu, other errors %llu); "
        "wall %.1f s\n",
        static_cast<unsigned long long>(calls), static_cast<unsigned long long>(calls_ok), o.max_attempts,
        static_cast<unsigned long long>(calls_throttled), static_cast<unsigned long long>(calls_other), elapsed);
    for (const auto& [what, n] : other_errors)
        std::printf("    %llu x %s\n", static_cast<unsigned long long>(n), what.c_str());
    return calls_other == 0 ? 0 : 1;
}
