// The fake IoT Jobs server (lib/fake) driven in-process over real sockets with signed requests.
#include "fake/server.hpp"
#include "sigv4/sigv4.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <set>
#include <string>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace fake = iotjobs::fake;
namespace sigv4 = iotjobs::sigv4;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr const char* akid = "AKIDEXAMPLE";
constexpr const char* secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

struct call {
    std::string method = "GET";
    std::string path;   // already percent-encoded
    std::string query;  // without '?'
    std::string body;
    std::string access_key = akid;
    std::string secret_key = secret;
    std::string token;
    std::string service = "iot";
    std::string region = "us-east-1";
    std::chrono::seconds skew{0};
    bool sign = true;
    std::chrono::milliseconds timeout{5000};
};

struct result {
    boost::system::error_code ec;
    unsigned status = 0;
    std::map<std::string, std::string> headers;  // lowercase names
    std::string body;
    std::string error_type() const {
        auto i = headers.find("x-amzn-errortype");
        return i == headers.end() ? "" : i->second;
    }
    std::string message() const {
        if (body.empty()) return {};
        return std::string(boost::json::parse(body).as_object().at("message").as_string());
    }
};

http::request<http::string_body> build(std::uint16_t port, const call& c) {
    http::request<http::string_body> req;
    req.method_string(c.method);
    req.target(c.query.empty() ? c.path : c.path + "?" + c.query);
    req.version(11);
    std::string host = "127.0.0.1:" + std::to_string(port);
    req.set(http::field::host, host);
    if (!c.body.empty()) {
        req.set(http::field::content_type, "application/json");
        req.body() = c.body;
    }
    if (c.sign) {
        auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) + c.skew;
        std::vector<sigv4::header> hs{{"host", host}};
        if (!c.body.empty()) hs.push_back({"content-type", "application/json"});
        sigv4::signing_input in;
        in.request.method = c.method;
        in.request.path = c.path;
        in.request.query = c.query;
        in.request.headers = hs;
        in.request.payload = c.body;
        in.credentials = {c.access_key, c.secret_key, c.token};
        in.region = c.region;
        in.service = c.service;
        in.time = now;
        auto res = sigv4::sign_headers(in);
        for (auto& h : res.added_headers) req.set(h.name, h.value);
    }
    req.prepare_payload();
    return req;
}

template <class Stream>
void exchange(asio::io_context& ioc, Stream& stream, http::request<http::string_body>& req, result& out,
              std::chrono::milliseconds timeout) {
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::async_write(stream, req, [&](boost::system::error_code ec, std::size_t) {
        if (ec) {
            out.ec = ec;
            return;
        }
        http::async_read(stream, buf, res, [&](boost::system::error_code ec2, std::size_t) { out.ec = ec2; });
    });
    ioc.restart();
    ioc.run_for(timeout);
    if (!ioc.stopped()) {
        out.ec = asio::error::timed_out;
        beast::get_lowest_layer(stream).close();
        ioc.restart();
        ioc.run_for(1s);
        out.ec = asio::error::timed_out;
        return;
    }
    if (out.ec) return;
    out.status = res.result_int();
    for (auto& f : res) {
        std::string name(f.name_string());
        for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        out.headers[name] = std::string(f.value());
    }
    out.body = res.body();
}

// One request on a new connection.
result send(const fake::server& srv, const call& c) {
    asio::io_context ioc;
    result out;
    tcp::socket sock(ioc);
    sock.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), srv.port()));
    auto req = build(srv.port(), c);
    exchange(ioc, sock, req, out, c.timeout);
    return out;
}

// A keep-alive connection for several requests.
struct connection {
    asio::io_context ioc;
    tcp::socket sock{ioc};
    std::uint16_t port;
    explicit connection(const fake::server& srv) : port(srv.port()) {
        sock.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    }
    result operator()(const call& c) {
        result out;
        auto req = build(port, c);
        exchange(ioc, sock, req, out, c.timeout);
        return out;
    }
};

call del(std::string thing, std::string job, long long n, std::string query = {}) {
    call c;
    c.method = "DELETE";
    c.path = "/things/" + thing + "/jobs/" + job + "/executionNumber/" + std::to_string(n);
    c.query = std::move(query);
    return c;
}

