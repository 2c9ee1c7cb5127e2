// Wiping secrets (lib/util/secret.hpp, iotjobs::credentials, sigv4::scoped_key): the wipe reaches
// the whole buffer, files are read without stray copies, credentials keep their values through
// copies and moves and leave nothing in a moved-from object.
#include "sigv4/sigv4.hpp"
#include "util/secret.hpp"

#include <iotjobs/config.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <new>
#include <string>
#include <unistd.h>

namespace {

// An allocator that remembers the block it handed out last, so the test can look at the bytes of
// a string's live buffer through a pointer it owns, without touching the string's internals.
struct block_record {
    char* ptr = nullptr;
    std::size_t size = 0;
};
template <class T>
struct recording_allocator {
    using value_type = T;
    block_record* rec;
    explicit recording_allocator(block_record* r) noexcept : rec(r) {}
    template <class U>
    recording_allocator(const recording_allocator<U>& o) noexcept : rec(o.rec) {}
    T* allocate(std::size_t n) {
        T* p = std::allocator<T>().allocate(n);
        rec->ptr = reinterpret_cast<char*>(p);
        rec->size = n * sizeof(T);
        return p;
    }
    void deallocate(T* p, std::size_t n) noexcept { std::allocator<T>().deallocate(p, n); }
    template <class U>
    bool operator==(const recording_allocator<U>& o) const noexcept {
        return rec == o.rec;
    }
};
using recorded_string = std::basic_string<char, std::char_traits<char>, recording_allocator<char>>;

bool all_zero(const char* p, std::size_t n) {
    return std::all_of(p, p + n, [](char c) { return c == 0; });
}

}  // namespace

TEST_CASE("secure_wipe: a buffer we own is zeroed") {
    unsigned char buf[37];
    std::fill(std::begin(buf), std::end(buf), static_cast<unsigned char>(0xA5));
    iotjobs::detail::secure_wipe(buf, sizeof buf);
    CHECK(std::all_of(std::begin(buf), std::end(buf), [](unsigned char c) { return c == 0; }));
    iotjobs::detail::secure_wipe(nullptr, 0);  // allowed
}

TEST_CASE("secure_wipe: a string's whole heap buffer is zeroed, the older longer value included") {
    block_record rec;
    recorded_string s{recording_allocator<char>(&rec)};
    s.assign(200, 'S');  // a secret longer than the inline buffer: on the heap
    REQUIRE(rec.ptr != nullptr);
    REQUIRE(rec.size >= 200);
    REQUIRE(s.data() == rec.ptr);
    s.assign("short");  // the buffer keeps the tail of the longer value after the terminator
    REQUIRE(s.data() == rec.ptr);
    CHECK(rec.ptr[100] == 'S');  // what a wipe of size() alone would miss
    iotjobs::detail::secure_wipe(s);
    CHECK(s.empty());
    CHECK(s.data() == rec.ptr);  // no reallocation: the bytes checked are the string's buffer
    CHECK(all_zero(rec.ptr, rec.size));
}

TEST_CASE("secure_wipe: a short string (inline buffer) ends empty and stays usable") {
    std::string s = "tok";
    iotjobs::detail::secure_wipe(s);
    CHECK(s.empty());
    s = "again";
    CHECK(s == "again");
}

TEST_CASE("wipe_on_exit wipes every string it was given, added ones too") {
    std::string a(100, 'a'), b(100, 'b');
    {
        iotjobs::detail::wipe_on_exit w{&a};
        w.add(b);
    }
    CHECK(a.empty());
    CHECK(b.empty());
    CHECK(a.capacity() >= 100);  // wiped in place, not freed
}

TEST_CASE("read_secret_file reads the whole file, and fails on a missing one") {
    const auto path = std::filesystem::temp_directory_path() / ("iotjobs-secret-" + std::to_string(::getpid()));
    std::string content(10000, 'x');
    content += "\ntail";
    std::ofstream(path, std::ios::binary) << content;
    std::string out = "previous";
    CHECK(iotjobs::detail::read_secret_file(path.string(), out));
    CHECK(out == content);
    std::filesystem::remove(path);
    CHECK_FALSE(iotjobs::detail::read_secret_file(path.string(), out));
    CHECK(out.empty());
}

TEST_CASE("credentials: values survive copies and moves; a moved-from object holds no secret") {
    iotjobs::credentials a{"AKID", std::string(64, 's'), std::string(300, 't')};
    iotjobs::credentials b = a;
    CHECK(b.secret_access_key == a.secret_access_key);
    CHECK(b.session_token == a.session_token);
    iotjobs::credentials c = std::move(a);
    CHECK(c.access_key_id == "AKID");
    CHECK(c.secret_access_key == std::string(64, 's'));
    CHECK(a.secret_access_key.empty());
    CHECK(a.session_token.empty());
    iotjobs::credentials d{"SHORT", "sec"};  // inline-buffer secrets
    d = std::move(c);
    CHECK(d.session_token == std::string(300, 't'));
    CHECK(c.secret_access_key.empty());
    d = b;
    CHECK(d.secret_access_key == b.secret_access_key);
    iotjobs::credentials e;
    CHECK(e.secret_access_key.empty());
}

TEST_CASE("sigv4::scoped_key holds the key it was given") {
    const auto k = iotjobs::sigv4::derive_signing_key("secret", "20150830", "us-east-1", "iam");
    const iotjobs::sigv4::scoped_key sk{k};
    CHECK(sk.bytes == k);
}
