// Metrics (client::metrics()) and logging (levels, structured fields, no secrets) against the
// in-process fake endpoint: a known sequence of calls with successes, throttles, retries and a 404.
#include "fake/server.hpp"

#include <iotjobs/client.hpp>
#include <iotjobs/delete_job_execution.hpp>
#include <iotjobs/describe_job_execution.hpp>
#include <iotjobs/list_job_executions.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace fake = iotjobs::fake;
using iotjobs::error_code;
using iotjobs::operation_kind;
using iotjobs::service_errc;
using namespace std::chrono_literals;

namespace {

fake::fault_rule fault(std::string_view spec) {
    std::string err;
    auto r = fake::parse_fault(spec, err);
    REQUIRE_MESSAGE(r.has_value(), err);
    return *r;
}

// A captured record (the views of log_record copied).
struct captured {
    iotjobs::log_level level;
    std::string component, message, operation, thing, job, aws_error, request_id, reason, text;
    std::optional<std::int64_t> execution;
    unsigned attempt = 0, status = 0;
    bool has_latency = false;
};

struct capture {
    std::mutex m;
    std::vector<captured> records;
    std::vector<std::string> texts;  // from the string sink
    std::function<void(const iotjobs::log_record&)> record_sink() {
        return [this](const iotjobs::log_record& r) {
            captured c{r.level,
                       std::string(r.component),
                       std::string(r.message),
                       std::string(r.operation),
                       std::string(r.thing_name),
                       std::string(r.job_id),
                       std::string(r.aws_error),
                       std::string(r.request_id),
                       std::string(r.retry_reason),
                       iotjobs::format(r),
                       r.execution_number,
                       r.attempt,
                       r.http_status,
                       r.latency.has_value()};
            std::lock_guard lk(m);
            records.push_back(std::move(c));
        };
    }
    std::function<void(iotjobs::log_level, std::string_view)> text_sink() {
        return [this](iotjobs::log_level, std::string_view t) {
            std::lock_guard lk(m);
            texts.emplace_back(t);
        };
    }
    std::size_t count(iotjobs::log_level l) {
        std::size_t n = 0;
        for (auto& r : records) n += r.level == l;
        return n;
    }
};

template <class Start>
error_code run(asio::io_context& ctx, Start start) {
    std::optional<error_code> result;
    start([&](error_code ec, auto&&...) { result = ec; });
    ctx.restart();
    // Until the handler ran (a peer that keeps accepting never lets the io_context run out of work).
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!result && !ctx.stopped() && std::chrono::steady_clock::now() < deadline) ctx.run_one_until(deadline);
    ctx.poll();  // (what the completion left ready)
    REQUIRE(result.has_value());
    return *result;
}

struct scenario {
    fake::server s;
    asio::io_context ctx;
    std::optional<iotjobs::client> c;

    explicit scenario(iotjobs::client_config cfg, fake::server_options o = {}) : s(std::move(o)) {
        s.start();
        for (int i = 1; i <= 3; ++i)
            s.add_execution(
                fake::make_execution("thing-" + std::to_string(i), "job-1", i, fake::execution_status::succeeded));
        // Deletes: the first two throttled; describes: the first three (one call gives up).
        s.set_faults(
            {fault("throttle=first:2,op=DeleteJobExecution"), fault("throttle=first:3,op=DescribeJobExecution")});
        cfg.region = "us-east-1";
        cfg.endpoint_url = s.base_url();
        cfg.retry.max_attempts = 3;
        cfg.retry.base_delay = 2ms;
        c.emplace(ctx.get_executor(), std::move(cfg));
    }

    // 3 deletes (throttled twice then ok; ok; 404), a describe that gives up throttled,
    // a list, and a delete refused by validation (never sent, not counted).
    void run_sequence() {
        iotjobs::diagnostics d;
        auto del = [&](std::string thing, std::int64_t n) {
            iotjobs::delete_job_execution_request r{std::move(thing), "job-1", n, {}, {}};
            return run(ctx, [&](auto h) { iotjobs::delete_job_execution(*c, r, d, h); });
        };
        CHECK(!del("thing-1", 1));
        CHECK(d.attempts() == 3);
        CHECK(!del("thing-2", 2));
        CHECK(del("thing-9", 9) == service_errc::resource_not_found);
        iotjobs::describe_job_execution_request dr{"thing-3", "job-1", 3};
        CHECK(run(ctx, [&](auto h) { iotjobs::describe_job_execution(*c, dr, d, h); }) == service_errc::throttling);
        CHECK(d.attempts() == 3);
        iotjobs::list_job_executions_for_job_request lr;
        lr.job_id = "job-1";
        CHECK(!run(ctx, [&](auto h) { iotjobs::list_job_executions_for_job(*c, lr, d, h); }));
        CHECK(del("bad thing", 1) == iotjobs::client_errc::invalid_thing_name);
    }
};

