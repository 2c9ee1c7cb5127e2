// The credential sources' answer parsers that have no declaration in provider.hpp (their
// definitions, with parse_credentials_json, shell_split and parse_iso8601, are in parse.cpp, apart
// from any I/O, for the unit tests and the fuzz targets of test/fuzz/).
#pragma once

#include "credentials/provider.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace iotjobs::detail {

// The range of dates parse_iso8601 (and the SSO expiration) accepts: [1900-01-01, 2200-01-01).
// Any two dates in it are less than 292 years apart, so subtracting them in system_clock's
// nanoseconds (credentials/cache.cpp) cannot overflow.
inline constexpr std::chrono::sys_seconds iso8601_min{std::chrono::sys_days{std::chrono::year{1900} / 1 / 1}};
inline constexpr std::chrono::sys_seconds iso8601_max{std::chrono::sys_days{std::chrono::year{2200} / 1 / 1}};

// XML entities &amp; &lt; &gt; &quot; &apos; decoded (others kept as they are).
std::string xml_unescape(std::string_view s);
// The text of the first <tag>...</tag> inside `xml` (no attributes expected), unescaped, or nullopt.
std::optional<std::string> xml_text(std::string_view xml, std::string_view tag);

// An STS error answer's " Code: Message" (each part only if present; empty if neither).
std::string sts_error_summary(std::string_view body);
// An STS AssumeRole / AssumeRoleWithWebIdentity answer (HTTP 200): AccessKeyId, SecretAccessKey
// (both non-empty), SessionToken and Expiration (ISO 8601) of the <Credentials> element. False
// with `why` (no values in it) when missing; `out.value` and `out.expiration` set only on success.
bool parse_sts_credentials_xml(std::string_view body, resolved_credentials& out, std::string& why);

// The SSO token cache file (~/.aws/sso/cache/<sha1>.json): false unless it is a JSON object with
// the strings accessToken and expiresAt; `expires` is nullopt when expiresAt is not an ISO 8601
// date-time parse_iso8601 accepts.
bool parse_sso_token_cache(std::string_view text, std::string& token,
                           std::optional<std::chrono::system_clock::time_point>& expires);

// The portal's GetRoleCredentials answer: roleCredentials.accessKeyId / secretAccessKey (non-empty
// strings), sessionToken (optional), expiration (a number of milliseconds since the epoch, within
// [iso8601_min, iso8601_max)). False when any is missing or invalid; `out` set only on success.
bool parse_role_credentials_json(std::string_view body, resolved_credentials& out);

}  // namespace iotjobs::detail
