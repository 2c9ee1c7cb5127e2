// DeleteJobExecution load driver following the contract of ../shared/peers (see bench/README.md).
//
//   iotjobs-bench-delete --endpoint URL --n N --concurrency C --ca FILE
//                        [--region us-east-1] [--threads 1] [--start 0] [--max-attempts 3]
//                        [--attempt-timeout-ms MS]   (0 = no per-attempt deadline; for profiling)
//                        [--metrics on|off]          (client_config::metrics; default on)
//                        [--log off|info|debug|info-text|debug-text]
//                              (client_config::level with a structured sink, or a string sink for
//                               *-text, that only counts the records; default off)
//
// Deletes thing-<i>/job-<i % 100>/executionNumber i for i in [start, start + N) with C coroutines
// sharing one iotjobs::client (pool max_size = C, the library's default retries: standard mode,
// 3 attempts, like the AWS SDK for JavaScript v3 driver). Credentials: AWS_ACCESS_KEY_ID /
// AWS_SECRET_ACCESS_KEY when set, else the dummy AKIDEXAMPLE pair. AWS_CA_BUNDLE is ignored
// (this machine points it at the system bundle): the CA comes from --ca only.
//
// Output (stdout), the last two lines:
//   loop cpu seconds X                           (getrusage user+sys around the loop, all threads)
//   N ok, M failed, seconds S, rate R/s          (S = the delete loop only, client set-up excluded)
// Pool counters go to stderr. Exit status 0 iff nothing failed. Any error, including a non-2xx
// answer, counts as failed; the first few are printed to stderr with their diagnostics.
#include <iotjobs/client.hpp>
#include <iotjobs/delete_job_execution.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/resource.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

namespace asio = boost::asio;

namespace {

struct options {
    std::string endpoint;
    std::string ca;
    std::string region = "us-east-1";
    std::int64_t n = 1000;
    std::int64_t start = 0;
    unsigned concurrency = 16;
    unsigned threads = 1;
    unsigned max_attempts = 3;
    long attempt_timeout_ms = -1;  // -1: the library's default
    bool metrics = true;
    iotjobs::log_level log = iotjobs::log_level::off;
    bool log_text = false;
};

std::atomic<std::uint64_t> log_records{0};

[[noreturn]] void usage(int rc) {
    std::fprintf(rc == 0 ? stdout : stderr,
                 "usage: iotjobs-bench-delete --endpoint URL --n N --concurrency C --ca FILE\n"
                 "                            [--region us-east-1] [--threads 1] [--start 0] [--max-attempts 3]\n"
                 "                            [--attempt-timeout-ms MS (0: none; default: the library's)]\n"
                 "                            [--metrics on|off] [--log off|info|debug|info-text|debug-text]\n");
    std::exit(rc);
}

template <class T>
T parse_number(std::string_view flag, std::string_view text, T min) {
    T v{};
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || p != text.data() + text.size() || v < min) {
        std::fprintf(stderr, "iotjobs-bench-delete: bad value for %.*s: '%.*s'\n", static_cast<int>(flag.size()),
                     flag.data(), static_cast<int>(text.size()), text.data());
        std::exit(2);
    }
    return v;
}

options parse_args(int argc, char** argv) {
    options o;
    for (int k = 1; k < argc; ++k) {
        std::string_view a = argv[k];
        if (a == "-h" || a == "--help") usage(0);
        if (k + 1 >= argc) {
            std::fprintf(stderr, "iotjobs-bench-delete: missing value for %s\n", argv[k]);
            usage(2);
        }
        std::string_view v = argv[++k];
        if (a == "--endpoint")
            o.endpoint = v;
        else if (a == "--ca")
            o.ca = v;
        else if (a == "--region")
            o.region = v;
        else if (a == "--n")
            o.n = parse_number<std::int64_t>(a, v, 0);
        else if (a == "--start")
            o.start = parse_number<std::int64_t>(a, v, 0);
        else if (a == "--concurrency" || a == "--c")
            o.concurrency = parse_number<unsigned>(a, v, 1);
        else if (a == "--threads")
            o.threads = parse_number<unsigned>(a, v, 1);
        else if (a == "--max-attempts")
            o.max_attempts = parse_number<unsigned>(a, v, 1);
        else if (a == "--attempt-timeout-ms")
            o.attempt_timeout_ms = parse_number<long>(a, v, 0);
        else if (a == "--metrics" && (v == "on" || v == "off"))
            o.metrics = v == "on";
        else if (a == "--log" && (v == "off" || v == "info" || v == "debug" || v == "info-text" || v == "debug-text")) {
            o.log = v.starts_with("info")    ? iotjobs::log_level::info
                    : v.starts_with("debug") ? iotjobs::log_level::debug
                                             : iotjobs::log_level::off;
            o.log_text = v.ends_with("-text");
        } else {
            std::fprintf(stderr, "iotjobs-bench-delete: unknown argument %s\n", argv[k - 1]);
            usage(2);
        }
    }
    if (o.endpoint.empty()) {
        std::fprintf(stderr, "iotjobs-bench-delete: --endpoint is required\n");
        usage(2);
    }
    return o;
}

double cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return tv(ru.ru_utime) + tv(ru.ru_stime);
}

struct shared_state {
    std::atomic<std::int64_t> next{0};
    std::atomic<std::int64_t> ok{0};
    std::atomic<std::int64_t> failed{0};
};