fake::execution ex(std::string thing, std::string job, std::int64_t n, fake::execution_status st, std::string ns = {}) {
    fake::execution e;
    e.thing_name = std::move(thing);
    e.job_id = std::move(job);
    e.execution_number = n;
    e.status = st;
    e.namespace_id = std::move(ns);
    return e;
}

}  // namespace

TEST_CASE("fake: every response carries Date and x-amzn-RequestId; errors are AWS-shaped") {
    fake::server srv;
    srv.start();
    srv.add_execution(ex("thing-1", "job-1", 1, fake::execution_status::succeeded));
    auto ok = send(srv, del("thing-1", "job-1", 1));
    REQUIRE_FALSE(ok.ec);
    CHECK(ok.status == 200);
    CHECK(ok.body.empty());
    CHECK(ok.headers.count("date") == 1);
    CHECK(ok.headers["x-amzn-requestid"].size() == 36);
    auto missing = send(srv, del("thing-1", "job-1", 1));
    CHECK(missing.status == 404);
    CHECK(missing.error_type() == "ResourceNotFoundException");
    CHECK(missing.headers["content-type"] == "application/json");
    CHECK(missing.headers.count("date") == 1);
    CHECK(missing.headers.count("x-amzn-requestid") == 1);
    CHECK_FALSE(missing.message().empty());
    call unknown;
    unknown.path = "/nope";
    auto u = send(srv, unknown);
    CHECK(u.status == 404);
    CHECK(u.error_type() == "UnknownOperationException");
    call wrong_method = del("thing-1", "job-1", 1);
    wrong_method.method = "POST";
    CHECK(send(srv, wrong_method).error_type() == "UnknownOperationException");
}

TEST_CASE("fake: SigV4 verification") {
    fake::server_options o;
    o.credentials = fake::default_credentials();
    o.credentials["ASIATEMP"] = fake::credential{"temp-secret", "the-session-token"};
    fake::server srv(o);
    srv.start();
    srv.add_execution(ex("t", "j", 1, fake::execution_status::succeeded));
    call desc;
    desc.path = "/things/t/jobs/j";

    SUBCASE("valid") { CHECK(send(srv, desc).status == 200); }
    SUBCASE("missing Authorization") {
        desc.sign = false;
        auto r = send(srv, desc);
        CHECK(r.status == 403);
        CHECK(r.error_type() == "MissingAuthenticationTokenException");
    }
    SUBCASE("unknown access key") {
        desc.access_key = "AKIDUNKNOWN";
        auto r = send(srv, desc);
        CHECK(r.status == 403);
        CHECK(r.error_type() == "UnrecognizedClientException");
        CHECK(r.message() == "The security token included in the request is invalid.");
    }
    SUBCASE("wrong secret") {
        desc.secret_key = "not-the-secret";
        auto r = send(srv, desc);
        CHECK(r.status == 403);
        CHECK(r.error_type() == "InvalidSignatureException");
        CHECK(r.message().starts_with("The request signature we calculated does not match the signature you provided"));
    }
    SUBCASE("signature over a different query") {
        auto req = build(srv.port(), desc);
        req.target("/things/t/jobs/j?executionNumber=1");
        asio::io_context ioc;
        tcp::socket sock(ioc);
        sock.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), srv.port()));
        result r;
        exchange(ioc, sock, req, r, 5000ms);
        CHECK(r.status == 403);
        CHECK(r.error_type() == "InvalidSignatureException");
    }
    SUBCASE("X-Amz-Date too old") {
        desc.skew = -6min;
        auto r = send(srv, desc);
        CHECK(r.status == 403);
        CHECK(r.error_type() == "InvalidSignatureException");
        CHECK(r.message().starts_with("Signature expired: "));
        CHECK(r.message().find(" is now earlier than ") != std::string::npos);
        CHECK(r.message().find(" - 5 min.)") != std::string::npos);
    }
    SUBCASE("X-Amz-Date in the future") {
        desc.skew = 6min;
        auto r = send(srv, desc);
        CHECK(r.error_type() == "InvalidSignatureException");
        CHECK(r.message().starts_with("Signature not yet current: "));
    }
    SUBCASE("within the allowed skew") {
        desc.skew = 4min;
        CHECK(send(srv, desc).status == 200);
    }
    SUBCASE("server clock offset") {
        srv.set_clock_offset(std::chrono::seconds(3600));
        auto r = send(srv, desc);
        CHECK(r.message().starts_with("Signature expired: "));
        desc.skew = 3600s;
        CHECK(send(srv, desc).status == 200);
    }
    SUBCASE("wrong service in the scope") {
        desc.service = "execute-api";
        auto r = send(srv, desc);
        CHECK(r.status == 403);
        CHECK(r.error_type() == "InvalidSignatureException");
    }
    SUBCASE("any region") {
        desc.region = "eu-west-1";
        auto r = send(srv, desc);
        CHECK(r.status == 200);
        CHECK(r.body.find("arn:aws:iot:eu-west-1:123456789012:thing/t") != std::string::npos);
    }
    SUBCASE("session token") {
        desc.access_key = "ASIATEMP";
        desc.secret_key = "temp-secret";
        CHECK(send(srv, desc).error_type() == "UnrecognizedClientException");  // no token
        desc.token = "wrong-token";
        CHECK(send(srv, desc).error_type() == "UnrecognizedClientException");
        desc.token = "the-session-token";
        CHECK(send(srv, desc).status == 200);
    }
    SUBCASE("token sent for a key without one") {
        desc.token = "unexpected";
        CHECK(send(srv, desc).error_type() == "UnrecognizedClientException");
    }
    auto s = srv.stats();
    CHECK(s.requests_total >= 1);
}

