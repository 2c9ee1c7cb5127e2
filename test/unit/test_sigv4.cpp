// SigV4: AWS's published conformance suites (aws-c-auth and botocore layouts), the
// DeleteJobExecution cross-SDK vectors, and unit tests of every building block.
#include <doctest/doctest.h>

#include "sigv4/sigv4.hpp"

#include <boost/json.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace iotjobs::sigv4;
using namespace std::literals;

namespace {

// ---------------------------------------------------------------------------------------------
// Locating and reading the test data

std::string env_or_empty(const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr ? std::string(v) : std::string();
}

fs::path shared_dir() {
    const std::string env = env_or_empty("IOTJOBS_SHARED_DIR");
    if (!env.empty()) return fs::path(env);
    // test/unit/test_sigv4.cpp -> <repo>/../shared
    return fs::path(__FILE__).parent_path().parent_path().parent_path().parent_path() / "shared";
}

fs::path suite_dir(const char* env_name, const char* sub) {
    const std::string env = env_or_empty(env_name);
    if (!env.empty()) return fs::path(env);
    return shared_dir() / "testdata" / sub;
}

std::string read_file(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    REQUIRE_MESSAGE(f.good(), "cannot open " << p.string());
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::vector<fs::path> case_dirs(const fs::path& dir, bool (*is_case)(const fs::path&)) {
    std::vector<fs::path> out;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return out;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.is_directory() && is_case(e.path())) out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

// ---------------------------------------------------------------------------------------------
// The raw request format of the suites: request line, "Name:value" lines (continuation lines
// start with whitespace and belong to the previous header), then optionally "\n" + body.

struct raw_request {
    std::string_view method, target, version, path, query, body;
    std::size_t headers_begin = 0;  // offset of the first header line
    std::size_t head_end = 0;       // offset just past the last header line's '\n'
    std::vector<header> headers;
};

raw_request parse_raw_request(const std::string& text) {
    raw_request r;
    const std::string_view t = text;
    const std::size_t eol = t.find('\n');
    REQUIRE(eol != std::string_view::npos);
    const std::string_view line = t.substr(0, eol);
    const std::size_t sp1 = line.find(' ');
    const std::size_t sp2 = line.rfind(' ');
    REQUIRE(sp1 != std::string_view::npos);
    REQUIRE(sp2 > sp1);
    r.method = line.substr(0, sp1);
    r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    r.version = line.substr(sp2 + 1);
    const std::size_t q = r.target.find('?');
    r.path = r.target.substr(0, q);
    r.query = q == std::string_view::npos ? std::string_view() : r.target.substr(q + 1);

    std::size_t pos = eol + 1;
    r.headers_begin = pos;
    r.head_end = pos;
    std::size_t value_begin = 0;
    while (pos < t.size()) {
        std::size_t end = t.find('\n', pos);
        const bool has_nl = end != std::string_view::npos;
        if (!has_nl) end = t.size();
        const std::string_view l = t.substr(pos, end - pos);
        if (l.empty()) {  // blank line: the body follows
            r.body = t.substr(std::min(t.size(), end + 1));
            break;
        }
        if (l.front() == ' ' || l.front() == '\t') {
            REQUIRE_FALSE(r.headers.empty());
            r.headers.back().value = t.substr(value_begin, end - value_begin);
        } else {
            const std::size_t colon = l.find(':');
            REQUIRE(colon != std::string_view::npos);
            value_begin = pos + colon + 1;
            r.headers.push_back({l.substr(0, colon), t.substr(value_begin, end - value_begin)});
        }
        pos = has_nl ? end + 1 : end;
        r.head_end = pos;
    }
    return r;
}

sys_seconds parse_iso8601(std::string_view iso) {
    // "2015-08-30T12:36:00Z" -> "20150830T123600Z"
    std::string compact;
    for (char c : iso) {
        if (c != '-' && c != ':') compact.push_back(c);
    }
    sys_seconds t{};
    REQUIRE_MESSAGE(parse_amz_date(compact, t), "bad timestamp " << iso);
    return t;
}

std::string_view sv(const json::value& v) {
    const json::string& s = v.as_string();
    return {s.data(), s.size()};
}

// CHECKs a == b and tells whether it held.
bool same(std::string_view what, const std::string& got, const std::string& want) {
    INFO(what);
    CHECK(got == want);
    return got == want;
}

constexpr std::string_view test_secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

}  // namespace

// =============================================================================================
// AWS conformance suite, aws-c-auth layout

TEST_CASE("sigv4: aws-c-auth suite (header and query variants)") {
    const fs::path dir = suite_dir("IOTJOBS_SIGV4_SUITE", "sigv4");
    INFO("suite directory: " << dir.string());
    const auto cases = case_dirs(dir, [](const fs::path& p) { return fs::exists(p / "context.json"); });
    REQUIRE_MESSAGE(!cases.empty(), "no SigV4 cases found (a missing or empty suite is a failure)");

    std::size_t passed = 0;
    for (const fs::path& c : cases) {
        const std::string name = c.filename().string();
        CAPTURE(name);
        const json::value ctx = json::parse(read_file(c / "context.json"));
        const json::object& o = ctx.as_object();
        const json::object& cred = o.at("credentials").as_object();
        const std::string request_text = read_file(c / "request.txt");
        const raw_request raw = parse_raw_request(request_text);

        signing_input in{};
        in.request.method = raw.method;
        in.request.path = raw.path;
        in.request.query = raw.query;
        in.request.headers = raw.headers;
        in.request.payload = raw.body;
        in.credentials.access_key_id = sv(cred.at("access_key_id"));
        in.credentials.secret_access_key = sv(cred.at("secret_access_key"));
        if (cred.contains("token")) in.credentials.session_token = sv(cred.at("token"));
        in.region = sv(o.at("region"));
        in.service = sv(o.at("service"));
        in.time = parse_iso8601(sv(o.at("timestamp")));
        in.opts.normalize_path = o.at("normalize").as_bool();
        in.opts.sign_body = o.at("sign_body").as_bool();
        if (o.contains("omit_session_token")) in.opts.omit_session_token = o.at("omit_session_token").as_bool();
        const auto expires = static_cast<unsigned>(o.at("expiration_in_seconds").to_number<std::int64_t>());

        bool ok = true;
        // Header variant.
        {
            signing_key_cache cache;
            const signing_result r = sign_headers(in, &cache);
            ok &= same("header canonical request", r.canonical_request, read_file(c / "header-canonical-request.txt"));
            ok &= same("header string to sign", r.string_to_sign, read_file(c / "header-string-to-sign.txt"));
            ok &= same("header signature", r.signature, read_file(c / "header-signature.txt"));
            std::string signed_request = request_text.substr(0, raw.head_end);
            for (const auto& h : r.added_headers) signed_request += h.name + ":" + h.value + "\n";
            signed_request += "\n";
            signed_request.append(raw.body);
            ok &= same("header signed request", signed_request, read_file(c / "header-signed-request.txt"));
            REQUIRE_FALSE(r.added_headers.empty());
            ok &= same("Authorization value", r.added_headers.back().value, r.authorization);
            // Same result without a cache.
            ok &= same("uncached signature", sign_headers(in).signature, r.signature);
            // The client's entry point: the same Authorization value, into a reused string.
            const key_bytes key =
                derive_signing_key(in.credentials.secret_access_key, r.string_to_sign.substr(algorithm.size() + 18, 8),
                                   in.region, in.service);
            std::string auth =
                "stale value, longer than the Authorization value it is replaced with ......"
                "......................................................................";
            sign_authorization(in, key, auth);
            ok &= same("sign_authorization", auth, r.authorization);
        }
        // Query variant (presigned URL).
        {
            const signing_result r = sign_query(in, expires);
            ok &= same("query canonical request", r.canonical_request, read_file(c / "query-canonical-request.txt"));
            ok &= same("query string to sign", r.string_to_sign, read_file(c / "query-string-to-sign.txt"));
            ok &= same("query signature", r.signature, read_file(c / "query-signature.txt"));
            std::string signed_request;
            signed_request.append(raw.method).append(" ").append(raw.path).append("?").append(r.query);
            signed_request.append(" ").append(raw.version).append("\n");
            signed_request.append(request_text, raw.headers_begin, raw.head_end - raw.headers_begin);
            signed_request += "\n";
            signed_request.append(raw.body);
            ok &= same("query signed request", signed_request, read_file(c / "query-signed-request.txt"));
            CHECK(r.authorization.empty());
            CHECK(r.added_headers.empty());
        }
        if (ok) ++passed;
    }
    MESSAGE("aws-c-auth SigV4 suite: " << passed << "/" << cases.size() << " cases passed (" << dir.string() << ")");
    CHECK(passed == cases.size());
}

// =============================================================================================
// AWS conformance suite, botocore (older) layout

TEST_CASE("sigv4: botocore suite") {
    const fs::path dir = suite_dir("IOTJOBS_SIGV4_BOTOCORE_SUITE", "sigv4-botocore");
    INFO("suite directory: " << dir.string());
    const auto cases =
        case_dirs(dir, [](const fs::path& p) { return fs::exists(p / (p.filename().string() + ".req")); });
    REQUIRE_MESSAGE(!cases.empty(), "no SigV4 cases found (a missing or empty suite is a failure)");

    std::size_t passed = 0;
    for (const fs::path& c : cases) {
        const std::string name = c.filename().string();
        CAPTURE(name);
        const auto file = [&](const char* ext) { return read_file(c / (name + ext)); };
        const std::string request_text = file(".req");
        const raw_request raw = parse_raw_request(request_text);

        signing_input in{};
        in.request.method = raw.method;
        in.request.path = raw.path;
        in.request.query = raw.query;
        in.request.headers = raw.headers;
        in.request.payload = raw.body;
        in.credentials.access_key_id = "AKIDEXAMPLE";
        in.credentials.secret_access_key = test_secret;
        in.region = "us-east-1";
        in.service = "service";
        in.time = parse_iso8601("2015-08-30T12:36:00Z");

        const signing_result r = sign_headers(in);
        bool ok = true;
        ok &= same("canonical request", r.canonical_request, file(".creq"));
        ok &= same("string to sign", r.string_to_sign, file(".sts"));
        ok &= same("authorization", r.authorization, file(".authz"));
        // The request already carries X-Amz-Date: only Authorization is added.
        CHECK(r.added_headers.size() == 1);
        ok = ok && r.added_headers.size() == 1;
        std::string signed_request = request_text.substr(0, raw.head_end);
        if (!signed_request.ends_with('\n')) signed_request += '\n';  // one .req lacks the final newline
        signed_request += "Authorization: " + r.authorization;
        ok &= same("signed request", signed_request, file(".sreq"));
        if (ok) ++passed;
    }
    MESSAGE("botocore SigV4 suite: " << passed << "/" << cases.size() << " cases passed (" << dir.string() << ")");
    CHECK(passed == cases.size());
}

// =============================================================================================
// DeleteJobExecution cross-SDK vectors (botocore, AWS SDK for JavaScript v3, minimal)

namespace {

const json::value* find_header(const json::object& headers, std::string_view name) {
    for (const auto& kv : headers) {
        const std::string_view k(kv.key().data(), kv.key().size());
        if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
            }))
            return &kv.value();
    }
    return nullptr;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (;;) {
        const std::size_t end = s.find(sep, start);
        out.push_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return out;
}

}  // namespace

