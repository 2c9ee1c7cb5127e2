// Pure AWS Signature Version 4: no clock reads, no I/O.
// Used by the client to sign and by the fake server to verify.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace iotjobs::sigv4 {

using sys_seconds = std::chrono::sys_seconds;
using key_bytes = std::array<unsigned char, 32>;

inline constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view empty_payload_sha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct header {
    std::string_view name;   // any case; canonicalised to lowercase
    std::string_view value;  // raw; trimmed and whitespace runs collapsed when canonicalised
};

struct credentials_view {
    std::string_view access_key_id;
    std::string_view secret_access_key;
    std::string_view session_token;  // empty: none
};

struct options {
    bool normalize_path = true;       // remove . and .. segments, collapse //
    bool omit_session_token = false;  // sign without the token, add it afterwards
    bool sign_body = false;           // add and sign x-amz-content-sha256
};

struct request_view {
    std::string_view method;
    std::string_view path;            // as on the wire (labels already percent-encoded once)
    std::string_view query;           // as on the wire, without '?'; may be empty
    std::span<const header> headers;  // request headers (host included if the caller has one)
    std::string_view payload;         // the body (hashed unless payload_hash is given)
    std::string_view payload_hash;    // hex SHA-256 of the body, if already known
};

struct signing_input {
    request_view request;
    credentials_view credentials;
    std::string_view region;
    std::string_view service;
    sys_seconds time;
    options opts;
};

// A header the signer adds to the request: X-Amz-Security-Token, X-Amz-Date,
// x-amz-content-sha256, Authorization, in that order (each only when it applies; the order
// of AWS's published signed requests). Append them to the request as given.
struct added_header {
    std::string name;
    std::string value;
};

struct signing_result {
    std::string canonical_request;
    std::string string_to_sign;
    std::string signature;                    // 64 lowercase hex digits
    std::string authorization;                // header variant: the Authorization value; query variant: empty
    std::string signed_headers;               // "host;x-amz-date"
    std::vector<added_header> added_headers;  // header variant
    std::string query;                        // query variant: the full presigned query string
};

// "20150830T123600Z" and "20150830".
std::string amz_date(sys_seconds t);
// The same 16 characters written to out[0..16) (no allocation).
void write_amz_date(sys_seconds t, char* out) noexcept;
std::string date_stamp(sys_seconds t);
// Parses "YYYYMMDDTHHMMSSZ"; false on malformed input.
bool parse_amz_date(std::string_view s, sys_seconds& out);

// Building blocks (exposed for tests and for verification).
// The path as on the wire, normalized (see options::normalize_path) and percent-encoded once
// more, so `%3A` becomes `%253A`. An empty path is "/".
std::string canonical_uri(std::string_view path, bool normalize);
// The query as on the wire: each name and value percent-decoded, then uri_encode'd; pairs
// sorted by name, then value; a parameter without '=' gets an empty value. Empty -> "".
std::string canonical_query(std::string_view query);
// Percent-encodes every byte except A-Z a-z 0-9 - _ . ~ (and '/' when keep_slash).
std::string uri_encode(std::string_view s, bool keep_slash = false);
std::string hex_sha256(std::string_view data);
key_bytes derive_signing_key(std::string_view secret, std::string_view date_stamp, std::string_view region,
                             std::string_view service);
std::string hex_hmac_sha256(const key_bytes& key, std::string_view data);

// A copy of a signing key held while signing, wiped (OPENSSL_cleanse) when it goes out of scope.
struct scoped_key {
    key_bytes bytes;
    ~scoped_key();
};

// Caches signing keys per (secret, session token, date, region, service). Thread-safe.
// The secret and the token are never stored: an entry holds a SHA-256 of (secret, token), the
// scope "date/region/service" in clear and the derived key. Holds at most `capacity` entries
// (most recently used first; the least recently used one is dropped).
class signing_key_cache {
public:
    static constexpr std::size_t default_capacity = 16;

    explicit signing_key_cache(std::size_t capacity = default_capacity);
    ~signing_key_cache();
    signing_key_cache(const signing_key_cache&) = delete;
    signing_key_cache& operator=(const signing_key_cache&) = delete;

    key_bytes get(std::string_view secret, std::string_view session_token, std::string_view date_stamp,
                  std::string_view region, std::string_view service);
    std::size_t size() const;
    std::size_t capacity() const noexcept { return capacity_; }
    void clear();

private:
    struct entry {
        key_bytes id;       // SHA-256 of (secret, session token), never the secret itself
        std::string scope;  // "date/region/service"
        key_bytes key;
    };
    std::size_t capacity_;
    mutable std::mutex mutex_;
    std::vector<entry> entries_;  // small, most recent first
};