TEST_CASE("fake: DeleteJobExecution state rules") {
    using st = fake::execution_status;
    fake::server srv;
    srv.start();
    struct row {
        st status;
        bool deletable_without_force;
    };
    const row rows[] = {{st::succeeded, true}, {st::failed, true},    {st::rejected, true}, {st::removed, true},
                        {st::canceled, true},  {st::timed_out, true}, {st::queued, false},  {st::in_progress, false}};
    long long n = 0;
    for (auto& r : rows) {
        CAPTURE(fake::to_string(r.status));
        for (bool force : {false, true}) {
            ++n;
            srv.add_execution(ex("thing-" + std::to_string(n), "job-a", n, r.status));
            auto res = send(srv, del("thing-" + std::to_string(n), "job-a", n, force ? "force=true" : ""));
            if (force || r.deletable_without_force) {
                CHECK(res.status == 200);
                CHECK_FALSE(srv.find("thing-" + std::to_string(n), "job-a", n));
            } else {
                CHECK(res.status == 409);
                CHECK(res.error_type() == "InvalidStateTransitionException");
                CHECK(srv.find("thing-" + std::to_string(n), "job-a", n));
            }
        }
    }
    SUBCASE("force=false is the default") {
        srv.add_execution(ex("tf", "job-a", 1, st::in_progress));
        CHECK(send(srv, del("tf", "job-a", 1, "force=false")).status == 409);
    }
    SUBCASE("namespaceId must match") {
        srv.add_execution(ex("my:thing", "job-ns", 7, st::succeeded, "AWS"));
        CHECK(send(srv, del("my%3Athing", "job-ns", 7)).status == 404);
        CHECK(send(srv, del("my%3Athing", "job-ns", 7, "namespaceId=other")).status == 404);
        CHECK(send(srv, del("my%3Athing", "job-ns", 7, "force=true&namespaceId=AWS")).status == 200);
        CHECK_FALSE(srv.find("my:thing", "job-ns", 7));
    }
    SUBCASE("missing, wrong number, repeated") {
        srv.add_execution(ex("t1", "job-a", 3, st::succeeded));
        CHECK(send(srv, del("t1", "job-a", 4)).error_type() == "ResourceNotFoundException");
        CHECK(send(srv, del("t2", "job-a", 3)).error_type() == "ResourceNotFoundException");
        CHECK(send(srv, del("t1", "job-a", 3)).status == 200);
        CHECK(send(srv, del("t1", "job-a", 3)).status == 404);
    }
}

