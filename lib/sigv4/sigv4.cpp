// Pure AWS Signature Version 4. No clock reads, no I/O; OpenSSL only for SHA-256.
//
// Hot path (sign_headers with a warm signing_key_cache): the canonical request, the string to
// sign and the Authorization value are each written once into a string sized from an upper
// bound (one allocation each); the hashing is one SHA-256 of the canonical request, one
// HMAC-SHA256 of the string to sign, plus the cache lookup's SHA-256 of (secret, token) (one
// block for a long-term key). SHA-256 is OpenSSL's low-level SHA256_* on per-thread states (see
// thread_sha256): OpenSSL 3's SHA256()/HMAC() one-shots fetch the algorithm on every call, and
// EVP contexts allocate on every copy, which costs more than the hashing itself for inputs this
// small.
#include "sigv4/sigv4.hpp"

#include "util/encoding.hpp"
#include "util/text.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace iotjobs::sigv4 {
namespace {

constexpr char upper_hex[] = "0123456789ABCDEF";
using detail::hex_encode;  // util/encoding.hpp

// ---------------------------------------------------------------------------------------------
// SHA-256 / HMAC-SHA256

[[noreturn]] void crypto_failure() { throw std::runtime_error("sigv4: OpenSSL SHA-256 failed"); }

constexpr std::size_t hmac_block = 64;

// OpenSSL's low-level SHA-256 (SHA256_Init/Update/Final, deprecated in 3.0 but still built): the
// same block function as EVP's (SHA-NI where the CPU has it) without EVP's per-call provider
// dispatch, and a state that is a plain struct, copied by assignment. Through EVP, every
// EVP_MD_CTX_copy_ex frees and allocates the provider's context: three allocations per signature.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
void sha_init(SHA256_CTX& c) {
    if (SHA256_Init(&c) != 1) crypto_failure();
}
void sha_update(SHA256_CTX& c, const void* data, std::size_t n) {
    if (n != 0 && SHA256_Update(&c, data, n) != 1) crypto_failure();
}
void sha_final(SHA256_CTX& c, unsigned char* out) {
    if (SHA256_Final(out, &c) != 1) crypto_failure();
}
#pragma GCC diagnostic pop

// Per-thread SHA-256 state. For HMAC with the signing key, `inner`/`outer` hold the key's ipad
// and opad blocks already absorbed, prepared again only when the thread sees another key.
class thread_sha256 {
public:
    thread_sha256() { sha_init(fresh_); }
    ~thread_sha256() {  // key-derived states
        OPENSSL_cleanse(memo_key_.data(), memo_key_.size());
        OPENSSL_cleanse(&inner_, sizeof inner_);
        OPENSSL_cleanse(&outer_, sizeof outer_);
        OPENSSL_cleanse(&inner_head_, sizeof inner_head_);
        OPENSSL_cleanse(&work_, sizeof work_);
    }
    thread_sha256(const thread_sha256&) = delete;
    thread_sha256& operator=(const thread_sha256&) = delete;

    // Starts a new digest in `work`.
    void start() { work_ = fresh_; }
    void update(const void* data, std::size_t n) { sha_update(work_, data, n); }
    void update(std::string_view s) { update(s.data(), s.size()); }
    void finish(unsigned char* out) { sha_final(work_, out); }

    // HMAC-SHA256 with a 32-byte key, using (and refreshing) the memoised pad states. A message
    // longer than a block also reuses the inner state after its first block when that block is
    // the previous message's: a string to sign starts with the algorithm, the request time and
    // the scope, so every signature within the same second shares it.
    void hmac_memo(const key_bytes& key, std::string_view msg, unsigned char* out) {
        if (!memo_valid_ || memo_key_ != key) prepare_memo(key);
        unsigned char inner[32];
        if (msg.size() > hmac_block) {
            if (!head_valid_ || std::memcmp(head_, msg.data(), hmac_block) != 0) {
                head_valid_ = false;
                inner_head_ = inner_;
                sha_update(inner_head_, msg.data(), hmac_block);
                std::memcpy(head_, msg.data(), hmac_block);
                head_valid_ = true;
            }
            work_ = inner_head_;
            update(msg.substr(hmac_block));
        } else {
            work_ = inner_;
            update(msg);
        }
        finish(inner);
        work_ = outer_;
        update(inner, sizeof inner);
        finish(out);
    }

private:
    void prepare_memo(const key_bytes& key) {
        memo_valid_ = false;
        head_valid_ = false;
        unsigned char pad[hmac_block];
        for (std::size_t i = 0; i < hmac_block; ++i) pad[i] = static_cast<unsigned char>((i < 32 ? key[i] : 0) ^ 0x36);
        inner_ = fresh_;
        sha_update(inner_, pad, sizeof pad);
        for (std::size_t i = 0; i < hmac_block; ++i) pad[i] = static_cast<unsigned char>((i < 32 ? key[i] : 0) ^ 0x5c);
        outer_ = fresh_;
        sha_update(outer_, pad, sizeof pad);
        OPENSSL_cleanse(pad, sizeof pad);
        memo_key_ = key;
        memo_valid_ = true;
    }

