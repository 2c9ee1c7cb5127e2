// SigV4 signing cost against the floor: the bare SHA-256 + HMAC-SHA256 work it must do.
//
//   BM_sign_cached_key     what iotjobs::client does per attempt: sign_authorization() of
//                          DELETE /things/thing-1/jobs/job-1/executionNumber/1?force=true with host +
//                          x-amz-date, with the signing key cached for the day (signing_key_slot), the
//                          Authorization value written into a reused string
//   BM_sign_headers_cached the general entry point sign_headers() (every intermediate string returned;
//                          used by tests, the fake server and --debug) with a warm signing_key_cache,
//                          which hashes the credentials on each lookup (it never stores the secret)
//   BM_sign_uncached       sign_headers() as above, deriving the signing key every time (4 more HMACs)
//   BM_key_cache_hit       signing_key_cache::get on a hit alone (part of BM_sign_headers_cached)
//   BM_floor_sha256_hmac   OpenSSL only, the fastest way found: SHA-256 over a buffer the length of
//                          that canonical request, HMAC-SHA256 (key fixed, so its ipad/opad states are
//                          prepared once, as a cached key allows) over a buffer the length of that
//                          string to sign, hex of both. Each digest starts from a prepared context
//                          with EVP_MD_CTX_copy_ex (cheaper than EVP_DigestInit_ex2 in OpenSSL 3.0).
//   BM_floor_lowlevel      the same work with OpenSSL's low-level SHA256_Init/Update/Final (deprecated in
//                          3.0, still built), states copied by assignment: what the signer uses
//   BM_floor_init_each     the same work with EVP_DigestInit_ex2 for each of the 3 digests (reference)
//   BM_floor_oneshot       the same work with OpenSSL's one-shot SHA256() and HMAC() (reference: in
//                          OpenSSL 3 they fetch the algorithm on every call)
#include <benchmark/benchmark.h>

#include "sigv4/sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <chrono>
#include <cstring>
#include <string>