TEST_CASE("fake: model validation -> 400 InvalidRequestException") {
    fake::server srv;
    srv.start();
    auto check400 = [&](call c) {
        auto r = send(srv, c);
        CAPTURE(c.path);
        CAPTURE(c.query);
        CHECK(r.status == 400);
        CHECK(r.error_type() == "InvalidRequestException");
    };
    check400(del("a%20b", "job", 1));
    check400(del("thing", std::string(65, 'j'), 1));
    check400(del(std::string(129, 't'), "job", 1));
    check400(del("thing", "job:x", 1));
    call c = del("thing", "job", 1);
    c.path = "/things/thing/jobs/job/executionNumber/abc";
    check400(c);
    check400(del("thing", "job", 1, "force=yes"));
    check400(del("thing", "job", 1, "namespaceId=bad%20ns"));
    call list;
    list.path = "/jobs/job/things";
    for (auto q : {"maxResults=0", "maxResults=251", "maxResults=x", "status=DONE", "nextToken=garbage"}) {
        list.query = q;
        check400(list);
    }
    call lt;
    lt.path = "/things/thing/jobs";
    lt.query = "jobId=bad%2Fjob";
    check400(lt);
}

TEST_CASE("fake: ListJobExecutionsForJob pagination with deletes between pages") {
    fake::server srv;
    srv.start();
    std::vector<fake::execution> seed;
    for (int i = 0; i < 237; ++i)
        seed.push_back(ex("thing-" + std::to_string(i), "big-job", i + 1,
                          i % 5 == 0 ? fake::execution_status::in_progress : fake::execution_status::succeeded));
    seed.push_back(ex("other", "other-job", 1, fake::execution_status::succeeded));
    srv.add_executions(seed);

    std::multiset<std::string> seen;
    std::set<std::string> deleted_unseen;
    std::string token;
    int pages = 0;
    connection conn(srv);
    do {
        call c;
        c.path = "/jobs/big-job/things";
        c.query = "maxResults=10";
        if (!token.empty()) c.query += "&nextToken=" + sigv4::uri_encode(token);
        auto r = conn(c);
        REQUIRE(r.status == 200);
        auto v = boost::json::parse(r.body).as_object();
        auto& items = v.at("executionSummaries").as_array();
        CHECK(items.size() <= 10);
        for (auto& it : items) {
            std::string arn(it.at("thingArn").as_string());
            auto thing = arn.substr(arn.rfind('/') + 1);
            seen.insert(thing);
            CHECK(it.at("jobExecutionSummary").at("executionNumber").is_int64());
            CHECK(it.at("jobExecutionSummary").at("queuedAt").is_number());
            // delete what we just saw (terminal ones) ...
            if (it.at("jobExecutionSummary").at("status").as_string() == "SUCCEEDED") {
                auto n = it.at("jobExecutionSummary").at("executionNumber").as_int64();
                CHECK(conn(del(thing, "big-job", n)).status == 200);
            }
        }
        // ... and one not yet seen
        int victim = 3 + pages * 10 + 15;
        if (victim < 237) {
            auto name = "thing-" + std::to_string(victim);
            if (victim % 5 != 0 && !seen.count(name) && srv.find(name, "big-job", victim + 1)) {
                CHECK(conn(del(name, "big-job", victim + 1)).status == 200);
                deleted_unseen.insert(name);
            }
        }
        token = v.contains("nextToken") ? std::string(v.at("nextToken").as_string()) : "";
        ++pages;
    } while (!token.empty() && pages < 100);
    CHECK(token.empty());
    for (int i = 0; i < 237; ++i) {
        auto name = "thing-" + std::to_string(i);
        CAPTURE(name);
        if (deleted_unseen.count(name))
            CHECK(seen.count(name) == 0);
        else
            CHECK(seen.count(name) == 1);
    }
    CHECK_FALSE(deleted_unseen.empty());
    // Only the IN_PROGRESS ones (and other-job) remain.
    CHECK(srv.execution_count() == 48 + 1);

    SUBCASE("status filter and the last page has no token") {
        call c;
        c.path = "/jobs/big-job/things";
        c.query = "status=IN_PROGRESS&maxResults=250";
        auto r = conn(c);
        auto v = boost::json::parse(r.body).as_object();
        CHECK(v.at("executionSummaries").as_array().size() == 48);
        CHECK_FALSE(v.contains("nextToken"));
    }
    SUBCASE("unknown job -> 404; default page size 50") {
        call c;
        c.path = "/jobs/no-such-job/things";
        CHECK(conn(c).error_type() == "ResourceNotFoundException");
    }
}