TEST_CASE("sigv4: DeleteJobExecution vectors (minimal, botocore, JS v3)") {
    const fs::path file = shared_dir() / "testdata" / "delete_job_execution" / "vectors.json";
    INFO("vectors: " << file.string());
    const json::value doc = json::parse(read_file(file));
    const json::array& cases = doc.as_array();
    REQUIRE_MESSAGE(!cases.empty(), "no vectors found");

    std::size_t passed = 0, blocks = 0;
    signing_key_cache cache;
    for (const json::value& cv : cases) {
        const json::object& c = cv.as_object();
        const std::string name(sv(c.at("name")));
        CAPTURE(name);
        const json::object& cred = c.at("credentials").as_object();
        credentials_view creds{sv(cred.at("access_key_id")), sv(cred.at("secret_access_key")), {}};
        if (cred.contains("session_token")) creds.session_token = sv(cred.at("session_token"));
        sys_seconds t{};
        REQUIRE(parse_amz_date(sv(c.at("amz_date")), t));
        const std::string_view region = sv(c.at("region"));
        const std::string_view service = sv(c.at("service"));
        bool ok = true;

        // minimal_sigv4: the botocore URL with only host; the signer adds the rest.
        {
            INFO("block: minimal_sigv4");
            const json::object& m = c.at("minimal_sigv4").as_object();
            const json::object& breq = c.at("botocore").as_object().at("request").as_object();
            const header hs[] = {{"host", sv(breq.at("host"))}};
            signing_input in{};
            in.request.method = sv(breq.at("method"));
            in.request.path = sv(breq.at("path"));
            in.request.query = sv(breq.at("query"));
            in.request.headers = hs;
            in.credentials = creds;
            in.region = region;
            in.service = service;
            in.time = t;
            const signing_result r = sign_headers(in, &cache);
            ok &= same("canonical request", r.canonical_request, std::string(sv(m.at("canonical_request"))));
            ok &= same("string to sign", r.string_to_sign, std::string(sv(m.at("string_to_sign"))));
            ok &= same("signature", r.signature, std::string(sv(m.at("signature"))));
            ok &= same("authorization", r.authorization, std::string(sv(m.at("authorization"))));
            ok &= same("signed headers", r.signed_headers, std::string(sv(m.at("signed_headers"))));
            // The added headers are exactly the reference's headers other than host.
            const json::object& mh = m.at("headers").as_object();
            CHECK(r.added_headers.size() + 1 == mh.size());
            for (const auto& h : r.added_headers) {
                INFO("added header " << h.name);
                const json::value* want = find_header(mh, h.name);
                REQUIRE(want != nullptr);
                ok &= same("added header value", h.value, std::string(sv(*want)));
            }
            ++blocks;
        }

        // Both SDK blocks: exactly the headers they signed, as they sent them.
        for (const char* sdk : {"botocore", "aws_sdk_js_v3"}) {
            INFO("block: " << sdk);
            const json::object& b = c.at(sdk).as_object();
            const json::object& req = b.at("request").as_object();
            const json::object& req_headers = req.at("headers").as_object();
            std::vector<header> hs;
            for (std::string_view n : split(sv(b.at("signed_headers")), ';')) {
                if (n == "host") {
                    hs.push_back({"host", sv(req.at("host"))});
                    continue;
                }
                const json::value* v = find_header(req_headers, n);
                REQUIRE_MESSAGE(v != nullptr, "signed header missing from the request: " << n);
                hs.push_back({n, sv(*v)});
            }
            signing_input in{};
            in.request.method = sv(req.at("method"));
            in.request.path = sv(req.at("path"));
            in.request.query = sv(req.at("query"));
            in.request.headers = hs;
            in.credentials = creds;
            in.region = region;
            in.service = service;
            in.time = t;
            in.opts.sign_body = false;
            const signing_result r = sign_headers(in, &cache);
            ok &= same("canonical request", r.canonical_request, std::string(sv(b.at("canonical_request"))));
            ok &= same("string to sign", r.string_to_sign, std::string(sv(b.at("string_to_sign"))));
            ok &= same("signature", r.signature, std::string(sv(b.at("signature"))));
            ok &= same("authorization", r.authorization, std::string(sv(req.at("authorization"))));
            // x-amz-date (and the token) are already there: nothing is added twice.
            CHECK(r.added_headers.size() == 1);
            ok = ok && r.added_headers.size() == 1;

            // The server side accepts what the SDK sent.
            parsed_authorization pa;
            REQUIRE(parse_authorization(sv(req.at("authorization")), pa));
            const json::value* date = find_header(req_headers, "x-amz-date");
            REQUIRE(date != nullptr);
            const bool verified = verify(in.request, pa, sv(*date), creds.secret_access_key, &cache);
            CHECK(verified);
            ok = ok && verified;
            ++blocks;
        }
        if (ok) ++passed;
    }
    MESSAGE("DeleteJobExecution vectors: " << passed << "/" << cases.size() << " cases passed (" << blocks
                                           << " signing blocks)");
    CHECK(passed == cases.size());
    CHECK(cache.size() <= cache.capacity());
}