iotjobs::client_config long_term_config() {
    iotjobs::client_config cfg;
    cfg.static_credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
    return cfg;
}

std::uint64_t failures_of(const iotjobs::client_metrics& m, error_code ec) {
    for (const auto& e : m.failures_by_error)
        if (e.code == ec) return e.count;
    return 0;
}

void check_latency(const iotjobs::operation_metrics& o, std::uint64_t calls) {
    CAPTURE(o.name);
    CHECK(o.calls == calls);
    CHECK(o.latency.count == calls);  // the histogram counts every call
    if (calls == 0) {
        CHECK(o.latency.max.count() == 0);
        return;
    }
    CHECK(o.latency.p50.count() > 0);
    CHECK(o.latency.p50 <= o.latency.p90);
    CHECK(o.latency.p90 <= o.latency.p99);
    CHECK(o.latency.p99 <= o.latency.max);
    CHECK(o.latency.mean <= o.latency.max);
    CHECK(o.latency.max < 30s);
}

// Answers every request on every connection with 200 and a body that is not JSON, keeping the
// connection alive (runs on the test's io_context, no thread).
class garbage_ok_peer {
public:
    explicit garbage_ok_peer(asio::io_context& ctx) : acceptor_(ctx, {asio::ip::make_address("127.0.0.1"), 0}) {
        accept();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }

private:
    struct conn {
        asio::ip::tcp::socket sock;
        std::string in;
    };
    void accept() {
        acceptor_.async_accept([this](error_code ec, asio::ip::tcp::socket s) {
            if (ec) return;
            serve(std::make_shared<conn>(conn{std::move(s), {}}));
            accept();
        });
    }
    // Requests without a body (GET): each ends at the blank line.
    static void serve(std::shared_ptr<conn> c) {
        asio::async_read_until(c->sock, asio::dynamic_buffer(c->in), "\r\n\r\n", [c](error_code ec, std::size_t n) {
            if (ec) return;
            c->in.erase(0, n);
            static const std::string answer =
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nx-amzn-RequestId: r-1\r\n"
                "Content-Length: 8\r\n\r\nnot json";
            asio::async_write(c->sock, asio::buffer(answer), [c](error_code wec, std::size_t) {
                if (!wec) serve(c);
            });
        });
    }
    asio::ip::tcp::acceptor acceptor_;
};

}  // namespace

TEST_CASE("metrics: a known sequence of calls gives exact counters and a latency count per call") {
    scenario sc(long_term_config());
    auto m0 = sc.c->metrics();
    CHECK(m0.calls_started == 0);
    CHECK(m0.operation(operation_kind::delete_job_execution).name == "DeleteJobExecution");
    sc.run_sequence();

    auto m = sc.c->metrics();
    CHECK(m.calls_started == 5);
    CHECK(m.successes == 3);
    CHECK(m.failures == 2);
    CHECK(m.in_flight == 0);
    REQUIRE(m.failures_by_error.size() == 2);
    CHECK(failures_of(m, service_errc::resource_not_found) == 1);
    CHECK(failures_of(m, service_errc::throttling) == 1);
    for (const auto& e : m.failures_by_error) CHECK(e.kind == "service");
    // Attempts: delete 3 + 1 + 1, describe 3, list 1.
    CHECK(m.requests == 9);
    CHECK(m.retries == 4);
    CHECK(m.throttled == 5);
    CHECK(m.retry_quota_exhausted == 0);
    // One keep-alive connection for everything (throttles and 404s keep it), plain HTTP.
    CHECK(m.connections_opened == 1);
    CHECK(m.connections_reused == 8);
    CHECK(m.tls_handshakes == 0);
    CHECK(m.tls_resumed == 0);
    CHECK(m.waiting_for_connection == 0);
    CHECK(m.connections_leased == 0);
    CHECK(m.connections_idle == 1);

    const auto& del = m.operation(operation_kind::delete_job_execution);
    CHECK(del.successes == 2);
    CHECK(del.failures == 1);
    check_latency(del, 3);
    const auto& desc = m.operation(operation_kind::describe_job_execution);
    CHECK(desc.failures == 1);
    check_latency(desc, 1);
    // The describe waited in two backoffs and made three attempts: never faster than one delete.
    const auto& list = m.operation(operation_kind::list_job_executions_for_job);
    CHECK(list.successes == 1);
    check_latency(list, 1);
    check_latency(m.operation(operation_kind::list_job_executions_for_thing), 0);
    check_latency(m.operation(operation_kind::cancel_job_execution), 0);
    check_latency(m.operation(operation_kind::other), 0);
    std::uint64_t counted = 0;
    for (const auto& o : m.operations) counted += o.latency.count;
    CHECK(counted == m.calls_started);
    // The old counters agree.
    auto st = sc.c->stats();
    CHECK(st.requests == m.requests);
    CHECK(st.throttled == m.throttled);
}