TEST_CASE("fake: ListJobExecutionsForThing, DescribeJobExecution, CancelJobExecution") {
    using st = fake::execution_status;
    fake::server srv;
    srv.start();
    srv.add_executions(std::vector<fake::execution>{
        ex("dev:1", "job-a", 1, st::succeeded), ex("dev:1", "job-a", 2, st::queued),
        ex("dev:1", "job-b", 1, st::in_progress), ex("dev:1", "job-c", 1, st::succeeded, "NS1"),
        ex("dev:2", "job-a", 1, st::queued)});
    connection conn(srv);
    call c;
    c.path = "/things/dev%3A1/jobs";
    auto v = boost::json::parse(conn(c).body).as_object();
    CHECK(v.at("executionSummaries").as_array().size() == 4);
    CHECK(v.at("executionSummaries").as_array()[0].at("jobId").as_string() == "job-a");
    c.query = "jobId=job-a";
    CHECK(boost::json::parse(conn(c).body).at("executionSummaries").as_array().size() == 2);
    c.query = "namespaceId=NS1";
    CHECK(boost::json::parse(conn(c).body).at("executionSummaries").as_array().size() == 1);
    c.query = "status=QUEUED&maxResults=1";
    CHECK(boost::json::parse(conn(c).body).at("executionSummaries").as_array().size() == 1);

    call d;
    d.path = "/things/dev%3A1/jobs/job-a";
    auto desc = boost::json::parse(conn(d).body).at("execution").as_object();
    CHECK(desc.at("executionNumber").as_int64() == 2);  // the latest
    CHECK(desc.at("status").as_string() == "QUEUED");
    CHECK(desc.at("thingArn").as_string() == "arn:aws:iot:us-east-1:123456789012:thing/dev:1");
    d.query = "executionNumber=1";
    CHECK(boost::json::parse(conn(d).body).at("execution").at("status").as_string() == "SUCCEEDED");
    d.query = "executionNumber=9";
    CHECK(conn(d).error_type() == "ResourceNotFoundException");

    call cancel;
    cancel.method = "PUT";
    cancel.path = "/things/dev%3A1/jobs/job-a/cancel";
    cancel.body = R"({"expectedVersion": 5})";
    CHECK(conn(cancel).error_type() == "VersionConflictException");
    cancel.body = R"({"expectedVersion": 1, "statusDetails": {"reason": "test"}})";
    CHECK(conn(cancel).status == 200);
    CHECK(srv.find("dev:1", "job-a", 2)->status == st::canceled);
    CHECK(srv.find("dev:1", "job-a", 2)->version_number == 2);
    CHECK(conn(cancel).error_type() == "VersionConflictException");  // now version 2
    cancel.body = "{}";
    CHECK(conn(cancel).error_type() == "InvalidStateTransitionException");  // already CANCELED
    cancel.path = "/things/dev%3A1/jobs/job-b/cancel";
    CHECK(conn(cancel).error_type() == "InvalidStateTransitionException");  // IN_PROGRESS needs force
    cancel.query = "force=true";
    CHECK(conn(cancel).status == 200);
    CHECK(srv.find("dev:1", "job-b", 1)->force_canceled);
    cancel.path = "/things/dev%3A1/jobs/job-zzz/cancel";
    CHECK(conn(cancel).error_type() == "ResourceNotFoundException");
    cancel.path = "/things/dev%3A2/jobs/job-a/cancel";
    cancel.body = R"({"statusDetails": {"bad key": "x"}})";
    CHECK(conn(cancel).error_type() == "InvalidRequestException");
    // One keep-alive connection carried everything.
    CHECK(srv.stats().connections_accepted == 1);
}