// =============================================================================================
// Building blocks

TEST_CASE("sigv4: uri_encode") {
    CHECK(uri_encode("") == "");
    CHECK(uri_encode("AZaz09-_.~") == "AZaz09-_.~");
    CHECK(uri_encode("a b") == "a%20b");
    CHECK(uri_encode("a+b=c/d") == "a%2Bb%3Dc%2Fd");
    CHECK(uri_encode("a/b", true) == "a/b");
    CHECK(uri_encode("%3A") == "%253A");
    CHECK(uri_encode("\xe1\x88\xb4") == "%E1%88%B4");
    CHECK(uri_encode("$&:@!*'()") == "%24%26%3A%40%21%2A%27%28%29");
    CHECK(uri_encode(std::string_view("\0", 1)) == "%00");
}

TEST_CASE("sigv4: canonical_uri") {
    SUBCASE("double encoding of labels already encoded once") {
        CHECK(canonical_uri("/things/my%3Athing/jobs/job-1/executionNumber/7", true) ==
              "/things/my%253Athing/jobs/job-1/executionNumber/7");
        CHECK(canonical_uri("/things/my%3Athing/jobs/job-1/executionNumber/7", false) ==
              "/things/my%253Athing/jobs/job-1/executionNumber/7");
    }
    SUBCASE("normalization") {
        CHECK(canonical_uri("", true) == "/");
        CHECK(canonical_uri("", false) == "/");
        CHECK(canonical_uri("/", true) == "/");
        CHECK(canonical_uri("//", true) == "/");
        CHECK(canonical_uri("//", false) == "//");
        CHECK(canonical_uri("/./", true) == "/");
        CHECK(canonical_uri("/example/..", true) == "/");
        CHECK(canonical_uri("/example/..", false) == "/example/..");
        CHECK(canonical_uri("/a/b/../../..", true) == "/");
        CHECK(canonical_uri("//example//", true) == "/example/");
        CHECK(canonical_uri("/a/./b/../c/", true) == "/a/c/");
        CHECK(canonical_uri("/example space/", true) == "/example%20space/");
        CHECK(canonical_uri("/example/$delete", true) == "/example/%24delete");
    }
}

