// The attempt loop's decisions for one call (lib/client/attempt_fsm.hpp), without the I/O:
//
//   BM_attempt_fsm_success     a call answered 2xx at once: build the machine, then start ->
//                              check cancellation -> send attempt 1 -> 2xx -> complete (what
//                              every successful delete adds to signing and the exchange)
//   BM_attempt_fsm_retry_503   a 503 (error parsed, retry decided, backoff) then a 2xx
#include <benchmark/benchmark.h>

#include "client/attempt_fsm.hpp"
#include "credentials/cache.hpp"
#include "http/connection_pool.hpp"
#include "http/message.hpp"

namespace {

using namespace iotjobs;
using namespace iotjobs::detail;

struct shared_state {
    shared_state() : limiter(std::chrono::steady_clock::now()) {
        creds.value = {"AKIDEXAMPLE", "secret", ""};
        env.attempt_timeout = std::chrono::seconds(30);
        env.fixed_credentials = &creds;
        env.share(strategy, quota, rng, limiter, adaptive_on, offset, counters, system_attempt_clock());
    }
    standard_retry_strategy strategy;
    retry_quota quota;
    function_random_source rng{[] { return 0.5; }};
    adaptive_rate_limiter limiter;
    std::atomic<bool> adaptive_on{false};
    clock_offset offset;
    attempt_counters counters;
    credentials_snapshot creds;
    attempt_env env;
};

http_response answer(unsigned status) {
    http_response r;
    r.status = status;
    r.headers.push_back({"x-amzn-RequestId", "0f2d7c4e-1b7a-4a0e-9e55-3f0c1c2b7a11"});
    if (status == 503) r.body = R"({"message":"Service Unavailable"})";
    return r;
}

// Drives one call; attempt n is answered answers[n - 1].
attempt_action run_call(const attempt_env& env, diagnostics& diag, const http_response* const* answers) {
    attempt_fsm fsm(env, diag);
    exchange_info info;
    attempt_action a = fsm.resume(attempt_event::start());
    for (;;) {
        switch (a.type) {
        case attempt_action_type::check_cancellation:
            a = fsm.resume(attempt_event::cancellation(boost::asio::cancellation_type::none));
            break;
        case attempt_action_type::wait: a = fsm.resume(attempt_event::timer({})); break;
        case attempt_action_type::send:
            info = exchange_info{};
            a = fsm.resume(attempt_event::exchanged({}, info, *answers[a.attempt - 1]));
            break;
        default: return a;
        }
    }
}

void BM_attempt_fsm_success(benchmark::State& state) {
    shared_state s;
    const http_response ok = answer(200);
    const http_response* answers[] = {&ok};
    diagnostics diag;
    for (auto _ : state) benchmark::DoNotOptimize(run_call(s.env, diag, answers));
}
BENCHMARK(BM_attempt_fsm_success);

void BM_attempt_fsm_retry_503(benchmark::State& state) {
    shared_state s;
    const http_response unavailable = answer(503), ok = answer(200);
    const http_response* answers[] = {&unavailable, &ok};
    diagnostics diag;
    for (auto _ : state) benchmark::DoNotOptimize(run_call(s.env, diag, answers));
}
BENCHMARK(BM_attempt_fsm_retry_503);

}  // namespace