TEST_CASE("fake: throttling per operation") {
    fake::server_options o;
    std::string err;
    o.rate_limits = *fake::parse_rate_limits("DeleteJobExecution=1", 2, err);
    fake::server srv(o);
    srv.start();
    connection conn(srv);
    CHECK(conn(del("t", "j", 1)).status == 404);
    CHECK(conn(del("t", "j", 2)).status == 404);
    auto r = conn(del("t", "j", 3));
    CHECK(r.status == 400);
    CHECK(r.error_type() == "ThrottlingException");
    call other;
    other.path = "/jobs/j/things";
    CHECK(conn(other).status == 404);  // not rate limited (unknown job)
    CHECK(srv.stats().throttled == 1);
    CHECK(srv.stats().count("DeleteJobExecution", "ThrottlingException") == 1);
    srv.set_rate_limits({});
    CHECK(conn(del("t", "j", 4)).status == 404);
}

TEST_CASE("fake: fault injection") {
    using st = fake::execution_status;
    fake::server srv;
    srv.start();
    auto rule = [](const char* s) {
        std::string err;
        auto r = fake::parse_fault(s, err);
        INFO(err);
        REQUIRE(r);
        return *r;
    };
    for (int i = 1; i <= 20; ++i) srv.add_execution(ex("t" + std::to_string(i), "j", 1, st::succeeded));

    SUBCASE("unavailable first:2, per operation") {
        srv.set_faults({rule("unavailable=first:2,op=DeleteJobExecution")});
        call desc;
        desc.path = "/things/t1/jobs/j";
        CHECK(send(srv, desc).status == 200);  // other operation: untouched
        auto r = send(srv, del("t1", "j", 1));
        CHECK(r.status == 503);
        CHECK(r.error_type() == "ServiceUnavailableException");
        CHECK(send(srv, del("t1", "j", 1)).status == 503);
        CHECK(send(srv, del("t1", "j", 1)).status == 200);
        CHECK(srv.stats().faults["unavailable"] == 2);
    }
    SUBCASE("throttle every:2") {
        srv.set_faults({rule("throttle=every:2")});
        CHECK(send(srv, del("t1", "j", 1)).status == 200);
        auto r = send(srv, del("t2", "j", 1));
        CHECK(r.status == 400);
        CHECK(r.error_type() == "ThrottlingException");
        CHECK(srv.find("t2", "j", 1));
        CHECK(send(srv, del("t2", "j", 1)).status == 200);
    }
    SUBCASE("reset-before: nothing processed") {
        srv.set_faults({rule("reset-before=first:1")});
        auto r = send(srv, del("t1", "j", 1));
        CHECK(r.ec);
        CHECK(srv.find("t1", "j", 1));
        CHECK(send(srv, del("t1", "j", 1)).status == 200);
    }
    SUBCASE("reset-after: the delete happened, the retry sees 404") {
        srv.set_faults({rule("reset-after=first:1")});
        auto r = send(srv, del("t1", "j", 1));
        CHECK(r.ec);
        CHECK_FALSE(srv.find("t1", "j", 1));
        CHECK(send(srv, del("t1", "j", 1)).status == 404);
        CHECK(srv.stats().count("DeleteJobExecution", "no_response") == 1);
    }
    SUBCASE("truncate") {
        srv.set_faults({rule("truncate=always")});
        call desc;
        desc.path = "/things/t1/jobs/j";
        auto r = send(srv, desc);
        CHECK(r.ec);
    }
    SUBCASE("close") {
        srv.set_faults({rule("close=always")});
        connection conn(srv);
        auto r = conn(del("t1", "j", 1));
        CHECK(r.status == 200);
        CHECK(r.headers["connection"] == "close");
        auto again = conn(del("t2", "j", 1));
        CHECK(again.ec);  // the server closed the connection
    }
    SUBCASE("stall with a delay, and forever") {
        srv.set_faults({rule("stall=first:1,ms=300")});
        CHECK(send(srv, del("t1", "j", 1)).status == 200);
        CHECK(srv.stats().faults["stall"] == 1);
        srv.set_faults({rule("stall=first:1")});
        auto c = del("t2", "j", 1);
        c.timeout = 400ms;
        CHECK(send(srv, c).ec == asio::error::timed_out);
        CHECK_FALSE(srv.find("t2", "j", 1));  // processed, never answered
    }
    SUBCASE("latency fixed and distributions are reproducible") {
        srv.set_faults({rule("latency=always,ms=150")});
        CHECK(send(srv, del("t1", "j", 1)).status == 200);
        CHECK(srv.stats().faults["latency"] == 1);
    }
    SUBCASE("probabilistic faults are reproducible with the seed") {
        auto pattern = [&](std::uint64_t seed) {
            srv.set_faults({rule("unavailable=0.5,op=DescribeJobExecution")}, seed);
            std::string p;
            call desc;
            desc.path = "/things/t1/jobs/j";
            connection conn(srv);
            for (int i = 0; i < 24; ++i) p += conn(desc).status == 503 ? 'x' : '.';
            return p;
        };
        auto a = pattern(42), b = pattern(42), c = pattern(43);
        CHECK(a == b);
        CHECK(a != c);
        CHECK(a.find('x') != std::string::npos);
        CHECK(a.find('.') != std::string::npos);
    }
}