TEST_CASE("sigv4: canonical_query") {
    CHECK(canonical_query("") == "");
    CHECK(canonical_query("force=true") == "force=true");
    SUBCASE("sorted by name, then value") {
        CHECK(canonical_query("Param2=value2&Param1=value1") == "Param1=value1&Param2=value2");
        CHECK(canonical_query("b=1&B=2&a=3") == "B=2&a=3&b=1");
        CHECK(canonical_query("namespaceId=AWS&force=true") == "force=true&namespaceId=AWS");
    }
    SUBCASE("same name twice") {
        CHECK(canonical_query("Param1=value2&Param1=value1") == "Param1=value1&Param1=value2");
        CHECK(canonical_query("a=x&a=x") == "a=x&a=x");
    }
    SUBCASE("empty names, values and pieces") {
        CHECK(canonical_query("a") == "a=");
        CHECK(canonical_query("a=") == "a=");
        CHECK(canonical_query("b=&a") == "a=&b=");
        CHECK(canonical_query("&&a=1&") == "a=1");
    }
    SUBCASE("encoded once: wire encoding is decoded first") {
        CHECK(canonical_query("namespaceId=a%20b") == "namespaceId=a%20b");
        CHECK(canonical_query("namespaceId=a%2fb") == "namespaceId=a%2Fb");
        CHECK(canonical_query("k=a b") == "k=a%20b");
        CHECK(canonical_query("k=a+b") == "k=a%2Bb");
        CHECK(canonical_query("k=a=b") == "k=a%3Db");
        CHECK(canonical_query("k=100%") == "k=100%25");
        CHECK(canonical_query("\xe1\x88\xb4=bar") == "%E1%88%B4=bar");
        CHECK(canonical_query("status=QUEUED&maxResults=250&nextToken=ab%2Bc%2Fd%3D%3D&namespaceId=AWS") ==
              "maxResults=250&namespaceId=AWS&nextToken=ab%2Bc%2Fd%3D%3D&status=QUEUED");
    }
    SUBCASE("many parameters (beyond the on-stack capacity)") {
        std::string q, want;
        for (int i = 39; i >= 0; --i) {
            if (!q.empty()) q += '&';
            q += "p" + std::to_string(100 + i) + "=v";
        }
        for (int i = 0; i < 40; ++i) {
            if (!want.empty()) want += '&';
            want += "p" + std::to_string(100 + i) + "=v";
        }
        CHECK(canonical_query(q) == want);
    }
}

TEST_CASE("sigv4: canonical forms of random input (bounds and invariants)") {
    // Random paths, queries and header values from an alphabet rich in the bytes that matter
    // (separators, '%', dots, spaces, non-ASCII), checked for invariants; under a sanitizer
    // this also checks that the writers stay inside their precomputed bounds.
    std::uint64_t seed = 0x9e3779b97f4a7c15ull;
    const auto next = [&] {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        return seed;
    };
    static constexpr std::string_view alphabet =
        "/./..//a%2F%zz=&&==+ ~\t\xe1\x88\xb4"
        "Az09-_.\n:;";
    const auto random_string = [&](std::size_t max_len) {
        std::string out;
        const std::size_t n = next() % (max_len + 1);
        for (std::size_t i = 0; i < n; ++i) out.push_back(alphabet[next() % alphabet.size()]);
        return out;
    };
    const auto canonical_chars = [](std::string_view s, std::string_view extra) {
        for (std::size_t i = 0; i < s.size(); ++i) {
            const char c = s[i];
            const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                               c == '_' || c == '.' || c == '~' || extra.find(c) != std::string_view::npos;
            if (plain) continue;
            if (c != '%' || i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
                !std::isxdigit(static_cast<unsigned char>(s[i + 2])))
                return false;
        }
        return true;
    };
    for (int round = 0; round < 3000; ++round) {
        const std::string path = random_string(40);
        const std::string query = random_string(40);
        CAPTURE(path);
        CAPTURE(query);
        const std::string norm = canonical_uri(path, true);
        CHECK(norm.front() == '/');
        CHECK(norm.find("//") == std::string::npos);
        CHECK(canonical_chars(norm, "/"));
        const std::string raw = canonical_uri(path, false);
        CHECK(canonical_chars(raw, "/"));
        const std::string q = canonical_query(query);
        CHECK(canonical_chars(q, "=&"));
        CHECK(canonical_query(q) == q);  // already canonical: unchanged

        const std::string value = random_string(30);
        const header hs[] = {{"Host", "example.amazonaws.com"}, {"X-Test", value}, {"x-test", value}};
        signing_input in{};
        in.request.method = "GET";
        in.request.path = path;
        in.request.query = query;
        in.request.headers = hs;
        in.credentials = {"AKIDEXAMPLE", test_secret, {}};
        in.region = "us-east-1";
        in.service = "iot";
        in.time = std::chrono::sys_days{std::chrono::year{2024} / 1 / 2};
        const signing_result r = sign_headers(in);
        CHECK(r.canonical_request.find("\n" + norm + "\n" + q + "\n") != std::string::npos);
        CHECK(r.signed_headers == "host;x-amz-date;x-test");
        CHECK(r.signature.size() == 64);
    }
}

TEST_CASE("sigv4: sign_authorization reuses its header texts only for the very same headers") {
    // sign_authorization keeps the canonical header lines of the last headers it signed on this
    // thread. Each step changes one thing (or nothing) from the step before; each must give the
    // Authorization value sign_headers() computes from scratch.
    using namespace std::chrono;
    struct step {
        std::vector<header> headers;
        std::string_view token = {};
        bool omit_token = false;
        bool sign_body = false;
    };
    const std::vector<step> steps = {
        {{{"Host", "iot.us-east-1.amazonaws.com"}, {"X-Amz-Date", "20261207T120000Z"}}},
        {{{"Host", "iot.us-east-1.amazonaws.com"}, {"X-Amz-Date", "20261207T120000Z"}}},  // the same
        {{{"Host", "iot.us-east-1.amazonaws.com"}, {"X-Amz-Date", "20261207T120001Z"}}},  // the next second
        {{{"Host", "iot.us-east-1.amazonaws.con"}, {"X-Amz-Date", "20261207T120001Z"}}},  // one byte
        {{{"host", "iot.us-east-1.amazonaws.con"}, {"X-Amz-Date", "20261207T120001Z"}}},  // a name's case
        {{{"X-Amz-Date", "20261207T120001Z"}, {"host", "iot.us-east-1.amazonaws.con"}}},  // the order
        {{{"X-Amz-Date", "20261207T120001Z"}, {"host", "iot.us-east-1.amazonaws.con"}}, "token-1"},
        {{{"X-Amz-Date", "20261207T120001Z"}, {"host", "iot.us-east-1.amazonaws.con"}}, "token-2"},
        {{{"X-Amz-Date", "20261207T120001Z"}, {"host", "iot.us-east-1.amazonaws.con"}}, "token-2", true},
        {{{"X-Amz-Date", "20261207T120001Z"}, {"host", "iot.us-east-1.amazonaws.con"}}, "token-2", false, true},
        {{{"X-Amz-Date", "20261207T120001Z"}, {"host", "iot.us-east-1.amazonaws.con"}, {"X-A", "a  b"}}},
        {{{"X-Amz-Date", "20261207T120001Z"}, {"host", "iot.us-east-1.amazonaws.con"}, {"X-A", "a b"}}},
        {{{"X-Amz-Date", "20261207T120001Z"}, {"host", "iot.us-east-1.amazonaws.con"}, {"X-A", "a b"}, {"x-a", "c"}}},
        {{{"X-Amz-Date", "20261207T120001Z"}, {"host", "iot.us-east-1.amazonaws.con"}, {"X-A", "a b"}}},
        {{{"X-Amz-Date", "20261207T120001Z"}}},  // fewer headers
        {{}},                                    // none: X-Amz-Date from the time
        {{{"Host", "iot.us-east-1.amazonaws.com"}, {"X-Amz-Date", "20261207T120000Z"}}},  // the first again
    };
    const auto run = [&] {
        for (std::size_t i = 0; i < steps.size(); ++i) {
            const step& st = steps[i];
            signing_input in{};
            in.request.method = "DELETE";
            in.request.path = "/things/thing-1/jobs/job-1/executionNumber/1";
            in.request.headers = st.headers;
            in.credentials.access_key_id = "AKIDEXAMPLE";
            in.credentials.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
            in.credentials.session_token = st.token;
            in.region = "us-east-1";
            in.service = "iot";
            in.time = sys_days{2026y / December / 7} + 12h + 1s;
            in.opts.omit_session_token = st.omit_token;
            in.opts.sign_body = st.sign_body;
            const signing_result r = sign_headers(in);
            const key_bytes key = derive_signing_key(in.credentials.secret_access_key, "20261207", "us-east-1", "iot");
            std::string auth;
            sign_authorization(in, key, auth);
            CAPTURE(i);
            CHECK(auth == r.authorization);
        }
    };
    run();
    run();  // (from the last step's texts to the first's, then every step again)
    std::thread other(run);
    other.join();
}