TEST_CASE("metrics: off leaves the per-call figures at zero, the transport's counters still count") {
    auto cfg = long_term_config();
    cfg.metrics = false;
    scenario sc(std::move(cfg));
    sc.run_sequence();
    auto m = sc.c->metrics();
    CHECK(m.calls_started == 0);
    CHECK(m.failures_by_error.empty());
    CHECK(m.operation(operation_kind::delete_job_execution).latency.count == 0);
    CHECK(m.requests == 9);
    CHECK(m.connections_opened == 1);
}

TEST_CASE("metrics: cancelled and transport failures have their own slots") {
    auto cfg = long_term_config();
    cfg.endpoint_url = "http://127.0.0.1:1";  // refused
    cfg.region = "us-east-1";
    cfg.retry.max_attempts = 1;
    asio::io_context ctx;
    iotjobs::client c(ctx.get_executor(), cfg);
    iotjobs::diagnostics d;
    iotjobs::delete_job_execution_request r{"thing-1", "job-1", 1, {}, {}};
    auto ec = run(ctx, [&](auto h) { iotjobs::delete_job_execution(c, r, d, h); });
    CHECK(ec);
    auto m = c.metrics();
    REQUIRE(m.failures_by_error.size() == 1);
    CHECK(m.failures_by_error[0].kind == "transport");
    CHECK(m.failures_by_error[0].count == 1);
    CHECK(m.operation(operation_kind::delete_job_execution).latency.count == 1);
    CHECK(m.connections_opened == 0);
}

TEST_CASE("metrics: a 2xx answer whose body cannot be parsed is a failure (bad_response)") {
    asio::io_context ctx;
    garbage_ok_peer peer(ctx);
    auto cfg = long_term_config();
    cfg.region = "us-east-1";
    cfg.endpoint_url = peer.url();
    iotjobs::client c(ctx.get_executor(), cfg);
    iotjobs::diagnostics d;
    iotjobs::describe_job_execution_request dr{"thing-1", "job-1", 1};
    CHECK(run(ctx, [&](auto h) { iotjobs::describe_job_execution(c, dr, d, h); }) ==
          iotjobs::client_errc::bad_response);
    CHECK(d.http_status() == 200);
    CHECK(d.message().find("cannot parse the DescribeJobExecution response") != std::string_view::npos);
    iotjobs::list_job_executions_for_job_request lr{"job-1"};
    CHECK(run(ctx, [&](auto h) { iotjobs::list_job_executions_for_job(c, lr, h); }) ==
          iotjobs::client_errc::bad_response);

    auto m = c.metrics();
    CHECK(m.calls_started == 2);
    CHECK(m.successes == 0);
    CHECK(m.failures == 2);
    CHECK(failures_of(m, iotjobs::client_errc::bad_response) == 2);
    CHECK(m.operation(operation_kind::describe_job_execution).failures == 1);
    CHECK(m.operation(operation_kind::describe_job_execution).successes == 0);
    CHECK(m.operation(operation_kind::list_job_executions_for_job).failures == 1);
    check_latency(m.operation(operation_kind::describe_job_execution), 1);
}

