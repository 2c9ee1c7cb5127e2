// The credentials lookup an attempt makes before signing (lib/client.cpp):
//
//   BM_credentials_fixed          static keys (settled when the client is built): a pointer read
//   BM_credentials_cache_fresh    a refreshing source (process / container / IMDS) with a fresh
//                                 set: credentials_cache::try_current() (atomic shared_ptr load,
//                                 clock read, shared_ptr copy and release)
//   BM_credentials_cache_fresh/threads:2  the same from two threads at once (shared refcount)
#include <benchmark/benchmark.h>

#include "credentials/cache.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

namespace {

using namespace iotjobs;
using namespace iotjobs::detail;
namespace asio = boost::asio;

class one_hour_provider final : public credentials_provider {
public:
    const char* name() const noexcept override { return "bench"; }
    bool synchronous() const noexcept override { return false; }
    asio::awaitable<error_code> async_get(resolved_credentials& out, std::string&) override {
        out.value = {"ASIABENCH", "secret", "token"};
        out.expiration = std::chrono::system_clock::now() + std::chrono::hours(1);
        co_return error_code{};
    }
};

std::shared_ptr<credentials_cache> make_filled_cache(asio::io_context& ctx) {
    credentials_chain chain;
    chain.add(std::make_unique<one_hour_provider>());
    auto cache = std::make_shared<credentials_cache>(ctx.get_executor(), std::move(chain));
    std::shared_ptr<const credentials_snapshot> s;
    std::string why;
    asio::co_spawn(ctx, cache->async_get(s, why), [](std::exception_ptr, error_code) {});
    ctx.run();
    return cache;
}

void BM_credentials_fixed(benchmark::State& state) {
    auto snap = std::make_shared<credentials_snapshot>();
    snap->value = {"AKIDBENCH", "secret", ""};
    const std::shared_ptr<const credentials_snapshot> creds = snap;
    for (auto _ : state) {
        const credentials_snapshot* fixed = creds.get();
        benchmark::DoNotOptimize(fixed);
        benchmark::DoNotOptimize(fixed->value.access_key_id.size());
    }
}
BENCHMARK(BM_credentials_fixed);

void BM_credentials_cache_fresh(benchmark::State& state) {
    static asio::io_context ctx;
    static std::shared_ptr<credentials_cache> cache = make_filled_cache(ctx);
    for (auto _ : state) {
        auto s = cache->try_current();
        benchmark::DoNotOptimize(s.get());
    }
}
BENCHMARK(BM_credentials_cache_fresh);
BENCHMARK(BM_credentials_cache_fresh)->Threads(2);

}  // namespace
