// Memory per call (issue 15 item 4): N delete_job_execution calls issued at once on one client.
//
//   iotjobs-bench-memory --endpoint URL --calls N --pool P [--first I] [--single-threaded]
//
// Warm-up: P calls at once (every connection of the pool opened, its buffers allocated), run to
// completion; then the baseline. Then N calls at once; the io_context runs in 10 ms steps and
// after each the heap in use (mallinfo2: arena + mmapped) and RSS are sampled. Against an endpoint
// slower than the pool (the fake with a latency fault), min(N, P) calls are in flight and the rest
// wait for a connection. Prints the peak above the baseline per call and, with
// IOTJOBS_BENCH_COUNT_NEW=1, the operator new allocations made while issuing and running: per call,
// and the live ones by size at the peak (coroutine frames are not among them: Asio allocates them
// with malloc; heaptrack sees both, see bench/memory_per_call.sh).
// bench/memory_per_call.sh runs it against the fake (200 ms latency) for the waiting and the
// in-flight case.
#include "bench_args.hpp"

#include <iotjobs/client.hpp>
#include <iotjobs/delete_job_execution.hpp>

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <malloc.h>
#include <map>
#include <new>
#include <string>
#include <string_view>
#include <unistd.h>

namespace asio = boost::asio;

// ---- counting allocator: live allocations by size (bucketed), total count ----------------------
namespace {
std::atomic<bool> counting{false};
std::atomic<std::uint64_t> news{0};
// Live allocations per size class while counting (classes of 16 bytes up to 4 KiB, then one).
constexpr std::size_t classes = 258;
std::atomic<std::int64_t> live_by_class[classes];
std::size_t class_of(std::size_t n) { return n <= 4096 ? (n + 15) / 16 : classes - 1; }
struct header {
    std::size_t size;
    std::size_t counted;  // 1 if allocated while counting (16-byte header keeps the alignment)
};

// IOTJOBS_BENCH_COUNT_NEW=1 turns the counting on (decided once, at the first allocation): its
// 16-byte header per allocation would otherwise be in the heap figures.
bool count_new() {
    static const bool on = std::getenv("IOTJOBS_BENCH_COUNT_NEW") != nullptr;
    return on;
}

void* counted_new(std::size_t n) {
    if (!count_new()) {
        if (void* p = std::malloc(n ? n : 1)) return p;
        throw std::bad_alloc();
    }
    auto* h = static_cast<header*>(std::malloc(n + sizeof(header)));
    if (!h) throw std::bad_alloc();
    h->size = n;
    h->counted = counting.load(std::memory_order_relaxed);
    if (h->counted) {
        news.fetch_add(1, std::memory_order_relaxed);
        live_by_class[class_of(n)].fetch_add(1, std::memory_order_relaxed);
    }
    return h + 1;
}

void counted_delete(void* p) noexcept {
    if (!p) return;
    if (!count_new()) return std::free(p);
    auto* h = static_cast<header*>(p) - 1;
    if (h->counted) live_by_class[class_of(h->size)].fetch_sub(1, std::memory_order_relaxed);
    std::free(h);
}
}  // namespace

void* operator new(std::size_t n) { return counted_new(n); }
void* operator new[](std::size_t n) { return counted_new(n); }
void operator delete(void* p) noexcept { counted_delete(p); }
void operator delete[](void* p) noexcept { counted_delete(p); }
void operator delete(void* p, std::size_t) noexcept { counted_delete(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_delete(p); }

namespace {

std::size_t heap_in_use() {
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

std::size_t rss_bytes() {
    std::ifstream f("/proc/self/statm");
    std::size_t pages = 0, resident = 0;
    f >> pages >> resident;
    return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

struct options {
    std::string endpoint;
    std::size_t calls = 10000;
    std::size_t pool = 64;
    std::size_t first = 1;  // executions first .. first + pool + calls - 1 are deleted
    bool single_threaded = false;
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "error: %s\nusage: iotjobs-bench-memory --endpoint URL [--calls N] [--pool P] "
                 "[--first I] [--single-threaded]\n",
                 why);
    std::exit(2);
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&] { return iotjobs::bench::take_value(argc, argv, i, usage); };
        if (a == "--endpoint")
            o.endpoint = value();
        else if (a == "--calls")
            o.calls = std::stoul(value());
        else if (a == "--pool")
            o.pool = std::stoul(value());
        else if (a == "--first")
            o.first = std::stoul(value());
        else if (a == "--single-threaded")
            o.single_threaded = true;
        else
            usage("unknown option");
    }
    if (o.endpoint.empty() || o.calls == 0 || o.pool == 0) usage("--endpoint, --calls >= 1, --pool >= 1");
    return o;
}

struct tally {
    std::size_t done = 0, ok = 0, failed = 0;
    std::map<std::string, std::size_t> errors;
};

// Issues `n` calls numbered from `first`; completions go to `t`.
void issue(iotjobs::client& c, std::size_t first, std::size_t n, tally& t) {
    for (std::size_t k = 0; k < n; ++k) {
        const auto i = static_cast<std::int64_t>(first + k);
        iotjobs::delete_job_execution_request req{
            "thing-" + std::to_string(i), "job-" + std::to_string(i % 100), i, {}, {}};
        iotjobs::delete_job_execution(c, req, [&t](iotjobs::error_code ec) {
            ++t.done;
            if (!ec)
                ++t.ok;
            else {
                ++t.failed;
                ++t.errors[ec.message()];
            }
        });
    }
}

}  // namespace

