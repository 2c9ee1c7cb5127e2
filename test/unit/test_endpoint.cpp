// Endpoint resolution (partitions, FIPS, dual-stack, custom URL) and endpoint URL parsing.
#include "endpoint/endpoint.hpp"
#include "http/url.hpp"

#include <iotjobs/client.hpp>
#include <iotjobs/config.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/system/system_error.hpp>

#include <doctest/doctest.h>

#include <cstdlib>

using iotjobs::client_errc;
using iotjobs::detail::endpoint_params;
using iotjobs::detail::resolve_endpoint;

namespace {
std::string resolve(std::string_view region, bool fips = false, bool dual = false, std::string_view custom = {}) {
    std::string url, what;
    auto ec = resolve_endpoint(endpoint_params{region, fips, dual, custom}, url, what);
    return ec ? "error: " + what : url;
}
}  // namespace

TEST_CASE("partitions, FIPS and dual-stack (reference d.2)") {
    CHECK(resolve("us-east-1") == "https://iot.us-east-1.amazonaws.com");
    CHECK(resolve("eu-west-1", true) == "https://iot-fips.eu-west-1.amazonaws.com");
    CHECK(resolve("eu-west-1", false, true) == "https://iot.eu-west-1.api.aws");
    CHECK(resolve("cn-north-1") == "https://iot.cn-north-1.amazonaws.com.cn");
    CHECK(resolve("cn-north-1", false, true) == "https://iot.cn-north-1.api.amazonwebservices.com.cn");
    CHECK(resolve("us-gov-west-1") == "https://iot.us-gov-west-1.amazonaws.com");
    CHECK(resolve("us-iso-east-1") == "https://iot.us-iso-east-1.c2s.ic.gov");
    CHECK(resolve("us-isob-east-1") == "https://iot.us-isob-east-1.sc2s.sgov.gov");
    CHECK(resolve("eu-isoe-west-1") == "https://iot.eu-isoe-west-1.cloud.adc-e.uk");
    CHECK(resolve("us-isof-south-1") == "https://iot.us-isof-south-1.csp.hci.ic.gov");
    CHECK(resolve("eusc-de-east-1") == "https://iot.eusc-de-east-1.amazonaws.eu");
    CHECK(resolve("xx-foo-1") == "https://iot.xx-foo-1.amazonaws.com");  // unknown: aws
}

TEST_CASE("errors as the rule set phrases them") {
    CHECK(resolve("") == "error: Invalid Configuration: Missing Region");
    CHECK(resolve("us-east-1", true, false, "https://x") ==
          "error: Invalid Configuration: FIPS and custom endpoint are not supported");
    CHECK(resolve("us-east-1", false, true, "https://x").find("Dualstack and custom endpoint") != std::string::npos);
    CHECK(resolve("us east 1").rfind("error: Invalid region", 0) == 0);
    CHECK(resolve("us-east-1", false, false, "http://127.0.0.1:4566") == "http://127.0.0.1:4566");
}

TEST_CASE("endpoint URLs") {
    iotjobs::detail::endpoint_url u;
    REQUIRE(!iotjobs::detail::parse_endpoint_url("https://iot.us-east-1.amazonaws.com", u));
    CHECK(u.tls);
    CHECK(u.port == "443");
    CHECK(u.host_header == "iot.us-east-1.amazonaws.com");
    REQUIRE(!iotjobs::detail::parse_endpoint_url("http://127.0.0.1:8080/prefix/", u));
    CHECK(!u.tls);
    CHECK(u.host_header == "127.0.0.1:8080");
    CHECK(u.base_path == "/prefix");
    REQUIRE(!iotjobs::detail::parse_endpoint_url("https://[::1]:8443", u));
    CHECK(u.host == "::1");
    CHECK(u.host_header == "[::1]:8443");
    std::string what;
    for (const char* bad : {"ftp://x", "https://", "https://host:0", "https://host:70000", "https://u@host",
                            "https://host?q=1", "https://ho st", "https://[::1"}) {
        CAPTURE(bad);
        CHECK(iotjobs::detail::parse_endpoint_url(bad, u, &what) == client_errc::invalid_endpoint);
        CHECK(what.find(bad) != std::string::npos);
    }
}

TEST_CASE("config_from_environment: FIPS / dual-stack / ignore switches") {
    ::setenv("AWS_USE_FIPS_ENDPOINT", "TRUE", 1);
    ::setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1", 1);
    ::setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "True", 1);
    auto cfg = iotjobs::config_from_environment();
    CHECK(cfg.use_fips_endpoint);
    CHECK(cfg.endpoint_url.empty());
    ::setenv("AWS_USE_DUALSTACK_ENDPOINT", "maybe", 1);
    CHECK_THROWS_AS(iotjobs::config_from_environment(), boost::system::system_error);
    for (const char* v : {"AWS_USE_FIPS_ENDPOINT", "AWS_ENDPOINT_URL", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
                          "AWS_USE_DUALSTACK_ENDPOINT"})
        ::unsetenv(v);
}

TEST_CASE("FIPS pseudo-regions: the real region, FIPS on (botocore _normalize_fips_region, reference d.2)") {
    using iotjobs::detail::normalize_fips_region;
    for (std::string given : {"fips-us-east-1", "us-east-1-fips"}) {
        std::string r = given;
        CHECK(normalize_fips_region(r));
        CHECK(r == "us-east-1");
        CHECK(resolve(r, true) == "https://iot-fips.us-east-1.amazonaws.com");
    }
    std::string gov = "fips-us-gov-west-1";
    CHECK(normalize_fips_region(gov));
    CHECK(gov == "us-gov-west-1");
    std::string plain = "us-east-1";
    CHECK_FALSE(normalize_fips_region(plain));
    CHECK(plain == "us-east-1");
    std::string empty;
    CHECK_FALSE(normalize_fips_region(empty));
}

TEST_CASE("FIPS pseudo-regions through the client: FIPS endpoint and the real signing region") {
    boost::asio::io_context ctx;
    iotjobs::client_config cfg;
    cfg.region = "fips-us-east-1";
    cfg.static_credentials = {"AKIDEXAMPLE", "secret", ""};
    iotjobs::client c(ctx.get_executor(), cfg);
    CHECK(c.config().region == "us-east-1");
    CHECK(c.config().use_fips_endpoint);
    cfg.region = "us-east-1-fips";
    iotjobs::client c2(ctx.get_executor(), cfg);
    CHECK(c2.config().region == "us-east-1");
    CHECK(c2.config().use_fips_endpoint);
    cfg.region = "us-west-2";
    iotjobs::client c3(ctx.get_executor(), cfg);
    CHECK(c3.config().region == "us-west-2");
    CHECK_FALSE(c3.config().use_fips_endpoint);
}