namespace {

using namespace iotjobs::sigv4;

const header request_headers[] = {{"host", "iot.us-east-1.amazonaws.com"}, {"x-amz-date", "20240102T030405Z"}};

signing_input delete_job_execution_input() {
    using namespace std::chrono;
    signing_input in{};
    in.request.method = "DELETE";
    in.request.path = "/things/thing-1/jobs/job-1/executionNumber/1";
    in.request.query = "force=true";
    in.request.headers = request_headers;
    in.credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", {}};
    in.region = "us-east-1";
    in.service = "iot";
    in.time = sys_days{2024y / January / 2} + 3h + 4min + 5s;
    return in;
}

void BM_sign_headers_cached(benchmark::State& state) {
    const signing_input in = delete_job_execution_input();
    signing_key_cache cache;
    (void)sign_headers(in, &cache);  // warm the cache
    for (auto _ : state) {
        signing_result r = sign_headers(in, &cache);
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_sign_headers_cached);

void BM_sign_uncached(benchmark::State& state) {
    const signing_input in = delete_job_execution_input();
    for (auto _ : state) {
        signing_result r = sign_headers(in);
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_sign_uncached);

// The client's hot path: sign_authorization() with the key the client keeps for the day
// (signing_key_slot), the Authorization value written into a reused string.
void BM_sign_cached_key(benchmark::State& state) {
    const signing_input in = delete_job_execution_input();
    signing_key_slot slot;
    std::string authorization;
    for (auto _ : state) {
        const key_bytes key = slot.get(in.credentials.secret_access_key, "20240102", in.region, in.service);
        sign_authorization(in, key, authorization);
        benchmark::DoNotOptimize(authorization.data());
        benchmark::ClobberMemory();
    }
}
BENCHMARK(BM_sign_cached_key);

// The part of the cached path that the floor does not have: the key-cache lookup (SHA-256 of
// the credentials, mutex, compare).
void BM_key_cache_hit(benchmark::State& state) {
    const signing_input in = delete_job_execution_input();
    signing_key_cache cache;
    (void)cache.get(in.credentials.secret_access_key, {}, "20240102", in.region, in.service);
    for (auto _ : state) {
        key_bytes k = cache.get(in.credentials.secret_access_key, {}, "20240102", in.region, in.service);
        benchmark::DoNotOptimize(k);
    }
}
BENCHMARK(BM_key_cache_hit);

void to_hex(const unsigned char* in, std::size_t n, char* out) {
    static constexpr char digits[] = "0123456789abcdef";
    for (std::size_t i = 0; i < n; ++i) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
}

struct floor_inputs {
    std::string canonical_request;
    std::string string_to_sign;
    unsigned char key[32];
};

floor_inputs make_floor_inputs(benchmark::State& state) {
    const signing_result r = sign_headers(delete_job_execution_input());
    floor_inputs f;
    f.canonical_request.assign(r.canonical_request.size(), 'c');
    f.string_to_sign.assign(r.string_to_sign.size(), 's');
    for (unsigned i = 0; i < sizeof f.key; ++i) f.key[i] = static_cast<unsigned char>(i * 7 + 1);
    state.counters["creq_bytes"] = static_cast<double>(f.canonical_request.size());
    state.counters["sts_bytes"] = static_cast<double>(f.string_to_sign.size());
    return f;
}

// Fails the benchmark unless every OpenSSL call returned 1.
struct ok_check {
    benchmark::State& state;
    bool ok = true;
    void operator()(int rc) { ok = ok && rc == 1; }
    ~ok_check() {
        if (!ok) state.SkipWithError("OpenSSL call failed");
    }
};

void BM_floor_sha256_hmac(benchmark::State& state) {
    const floor_inputs f = make_floor_inputs(state);
    EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    EVP_MD_CTX* fresh = EVP_MD_CTX_new();
    EVP_MD_CTX* inner_start = EVP_MD_CTX_new();
    EVP_MD_CTX* outer_start = EVP_MD_CTX_new();
    EVP_MD_CTX* work = EVP_MD_CTX_new();
    ok_check check{state};
    unsigned char pad[64];
    check(EVP_DigestInit_ex2(fresh, md, nullptr));
    std::memset(pad, 0x36, sizeof pad);
    for (unsigned i = 0; i < sizeof f.key; ++i) pad[i] = static_cast<unsigned char>(f.key[i] ^ 0x36);
    check(EVP_MD_CTX_copy_ex(inner_start, fresh));
    check(EVP_DigestUpdate(inner_start, pad, sizeof pad));
    std::memset(pad, 0x5c, sizeof pad);
    for (unsigned i = 0; i < sizeof f.key; ++i) pad[i] = static_cast<unsigned char>(f.key[i] ^ 0x5c);
    check(EVP_MD_CTX_copy_ex(outer_start, fresh));
    check(EVP_DigestUpdate(outer_start, pad, sizeof pad));
    for (auto _ : state) {
        unsigned char digest[32], inner[32], mac[32];
        unsigned int len = 0;
        char hex[128];
        // SHA-256 of the canonical request.
        check(EVP_MD_CTX_copy_ex(work, fresh));
        check(EVP_DigestUpdate(work, f.canonical_request.data(), f.canonical_request.size()));
        check(EVP_DigestFinal_ex(work, digest, &len));
        to_hex(digest, sizeof digest, hex);
        // HMAC-SHA256(key, string to sign) = H(K^opad || H(K^ipad || m)).
        check(EVP_MD_CTX_copy_ex(work, inner_start));
        check(EVP_DigestUpdate(work, f.string_to_sign.data(), f.string_to_sign.size()));
        check(EVP_DigestFinal_ex(work, inner, &len));
        check(EVP_MD_CTX_copy_ex(work, outer_start));
        check(EVP_DigestUpdate(work, inner, sizeof inner));
        check(EVP_DigestFinal_ex(work, mac, &len));
        to_hex(mac, sizeof mac, hex + 64);
        benchmark::DoNotOptimize(hex);
        benchmark::ClobberMemory();
    }
    EVP_MD_CTX_free(work);
    EVP_MD_CTX_free(outer_start);
    EVP_MD_CTX_free(inner_start);
    EVP_MD_CTX_free(fresh);
    EVP_MD_free(md);
}
BENCHMARK(BM_floor_sha256_hmac);

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
void BM_floor_lowlevel(benchmark::State& state) {
    const floor_inputs f = make_floor_inputs(state);
    ok_check check{state};
    SHA256_CTX fresh, inner_start, outer_start, work;
    unsigned char pad[64];
    check(SHA256_Init(&fresh));
    std::memset(pad, 0x36, sizeof pad);
    for (unsigned i = 0; i < sizeof f.key; ++i) pad[i] = static_cast<unsigned char>(f.key[i] ^ 0x36);
    inner_start = fresh;
    check(SHA256_Update(&inner_start, pad, sizeof pad));
    std::memset(pad, 0x5c, sizeof pad);
    for (unsigned i = 0; i < sizeof f.key; ++i) pad[i] = static_cast<unsigned char>(f.key[i] ^ 0x5c);
    outer_start = fresh;
    check(SHA256_Update(&outer_start, pad, sizeof pad));
    for (auto _ : state) {
        unsigned char digest[32], inner[32], mac[32];
        char hex[128];
        work = fresh;
        check(SHA256_Update(&work, f.canonical_request.data(), f.canonical_request.size()));
        check(SHA256_Final(digest, &work));
        to_hex(digest, sizeof digest, hex);
        work = inner_start;
        check(SHA256_Update(&work, f.string_to_sign.data(), f.string_to_sign.size()));
        check(SHA256_Final(inner, &work));
        work = outer_start;
        check(SHA256_Update(&work, inner, sizeof inner));
        check(SHA256_Final(mac, &work));
        to_hex(mac, sizeof mac, hex + 64);
        benchmark::DoNotOptimize(hex);
        benchmark::ClobberMemory();
    }
}
#pragma GCC diagnostic pop
BENCHMARK(BM_floor_lowlevel);

void BM_floor_init_each(benchmark::State& state) {
    const floor_inputs f = make_floor_inputs(state);
    EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ok_check check{state};
    for (auto _ : state) {
        unsigned char digest[32], inner[32], mac[32], pad[64];
        unsigned int len = 0;
        char hex[128];
        check(EVP_DigestInit_ex2(ctx, md, nullptr));
        check(EVP_DigestUpdate(ctx, f.canonical_request.data(), f.canonical_request.size()));
        check(EVP_DigestFinal_ex(ctx, digest, &len));
        to_hex(digest, sizeof digest, hex);
        std::memset(pad, 0x36, sizeof pad);
        for (unsigned i = 0; i < sizeof f.key; ++i) pad[i] = static_cast<unsigned char>(f.key[i] ^ 0x36);
        check(EVP_DigestInit_ex2(ctx, md, nullptr));
        check(EVP_DigestUpdate(ctx, pad, sizeof pad));
        check(EVP_DigestUpdate(ctx, f.string_to_sign.data(), f.string_to_sign.size()));
        check(EVP_DigestFinal_ex(ctx, inner, &len));
        std::memset(pad, 0x5c, sizeof pad);
        for (unsigned i = 0; i < sizeof f.key; ++i) pad[i] = static_cast<unsigned char>(f.key[i] ^ 0x5c);
        check(EVP_DigestInit_ex2(ctx, md, nullptr));
        check(EVP_DigestUpdate(ctx, pad, sizeof pad));
        check(EVP_DigestUpdate(ctx, inner, sizeof inner));
        check(EVP_DigestFinal_ex(ctx, mac, &len));
        to_hex(mac, sizeof mac, hex + 64);
        benchmark::DoNotOptimize(hex);
        benchmark::ClobberMemory();
    }
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
}
BENCHMARK(BM_floor_init_each);

void BM_floor_oneshot(benchmark::State& state) {
    const floor_inputs f = make_floor_inputs(state);
    for (auto _ : state) {
        unsigned char digest[32], mac[32];
        unsigned int mac_len = 0;
        char hex[128];
        SHA256(reinterpret_cast<const unsigned char*>(f.canonical_request.data()), f.canonical_request.size(), digest);
        to_hex(digest, sizeof digest, hex);
        HMAC(EVP_sha256(), f.key, sizeof f.key, reinterpret_cast<const unsigned char*>(f.string_to_sign.data()),
             f.string_to_sign.size(), mac, &mac_len);
        to_hex(mac, sizeof mac, hex + 64);
        benchmark::DoNotOptimize(hex);
        benchmark::ClobberMemory();
    }
}
BENCHMARK(BM_floor_oneshot);

}  // namespace