int main(int argc, char** argv) {
    const options o = parse(argc, argv);
    asio::io_context ctx(1);
    iotjobs::client_config cfg;
    cfg.region = "us-east-1";
    cfg.endpoint_url = o.endpoint;
    cfg.static_credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
    cfg.pool.max_size = o.pool;
    cfg.single_threaded = o.single_threaded;
    iotjobs::client c(ctx.get_executor(), cfg);

    tally warm;
    issue(c, o.first, o.pool, warm);
    ctx.run();
    ctx.restart();
    malloc_trim(0);
    const std::size_t heap0 = heap_in_use(), rss0 = rss_bytes();

    tally t;
    counting = true;
    const auto start = std::chrono::steady_clock::now();
    issue(c, o.first + o.pool, o.calls, t);
    const std::size_t heap_issued = heap_in_use();
    std::size_t heap_peak = heap_issued, rss_peak = rss_bytes(), waiting_at_peak = 0, leased_at_peak = 0;
    std::int64_t live_at_peak[classes] = {};
    const auto snapshot_live = [&] {
        for (std::size_t k = 0; k < classes; ++k) live_at_peak[k] = live_by_class[k].load();
    };
    snapshot_live();
    while (t.done < o.calls) {
        ctx.run_for(std::chrono::milliseconds(10));
        const std::size_t h = heap_in_use();
        rss_peak = std::max(rss_peak, rss_bytes());
        if (h > heap_peak) {
            heap_peak = h;
            const auto st = c.stats();
            waiting_at_peak = st.waiting;
            leased_at_peak = st.leased;
            snapshot_live();
        }
        if (ctx.stopped()) ctx.restart();
    }
    counting = false;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double n = static_cast<double>(o.calls);

    std::printf("memory per call: %zu calls at once, pool %zu, %s; warm-up %zu ok; %.2f s\n", o.calls, o.pool,
                o.single_threaded ? "single_threaded" : "strands", warm.ok, secs);
    std::printf("  baseline after warm-up: heap %.1f KiB, RSS %.1f KiB\n", heap0 / 1024.0, rss0 / 1024.0);
    std::printf("  right after issuing:    heap +%.0f B per call\n", (double(heap_issued) - double(heap0)) / n);
    std::printf(
        "  peak:                   heap +%.0f B per call, RSS +%.0f B per call (at the heap peak: %zu "
        "waiting for a connection, %zu connections leased)\n",
        (double(heap_peak) - double(heap0)) / n, (double(rss_peak) - double(rss0)) / n, waiting_at_peak,
        leased_at_peak);
    if (!count_new()) {
        std::printf("  calls: %zu ok, %zu failed\n", t.ok, t.failed);
        return t.done == o.calls ? 0 : 1;
    }
    std::printf("  operator new calls while running: %.1f per call\n", double(news.load()) / n);
    std::printf("  live allocations at the heap peak, per call, by size (bytes requested, 16-byte classes):\n");
    double live_total = 0;
    for (std::size_t k = 0; k < classes; ++k) {
        if (live_at_peak[k] <= 0) continue;
        const double per_call = double(live_at_peak[k]) / n;
        const std::size_t upper = k == classes - 1 ? 0 : k * 16;
        live_total += per_call * double(upper ? upper : 4096);
        if (per_call >= 0.05) {
            if (upper)
                std::printf("    <= %5zu B: %.2f per call\n", upper, per_call);
            else
                std::printf("    >  4096 B: %.2f per call\n", per_call);
        }
    }
    std::printf("  (upper bound of those live bytes: %.0f B per call)\n", live_total);
    std::printf("  calls: %zu ok, %zu failed\n", t.ok, t.failed);
    for (const auto& [what, k] : t.errors) std::printf("    %zu x %s\n", k, what.c_str());
    return t.done == o.calls ? 0 : 1;
}
