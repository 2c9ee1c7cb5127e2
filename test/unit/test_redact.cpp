// Session-token redaction (issue 11): whole tokens only, one pass, never a loop.
#include "credentials/redact.hpp"

#include <doctest/doctest.h>

#include <string>

using iotjobs::detail::redact_in_place;

namespace {
std::string redacted(std::string text, std::string_view token) {
    redact_in_place(text, token);
    return text;
}
constexpr std::string_view long_token = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD6";
}  // namespace

TEST_CASE("redact: a short token that is an English word leaves the service's prose alone") {
    const std::string msg = "The security token included in the request is invalid.";
    CHECK(redacted(msg, "the") == msg);
    CHECK(redacted("other theory", "the") == "other theory");
    // ...but the token is still removed where a credential is quoted (a canonical request).
    CHECK(redacted("host:iot.us-east-1.amazonaws.com\nx-amz-security-token:the\n\nhost;x-amz-date", "the") ==
          "host:iot.us-east-1.amazonaws.com\nx-amz-security-token:<redacted>\n\nhost;x-amz-date");
}

TEST_CASE("redact: a long token as a whole run, never inside a longer run") {
    const std::string t(long_token);
    CHECK(redacted("token " + t + " was rejected", t) == "token <redacted> was rejected");
    CHECK(redacted("'" + t + "'\n" + t, t) == "'<redacted>'\n<redacted>");
    CHECK(redacted("X" + t, t) == "X" + t);  // part of another run: not the token
    CHECK(redacted(t + "9", t) == t + "9");
    CHECK(redacted("X-Amz-Security-Token:" + t, t) == "X-Amz-Security-Token:<redacted>");
}

TEST_CASE("redact: tokens that look like the marker end, once") {
    CHECK(redacted("a redacted b <redacted>", "redacted") == "a redacted b <redacted>");
    CHECK(redacted("x-amz-security-token:redacted", "redacted") == "x-amz-security-token:<redacted>");
    CHECK(redacted("a <redacted> b", "<redacted>") == "a <redacted> b");
    CHECK(redacted("x-amz-security-token:<redacted>\n", "<redacted>") == "x-amz-security-token:<redacted>\n");
    const std::string marker_run(40, 'r');
    CHECK(redacted("a " + marker_run + " b", marker_run) == "a <redacted> b");
}

TEST_CASE("redact: an empty token changes nothing") {
    CHECK(redacted("x-amz-security-token:\nabc", "") == "x-amz-security-token:\nabc");
    CHECK(redacted("", "") == "");
    CHECK(redacted("", "the") == "");
}
