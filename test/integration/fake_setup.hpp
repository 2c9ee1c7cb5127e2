// Seeding the fake endpoint and setting its faults, for the integration tests.
#pragma once

#include "fake/server.hpp"

#include <iotjobs/config.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace iotjobs::test {

// Succeeded executions thing-<i> / `job` / <i>, for i in [first, first + n).
inline void seed(fake::server& s, int n, const std::string& job = "job-1", int first = 0) {
    std::vector<fake::execution> v;
    for (int i = first; i < first + n; ++i)
        v.push_back(fake::make_execution("thing-" + std::to_string(i), job, i, fake::execution_status::succeeded));
    s.add_executions(v);
}

// A client of `s` (plain HTTP, the dummy keys, one attempt per call) with `pool` connections.
inline client_config config_for(const fake::server& s, std::size_t pool) {
    client_config cfg;
    cfg.region = "us-east-1";
    cfg.endpoint_url = s.base_url();
    cfg.static_credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
    cfg.retry.max_attempts = 1;
    cfg.pool.max_size = pool;
    return cfg;
}

// Sets the fault `spec` (fake::parse_fault's syntax) as the server's only one.
inline void set_fault(fake::server& s, const std::string& spec) {
    std::string err;
    auto f = fake::parse_fault(spec, err);
    REQUIRE_MESSAGE(f, err);
    s.set_faults({*f});
}

// Starts `s` with executions seeded as seed() does, the first request it gets held unanswered
// (stall=first:1): one call stays in flight while the test acts.
inline void start_holding_first(fake::server& s, int n, const std::string& job = "job-1", int first = 0) {
    s.start();
    seed(s, n, job, first);
    set_fault(s, "stall=first:1");
}

}  // namespace iotjobs::test
