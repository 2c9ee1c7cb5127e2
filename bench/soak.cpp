// Soak driver (bench/soak.sh runs it): one bulk delete through the library against a fake endpoint
// that injects faults, with the process's own file descriptors and RSS sampled before, during and
// after the client's life.
//
//   iotjobs-soak --endpoint URL --ca FILE --n N [--concurrency 64] [--report FILE]
//                [--attempt-timeout-ms 1000] [--base-delay-ms 50] [--max-attempts 3]
//                [--rss-slack-mb 8]
//
// Deletes thing-<i>/job-<i % 100>/executionNumber i for i in [1, N] (the fake's --generate
// layout) with bulk_delete at max_in_flight = pool max_size = concurrency and a fixed rate far
// above what the fake can serve (so the adaptive limiter does not pace the run: throttling faults
// would slow it to a crawl). Credentials: the dummy AKIDEXAMPLE pair.
//
// Before the run a warm-up client (a few calls for an execution that does not exist) is built and
// destroyed, so that one-time allocations (OpenSSL tables, per-thread hashers) are not counted;
// then the baseline is taken. After the run the client and its io_context are destroyed,
// malloc_trim(0) returns freed heap to the system, and the figures are taken again.
//
// --report FILE: one line per outcome, "number<TAB>kind<TAB>attempts<TAB>maybe_processed<TAB>error"
// (maybe_processed: earlier_attempt_may_have_succeeded), for soak.sh to compare with the fake.
//
// Exit status 0 iff every item got exactly one outcome, the descriptors came back to the baseline
// and RSS to within --rss-slack-mb of it. Figures go to stdout, one "name: value" per line.
#include <iotjobs/bulk_delete.hpp>
#include <iotjobs/client.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <dirent.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace asio = boost::asio;

namespace {

struct options {
    std::string endpoint;
    std::string ca;
    std::string report;
    std::int64_t n = 1000;
    std::size_t concurrency = 64;
    long attempt_timeout_ms = 1000;
    long base_delay_ms = 50;
    unsigned max_attempts = 3;
    long rss_slack_mb = 8;
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "iotjobs-soak: %s\nusage: iotjobs-soak --endpoint URL --ca FILE --n N [--concurrency C] "
                 "[--report FILE] [--attempt-timeout-ms MS] [--base-delay-ms MS] [--max-attempts N] "
                 "[--rss-slack-mb MB]\n",
                 why);
    std::exit(2);
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) usage(("missing value for " + a).c_str());
        const char* v = argv[++i];
        if (a == "--endpoint")
            o.endpoint = v;
        else if (a == "--ca")
            o.ca = v;
        else if (a == "--report")
            o.report = v;
        else if (a == "--n")
            o.n = std::atoll(v);
        else if (a == "--concurrency")
            o.concurrency = static_cast<std::size_t>(std::atol(v));
        else if (a == "--attempt-timeout-ms")
            o.attempt_timeout_ms = std::atol(v);
        else if (a == "--base-delay-ms")
            o.base_delay_ms = std::atol(v);
        else if (a == "--max-attempts")
            o.max_attempts = static_cast<unsigned>(std::atol(v));
        else if (a == "--rss-slack-mb")
            o.rss_slack_mb = std::atol(v);
        else
            usage(("unknown option " + a).c_str());
    }
    if (o.endpoint.empty() || o.n <= 0 || o.concurrency == 0) usage("--endpoint and a positive --n are required");
    return o;
}

int open_fds() {
    int n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (const dirent* e = ::readdir(d))
            if (e->d_name[0] != '.') ++n;
        ::closedir(d);
    }
    return n - 1;  // the directory stream's own descriptor
}

long rss_kib() {
    long pages = 0, resident = 0;
    if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        std::fclose(f);
    }
    return resident * (::sysconf(_SC_PAGESIZE) / 1024);
}

iotjobs::client_config config_for(const options& o) {
    iotjobs::client_config cfg;
    cfg.region = "us-east-1";
    cfg.endpoint_url = o.endpoint;
    cfg.ca_bundle = o.ca;
    cfg.static_credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};
    cfg.retry.max_attempts = o.max_attempts;
    cfg.retry.base_delay = std::chrono::milliseconds(o.base_delay_ms);
    cfg.timeouts.attempt = std::chrono::milliseconds(o.attempt_timeout_ms);
    cfg.pool.max_size = o.concurrency;
    cfg.single_threaded = true;
    return cfg;
}

// A few calls for an execution that does not exist (after --n), on a client destroyed at once.
void warm_up(const options& o) {
    asio::io_context ctx;
    {
        iotjobs::client c(ctx.get_executor(), config_for(o));
        const std::int64_t absent = o.n + 1;  // past the generated executions: 404s
        std::vector<iotjobs::delete_job_execution_request> reqs(
            4, {"thing-" + std::to_string(absent), "job-" + std::to_string(absent % 100), absent});
        auto src = iotjobs::make_vector_source(std::move(reqs));
        iotjobs::bulk_options opt;
        opt.max_in_flight = 2;
        opt.rate_limit = 1e6;
        iotjobs::bulk_delete(c, *src, opt, nullptr, [](iotjobs::error_code, iotjobs::bulk_summary) {});
        ctx.run();
    }
    ctx.restart();
    ctx.run();
}

struct run_figures {
    iotjobs::bulk_summary summary;
    iotjobs::client_stats stats;
    int peak_fds = 0;
    long peak_rss = 0;
};

