// Byte encodings used across the library: lower-case hex (SigV4 digests and signatures, the SSO
// cache file name) and base64 with padding, RFC 4648 section 4 (proxy Basic credentials, the
// CLI's resume token, the fake endpoint's page tokens).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace iotjobs::detail {

// Writes 2 * n lower-case hex digits of in[0..n) to out (not terminated).
void hex_encode(const unsigned char* in, std::size_t n, char* out) noexcept;

// The lower-case hex of `bytes`.
std::string hex_lower(std::string_view bytes);

// Standard base64 with '=' padding.
std::string base64_encode(std::string_view bytes);

// The bytes of standard padded base64 text; nullopt when the length is not a multiple of 4, a
// character is outside the alphabet, or '=' stands anywhere but in the last two places.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace iotjobs::detail
