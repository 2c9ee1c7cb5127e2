// A DNS failure in the middle of a bulk run fails only the items whose attempts needed a lookup
// while it lasted: the run goes on, the items before and after it are deleted, and the pool keeps
// working once the name resolves again.
//
// The endpoint is a name in /etc/hosts. ctest runs this file through integration/in_mount_ns.sh,
// which gives the process namespaces of its own where /etc/hosts is a bind mount of a file the test
// rewrites in place (IOTJOBS_TEST_HOSTS). pool_config::dns_cache_ttl = 0 and a fake endpoint that
// closes every connection after its answer make every attempt look the name up.
#include "fake/server.hpp"

#include <iotjobs/bulk_delete.hpp>
#include <iotjobs/client.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace fake = iotjobs::fake;
using iotjobs::bulk_outcome_kind;
using iotjobs::error_code;

namespace {

// Rewrites the hosts file in place (a rename would leave the bind mount on the old file).
void write_hosts(const char* path, bool with_name) {
    std::ofstream f(path, std::ios::trunc);
    f << "127.0.0.1 localhost\n";
    if (with_name) f << "127.0.0.1 fakeiot.test\n";
}

bool is_lookup_failure(const error_code& ec) {
    return ec == asio::error::host_not_found || ec == asio::error::host_not_found_try_again ||
           ec.category() == asio::error::get_netdb_category() || ec.category() == asio::error::get_addrinfo_category();
}

}  // namespace

TEST_CASE("DNS failure mid-run: only the items that needed the name while it failed fail; the run goes on") {
    const char* hosts = std::getenv("IOTJOBS_TEST_HOSTS");
    if (!hosts) {
        MESSAGE("IOTJOBS_TEST_HOSTS is not set: ctest runs this test through integration/in_mount_ns.sh");
        return;
    }
    write_hosts(hosts, true);
    fake::server s;
    s.start();
    std::string err;
    auto close = fake::parse_fault("close=always,op=DeleteJobExecution", err);
    REQUIRE(close);
    s.set_faults({*close});
    constexpr int total = 200;
    std::vector<iotjobs::delete_job_execution_request> items;
    for (int i = 0; i < total; ++i) {
        s.add_execution(
            fake::make_execution("thing-" + std::to_string(i), "job-1", i, fake::execution_status::succeeded));
        items.push_back({"thing-" + std::to_string(i), "job-1", i, {}, {}});
    }

    iotjobs::client_config cfg;
    cfg.region = "us-east-1";
    cfg.endpoint_url = "http://fakeiot.test:" + std::to_string(s.port());
    cfg.static_credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
    cfg.retry.max_attempts = 2;
    cfg.retry.base_delay = std::chrono::milliseconds(1);
    cfg.pool.max_size = 4;
    cfg.pool.dns_cache_ttl = {};
    cfg.proxy.from_environment = false;
    asio::io_context ctx;
    iotjobs::client c(ctx.get_executor(), cfg);
    auto src = iotjobs::make_vector_source(items);
    iotjobs::bulk_options opt;
    opt.max_in_flight = 4;

    // After 50 outcomes the name stops resolving; after 8 failures it resolves again.
    int outcomes = 0, failed = 0, deleted_after_restore = 0;
    bool broken = false, restored = false;
    std::set<std::string> failed_things;
    std::vector<std::string> wrong;
    iotjobs::bulk_summary summary;
    error_code run_ec = make_error_code(iotjobs::client_errc::bad_response);
    iotjobs::bulk_delete(
        c, *src, opt,
        [&](const iotjobs::bulk_outcome& o) {
            ++outcomes;
            if (o.kind == bulk_outcome_kind::failed) {
                ++failed;
                failed_things.insert(o.item.request.thing_name);
                if (!broken || !is_lookup_failure(o.ec))
                    wrong.push_back(o.item.request.thing_name + ": " + o.ec.message());
            } else if (o.kind == bulk_outcome_kind::deleted) {
                if (restored) ++deleted_after_restore;
            } else {
                wrong.push_back(o.item.request.thing_name + ": unexpected outcome " + o.message);
            }
            if (outcomes == 50 && !broken) {
                write_hosts(hosts, false);
                broken = true;
            }
            if (failed == 8 && !restored) {
                write_hosts(hosts, true);
                restored = true;
            }
        },
        [&](error_code ec, iotjobs::bulk_summary sum) {
            run_ec = ec;
            summary = std::move(sum);
        });
    ctx.run();

    MESSAGE(failed << " failed, " << deleted_after_restore << " deleted after the name resolved again");
    CHECK_MESSAGE(wrong.empty(), (wrong.empty() ? std::string() : wrong.front()));
    CHECK(!run_ec);
    CHECK_FALSE(summary.stopped_early);
    CHECK(summary.items == total);
    CHECK(broken);
    CHECK(restored);
    CHECK(failed >= 8);
    CHECK(summary.failed == static_cast<std::uint64_t>(failed));
    CHECK(summary.deleted + summary.failed == total);
    CHECK(deleted_after_restore > 100);  // the pool works again once the name resolves
    // The failed items never reached the service; every other item is gone.
    CHECK(s.execution_count() == static_cast<std::size_t>(failed));
    for (const auto& t : failed_things) CHECK(s.find(t, "job-1", std::stoll(t.substr(6))).has_value());
}