run_figures soak(const options& o, std::vector<std::uint8_t>& seen, std::ofstream* report) {
    run_figures f;
    auto ctx = std::make_unique<asio::io_context>();
    std::optional<iotjobs::client> c(std::in_place, ctx->get_executor(), config_for(o));
    std::int64_t next = 1;
    auto src = iotjobs::make_generator_source([&]() -> std::optional<iotjobs::delete_job_execution_request> {
        if (next > o.n) return std::nullopt;
        const std::int64_t i = next++;
        return iotjobs::delete_job_execution_request("thing-" + std::to_string(i), "job-" + std::to_string(i % 100), i);
    });
    iotjobs::bulk_options opt;
    opt.max_in_flight = o.concurrency;
    opt.rate_limit = 1e6;
    bool done = false;
    asio::steady_timer sampler(*ctx);
    std::function<void()> sample = [&] {
        f.peak_fds = std::max(f.peak_fds, open_fds());
        f.peak_rss = std::max(f.peak_rss, rss_kib());
        if (done) return;
        sampler.expires_after(std::chrono::milliseconds(250));
        sampler.async_wait([&](iotjobs::error_code) { sample(); });
    };
    sample();
    iotjobs::bulk_delete(
        *c, *src, opt,
        [&](const iotjobs::bulk_outcome& out) {
            const auto i = out.item.request.execution_number;
            if (i >= 1 && i <= o.n && seen[static_cast<std::size_t>(i)] < 255) ++seen[static_cast<std::size_t>(i)];
            if (report)
                *report << i << '\t' << iotjobs::to_string(out.kind) << '\t' << out.attempts << '\t'
                        << out.earlier_attempt_may_have_succeeded << '\t' << (out.ec ? out.ec.message() : "") << '\n';
        },
        [&](iotjobs::error_code, iotjobs::bulk_summary s) {
            f.summary = std::move(s);
            done = true;
            sampler.cancel();
        });
    ctx->run();
    f.stats = c->stats();
    c.reset();  // the client goes first, then whatever its operations left on the context
    ctx->restart();
    ctx->run();
    ctx.reset();
    return f;
}

}  // namespace

int main(int argc, char** argv) {
    const options o = parse(argc, argv);
    std::vector<std::uint8_t> seen(static_cast<std::size_t>(o.n) + 1, 0);
    std::optional<std::ofstream> report;
    if (!o.report.empty()) {
        report.emplace(o.report);
        if (!*report) usage("cannot write the report file");
    }
    warm_up(o);
    ::malloc_trim(0);
    const int fds_before = open_fds();
    const long rss_before = rss_kib();
    const auto start = std::chrono::steady_clock::now();
    run_figures f = soak(o, seen, report ? &*report : nullptr);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (report) report->flush();
    ::malloc_trim(0);
    const int fds_after = open_fds();
    const long rss_after = rss_kib();

    std::int64_t missing = 0, duplicated = 0;
    for (std::size_t i = 1; i < seen.size(); ++i) {
        if (seen[i] == 0) ++missing;
        if (seen[i] > 1) ++duplicated;
    }
    const auto& s = f.summary;
    std::printf("items: %lld\n", static_cast<long long>(o.n));
    std::printf(
        "outcomes: %llu (deleted %llu, not_found %llu of which possibly deleted earlier %llu, refused %llu, "
        "failed %llu, not_attempted %llu, invalid_input %llu)\n",
        static_cast<unsigned long long>(s.items), static_cast<unsigned long long>(s.deleted),
        static_cast<unsigned long long>(s.not_found), static_cast<unsigned long long>(s.possibly_deleted_earlier),
        static_cast<unsigned long long>(s.refused), static_cast<unsigned long long>(s.failed),
        static_cast<unsigned long long>(s.not_attempted), static_cast<unsigned long long>(s.invalid_input));
    std::printf("missing: %lld, duplicated: %lld\n", static_cast<long long>(missing),
                static_cast<long long>(duplicated));
    std::printf("attempts: %llu, retries: %llu, throttled: %llu, connects: %llu (tls full %llu, resumed %llu)\n",
                static_cast<unsigned long long>(f.stats.requests), static_cast<unsigned long long>(f.stats.retries),
                static_cast<unsigned long long>(f.stats.throttled), static_cast<unsigned long long>(f.stats.connects),
                static_cast<unsigned long long>(f.stats.tls_handshakes),
                static_cast<unsigned long long>(f.stats.tls_resumed));
    std::printf("stopped early: %s%s\n", s.stopped_early ? "yes: " : "no", s.stop_reason.c_str());
    std::printf("wall seconds: %.1f\n", seconds);
    std::printf("fds: before %d, peak %d, after %d\n", fds_before, f.peak_fds, fds_after);
    std::printf("rss KiB: before %ld, peak %ld, after %ld\n", rss_before, f.peak_rss, rss_after);
    bool ok = true;
    if (missing || duplicated || s.items != static_cast<std::uint64_t>(o.n)) {
        std::printf("FAIL: not every item got exactly one outcome\n");
        ok = false;
    }
    if (fds_after != fds_before) {
        std::printf("FAIL: %d descriptors more after the client was destroyed\n", fds_after - fds_before);
        ok = false;
    }
    if (rss_after > rss_before + o.rss_slack_mb * 1024) {
        std::printf("FAIL: RSS %ld KiB above the baseline after the client was destroyed (slack %ld MiB)\n",
                    rss_after - rss_before, o.rss_slack_mb);
        ok = false;
    }
    return ok ? 0 : 1;
}