TEST_CASE("sigv4: amz_date, date_stamp, parse_amz_date") {
    using namespace std::chrono;
    const sys_seconds t = sys_days{2015y / August / 30} + 12h + 36min;
    CHECK(amz_date(t) == "20150830T123600Z");
    CHECK(date_stamp(t) == "20150830");
    sys_seconds parsed{};
    REQUIRE(parse_amz_date("20150830T123600Z", parsed));
    CHECK(parsed == t);
    REQUIRE(parse_amz_date("20240229T235959Z", parsed));
    CHECK(amz_date(parsed) == "20240229T235959Z");
    for (std::string_view bad :
         {""sv, "20150830T123600"sv, "20150830T123600z"sv, "20150830 123600Z"sv, "2015083OT123600Z"sv,
          "20151330T123600Z"sv, "20150230T123600Z"sv, "20230229T000000Z"sv, "20150830T243600Z"sv, "20150830T126000Z"sv,
          "20150830T123660Z"sv, "20150830T123600Z "sv, "2015-08-30T12:36:00Z"sv}) {
        CAPTURE(bad);
        sys_seconds out{};
        CHECK_FALSE(parse_amz_date(bad, out));
    }
}

TEST_CASE("sigv4: write_amz_date keeps the last second's text per thread: any sequence of times") {
    // The same second twice, the next one, across a day and a year, back in time, and a thread
    // of its own: each time the text of that time, as amz_date() formats it afresh.
    using namespace std::chrono;
    const sys_seconds base = sys_days{2024y / December / 31} + 23h + 59min + 58s;
    const std::vector<sys_seconds> times = {base, base,          base + 1s, base + 2s,    base + 2s,
                                            base, base - 86400s, base + 2s, base + 3600s, base + 1s};
    const auto check_all = [&] {
        for (const sys_seconds t : times) {
            char out[16];
            write_amz_date(t, out);
            CAPTURE(amz_date(t));
            CHECK(std::string_view(out, sizeof out) == amz_date(t));
        }
    };
    check_all();
    std::thread other(check_all);
    other.join();
}