TEST_CASE("fake: admin paths") {
    fake::server srv;
    srv.start();
    fake::generate_options g;
    g.count = 10;
    g.jobs = 3;
    srv.generate(g);
    call s;
    s.sign = false;
    s.path = "/_fake/stats";
    auto r = send(srv, s);
    CHECK(r.status == 200);
    auto v = boost::json::parse(r.body).as_object();
    CHECK(v.at("executions_remaining").as_int64() == 10);
    CHECK(v.contains("connections_accepted"));
    CHECK(v.contains("faults_injected"));
    s.path = "/_fake/executions";
    s.query = "jobId=job-1&limit=2";
    v = boost::json::parse(send(srv, s).body).as_object();
    CHECK(v.at("count").as_int64() == 2);
    CHECK(v.at("executions").as_array()[0].at("thingName").as_string() == "thing-1");
    call f;
    f.sign = false;
    f.method = "POST";
    f.path = "/_fake/faults";
    f.body = R"({"faults": ["unavailable=first:1"], "seed": 7})";
    CHECK(send(srv, f).status == 200);
    CHECK(send(srv, del("thing-1", "job-1", 1)).status == 503);
    CHECK(send(srv, del("thing-1", "job-1", 1)).status == 200);
    f.body = R"({"faults": ["bogus=1"]})";
    CHECK(send(srv, f).status == 400);
    call seed;
    seed.sign = false;
    seed.method = "POST";
    seed.path = "/_fake/seed";
    seed.body =
        R"({"executions": [{"thingName": "x:y", "jobId": "j", "executionNumber": 4, "status": "FAILED", "namespaceId": "NS"}]})";
    CHECK(send(srv, seed).status == 200);
    auto e = srv.find("x:y", "j", 4);
    REQUIRE(e);
    CHECK(e->namespace_id == "NS");
    CHECK(e->status == fake::execution_status::failed);
}

TEST_CASE("fake: admin values that would overflow are answered 400 (issue 13)") {
    fake::server srv;
    srv.start();
    fake::execution e;
    e.thing_name = "thing-1";
    e.job_id = "job-1";
    e.execution_number = 1;
    e.status = fake::execution_status::succeeded;
    srv.add_execution(e);
    auto admin = [&](std::string path, std::string body) {
        call c;
        c.sign = false;
        c.method = "POST";
        c.path = std::move(path);
        c.body = std::move(body);
        return send(srv, c);
    };
    // service::now() added INT64_MAX seconds to the clock (signed overflow) and the server died.
    for (const char* offset : {"9223372036854775807", "-9223372036854775808", "1000000001", "-1000000001"}) {
        INFO(offset);
        auto r = admin("/_fake/clock", std::string(R"({"offset_seconds": )") + offset + "}");
        CHECK(r.status == 400);
        CHECK(r.error_type() == "InvalidRequestException");
        CHECK(r.message().find("offset_seconds must be between -1000000000 and 1000000000") != std::string::npos);
    }
    // The bounds themselves are accepted; then back to 0.
    CHECK(admin("/_fake/clock", R"({"offset_seconds": 1000000000})").status == 200);
    CHECK(admin("/_fake/clock", R"({"offset_seconds": -1000000000})").status == 200);
    CHECK(admin("/_fake/clock", R"({"offset_seconds": 0})").status == 200);

    // wait_ms converted ms * 1000 to int64 microseconds: ms=1e300 overflowed.
    for (const char* fault :
         {"latency=always,ms=1e300", "stall=always,ms=1e300", "latency=always,ms=86400001",
          "latency=always,dist=uniform:0:1e300", "stall=first:1,dist=exp:1e300", "latency=always,dist=fixed:1e19"}) {
        INFO(fault);
        auto r = admin("/_fake/faults", std::string(R"({"faults": [")") + fault + "\"]}");
        CHECK(r.status == 400);
        CHECK(r.error_type() == "InvalidRequestException");
        CHECK(r.message().find("ms values must be at most 86400000 (one day)") != std::string::npos);
        std::string err;
        CHECK_FALSE(fake::parse_fault(fault, err).has_value());
    }
    std::string err;
    CHECK(fake::parse_fault("stall=first:1,ms=86400000", err).has_value());

    // Nothing was installed: the server still answers a signed request, on time and without faults.
    for (auto& [kind, n] : srv.stats().faults) CHECK(n == 0);
    CHECK(send(srv, del("thing-1", "job-1", 1)).status == 200);
    CHECK_FALSE(srv.find("thing-1", "job-1", 1).has_value());
}