// The signing key of one secret for one region and service, kept for the latest date stamp it
// was asked for: what a client with fixed credentials needs on its hot path (a date comparison
// under a mutex; no hashing of the secret per call, unlike signing_key_cache). The secret,
// region and service must be the same on every call. Thread-safe; wipes the key when destroyed.
class signing_key_slot {
public:
    signing_key_slot() = default;
    ~signing_key_slot();
    signing_key_slot(const signing_key_slot&) = delete;
    signing_key_slot& operator=(const signing_key_slot&) = delete;

    key_bytes get(std::string_view secret, std::string_view date_stamp, std::string_view region,
                  std::string_view service);

private:
    std::mutex mutex_;
    char date_[8] = {};
    bool valid_ = false;
    key_bytes key_{};
};

// Header signing: the Authorization header. If the request already has an x-amz-date
// header it is used as is (and must match `time`: its value is what gets signed); otherwise
// X-Amz-Date is added. Likewise an x-amz-security-token header already present is signed as
// given and not added again, and an x-amz-content-sha256 header already present is not added
// again when opts.sign_body is set. `host` must be among the request headers.
// Every request header is signed except those AWS SDKs never sign: authorization, connection,
// expect, keep-alive, proxy-authenticate, proxy-authorization, te, trailer, transfer-encoding,
// upgrade, user-agent, x-amzn-trace-id.
// The last canonical-request line is payload_hash if given, else the SHA-256 of payload.
// Throws only std::bad_alloc or std::runtime_error (OpenSSL failure). Safe to call from many
// threads at once: hashing uses per-thread OpenSSL contexts (thread_local), which also keep
// the HMAC pad states of the last signing key that thread used.
signing_result sign_headers(const signing_input& in, signing_key_cache* cache = nullptr);

// sign_headers() reduced to what a client sending the request needs: writes the Authorization
// value (the same as sign_headers' for the same input) into `authorization`, reusing its
// capacity, and builds nothing else (the canonical request and string to sign go to per-thread
// scratch buffers). `key` is the signing key for in.credentials' secret, the date stamp of the
// request's date, in.region and in.service (signing_key_slot, signing_key_cache or
// derive_signing_key). Headers the signer would add (X-Amz-Date, X-Amz-Security-Token,
// x-amz-content-sha256) are signed but not returned: put them in in.request.headers to send them.
void sign_authorization(const signing_input& in, const key_bytes& key, std::string& authorization);

// Query signing (presigned URL) with X-Amz-Expires = expires_seconds. Signs the request's
// own headers (same exclusions as sign_headers); adds no header. `query` in the result is the
// request's query followed by X-Amz-Algorithm, -Credential, -Date, -SignedHeaders, -Expires,
// [-Security-Token], -Signature.
signing_result sign_query(const signing_input& in, unsigned expires_seconds, signing_key_cache* cache = nullptr);

// Server side: parses an Authorization header value.
struct parsed_authorization {
    std::string_view access_key_id;
    std::string_view date;  // scope date, YYYYMMDD
    std::string_view region;
    std::string_view service;
    std::string_view signed_headers;  // "a;b;c"
    std::string_view signature;
};
// The views point into `value`. False unless the value is "AWS4-HMAC-SHA256 " followed by
// Credential=<akid>/<YYYYMMDD>/<region>/<service>/aws4_request, SignedHeaders=<a;b>,
// Signature=<64 lowercase hex> (each exactly once, any order, spaces around commas allowed).
bool parse_authorization(std::string_view value, parsed_authorization& out);

// Server side: recomputes the signature for the headers named in `signed_headers`
// (taken from request.headers; a named header that is missing makes it fail) and compares
// in constant time. Returns true when it matches. Also false when amz_date_value is malformed
// or its date differs from the credential scope date, or when signed_headers is not a
// lowercase, strictly sorted list. Checking the clock skew and the access key is the caller's job.
bool verify(const request_view& request, const parsed_authorization& auth, std::string_view amz_date_value,
            std::string_view secret_access_key, signing_key_cache* cache = nullptr, bool normalize_path = true);

// Constant-time comparison of two strings of equal length (false if lengths differ).
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace iotjobs::sigv4
