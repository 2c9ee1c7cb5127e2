// Hex and base64 (lib/util/encoding.hpp): the RFC 4648 section 10 vectors both ways, and the
// malformed base64 the decoder refuses.
#include "util/encoding.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace iotjobs::detail;

TEST_CASE("hex_lower writes two lower-case digits per byte") {
    CHECK(hex_lower("") == "");
    CHECK(hex_lower(std::string("\x00\x01\x7f\x80\xab\xff", 6)) == "00017f80abff");
}

TEST_CASE("base64 encodes and decodes the RFC 4648 vectors") {
    const std::pair<std::string, std::string> vectors[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [plain, encoded] : vectors) {
        CAPTURE(plain);
        CHECK(base64_encode(plain) == encoded);
        auto back = base64_decode(encoded);
        REQUIRE(back);
        CHECK(*back == plain);
    }
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    CHECK(base64_decode(base64_encode(all)) == all);
    CHECK(base64_encode("user:pass") == "dXNlcjpwYXNz");
    CHECK(base64_encode("\xfb\xff") == "+/8=");
}

TEST_CASE("base64_decode refuses what is not padded base64") {
    for (const char* bad : {"Zg", "Zg=", "Z===", "====", "Zg==Zg==", "Zm9v!", "Zg=a", "Zm 9v", "Zm9v\n"}) {
        CAPTURE(bad);
        CHECK_FALSE(base64_decode(bad));
    }
}