TEST_CASE("logging: levels, structured fields, the string sink, and never a secret") {
    const std::string secret = "TeMpSeCrEt/0123456789+abcdefghijklmnopqrstu";
    const std::string token = "SeSsIoNtOkEn+0123456789/abcdefghijklmnopqrstuvwxyz==";
    fake::server_options o;
    o.credentials["AKIDTEMPEXAMPLE"] = {secret, token};
    capture cap;
    auto cfg = long_term_config();
    cfg.static_credentials = {"AKIDTEMPEXAMPLE", secret, token};
    cfg.level = iotjobs::log_level::debug;
    cfg.structured_log = cap.record_sink();
    cfg.log = cap.text_sink();
    scenario sc(std::move(cfg), std::move(o));
    sc.run_sequence();

    REQUIRE(!cap.records.empty());
    CHECK(cap.texts.size() == cap.records.size());  // both sinks get every record
    // info: the client's creation and the one connection opened.
    CHECK(cap.records[0].level == iotjobs::log_level::info);
    CHECK(cap.records[0].message.find("client created: endpoint " + sc.s.base_url()) == 0);
    std::size_t opened = 0;
    for (auto& r : cap.records) opened += r.message.starts_with("connection opened");
    CHECK(opened == 1);
    // warn: the describe that gave up throttled; no error (nothing for the user to fix).
    CHECK(cap.count(iotjobs::log_level::error) == 0);
    REQUIRE(cap.count(iotjobs::log_level::warn) == 1);
    for (auto& r : cap.records) {
        if (r.level != iotjobs::log_level::warn) continue;
        CHECK(r.operation == "DescribeJobExecution");
        CHECK(r.thing == "thing-3");
        CHECK(r.execution == 3);
        CHECK(r.aws_error == "ThrottlingException");
        CHECK(r.attempt == 3);
        CHECK(r.has_latency);
    }
    // debug, per attempt: the first delete's attempts name the item and carry the fields.
    std::vector<const captured*> attempts;
    for (auto& r : cap.records)
        if (r.message.starts_with("attempt ") && r.operation == "DeleteJobExecution" && r.thing == "thing-1")
            attempts.push_back(&r);
    REQUIRE(attempts.size() == 3);
    for (unsigned i = 0; i < 3; ++i) {
        const captured& a = *attempts[i];
        CHECK(a.level == iotjobs::log_level::debug);
        CHECK(a.attempt == i + 1);
        CHECK(a.job == "job-1");
        CHECK(a.execution == 1);
        CHECK(a.status == (i < 2 ? 400u : 200u));
        CHECK(a.aws_error == (i < 2 ? "ThrottlingException" : ""));
        CHECK(!a.request_id.empty());
        CHECK(a.has_latency);
        CHECK(a.text.find("op=DeleteJobExecution thing=thing-1 job=job-1 execution=1 attempt=" +
                          std::to_string(i + 1)) != std::string::npos);
    }
    std::size_t retry_records = 0;
    for (auto& r : cap.records)
        if (r.message.starts_with("retrying (")) {
            ++retry_records;
            CHECK(!r.reason.empty());
        }
    CHECK(retry_records == 4);
    // The 404: its closing record at debug with the AWS error and the item.
    bool saw_404 = false;
    for (auto& r : cap.records)
        saw_404 = saw_404 || (r.thing == "thing-9" && r.aws_error == "ResourceNotFoundException" && r.status == 404 &&
                              r.level == iotjobs::log_level::debug && r.message.starts_with("call failed"));
    CHECK(saw_404);
    // Never a secret, in any record or text.
    for (const auto* list : {&cap.texts}) {
        for (const auto& t : *list) {
            CAPTURE(t);
            CHECK(t.find(secret) == std::string::npos);
            CHECK(t.find(token) == std::string::npos);
            CHECK(t.find("Signature=") == std::string::npos);
            CHECK(t.find("AWS4-HMAC-SHA256 Credential") == std::string::npos);
        }
    }
    for (const auto& r : cap.records) {
        for (const std::string* f : {&r.message, &r.component, &r.operation, &r.thing, &r.job, &r.aws_error,
                                     &r.request_id, &r.reason, &r.text}) {
            CHECK(f->find(secret) == std::string::npos);
            CHECK(f->find(token) == std::string::npos);
        }
    }
}

TEST_CASE("logging: at info only lifecycle records; an auth failure is an error") {
    capture cap;
    auto cfg = long_term_config();
    cfg.static_credentials = {"AKIDUNKNOWN", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
    cfg.level = iotjobs::log_level::info;
    cfg.structured_log = cap.record_sink();
    scenario sc(std::move(cfg));
    iotjobs::diagnostics d;
    iotjobs::delete_job_execution_request r{"thing-1", "job-1", 1, {}, {}};
    auto ec = run(sc.ctx, [&](auto h) { iotjobs::delete_job_execution(*sc.c, r, d, h); });
    CHECK(iotjobs::is_fatal_for_client(ec));
    CHECK(cap.count(iotjobs::log_level::debug) == 0);
    REQUIRE(cap.count(iotjobs::log_level::error) == 1);
    for (auto& rec : cap.records) {
        if (rec.level != iotjobs::log_level::error) continue;
        CHECK(rec.operation == "DeleteJobExecution");
        CHECK(rec.thing == "thing-1");
        CHECK(rec.status == 403);
        CHECK(!rec.aws_error.empty());
    }
    CHECK(cap.count(iotjobs::log_level::info) == 2);  // created, connection opened
}

TEST_CASE("logging: off builds nothing; a sink without a level gets nothing") {
    capture cap;
    auto cfg = long_term_config();
    cfg.structured_log = cap.record_sink();  // level stays off
    scenario sc(std::move(cfg));
    sc.run_sequence();
    CHECK(cap.records.empty());
}