TEST_CASE("sigv4: hashes") {
    CHECK(hex_sha256("") == empty_payload_sha256);
    CHECK(hex_sha256("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    // Expected values computed independently (Python hmac/hashlib).
    key_bytes k{};
    for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<unsigned char>(i);
    CHECK(hex_hmac_sha256(k, "The quick brown fox jumps over the lazy dog") ==
          "f87ad256151fc7b4c5dffa4adb3ebe911a8eeb8a8ebdee3c2a4a8e5f5ec02c32");
    // A secret longer than the HMAC block (the key is hashed first).
    const key_bytes long_key = derive_signing_key(std::string(100, 'x'), "20240102", "us-east-1", "iot");
    std::string hex;
    for (unsigned char b : long_key) {
        static constexpr char digits[] = "0123456789abcdef";
        hex += digits[b >> 4];
        hex += digits[b & 15];
    }
    CHECK(hex == "cfde196bd4f12a1ffdef92da3eb60236fef01fd9781f838f56c9131948dbcb01");
}

TEST_CASE("sigv4: HMAC with memoised states, against OpenSSL's one-shot HMAC") {
    // The per-thread memo keeps the key's pad states and the inner state after a message's first
    // block: messages that share that block, differ in it, are shorter or longer than a block,
    // and alternate between keys must each give the plain HMAC.
    key_bytes k1{}, k2{};
    for (std::size_t i = 0; i < k1.size(); ++i) {
        k1[i] = static_cast<unsigned char>(i * 7 + 1);
        k2[i] = static_cast<unsigned char>(255 - i);
    }
    const std::string head_a = "AWS4-HMAC-SHA256\n20261207T120000Z\n20261207/us-east-1/iot/aws4_re";  // 64 bytes
    const std::string head_b = "AWS4-HMAC-SHA256\n20261207T120001Z\n20261207/us-east-1/iot/aws4_re";
    REQUIRE(head_a.size() == 64);
    const std::vector<std::pair<const key_bytes*, std::string>> steps = {
        {&k1, head_a + "quest\nfirst tail"},
        {&k1, head_a + "quest\nsecond tail"},
        {&k1, head_b + "quest\nfirst"},
        {&k1, head_a + "quest\nfirst tail"},
        {&k2, head_a + "quest\nfirst tail"},
        {&k2, head_a + "x"},
        {&k2, head_a},
        {&k2, "short"},
        {&k1, head_a + "x"},
        {&k1, std::string(200, 'q')},
        {&k1, std::string(64, 'q') + "r"},
        {&k1, ""},
    };
    for (const auto& [key, msg] : steps) {
        unsigned char mac[32];
        unsigned int len = 0;
        REQUIRE(HMAC(EVP_sha256(), key->data(), static_cast<int>(key->size()),
                     reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac, &len) != nullptr);
        std::string expected;
        for (unsigned i = 0; i < len; ++i) {
            static constexpr char digits[] = "0123456789abcdef";
            expected += digits[mac[i] >> 4];
            expected += digits[mac[i] & 15];
        }
        CAPTURE(msg);
        CHECK(hex_hmac_sha256(*key, msg) == expected);
    }
}

TEST_CASE("sigv4: worked example of AWS-BEHAVIOUR.md c.2 (DeleteJobExecution, my:thing)") {
    using namespace std::chrono;
    const key_bytes k = derive_signing_key(test_secret, "20240102", "us-east-1", "iot");
    std::string k_hex;
    for (unsigned char b : k) {
        static constexpr char digits[] = "0123456789abcdef";
        k_hex += digits[b >> 4];
        k_hex += digits[b & 15];
    }
    CHECK(k_hex == "9aa1be6a4eb7facbca6f0f95da7a3c424cae4ab68ff899aa8abacfd0e1b77971");

    const header hs[] = {{"Host", "iot.us-east-1.amazonaws.com"}};
    signing_input in{};
    in.request.method = "DELETE";
    in.request.path = "/things/my%3Athing/jobs/job-1/executionNumber/7";
    in.request.query = "force=true&namespaceId=AWS";
    in.request.headers = hs;
    in.credentials = {"AKIDEXAMPLE", test_secret, {}};
    in.region = "us-east-1";
    in.service = "iot";
    in.time = sys_days{2024y / January / 2} + 3h + 4min + 5s;
    const signing_result r = sign_headers(in);
    CHECK(r.canonical_request ==
          "DELETE\n/things/my%253Athing/jobs/job-1/executionNumber/7\nforce=true&namespaceId=AWS\n"
          "host:iot.us-east-1.amazonaws.com\nx-amz-date:20240102T030405Z\n\nhost;x-amz-date\n" +
              std::string(empty_payload_sha256));
    CHECK(hex_sha256(r.canonical_request) == "ba32e57efc83a31d61a5cf1dbc565e54b9e358fd7128fb1dc2031a7d277471dc");
    CHECK(r.string_to_sign ==
          "AWS4-HMAC-SHA256\n20240102T030405Z\n20240102/us-east-1/iot/aws4_request\n"
          "ba32e57efc83a31d61a5cf1dbc565e54b9e358fd7128fb1dc2031a7d277471dc");
    CHECK(r.signature == "8925f45b1a844eecb1bcc76a10c05a4d899dc53c15703da4623d31b4fa740a2c");
    CHECK(hex_hmac_sha256(k, r.string_to_sign) == r.signature);
    CHECK(r.signed_headers == "host;x-amz-date");
    CHECK(r.authorization ==
          "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/us-east-1/iot/aws4_request, "
          "SignedHeaders=host;x-amz-date, Signature=8925f45b1a844eecb1bcc76a10c05a4d899dc53c15703da4623d31b4fa740a2c");
    REQUIRE(r.added_headers.size() == 2);
    CHECK(r.added_headers[0].name == "X-Amz-Date");
    CHECK(r.added_headers[0].value == "20240102T030405Z");
    CHECK(r.added_headers[1].name == "Authorization");
    CHECK(r.added_headers[1].value == r.authorization);
}

TEST_CASE("sigv4: sign_headers options and header handling") {
    using namespace std::chrono;
    const sys_seconds t = sys_days{2024y / January / 2} + 3h + 4min + 5s;
    const header base[] = {{"host", "iot.us-east-1.amazonaws.com"}};
    signing_input in{};
    in.request.method = "DELETE";
    in.request.path = "/things/t/jobs/j/executionNumber/1";
    in.request.headers = base;
    in.credentials = {"AKIDEXAMPLE", test_secret, "TOKEN/+="};
    in.region = "us-east-1";
    in.service = "iot";
    in.time = t;

    SUBCASE("session token signed") {
        const signing_result r = sign_headers(in);
        CHECK(r.signed_headers == "host;x-amz-date;x-amz-security-token");
        CHECK(r.canonical_request.find("\nx-amz-security-token:TOKEN/+=\n") != std::string::npos);
        REQUIRE(r.added_headers.size() == 3);
        CHECK(r.added_headers[0].name == "X-Amz-Security-Token");
        CHECK(r.added_headers[0].value == "TOKEN/+=");
    }
    SUBCASE("omit_session_token: added but not signed") {
        in.opts.omit_session_token = true;
        const signing_result r = sign_headers(in);
        CHECK(r.signed_headers == "host;x-amz-date");
        CHECK(r.canonical_request.find("security-token") == std::string::npos);
        REQUIRE(r.added_headers.size() == 3);
        CHECK(r.added_headers[0].name == "X-Amz-Security-Token");
    }
    SUBCASE("sign_body adds x-amz-content-sha256 once") {
        in.credentials.session_token = {};
        in.opts.sign_body = true;
        in.request.payload = "{}";
        const signing_result r = sign_headers(in);
        CHECK(r.signed_headers == "host;x-amz-content-sha256;x-amz-date");
        REQUIRE(r.added_headers.size() == 3);
        CHECK(r.added_headers[1].name == "x-amz-content-sha256");
        CHECK(r.added_headers[1].value == hex_sha256("{}"));
        CHECK(r.canonical_request.ends_with("\n" + hex_sha256("{}")));

        const header with_sha[] = {{"host", "iot.us-east-1.amazonaws.com"}, {"X-Amz-Content-Sha256", "abc"}};
        in.request.headers = with_sha;
        in.request.payload_hash = "abc";
        const signing_result r2 = sign_headers(in);
        CHECK(r2.signed_headers == "host;x-amz-content-sha256;x-amz-date");
        CHECK(r2.added_headers.size() == 2);
        CHECK(r2.canonical_request.ends_with("\nabc"));
    }
    SUBCASE("headers never signed are left out; names are case-insensitive") {
        in.credentials.session_token = {};
        const header hs[] = {{"HOST", "iot.us-east-1.amazonaws.com"},
                             {"User-Agent", "x"},
                             {"Content-Type", "  application/json  "},
                             {"connection", "keep-alive"},
                             {"X-Amz-Date", "20240102T030405Z"}};
        in.request.headers = hs;
        const signing_result r = sign_headers(in);
        CHECK(r.signed_headers == "content-type;host;x-amz-date");
        CHECK(r.canonical_request.find("\ncontent-type:application/json\n") != std::string::npos);
        CHECK(r.added_headers.size() == 1);
    }
    SUBCASE("many headers (beyond the on-stack capacity)") {
        in.credentials.session_token = {};
        std::vector<std::string> names;
        for (int i = 0; i < 30; ++i) names.push_back("x-h" + std::to_string(10 + (29 - i)));
        std::vector<header> hs{{"host", "h"}};
        for (const auto& n : names) hs.push_back({n, "v"});
        in.request.headers = hs;
        const signing_result r = sign_headers(in);
        std::string want = "host;x-amz-date";  // "x-amz-date" sorts before "x-h.."
        for (int i = 0; i < 30; ++i) want += ";x-h" + std::to_string(10 + i);
        CHECK(r.signed_headers == want);
    }
}

TEST_CASE("sigv4: parse_authorization") {
    const std::string good =
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
    parsed_authorization a;
    REQUIRE(parse_authorization(good, a));
    CHECK(a.access_key_id == "AKIDEXAMPLE");
    CHECK(a.date == "20150830");
    CHECK(a.region == "us-east-1");
    CHECK(a.service == "service");
    CHECK(a.signed_headers == "host;x-amz-date");
    CHECK(a.signature == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");

    // Order and spacing are free.
    REQUIRE(parse_authorization(
        "AWS4-HMAC-SHA256 Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31,"
        "SignedHeaders=host,Credential=AK/20150830/eu-west-1/iot/aws4_request",
        a));
    CHECK(a.access_key_id == "AK");
    CHECK(a.region == "eu-west-1");
    CHECK(a.service == "iot");

    const std::string sig = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
    const std::string cred = "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";
    for (const std::string& bad : std::vector<std::string>{
             "",
             "AWS4-HMAC-SHA256",
             "AWS4-HMAC-SHA1 " + cred + ", SignedHeaders=host, Signature=" + sig,
             "AWS4-HMAC-SHA256" + cred + ", SignedHeaders=host, Signature=" + sig,
             "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host",
             "AWS4-HMAC-SHA256 " + cred + ", Signature=" + sig,
             "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=" + sig,
             "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=, Signature=" + sig,
             "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=" + sig.substr(1),
             "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=" + sig + "0",
             "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=" + std::string(64, 'G'),
             "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=" + sig + ", Signature=" + sig,
             "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=" + sig + ", Extra=1",
             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws5_request, SignedHeaders=host, "
             "Signature=" +
                 sig,
             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2015083/us-east-1/service/aws4_request, SignedHeaders=host, "
             "Signature=" +
                 sig,
             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/aws4_request, SignedHeaders=host, "
             "Signature=" +
                 sig,
             "AWS4-HMAC-SHA256 Credential=/20150830/us-east-1/service/aws4_request, SignedHeaders=host, "
             "Signature=" +
                 sig,
             "AWS4-HMAC-SHA256 Credential=A/B/20150830/us-east-1/service/aws4_request, SignedHeaders=host, "
             "Signature=" +
                 sig,
         }) {
        CAPTURE(bad);
        parsed_authorization out;
        CHECK_FALSE(parse_authorization(bad, out));
    }
}

TEST_CASE("sigv4: verify") {
    using namespace std::chrono;
    const sys_seconds t = sys_days{2024y / January / 2} + 3h + 4min + 5s;
    const header req_headers[] = {{"Host", "iot.us-east-1.amazonaws.com"}, {"Content-Type", "application/json"}};
    signing_input in{};
    in.request.method = "DELETE";
    in.request.path = "/things/my%3Athing/jobs/job-1/executionNumber/7";
    in.request.query = "force=true&namespaceId=AWS";
    in.request.headers = req_headers;
    in.credentials = {"AKIDEXAMPLE", test_secret, "SESSION+TOKEN/="};
    in.region = "us-east-1";
    in.service = "iot";
    in.time = t;
    const signing_result r = sign_headers(in);

    // What the server receives: the request headers plus the added ones.
    std::vector<header> received(std::begin(req_headers), std::end(req_headers));
    for (const auto& h : r.added_headers) received.push_back({h.name, h.value});
    request_view server = in.request;
    server.headers = received;

    parsed_authorization auth;
    REQUIRE(parse_authorization(r.authorization, auth));
    signing_key_cache cache;
    CHECK(verify(server, auth, "20240102T030405Z", test_secret));
    CHECK(verify(server, auth, "20240102T030405Z", test_secret, &cache));
    CHECK(verify(server, auth, "20240102T030405Z", test_secret, &cache));

    SUBCASE("tampered signature") {
        std::string sig(auth.signature);
        sig[10] = sig[10] == '0' ? '1' : '0';
        parsed_authorization bad = auth;
        bad.signature = sig;
        CHECK_FALSE(verify(server, bad, "20240102T030405Z", test_secret, &cache));
        bad.signature = auth.signature.substr(0, 63);
        CHECK_FALSE(verify(server, bad, "20240102T030405Z", test_secret, &cache));
    }
    SUBCASE("tampered header, path, query, method") {
        std::vector<header> changed = received;
        changed[1].value = "text/plain";
        request_view v = server;
        v.headers = changed;
        CHECK_FALSE(verify(v, auth, "20240102T030405Z", test_secret, &cache));
        v = server;
        v.path = "/things/my%3Athing/jobs/job-2/executionNumber/7";
        CHECK_FALSE(verify(v, auth, "20240102T030405Z", test_secret, &cache));
        v = server;
        v.query = "force=false&namespaceId=AWS";
        CHECK_FALSE(verify(v, auth, "20240102T030405Z", test_secret, &cache));
        v = server;
        v.method = "GET";
        CHECK_FALSE(verify(v, auth, "20240102T030405Z", test_secret, &cache));
        v = server;
        v.payload = "x";
        CHECK_FALSE(verify(v, auth, "20240102T030405Z", test_secret, &cache));
    }
    SUBCASE("wrong secret") {
        CHECK_FALSE(verify(server, auth, "20240102T030405Z", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ", &cache));
        CHECK_FALSE(verify(server, auth, "20240102T030405Z", "", nullptr));
    }
    SUBCASE("missing signed header") {
        std::vector<header> fewer;
        for (const auto& h : received) {
            if (h.name != "Content-Type") fewer.push_back(h);
        }
        request_view v = server;
        v.headers = fewer;
        CHECK_FALSE(verify(v, auth, "20240102T030405Z", test_secret, &cache));
    }
    SUBCASE("date") {
        CHECK_FALSE(verify(server, auth, "20240102T030406Z", test_secret, &cache));  // signed value differs
        CHECK_FALSE(verify(server, auth, "20240103T030405Z", test_secret, &cache));  // scope date differs
        CHECK_FALSE(verify(server, auth, "garbage", test_secret, &cache));
    }
    SUBCASE("signed header list must be exact") {
        parsed_authorization bad = auth;
        bad.signed_headers = "content-type;host;x-amz-date";  // token left out of the list
        CHECK_FALSE(verify(server, bad, "20240102T030405Z", test_secret, &cache));
        bad.signed_headers = "host;content-type;x-amz-date;x-amz-security-token";  // unsorted
        CHECK_FALSE(verify(server, bad, "20240102T030405Z", test_secret, &cache));
        bad.signed_headers = "Content-Type;Host;X-Amz-Date;X-Amz-Security-Token";  // uppercase
        CHECK_FALSE(verify(server, bad, "20240102T030405Z", test_secret, &cache));
    }
    SUBCASE("extra unsigned headers are ignored") {
        std::vector<header> more = received;
        more.push_back({"User-Agent", "curl"});
        more.push_back({"X-Unsigned", "1"});
        request_view v = server;
        v.headers = more;
        CHECK(verify(v, auth, "20240102T030405Z", test_secret, &cache));
    }
}

TEST_CASE("sigv4: constant_time_equal") {
    CHECK(constant_time_equal("", ""));
    CHECK(constant_time_equal("abc", "abc"));
    CHECK_FALSE(constant_time_equal("abc", "abd"));
    CHECK_FALSE(constant_time_equal("abc", "ab"));
    CHECK_FALSE(constant_time_equal("", "a"));
    CHECK_FALSE(constant_time_equal("xbc", "abc"));
}

TEST_CASE("sigv4: signing_key_slot and write_amz_date") {
    signing_key_slot slot;
    CHECK(slot.get(test_secret, "20240102", "us-east-1", "iot") ==
          derive_signing_key(test_secret, "20240102", "us-east-1", "iot"));
    CHECK(slot.get(test_secret, "20240102", "us-east-1", "iot") ==
          derive_signing_key(test_secret, "20240102", "us-east-1", "iot"));
    CHECK(slot.get(test_secret, "20240103", "us-east-1", "iot") ==
          derive_signing_key(test_secret, "20240103", "us-east-1", "iot"));
    CHECK(slot.get(test_secret, "20240102", "us-east-1", "iot") ==
          derive_signing_key(test_secret, "20240102", "us-east-1", "iot"));
    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 100; ++i) {
                const std::string date = "202401" + std::to_string(10 + (i + t) % 3);
                if (slot.get(test_secret, date, "us-east-1", "iot") !=
                    derive_signing_key(test_secret, date, "us-east-1", "iot"))
                    ++mismatches;
            }
        });
    }
    for (auto& th : threads) th.join();
    CHECK(mismatches == 0);

    using namespace std::chrono;
    const sys_seconds t = sys_days{2015y / August / 30} + 12h + 36min;
    char buf[16];
    write_amz_date(t, buf);
    CHECK(std::string_view(buf, 16) == amz_date(t));
}

TEST_CASE("sigv4: signing_key_cache") {
    signing_key_cache cache;
    CHECK(cache.size() == 0);
    CHECK(cache.capacity() == 16);
    const key_bytes k1 = cache.get(test_secret, "", "20240102", "us-east-1", "iot");
    CHECK(k1 == derive_signing_key(test_secret, "20240102", "us-east-1", "iot"));
    CHECK(cache.get(test_secret, "", "20240102", "us-east-1", "iot") == k1);
    CHECK(cache.size() == 1);

    const key_bytes k2 = cache.get(test_secret, "", "20240103", "us-east-1", "iot");
    CHECK(k2 != k1);
    CHECK(cache.size() == 2);
    const key_bytes k3 = cache.get("another-secret", "", "20240102", "us-east-1", "iot");
    CHECK(k3 != k1);
    CHECK(k3 == derive_signing_key("another-secret", "20240102", "us-east-1", "iot"));
    CHECK(cache.size() == 3);
    CHECK(cache.get(test_secret, "", "20240102", "eu-west-1", "iot") != k1);
    CHECK(cache.get(test_secret, "", "20240102", "us-east-1", "s3") != k1);
    CHECK(cache.size() == 5);
    // A different token is another entry (same key: the token does not enter the derivation).
    CHECK(cache.get(test_secret, "token", "20240102", "us-east-1", "iot") == k1);
    CHECK(cache.size() == 6);
    // Field boundaries matter: ("ab","c") and ("a","bc") are different entries.
    cache.get("ab", "c", "20240102", "us-east-1", "iot");
    cache.get("a", "bc", "20240102", "us-east-1", "iot");
    CHECK(cache.size() == 8);

    SUBCASE("bounded, least recently used dropped") {
        for (int i = 0; i < 40; ++i) {
            cache.get("secret-" + std::to_string(i), "", "20240102", "us-east-1", "iot");
            CHECK(cache.size() <= cache.capacity());
        }
        CHECK(cache.size() == 16);
        // Still correct after eviction.
        CHECK(cache.get(test_secret, "", "20240102", "us-east-1", "iot") == k1);
        CHECK(cache.size() == 16);
        cache.clear();
        CHECK(cache.size() == 0);
        signing_key_cache tiny(2);
        tiny.get("a", "", "20240102", "r", "s");
        tiny.get("b", "", "20240102", "r", "s");
        tiny.get("a", "", "20240102", "r", "s");  // a is now the most recent
        tiny.get("c", "", "20240102", "r", "s");  // drops b
        CHECK(tiny.size() == 2);
    }
    SUBCASE("thread-safe") {
        std::atomic<int> mismatches{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < 200; ++i) {
                    const std::string date = "202401" + std::to_string(10 + (i + t) % 20);
                    const key_bytes k = cache.get(test_secret, "", date, "us-east-1", "iot");
                    if (k != derive_signing_key(test_secret, date, "us-east-1", "iot")) ++mismatches;
                }
            });
        }
        for (auto& th : threads) th.join();
        CHECK(mismatches == 0);
        CHECK(cache.size() <= cache.capacity());
    }
}