    SHA256_CTX work_{}, fresh_{}, inner_{}, outer_{};
    key_bytes memo_key_{};
    bool memo_valid_ = false;
    // inner_ with head_ (a message's first block) absorbed too.
    SHA256_CTX inner_head_{};
    unsigned char head_[hmac_block] = {};
    bool head_valid_ = false;
};

// Operations run start..finish without calling another operation in between (no nesting).
thread_sha256& thread_hasher() {
    thread_local thread_sha256 hasher;
    return hasher;
}

void sha256(std::string_view data, unsigned char* out) {
    auto& h = thread_hasher();
    h.start();
    h.update(data);
    h.finish(out);
}

// HMAC-SHA256 (RFC 2104) for any key (key derivation); key-derived blocks are wiped afterwards.
void hmac_sha256(const unsigned char* key, std::size_t key_len, std::string_view msg, unsigned char* out) {
    unsigned char k[hmac_block] = {};
    if (key_len > hmac_block) {
        sha256(std::string_view(reinterpret_cast<const char*>(key), key_len), k);
    } else if (key_len != 0) {
        std::memcpy(k, key, key_len);
    }
    unsigned char pad[hmac_block];
    for (std::size_t i = 0; i < hmac_block; ++i) pad[i] = static_cast<unsigned char>(k[i] ^ 0x36);
    unsigned char inner[32];
    auto& h = thread_hasher();
    h.start();
    h.update(pad, hmac_block);
    h.update(msg);
    h.finish(inner);
    for (std::size_t i = 0; i < hmac_block; ++i) pad[i] = static_cast<unsigned char>(k[i] ^ 0x5c);
    h.start();
    h.update(pad, hmac_block);
    h.update(inner, sizeof inner);
    h.finish(out);
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(pad, sizeof pad);
}

void hmac_sha256(const unsigned char* key, std::size_t key_len, std::string_view msg, key_bytes& out) {
    hmac_sha256(key, key_len, msg, out.data());
}

// Identifies a cache entry's credentials: SHA-256 of (secret, session token): 4-byte little-endian secret length, secret, token.
// One SHA-256 block for a 40-character secret without a token. The rest of the cache key
// (date, region, service) is not secret and is compared in clear.
key_bytes credentials_id(std::string_view secret, std::string_view token) {
    auto& h = thread_hasher();
    h.start();
    unsigned char len[4];
    const auto n = static_cast<std::uint32_t>(secret.size());
    for (int i = 0; i < 4; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
    h.update(len, sizeof len);
    h.update(secret);
    h.update(token);
    key_bytes id;
    h.finish(id.data());
    return id;
}

bool scope_equals(std::string_view scope, std::string_view date, std::string_view region,
                  std::string_view service) noexcept {
    return scope.size() == date.size() + region.size() + service.size() + 2 && scope.substr(0, date.size()) == date &&
           scope[date.size()] == '/' && scope.substr(date.size() + 1, region.size()) == region &&
           scope[date.size() + 1 + region.size()] == '/' && scope.substr(date.size() + region.size() + 2) == service;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

// A vector that lives on the stack (uninitialised) while it holds at most N elements.
template <class T, std::size_t N>
class small_vec {
    static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

public:
    small_vec() noexcept = default;
    small_vec(const small_vec&) = delete;
    small_vec& operator=(const small_vec&) = delete;

    void push_back(const T& v) {
        if (size_ < N) {
            ::new (static_cast<void*>(storage_ + size_ * sizeof(T))) T(v);
        } else {
            if (size_ == N) heap_.assign(stack_begin(), stack_begin() + N);
            heap_.push_back(v);
        }
        ++size_;
    }
    T* begin() noexcept { return size_ <= N ? stack_begin() : heap_.data(); }
    T* end() noexcept { return begin() + size_; }
    T& operator[](std::size_t i) noexcept { return begin()[i]; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }

private:
    T* stack_begin() noexcept { return std::launder(reinterpret_cast<T*>(storage_)); }
    alignas(T) unsigned char storage_[N * sizeof(T)];
    std::vector<T> heap_;
    std::size_t size_ = 0;
};

using detail::iequals;  // util/text.hpp

constexpr unsigned char ascii_lower(unsigned char c) noexcept {
    return static_cast<unsigned char>(detail::ascii_lower(static_cast<char>(c)));
}

// <0, 0, >0 comparing the lowercase forms.
int icompare(std::string_view a, std::string_view b) noexcept {
    const std::size_t n = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
        const unsigned char x = ascii_lower(static_cast<unsigned char>(a[i]));
        const unsigned char y = ascii_lower(static_cast<unsigned char>(b[i]));
        if (x != y) return x < y ? -1 : 1;
    }
    return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

// Output cursor into a buffer that was sized beforehand from an upper bound of what is
// written (no capacity checks per piece; the string is shrunk to the written length after).
struct cursor {
    char* p;
    void put(char c) noexcept { *p++ = c; }
    void put(std::string_view s) noexcept {
        if (!s.empty()) std::memcpy(p, s.data(), s.size());
        p += s.size();
    }
    void put_lower(std::string_view s) noexcept {
        for (char c : s) *p++ = static_cast<char>(ascii_lower(static_cast<unsigned char>(c)));
    }
    void put_hex(const unsigned char* in, std::size_t n) noexcept {
        hex_encode(in, n, p);
        p += 2 * n;
    }
};

// Sizes s to `bound`, lets f write through a cursor, then trims s to what was written.
template <class F>
void write_bounded(std::string& s, std::size_t bound, F&& f) {
    s.resize(bound);
    cursor c{s.data()};
    f(c);
    s.resize(static_cast<std::size_t>(c.p - s.data()));
}

struct space_table {
    bool v[256] = {};
    constexpr space_table() {
        for (char c : {' ', '\t', '\r', '\n', '\v', '\f'}) v[static_cast<unsigned char>(c)] = true;
    }
};
constexpr space_table spaces{};

constexpr bool is_space(char c) noexcept { return spaces.v[static_cast<unsigned char>(c)]; }

std::string_view trim(std::string_view s) noexcept { return detail::trim_if(s, is_space); }

// Trimmed, every run of whitespace (folded lines included) replaced by one space.
// Writes at most v.size() bytes.
void put_header_value(cursor& out, std::string_view v) noexcept {
    v = trim(v);
    std::size_t i = 0;
    while (i < v.size()) {
        std::size_t j = i;
        while (j < v.size() && !is_space(v[j])) ++j;
        out.put(v.substr(i, j - i));
        if (j == v.size()) break;
        out.put(' ');
        while (j < v.size() && is_space(v[j])) ++j;
        i = j;
    }
}

// Bytes left as they are by URI encoding: A-Z a-z 0-9 - _ . ~ (and '/' with keep_slash).
struct unreserved_table {
    bool v[256] = {};
    constexpr explicit unreserved_table(bool slash) {
        for (int c = 'A'; c <= 'Z'; ++c) v[c] = true;
        for (int c = 'a'; c <= 'z'; ++c) v[c] = true;
        for (int c = '0'; c <= '9'; ++c) v[c] = true;
        v[static_cast<unsigned char>('-')] = true;
        v[static_cast<unsigned char>('_')] = true;
        v[static_cast<unsigned char>('.')] = true;
        v[static_cast<unsigned char>('~')] = true;
        v[static_cast<unsigned char>('/')] = slash;
    }
};
constexpr unreserved_table unreserved{false};
constexpr unreserved_table unreserved_or_slash{true};

constexpr bool is_unreserved(char c) noexcept { return unreserved.v[static_cast<unsigned char>(c)]; }

void put_percent(cursor& out, unsigned char c) noexcept {
    out.put('%');
    out.put(upper_hex[c >> 4]);
    out.put(upper_hex[c & 0x0f]);
}

// Writes at most 3 * s.size() bytes.
void put_uri_encoded(cursor& out, std::string_view s, bool keep_slash) noexcept {
    const bool* const keep = keep_slash ? unreserved_or_slash.v : unreserved.v;
    std::size_t i = 0;
    while (i < s.size()) {
        std::size_t j = i;
        while (j < s.size() && keep[static_cast<unsigned char>(s[j])]) ++j;
        out.put(s.substr(i, j - i));
        if (j == s.size()) break;
        put_percent(out, static_cast<unsigned char>(s[j]));
        i = j + 1;
    }
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Percent-decodes s (a '%' not followed by two hex digits stays literal), then encodes.
// Writes at most 3 * s.size() bytes.
void put_reencoded(cursor& out, std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == '%' && i + 2 < s.size()) {
            const int hi = hex_value(s[i + 1]);
            const int lo = hex_value(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                c = static_cast<unsigned char>(hi * 16 + lo);
                i += 2;
            }
        }
        if (is_unreserved(static_cast<char>(c))) {
            out.put(static_cast<char>(c));
        } else {
            put_percent(out, c);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Canonical URI

// Fast path for a path that normalization leaves as it is: encodes it and returns true; returns
// false (having written some bytes the caller discards) when the path does not start with '/'
// or has an empty ("//"), "." or ".." segment.
bool put_path_if_normal(cursor& out, std::string_view p) noexcept {
    if (p.empty() || p.front() != '/') return false;
    const std::size_t n = p.size();
    std::size_t run = 0;  // start of the bytes not yet written
    for (std::size_t i = 0; i < n; ++i) {
        const char c = p[i];
        if (c == '/') {
            if (i + 1 < n && p[i + 1] == '/') return false;
            if (i + 1 < n && p[i + 1] == '.') {
                std::size_t j = i + 2;
                if (j < n && p[j] == '.') ++j;
                if (j == n || p[j] == '/') return false;
            }
        } else if (!is_unreserved(c)) {
            out.put(p.substr(run, i - run));
            put_percent(out, static_cast<unsigned char>(c));
            run = i + 1;
        }
    }
    out.put(p.substr(run));
    return true;
}

// Writes at most canonical_uri_bound(path.size()) bytes.
constexpr std::size_t canonical_uri_bound(std::size_t n) noexcept { return 3 * n + 2; }

void put_canonical_uri(cursor& out, std::string_view path, bool normalize) {
    if (path.empty()) {
        out.put('/');
        return;
    }
    if (!normalize) {
        put_uri_encoded(out, path, true);
        return;
    }
    char* const mark = out.p;
    if (put_path_if_normal(out, path)) return;
    out.p = mark;
    small_vec<std::string_view, 32> segs;
    std::size_t kept = 0;  // segs[0, kept) is the output stack
    std::size_t start = 0;
    for (;;) {
        const std::size_t end = path.find('/', start);
        const bool last = end == std::string_view::npos;
        const std::string_view seg = path.substr(start, last ? std::string_view::npos : end - start);
        if (seg == "..") {
            if (kept > 0) --kept;
        } else if (!seg.empty() && seg != ".") {
            if (kept < segs.size()) {
                segs[kept] = seg;
            } else {
                segs.push_back(seg);
            }
            ++kept;
        }
        if (last) break;
        start = end + 1;
    }
    out.put('/');
    for (std::size_t i = 0; i < kept; ++i) {
        if (i != 0) out.put('/');
        put_uri_encoded(out, segs[i], false);
    }
    if (kept != 0 && path.back() == '/') out.put('/');
}

// ---------------------------------------------------------------------------------------------
// Canonical query

struct query_param {
    std::string_view name;
    std::string_view value;
    friend bool operator<(const query_param& a, const query_param& b) noexcept {
        const int c = a.name.compare(b.name);
        return c != 0 ? c < 0 : a.value < b.value;
    }
};

bool all_unreserved(std::string_view s) noexcept {
    for (char c : s) {
        if (!is_unreserved(c)) return false;
    }
    return true;
}

void put_sorted(cursor& out, query_param* first, query_param* last) {
    std::sort(first, last);
    for (query_param* p = first; p != last; ++p) {
        if (p != first) out.put('&');
        out.put(p->name);
        out.put('=');
        out.put(p->value);
    }
}

// Every byte of a name or value becomes at most 3; a parameter without '=' gains one.
constexpr std::size_t canonical_query_bound(std::size_t n) noexcept { return 4 * n; }

// Calls f(name, value) for each non-empty '&'-separated parameter of `query`, in order (value
// empty when the parameter has no '='), until f returns false. False when f stopped it.
template <class F>
bool for_each_query_param(std::string_view query, F f) {
    std::size_t start = 0;
    for (;;) {
        const std::size_t end = query.find('&', start);
        const bool last = end == std::string_view::npos;
        const std::string_view piece = query.substr(start, last ? std::string_view::npos : end - start);
        if (!piece.empty()) {
            const std::size_t eq = piece.find('=');
            if (!f(piece.substr(0, eq), eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1)))
                return false;
        }
        if (last) return true;
        start = end + 1;
    }
}

void put_canonical_query(cursor& out, std::string_view query) {
    if (query.empty()) return;
    // Fast path: every name and value is already in canonical form (only unreserved bytes),
    // so the pairs are slices of the query itself.
    small_vec<query_param, 16> params;
    const bool simple = for_each_query_param(query, [&](std::string_view name, std::string_view value) {
        if (!all_unreserved(name) || !all_unreserved(value)) return false;
        params.push_back(query_param{name, value});
        return true;
    });
    if (simple) {
        put_sorted(out, params.begin(), params.end());
        return;
    }

    // General path: decode and re-encode every name and value into a scratch buffer.
    struct span_pair {
        std::size_t name_begin, name_end, value_end;
    };
    std::string scratch(3 * query.size(), '\0');
    cursor sc{scratch.data()};
    std::vector<span_pair> spans;
    const auto at = [&] { return static_cast<std::size_t>(sc.p - scratch.data()); };
    for_each_query_param(query, [&](std::string_view name, std::string_view value) {
        span_pair sp{};
        sp.name_begin = at();
        put_reencoded(sc, name);
        sp.name_end = at();
        put_reencoded(sc, value);
        sp.value_end = at();
        spans.push_back(sp);
        return true;
    });
    std::vector<query_param> all;
    all.reserve(spans.size());
    const std::string_view buf = scratch;
    for (const auto& sp : spans) {
        all.push_back({buf.substr(sp.name_begin, sp.name_end - sp.name_begin),
                       buf.substr(sp.name_end, sp.value_end - sp.name_end)});
    }
    put_sorted(out, all.data(), all.data() + all.size());
}

// ---------------------------------------------------------------------------------------------
// Canonical headers

struct canon_header {
    std::string_view name;  // any case
    std::string_view value;
    std::uint32_t order;  // position in the request, for a stable sort
    friend bool operator<(const canon_header& a, const canon_header& b) noexcept {
        const int c = icompare(a.name, b.name);
        return c != 0 ? c < 0 : a.order < b.order;
    }
};
using header_list = small_vec<canon_header, 16>;

enum class header_kind { other, never_signed, amz_date, security_token, content_sha256 };

// What a request header is to the signer (names compared without case).
header_kind classify(std::string_view name) noexcept {
    const auto is = [&](std::string_view n) { return iequals(name, n); };
    switch (name.size()) {
    case 2: return is("te") ? header_kind::never_signed : header_kind::other;
    case 6: return is("expect") ? header_kind::never_signed : header_kind::other;
    case 7: return is("trailer") || is("upgrade") ? header_kind::never_signed : header_kind::other;
    case 10:
        if (is("x-amz-date")) return header_kind::amz_date;
        return is("connection") || is("keep-alive") || is("user-agent") ? header_kind::never_signed
                                                                        : header_kind::other;
    case 13: return is("authorization") ? header_kind::never_signed : header_kind::other;
    case 15: return is("x-amzn-trace-id") ? header_kind::never_signed : header_kind::other;
    case 17: return is("transfer-encoding") ? header_kind::never_signed : header_kind::other;
    case 18: return is("proxy-authenticate") ? header_kind::never_signed : header_kind::other;
    case 19: return is("proxy-authorization") ? header_kind::never_signed : header_kind::other;
    case 20:
        if (is("x-amz-security-token")) return header_kind::security_token;
        return is("x-amz-content-sha256") ? header_kind::content_sha256 : header_kind::other;
    default: return header_kind::other;
    }
}

bool never_signed(std::string_view name) noexcept { return classify(name) == header_kind::never_signed; }

// hs must be sorted. Writes "name:v1,v2\n" lines (at most headers_bound(hs) bytes).
void put_canonical_headers(cursor& out, header_list& hs) noexcept {
    std::size_t i = 0;
    const std::size_t n = hs.size();
    while (i < n) {
        const std::string_view name = hs[i].name;
        out.put_lower(name);
        out.put(':');
        put_header_value(out, hs[i].value);
        std::size_t j = i + 1;
        for (; j < n && iequals(hs[j].name, name); ++j) {
            out.put(',');
            put_header_value(out, hs[j].value);
        }
        out.put('\n');
        i = j;
    }
}

// hs must be sorted. "a;b": the distinct names, lowercase (at most signed_headers_bound(hs) bytes).
void put_signed_headers(cursor& out, header_list& hs) noexcept {
    for (std::size_t i = 0; i < hs.size(); ++i) {
        if (i != 0 && iequals(hs[i].name, hs[i - 1].name)) continue;
        if (i != 0) out.put(';');
        out.put_lower(hs[i].name);
    }
}

std::size_t headers_bound(header_list& hs) noexcept {
    std::size_t n = 0;
    for (const auto& h : hs) n += h.name.size() + h.value.size() + 2;
    return n;
}

std::size_t signed_headers_bound(header_list& hs) noexcept {
    std::size_t n = 0;
    for (const auto& h : hs) n += h.name.size() + 1;
    return n;
}

// ---------------------------------------------------------------------------------------------
// Dates

void format_digits(char* out, unsigned value, int width) noexcept {
    for (int i = width - 1; i >= 0; --i) {
        out[i] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
}

// Writes the 16 characters of "YYYYMMDDTHHMMSSZ".
void format_amz_date(sys_seconds t, char* out) noexcept {
    using namespace std::chrono;
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss<seconds> hms{t - day};
    format_digits(out, static_cast<unsigned>(static_cast<int>(ymd.year())), 4);
    format_digits(out + 4, static_cast<unsigned>(ymd.month()), 2);
    format_digits(out + 6, static_cast<unsigned>(ymd.day()), 2);
    out[8] = 'T';
    format_digits(out + 9, static_cast<unsigned>(hms.hours().count()), 2);
    format_digits(out + 11, static_cast<unsigned>(hms.minutes().count()), 2);
    format_digits(out + 13, static_cast<unsigned>(hms.seconds().count()), 2);
    out[15] = 'Z';
}

// ---------------------------------------------------------------------------------------------
// Shared signing steps

struct payload_hash_buf {
    char hex[64];
};

std::string_view payload_hash_of(const request_view& r, payload_hash_buf& buf) {
    if (!r.payload_hash.empty()) return r.payload_hash;
    if (r.payload.empty()) return empty_payload_sha256;
    unsigned char d[32];
    sha256(r.payload, d);
    hex_encode(d, sizeof d, buf.hex);
    return {buf.hex, sizeof buf.hex};
}

// Writes the canonical request into creq, the header lines written by put_headers (at most
// headers_size bytes). canonical_query_text: the canonical query if already known, else null and
// the request's query is canonicalised.
template <class PutHeaders>
void write_canonical_request(std::string& creq, const request_view& r, const std::string* canonical_query_text,
                             bool normalize, std::size_t headers_size, PutHeaders&& put_headers,
                             std::string_view signed_headers, std::string_view payload_hash) {
    const std::size_t query_bound =
        canonical_query_text != nullptr ? canonical_query_text->size() : canonical_query_bound(r.query.size());
    const std::size_t bound = r.method.size() + canonical_uri_bound(r.path.size()) + query_bound + headers_size +
                              signed_headers.size() + payload_hash.size() + 5;
    write_bounded(creq, bound, [&](cursor& c) {
        c.put(r.method);
        c.put('\n');
        put_canonical_uri(c, r.path, normalize);
        c.put('\n');
        if (canonical_query_text != nullptr) {
            c.put(*canonical_query_text);
        } else {
            put_canonical_query(c, r.query);
        }
        c.put('\n');
        put_headers(c);
        c.put('\n');
        c.put(signed_headers);
        c.put('\n');
        c.put(payload_hash);
    });
}

// Sorts hs and writes the canonical request into creq and the signed-header list into
// signed_headers.
void build_canonical_request(std::string& creq, std::string& signed_headers, const request_view& r,
                             const std::string* canonical_query_text, bool normalize, header_list& hs,
                             std::string_view payload_hash) {
    std::sort(hs.begin(), hs.end());
    write_bounded(signed_headers, signed_headers_bound(hs), [&](cursor& c) { put_signed_headers(c, hs); });
    write_canonical_request(
        creq, r, canonical_query_text, normalize, headers_bound(hs), [&](cursor& c) { put_canonical_headers(c, hs); },
        signed_headers, payload_hash);
}

// The canonical header lines and signed-header list of the last headers signed on this thread,
// and those headers (as planned, in request order): a client signs the same ones (host, date,
// token) for every request within a second, and the texts depend on nothing else.
struct header_memo {
    std::vector<std::pair<std::string, std::string>> from;
    std::string lines, signed_list;

    // Makes the texts those of hs (sorting it when they must be made again).
    void update(header_list& hs) {
        if (made_from(hs)) return;
        from.resize(hs.size());
        for (std::size_t i = 0; i < hs.size(); ++i) {
            from[i].first.assign(hs[i].name);
            from[i].second.assign(hs[i].value);
        }
        std::sort(hs.begin(), hs.end());
        write_bounded(signed_list, signed_headers_bound(hs), [&](cursor& c) { put_signed_headers(c, hs); });
        write_bounded(lines, headers_bound(hs), [&](cursor& c) { put_canonical_headers(c, hs); });
    }

private:
    bool made_from(header_list& hs) const noexcept {
        if (hs.size() != from.size() || hs.size() == 0) return false;
        for (std::size_t i = 0; i < hs.size(); ++i)
            if (hs[i].name != from[i].first || hs[i].value != from[i].second) return false;
        return true;
    }
};

constexpr std::string_view scope_terminator = "/aws4_request";

// "AWS4-HMAC-SHA256\n<date>\n<scope>\n<hex sha256(creq)>"; scope is date/region/service/aws4_request.
void build_string_to_sign(std::string& sts, std::string_view amzdate, std::string_view datestamp,
                          std::string_view region, std::string_view service, const std::string& creq) {
    unsigned char d[32];
    sha256(creq, d);
    const std::size_t size = algorithm.size() + 1 + amzdate.size() + 1 + datestamp.size() + 1 + region.size() + 1 +
                             service.size() + scope_terminator.size() + 1 + 64;
    write_bounded(sts, size, [&](cursor& c) {
        c.put(algorithm);
        c.put('\n');
        c.put(amzdate);
        c.put('\n');
        c.put(datestamp);
        c.put('/');
        c.put(region);
        c.put('/');
        c.put(service);
        c.put(scope_terminator);
        c.put('\n');
        c.put_hex(d, sizeof d);
    });
}

void compute_signature(std::string& out, const key_bytes& key, std::string_view sts) {
    unsigned char mac[32];
    thread_hasher().hmac_memo(key, sts, mac);
    out.resize(64);
    hex_encode(mac, sizeof mac, out.data());
}

key_bytes signing_key(signing_key_cache* cache, std::string_view secret, std::string_view token,
                      std::string_view datestamp, std::string_view region, std::string_view service) {
    if (cache != nullptr) return cache->get(secret, token, datestamp, region, service);
    return derive_signing_key(secret, datestamp, region, service);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public building blocks

std::string amz_date(sys_seconds t) {
    std::string s(16, '\0');
    format_amz_date(t, s.data());
    return s;
}

void write_amz_date(sys_seconds t, char* out) noexcept {
    // Every request of a second has the same date: formatted once per second and thread.
    thread_local sys_seconds last = sys_seconds::min();
    thread_local char text[16];
    if (t != last) {
        format_amz_date(t, text);
        last = t;
    }
    std::memcpy(out, text, sizeof text);
}

std::string date_stamp(sys_seconds t) {
    char buf[16];
    format_amz_date(t, buf);
    return std::string(buf, 8);
}

bool parse_amz_date(std::string_view s, sys_seconds& out) {
    using namespace std::chrono;
    if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return false;
    auto num = [&](std::size_t pos, std::size_t len, int& v) {
        v = 0;
        for (std::size_t i = pos; i < pos + len; ++i) {
            if (s[i] < '0' || s[i] > '9') return false;
            v = v * 10 + (s[i] - '0');
        }
        return true;
    };
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
    if (!num(0, 4, y) || !num(4, 2, mo) || !num(6, 2, d) || !num(9, 2, h) || !num(11, 2, mi) || !num(13, 2, se))
        return false;
    const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!ymd.ok() || h > 23 || mi > 59 || se > 59) return false;
    out = sys_days{ymd} + hours{h} + minutes{mi} + seconds{se};
    return true;
}

std::string canonical_uri(std::string_view path, bool normalize) {
    std::string out;
    write_bounded(out, canonical_uri_bound(path.size()), [&](cursor& c) { put_canonical_uri(c, path, normalize); });
    return out;
}

std::string canonical_query(std::string_view query) {
    std::string out;
    write_bounded(out, canonical_query_bound(query.size()), [&](cursor& c) { put_canonical_query(c, query); });
    return out;
}

std::string uri_encode(std::string_view s, bool keep_slash) {
    std::string out;
    write_bounded(out, 3 * s.size(), [&](cursor& c) { put_uri_encoded(c, s, keep_slash); });
    return out;
}

std::string hex_sha256(std::string_view data) {
    unsigned char d[32];
    sha256(data, d);
    std::string out(64, '\0');
    hex_encode(d, sizeof d, out.data());
    return out;
}

key_bytes derive_signing_key(std::string_view secret, std::string_view date_stamp_value, std::string_view region,
                             std::string_view service) {
    // kSecret = "AWS4" + secret, on the stack when it fits.
    unsigned char stack_buf[128];
    std::vector<unsigned char> heap_buf;
    unsigned char* k = stack_buf;
    const std::size_t k_len = 4 + secret.size();
    if (k_len > sizeof stack_buf) {
        heap_buf.resize(k_len);
        k = heap_buf.data();
    }
    std::memcpy(k, "AWS4", 4);
    if (!secret.empty()) std::memcpy(k + 4, secret.data(), secret.size());

    key_bytes k_date, k_region, k_service, k_signing;
    hmac_sha256(k, k_len, date_stamp_value, k_date);
    OPENSSL_cleanse(k, k_len);
    hmac_sha256(k_date.data(), k_date.size(), region, k_region);
    hmac_sha256(k_region.data(), k_region.size(), service, k_service);
    hmac_sha256(k_service.data(), k_service.size(), "aws4_request", k_signing);
    OPENSSL_cleanse(k_date.data(), k_date.size());
    OPENSSL_cleanse(k_region.data(), k_region.size());
    OPENSSL_cleanse(k_service.data(), k_service.size());
    return k_signing;
}

scoped_key::~scoped_key() { OPENSSL_cleanse(bytes.data(), bytes.size()); }

std::string hex_hmac_sha256(const key_bytes& key, std::string_view data) {
    std::string out;
    compute_signature(out, key, data);
    return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    if (a.empty()) return true;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// ---------------------------------------------------------------------------------------------
// signing_key_cache

signing_key_cache::signing_key_cache(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {
    entries_.reserve(capacity_ + 1);
}

signing_key_cache::~signing_key_cache() {
    for (auto& e : entries_) OPENSSL_cleanse(e.key.data(), e.key.size());
}

key_bytes signing_key_cache::get(std::string_view secret, std::string_view session_token,
                                 std::string_view date_stamp_value, std::string_view region, std::string_view service) {
    const key_bytes id = credentials_id(secret, session_token);
    const auto matches = [&](const entry& e) {
        return e.id == id && scope_equals(e.scope, date_stamp_value, region, service);
    };
    {
        std::lock_guard lock(mutex_);
        for (std::size_t i = 0; i < entries_.size(); ++i) {
            if (matches(entries_[i])) {
                if (i != 0)
                    std::rotate(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(i),
                                entries_.begin() + static_cast<std::ptrdiff_t>(i) + 1);
                return entries_.front().key;
            }
        }
    }
    // Derive outside the lock; two threads missing at once both derive the same key.
    const key_bytes key = derive_signing_key(secret, date_stamp_value, region, service);
    std::string scope;
    scope.reserve(date_stamp_value.size() + region.size() + service.size() + 2);
    scope.append(date_stamp_value).append("/").append(region).append("/").append(service);
    std::lock_guard lock(mutex_);
    for (const auto& e : entries_) {
        if (matches(e)) return key;  // another thread inserted it meanwhile
    }
    entries_.insert(entries_.begin(), entry{id, std::move(scope), key});
    if (entries_.size() > capacity_) {
        OPENSSL_cleanse(entries_.back().key.data(), entries_.back().key.size());
        entries_.pop_back();
    }
    return key;
}

std::size_t signing_key_cache::size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
}

void signing_key_cache::clear() {
    std::lock_guard lock(mutex_);
    for (auto& e : entries_) OPENSSL_cleanse(e.key.data(), e.key.size());
    entries_.clear();
}

// ---------------------------------------------------------------------------------------------
// Signing

namespace {

// What sign_headers and sign_authorization share: the headers to sign (the request's, minus the
// never-signed ones, plus what the signer adds), the dates and the payload hash. Filled in place
// (views may point into date_buf / phb).
struct header_plan {
    header_list hs;
    std::string_view amzdate, datestamp, payload_hash, token;
    bool has_date = false, add_token = false, add_content_sha = false;
    char date_buf[16];
    payload_hash_buf phb;
};

void plan_headers(const signing_input& in, header_plan& p) {
    const request_view& r = in.request;
    std::string_view date_header;
    bool has_token = false, has_content_sha = false;
    std::uint32_t order = 0;
    for (const header& h : r.headers) {
        switch (classify(h.name)) {
        case header_kind::never_signed: ++order; continue;
        case header_kind::amz_date:
            p.has_date = true;
            date_header = trim(h.value);
            break;
        case header_kind::security_token: has_token = true; break;
        case header_kind::content_sha256: has_content_sha = true; break;
        case header_kind::other: break;
        }
        p.hs.push_back({h.name, h.value, order});
        ++order;
    }

    if (p.has_date) {
        p.amzdate = date_header;
    } else {
        format_amz_date(in.time, p.date_buf);
        p.amzdate = std::string_view(p.date_buf, sizeof p.date_buf);
    }
    if (p.amzdate.size() >= 8) {
        p.datestamp = p.amzdate.substr(0, 8);
    } else {
        format_amz_date(in.time, p.date_buf);
        p.datestamp = std::string_view(p.date_buf, 8);
    }

    p.payload_hash = payload_hash_of(r, p.phb);

    p.token = in.credentials.session_token;
    p.add_token = !p.token.empty() && !has_token;
    const bool sign_token = p.add_token && !in.opts.omit_session_token;
    p.add_content_sha = in.opts.sign_body && !has_content_sha;
    if (sign_token) p.hs.push_back({"x-amz-security-token", p.token, order++});
    if (!p.has_date) p.hs.push_back({"x-amz-date", p.amzdate, order++});
    if (p.add_content_sha) p.hs.push_back({"x-amz-content-sha256", p.payload_hash, order++});
}

// "AWS4-HMAC-SHA256 Credential=<akid>/<scope>, SignedHeaders=<sh>, Signature=<sig>"
void write_authorization(std::string& out, const signing_input& in, std::string_view datestamp,
                         std::string_view signed_headers, std::string_view signature) {
    constexpr std::string_view credential_label = " Credential=";
    constexpr std::string_view signed_headers_label = ", SignedHeaders=";
    constexpr std::string_view signature_label = ", Signature=";
    const std::size_t auth_size = algorithm.size() + credential_label.size() + in.credentials.access_key_id.size() + 1 +
                                  datestamp.size() + 1 + in.region.size() + 1 + in.service.size() +
                                  scope_terminator.size() + signed_headers_label.size() + signed_headers.size() +
                                  signature_label.size() + signature.size();
    write_bounded(out, auth_size, [&](cursor& c) {
        c.put(algorithm);
        c.put(credential_label);
        c.put(in.credentials.access_key_id);
        c.put('/');
        c.put(datestamp);
        c.put('/');
        c.put(in.region);
        c.put('/');
        c.put(in.service);
        c.put(scope_terminator);
        c.put(signed_headers_label);
        c.put(signed_headers);
        c.put(signature_label);
        c.put(signature);
    });
}

// Per-thread scratch strings of sign_authorization (their capacity is what is reused).
struct sign_scratch {
    std::string canonical_request, string_to_sign;
    header_memo headers;
};

}  // namespace

signing_result sign_headers(const signing_input& in, signing_key_cache* cache) {
    const request_view& r = in.request;
    header_plan p;
    plan_headers(in, p);

    signing_result res;
    build_canonical_request(res.canonical_request, res.signed_headers, r, nullptr, in.opts.normalize_path, p.hs,
                            p.payload_hash);

    build_string_to_sign(res.string_to_sign, p.amzdate, p.datestamp, in.region, in.service, res.canonical_request);
    const scoped_key key{
        signing_key(cache, in.credentials.secret_access_key, p.token, p.datestamp, in.region, in.service)};
    compute_signature(res.signature, key.bytes, res.string_to_sign);
    write_authorization(res.authorization, in, p.datestamp, res.signed_headers, res.signature);

    res.added_headers.reserve(static_cast<std::size_t>(p.add_token) + !p.has_date + p.add_content_sha + 1);
    if (p.add_token) res.added_headers.push_back({"X-Amz-Security-Token", std::string(p.token)});
    if (!p.has_date) res.added_headers.push_back({"X-Amz-Date", std::string(p.amzdate)});
    if (p.add_content_sha) res.added_headers.push_back({"x-amz-content-sha256", std::string(p.payload_hash)});
    res.added_headers.push_back({"Authorization", res.authorization});
    return res;
}

void sign_authorization(const signing_input& in, const key_bytes& key, std::string& authorization) {
    header_plan p;
    plan_headers(in, p);
    thread_local sign_scratch scratch;
    header_memo& h = scratch.headers;
    h.update(p.hs);
    write_canonical_request(
        scratch.canonical_request, in.request, nullptr, in.opts.normalize_path, h.lines.size(),
        [&](cursor& c) { c.put(h.lines); }, h.signed_list, p.payload_hash);
    build_string_to_sign(scratch.string_to_sign, p.amzdate, p.datestamp, in.region, in.service,
                         scratch.canonical_request);
    unsigned char mac[32];
    thread_hasher().hmac_memo(key, scratch.string_to_sign, mac);
    char signature[64];
    hex_encode(mac, sizeof mac, signature);
    write_authorization(authorization, in, p.datestamp, h.signed_list, std::string_view(signature, sizeof signature));
}

// ---------------------------------------------------------------------------------------------
// signing_key_slot

signing_key_slot::~signing_key_slot() { OPENSSL_cleanse(key_.data(), key_.size()); }

key_bytes signing_key_slot::get(std::string_view secret, std::string_view date_stamp_value, std::string_view region,
                                std::string_view service) {
    {
        std::lock_guard lock(mutex_);
        if (valid_ && date_stamp_value.size() == sizeof date_ &&
            std::memcmp(date_, date_stamp_value.data(), sizeof date_) == 0)
            return key_;
    }
    const key_bytes key = derive_signing_key(secret, date_stamp_value, region, service);
    if (date_stamp_value.size() == sizeof date_) {
        std::lock_guard lock(mutex_);
        std::memcpy(date_, date_stamp_value.data(), sizeof date_);
        key_ = key;
        valid_ = true;
    }
    return key;
}

signing_result sign_query(const signing_input& in, unsigned expires_seconds, signing_key_cache* cache) {
    const request_view& r = in.request;
    header_list hs;
    std::uint32_t order = 0;
    for (const header& h : r.headers) {
        if (!never_signed(h.name)) hs.push_back({h.name, h.value, order});
        ++order;
    }

    char date_buf[16];
    format_amz_date(in.time, date_buf);
    const std::string_view amzdate(date_buf, sizeof date_buf);
    const std::string_view datestamp = amzdate.substr(0, 8);

    signing_result res;
    // The signed header list goes into the query, so it is needed before the canonical request.
    std::sort(hs.begin(), hs.end());
    write_bounded(res.signed_headers, signed_headers_bound(hs), [&](cursor& c) { put_signed_headers(c, hs); });

    std::string credential;
    credential.append(in.credentials.access_key_id).append("/").append(datestamp).append("/");
    credential.append(in.region).append("/").append(in.service).append("/aws4_request");

    const std::string_view token = in.credentials.session_token;
    const std::string token_param = token.empty() ? std::string() : "X-Amz-Security-Token=" + uri_encode(token);

    // Parameters in the order they are appended to the URL (before the signature).
    std::string added;
    added.append("X-Amz-Algorithm=").append(algorithm);
    added.append("&X-Amz-Credential=").append(uri_encode(credential));
    added.append("&X-Amz-Date=").append(amzdate);
    added.append("&X-Amz-SignedHeaders=").append(uri_encode(res.signed_headers));
    added.append("&X-Amz-Expires=").append(std::to_string(expires_seconds));

    std::string signed_query(r.query);
    if (!signed_query.empty()) signed_query.push_back('&');
    signed_query.append(added);
    if (!token.empty() && !in.opts.omit_session_token) signed_query.append("&").append(token_param);
    const std::string canon_query = canonical_query(signed_query);

    payload_hash_buf phb;
    const std::string_view payload_hash = payload_hash_of(r, phb);

    std::string signed_headers_again;  // rebuilt by build_canonical_request, identical
    build_canonical_request(res.canonical_request, signed_headers_again, r, &canon_query, in.opts.normalize_path, hs,
                            payload_hash);

    build_string_to_sign(res.string_to_sign, amzdate, datestamp, in.region, in.service, res.canonical_request);
    const scoped_key key{signing_key(cache, in.credentials.secret_access_key, token, datestamp, in.region, in.service)};
    compute_signature(res.signature, key.bytes, res.string_to_sign);

    res.query.assign(r.query);
    if (!res.query.empty()) res.query.push_back('&');
    res.query.append(added);
    if (!token.empty()) res.query.append("&").append(token_param);
    res.query.append("&X-Amz-Signature=").append(res.signature);
    return res;
}

// ---------------------------------------------------------------------------------------------
// Server side

bool parse_authorization(std::string_view value, parsed_authorization& out) {
    value = trim(value);
    if (value.substr(0, algorithm.size()) != algorithm) return false;
    value.remove_prefix(algorithm.size());
    if (value.empty() || value.front() != ' ') return false;

    parsed_authorization res{};
    bool have_credential = false, have_signed = false, have_signature = false;
    std::size_t start = 0;
    for (;;) {
        const std::size_t end = value.find(',', start);
        const bool last = end == std::string_view::npos;
        const std::string_view part = trim(value.substr(start, last ? std::string_view::npos : end - start));
        const std::size_t eq = part.find('=');
        if (eq == std::string_view::npos) return false;
        const std::string_view key = part.substr(0, eq);
        const std::string_view val = part.substr(eq + 1);
        if (key == "Credential") {
            if (have_credential) return false;
            have_credential = true;
            // akid/date/region/service/aws4_request
            std::string_view fields[5];
            std::size_t n = 0, pos = 0;
            for (;;) {
                const std::size_t slash = val.find('/', pos);
                if (n == 5) return false;
                fields[n++] = val.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
                if (slash == std::string_view::npos) break;
                pos = slash + 1;
            }
            if (n != 5 || fields[0].empty() || fields[2].empty() || fields[3].empty() || fields[4] != "aws4_request" ||
                fields[1].size() != 8)
                return false;
            for (char c : fields[1]) {
                if (c < '0' || c > '9') return false;
            }
            res.access_key_id = fields[0];
            res.date = fields[1];
            res.region = fields[2];
            res.service = fields[3];
        } else if (key == "SignedHeaders") {
            if (have_signed || val.empty()) return false;
            have_signed = true;
            res.signed_headers = val;
        } else if (key == "Signature") {
            if (have_signature || val.size() != 64) return false;
            for (char c : val) {
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
            }
            have_signature = true;
            res.signature = val;
        } else {
            return false;
        }
        if (last) break;
        start = end + 1;
    }
    if (!have_credential || !have_signed || !have_signature) return false;
    out = res;
    return true;
}

bool verify(const request_view& request, const parsed_authorization& auth, std::string_view amz_date_value,
            std::string_view secret_access_key, signing_key_cache* cache, bool normalize_path) {
    sys_seconds t;
    if (!parse_amz_date(amz_date_value, t)) return false;
    if (amz_date_value.substr(0, 8) != auth.date) return false;
    if (auth.signed_headers.empty() || auth.region.empty() || auth.service.empty()) return false;

    // The request headers named in SignedHeaders.
    header_list hs;
    std::string_view token;
    std::uint32_t order = 0;
    for (const header& h : request.headers) {
        std::size_t start = 0;
        bool named = false;
        for (;;) {
            const std::size_t end = auth.signed_headers.find(';', start);
            const bool last = end == std::string_view::npos;
            if (iequals(h.name, auth.signed_headers.substr(start, last ? std::string_view::npos : end - start))) {
                named = true;
                break;
            }
            if (last) break;
            start = end + 1;
        }
        if (named) {
            hs.push_back({h.name, h.value, order});
            if (iequals(h.name, "x-amz-security-token")) token = trim(h.value);
        }
        ++order;
    }

    payload_hash_buf phb;
    const std::string_view payload_hash = payload_hash_of(request, phb);

    std::string signed_headers;
    std::string creq;
    build_canonical_request(creq, signed_headers, request, nullptr, normalize_path, hs, payload_hash);
    // The names found, sorted and lowercased, must be exactly the list the client signed: this
    // rejects a missing header, an unsorted or repeated list and uppercase names.
    if (signed_headers != auth.signed_headers) return false;

    std::string sts;
    build_string_to_sign(sts, amz_date_value, auth.date, auth.region, auth.service, creq);
    const scoped_key key{signing_key(cache, secret_access_key, token, auth.date, auth.region, auth.service)};
    std::string signature;
    compute_signature(signature, key.bytes, sts);
    return constant_time_equal(signature, auth.signature);
}

}  // namespace iotjobs::sigv4
