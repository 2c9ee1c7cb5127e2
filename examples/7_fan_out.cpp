// Example 7: one cleanup across several accounts and regions, each at its own quota.
//
//   example_7_fan_out JOB FIRST LAST PROFILE[,PROFILE...] REGION[,REGION...]
//
// Deletes thing-<i> / JOB / executionNumber i for i in [FIRST, LAST] (the layout of
// `iotjobs-fake-iot --generate`), spreading the items over every (profile, region) pair in turn.
// A client_registry makes one client per pair on its first item, each with the profile's
// credentials (the shared config files: AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE) and its own
// connection pool and adaptive rate limiter, so a throttled account slows nobody else. Endpoint
// and CA bundle come from the AWS environment variables.
#include <iotjobs/bulk_delete.hpp>
#include <iotjobs/client_registry.hpp>
#include <iotjobs/config.hpp>

#include <boost/asio/io_context.hpp>

#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace asio = boost::asio;

std::vector<std::string> split(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream in(text);
    for (std::string item; std::getline(in, item, ',');) out.push_back(item);
    return out;
}

int main(int argc, char** argv) {
    if (argc != 6) {
        std::cerr << "usage: " << argv[0] << " JOB FIRST LAST PROFILE[,PROFILE...] REGION[,REGION...]\n";
        return 2;
    }
    const std::string job = argv[1];
    const std::int64_t first = std::atoll(argv[2]), last = std::atoll(argv[3]);
    const auto profiles = split(argv[4]), regions = split(argv[5]);

    // The items, as a CSV input would give them: each row names its profile and region.
    std::stringstream rows;
    rows << "thingName,jobId,executionNumber,profile,region\n";
    std::size_t pair = 0;
    for (std::int64_t i = first; i <= last; ++i, ++pair) {
        rows << "thing-" << i << "," << job << "," << i << "," << profiles[pair % profiles.size()] << ","
             << regions[pair / profiles.size() % regions.size()] << "\n";
    }

    asio::io_context ctx;
    //[example_fan_out
    // One client per (profile, region), made on first use from the profile's settings.
    iotjobs::client_registry registry(ctx.get_executor(), [](const iotjobs::client_key& key) {
        iotjobs::client_config base;
        base.profile = key.profile;  // its credentials win over AWS_ACCESS_KEY_ID
        base.region = key.region;
        return iotjobs::config_from_environment(base);
    });
    auto source = iotjobs::make_stream_source(rows);
    iotjobs::bulk_fanout_options options;
    options.per_key.max_in_flight = 4;  // per (profile, region), as per_key.rate_limit
    int exit_code = 1;
    iotjobs::bulk_delete_fanout(
        registry, *source, options, {}, [&](iotjobs::error_code ec, iotjobs::bulk_fanout_summary s) {
            for (const auto& [key, m] : s.keys)
                std::cout << iotjobs::to_string(key) << ": deleted " << m.deleted << ", failed " << m.failed << "\n";
            std::cout << "total: deleted " << s.total.deleted << " of " << s.total.items
                      << (ec ? ", stopped: " + s.total.stop_reason : std::string()) << "\n";
            exit_code = !ec && s.total.deleted == s.total.items ? 0 : 1;
        });
    ctx.run();
    //]
    return exit_code;
}