TEST_CASE("fake: TLS with the generated CA") {
    fake::server_options o;
    o.tls = true;
    fake::server srv(o);
    srv.start();
    CHECK(srv.base_url().starts_with("https://127.0.0.1:"));
    REQUIRE_FALSE(srv.ca_pem().empty());
    asio::io_context ioc;
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.add_certificate_authority(asio::buffer(srv.ca_pem()));
    ctx.set_verify_mode(asio::ssl::verify_peer);
    asio::ssl::stream<tcp::socket> stream(ioc, ctx);
    SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
    stream.set_verify_callback(asio::ssl::host_name_verification("127.0.0.1"));
    stream.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), srv.port()));
    stream.handshake(asio::ssl::stream_base::client);
    srv.add_execution(ex("t", "j", 1, fake::execution_status::succeeded));
    for (int i = 0; i < 3; ++i) {
        result r;
        auto req = build(srv.port(), del("t", "j", 1));
        exchange(ioc, stream, req, r, 5000ms);
        CHECK(r.status == (i == 0 ? 200u : 404u));
    }
    auto s = srv.stats();
    CHECK(s.tls_handshakes == 1);
    CHECK(s.connections_accepted == 1);
}

TEST_CASE("fake: option parsers and deterministic generation") {
    std::string err;
    auto f = fake::parse_fault("latency=0.25,op=ListJobExecutionsForJob,dist=uniform:5:10", err);
    REQUIRE(f);
    CHECK(f->kind == fake::fault_kind::latency);
    CHECK(f->op == fake::operation::list_job_executions_for_job);
    CHECK(fake::to_string(*f) == "latency=0.25,op=ListJobExecutionsForJob,dist=uniform:5:10");
    CHECK_FALSE(fake::parse_fault("explode=1", err));
    CHECK_FALSE(fake::parse_fault("unavailable=1.5", err));
    CHECK_FALSE(fake::parse_fault("unavailable=first:0", err));
    CHECK_FALSE(fake::parse_fault("unavailable=1,op=Nope", err));
    CHECK(fake::parse_status_mix("SUCCEEDED=70,FAILED=10,IN_PROGRESS=10,QUEUED=10", err));
    CHECK_FALSE(fake::parse_status_mix("DONE=1", err));
    CHECK_FALSE(fake::parse_rate_limits("DeleteJobExecution=0", 0, err));

    auto statuses = [](std::uint64_t seed) {
        fake::server srv;
        fake::generate_options g;
        g.count = 200;
        g.random_seed = seed;
        std::string e;
        g.status_mix = *fake::parse_status_mix("SUCCEEDED=50,IN_PROGRESS=50", e);
        srv.generate(g);
        std::string s;
        for (auto& x : srv.executions()) s += x.status == fake::execution_status::succeeded ? 's' : 'p';
        return s;
    };
    CHECK(statuses(5) == statuses(5));
    CHECK(statuses(5) != statuses(6));
}