asio::awaitable<void> worker(iotjobs::client& client, const options& o, shared_state& st) {
    iotjobs::diagnostics diag;
    for (;;) {
        const std::int64_t k = st.next.fetch_add(1, std::memory_order_relaxed);
        if (k >= o.n) co_return;
        const std::int64_t i = o.start + k;
        iotjobs::delete_job_execution_request req;
        req.thing_name = "thing-" + std::to_string(i);
        req.job_id = "job-" + std::to_string(i % 100);
        req.execution_number = i;
        // Initiate first, then await a named object (GCC 12 mishandles temporaries with
        // destructors inside a co_await expression).
        auto op = iotjobs::delete_job_execution(client, std::move(req), diag, asio::as_tuple(asio::use_awaitable));
        auto [ec] = co_await std::move(op);
        if (!ec) {
            st.ok.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        if (st.failed.fetch_add(1, std::memory_order_relaxed) < 3) {
            std::fprintf(
                stderr, "delete %lld failed: %s (%.*s: %.*s, HTTP %u, attempts %u)\n", static_cast<long long>(i),
                ec.message().c_str(), static_cast<int>(diag.aws_error_name().size()), diag.aws_error_name().data(),
                static_cast<int>(diag.message().size()), diag.message().data(), diag.http_status(), diag.attempts());
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    const options o = parse_args(argc, argv);

    iotjobs::client_config cfg;
    cfg.region = o.region;
    cfg.endpoint_url = o.endpoint;
    cfg.ca_bundle = o.ca;
    const char* akid = std::getenv("AWS_ACCESS_KEY_ID");
    const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
    if (akid && *akid && secret && *secret) {
        cfg.static_credentials.access_key_id = akid;
        cfg.static_credentials.secret_access_key = secret;
        if (const char* token = std::getenv("AWS_SESSION_TOKEN")) cfg.static_credentials.session_token = token;
    } else {
        cfg.static_credentials.access_key_id = "AKIDEXAMPLE";
        cfg.static_credentials.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    }
    cfg.pool.max_size = o.concurrency;
    cfg.retry.max_attempts = o.max_attempts;
    if (o.attempt_timeout_ms >= 0) cfg.timeouts.attempt = std::chrono::milliseconds(o.attempt_timeout_ms);

    cfg.metrics = o.metrics;
    cfg.level = o.log;
    if (o.log != iotjobs::log_level::off) {
        if (o.log_text)
            cfg.log = [](iotjobs::log_level, std::string_view) { log_records.fetch_add(1, std::memory_order_relaxed); };
        else
            cfg.structured_log = [](const iotjobs::log_record&) {
                log_records.fetch_add(1, std::memory_order_relaxed);
            };
    }

    asio::io_context ioc(static_cast<int>(o.threads));
    cfg.single_threaded = o.threads == 1;
    shared_state st;
    double cpu0 = 0, cpu1 = 0;
    std::chrono::steady_clock::time_point t0, t1;
    try {
        iotjobs::client client(ioc.get_executor(), std::move(cfg));
        cpu0 = cpu_seconds();
        t0 = std::chrono::steady_clock::now();
        for (unsigned w = 0; w < o.concurrency; ++w)
            asio::co_spawn(ioc, worker(client, o, st), [](std::exception_ptr ep) {
                if (ep) std::rethrow_exception(ep);
            });
        std::vector<std::thread> extra;
        for (unsigned t = 1; t < o.threads; ++t) extra.emplace_back([&ioc] { ioc.run(); });
        ioc.run();
        for (auto& t : extra) t.join();
        t1 = std::chrono::steady_clock::now();
        cpu1 = cpu_seconds();
        const iotjobs::client_stats s = client.stats();
        std::fprintf(stderr,
                     "pool: connects %llu, tls full %llu, tls resumed %llu, reuses %llu, requests %llu, retries %llu, "
                     "throttled %llu\n",
                     static_cast<unsigned long long>(s.connects), static_cast<unsigned long long>(s.tls_handshakes),
                     static_cast<unsigned long long>(s.tls_resumed), static_cast<unsigned long long>(s.reuses),
                     static_cast<unsigned long long>(s.requests), static_cast<unsigned long long>(s.retries),
                     static_cast<unsigned long long>(s.throttled));
        const iotjobs::client_metrics m = client.metrics();
        const auto& lat = m.operation(iotjobs::operation_kind::delete_job_execution).latency;
        std::fprintf(stderr,
                     "metrics %s: calls %llu, p50 %lld us, p90 %lld us, p99 %lld us, max %lld us; log records %llu\n",
                     o.metrics ? "on" : "off", static_cast<unsigned long long>(m.calls_started),
                     static_cast<long long>(lat.p50.count()), static_cast<long long>(lat.p90.count()),
                     static_cast<long long>(lat.p99.count()), static_cast<long long>(lat.max.count()),
                     static_cast<unsigned long long>(log_records.load()));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "iotjobs-bench-delete: %s\n", e.what());
        return 1;
    }
    const double secs = std::chrono::duration<double>(t1 - t0).count();
    const auto ok = st.ok.load();
    const auto failed = st.failed.load();
    std::printf("loop cpu seconds %.3f\n", cpu1 - cpu0);
    std::printf("%lld ok, %lld failed, seconds %.3f, rate %.1f/s\n", static_cast<long long>(ok),
                static_cast<long long>(failed), secs, secs > 0 ? static_cast<double>(ok) / secs : 0.0);
    std::fflush(stdout);
    return failed == 0 && ok == o.n ? 0 : 1;
}
